"""Drafting Rust statements and expressions into spec statements: blocks, bindings, guards
held to the end of their block, control flow over data the draft cannot evaluate, and the
calls the draft recognises (delegated to `calls`)."""

from __future__ import annotations

import re

from tree_sitter import Node

from gilcheck.draft.model import DraftError, DraftOptions
from gilcheck.draft.rust import control, guards
from gilcheck.draft.rust.closures import captured, closure_params
from gilcheck.draft.rust.context import Ctx, Scope, Val
from gilcheck.draft.rust.crate import Crate, FnDef
from gilcheck.draft.rust.emit import Body
from gilcheck.draft.rust.kinds import GIL, RESOURCES, Binding, Kind, element_kind, kind_of_type
from gilcheck.draft.rust.names import legal
from gilcheck.draft.rust.parse import named, origin, text, unwrap_parens
from gilcheck.draft.rust.spec import Spec

BLOCKLIKE = (
    "block",
    "unsafe_block",
    "async_block",
    "if_expression",
    "match_expression",
    "loop_expression",
    "while_expression",
    "for_expression",
)


class Drafter:
    """Drafts the bodies of a crate's functions, closures and threads."""

    def __init__(self, crate: Crate, options: DraftOptions, spec: Spec) -> None:
        self.crate = crate
        self.options = options
        self.spec = spec
        from gilcheck.draft.rust.calls import Calls

        self.calls = Calls(self)

    # ------------------------------------------------------------------ helpers

    def assume(self, ctx: Ctx, node: Node, what: str) -> None:
        """Record an assumption about the source text of `node`."""
        snippet = " ".join(text(node).split())
        if len(snippet) > 60:
            snippet = snippet[:57] + "..."
        self.spec.writer.assume(ctx.where(node), what.format(code=f"`{snippet}`"))

    def refuse(self, ctx: Ctx, node: Node, message: str, hint: str) -> DraftError:
        """A construct that matters for concurrency and cannot be drafted."""
        o = ctx.where(node)
        return DraftError(
            message,
            o.path,
            o.line,
            o.column,
            hint=hint,
            refused=True,
            code="unsupported-construct",
        )

    def stmt(self, ctx: Ctx, node: Node, line: str) -> None:
        """A statement drafted from `node`."""
        ctx.body.stmt(line, ctx.where(node))

    def rhs(self, ctx: Ctx, node: Node, val: Val) -> str:
        """The text of `val` on the right of `=`: a statement that yields no value is
        written first, and the value is `none`."""
        if val.bare:
            self.stmt(ctx, node, val.text)
            return "none"
        return val.text

    def hoist(self, ctx: Ctx, node: Node, val: Val, stem: str = "tmp") -> Val:
        """A pure expression for `val`: a statement form is bound to a fresh temporary."""
        if val.bare:
            self.stmt(ctx, node, val.text)
            return Val.none()
        if not val.stmt:
            return val
        name = self.spec.names.fresh(stem)
        self.stmt(ctx, node, f"let {name} = {val.text}")
        return Val(name, val.kind, names=(name,))

    # ------------------------------------------------------------------ bodies

    def function_body(self, fn: FnDef, spec_name: str, depth: int) -> Body:
        """The spec `fn` for a crate function (its `py: Python` parameter left out; a
        `#[pyfunction]`'s body runs holding the GIL)."""
        params: list[str] = []
        scope = Scope()
        for pname, ptype in fn.params():
            kind = Kind.UNKNOWN if pname == "self" else kind_of_type(ptype)
            if pname == "self" or kind == Kind.PY:
                scope.vars[pname] = Binding(kind)
                continue
            names: tuple[str, ...] = (legal(pname),)
            if kind == Kind.PAIR:
                names = (legal(pname) + "_m", legal(pname) + "_cv")
            params.extend(names)
            scope.vars[pname] = Binding(kind, names, element=element_kind(ptype), type_text=ptype)
        node = fn.node
        body = Body(f"fn {spec_name}({', '.join(params)})", origin(fn.src, node))
        ctx = Ctx(body, fn.src, spec_name, depth, [scope])
        block = node.child_by_field_name("body")
        if block is None:
            return body
        if fn.is_pyentry:
            body.open("with_gil", ctx.where(node))
            self.block(ctx, block, ret=True)
            body.close()
        else:
            self.block(ctx, block, ret=True)
        return body

    def closure_fn(self, ctx: Ctx, closure: Node, stem: str, pass_params: bool = False) -> str:
        """Draft a closure (or async block) run elsewhere as a spec `fn` whose parameters
        are the variables it captures; returns the call text `f(a, b)`."""
        fn = self.calls.fn_ref(ctx, closure)
        if fn is not None:  # a crate function passed by name: called with no data
            v = self.calls.call_ref(ctx, closure, fn)
            if v.stmt:
                return v.text.removeprefix("call ")
        if closure.type in ("identifier", "scoped_identifier", "field_expression"):
            raise self.refuse(
                ctx,
                closure,
                f"a closure passed by name (`{text(closure)}`) cannot be drafted",
                "write the closure inline where it is run",
            )
        body_node = closure.child_by_field_name("body")
        if closure.type == "async_block":
            body_node = next((c for c in named(closure) if c.type == "block"), closure)
        if body_node is None:
            body_node = closure
        caps = captured(closure, ctx.visible())
        direct = self._direct_call(ctx, body_node, caps)
        if direct is not None:
            return direct
        own = closure_params(closure) if closure.type == "closure_expression" else []
        params: list[str] = []
        args: list[str] = []
        scope = Scope()
        for cap in caps:
            b = ctx.lookup(cap)
            if b is not None and b.kind == Kind.CLOSURE:
                scope.vars[cap] = b  # a closure it calls: drafted where it is called
                continue
            if b is None or not b.names:
                continue
            params.extend(b.names)
            args.extend(b.names)
            scope.vars[cap] = Binding(
                b.kind, b.names, b.target, b.write, element=b.element, type_text=b.type_text
            )
        for p in own:
            if pass_params:
                name = legal(p)
                params.append(name)
                args.append("none")
                scope.vars[p] = Binding(Kind.UNKNOWN, (name,))
            else:
                scope.vars[p] = Binding(Kind.SCOPE if stem == "scope" else Kind.UNKNOWN)
        name = self.spec.names.claim(f"{ctx.fn_name}_{stem}")
        name = name if name[-1:].isdigit() else self.spec.names.claim(name + "_1")
        body = Body(f"fn {name}({', '.join(params)})", ctx.where(closure))
        sub = Ctx(body, ctx.src, name, ctx.depth, [scope], origin_at=ctx.origin_at)
        self.spec.fns.append(body)
        if body_node.type == "block":
            self.block(sub, body_node, ret=True)
        else:
            self.tail(sub, body_node, ret=True)
        return f"{name}({', '.join(args)})"

    def _direct_call(self, ctx: Ctx, body: Node, caps: list[str]) -> str | None:
        """A closure whose body is one call of a crate function on captured variables
        (`|| execute_loop(r)`): that function, called directly."""
        node = body
        if node.type == "block":
            inner = named(node)
            if len(inner) != 1:
                return None
            node = inner[0]
            if node.type == "expression_statement":
                node = named(node)[0]
        if node.type != "call_expression":
            return None
        fn = self.crate.fns.get(text(node.child_by_field_name("function")))
        args = named(node.child_by_field_name("arguments") or node)
        if (
            fn is None
            or fn.owner
            or not all(a.type == "identifier" and text(a) in caps for a in args)
        ):
            return None
        params = [(n, t) for n, t in fn.params() if kind_of_type(t) != Kind.PY]
        if len(params) != len(args):
            return None
        spec_args: list[str] = []
        for a in args:
            b = ctx.lookup(text(a))
            if b is None or not b.names:
                return None
            spec_args.extend(b.names)
        name = self.calls.crate_fn(ctx, fn, node)
        if name is None:
            return None
        return f"{name}({', '.join(spec_args)})"

    # ------------------------------------------------------------------ blocks

    def block(
        self,
        ctx: Ctx,
        node: Node,
        target: str | None = None,
        ret: bool = False,
        loop: bool = False,
        scope: Scope | None = None,
    ) -> None:
        """Draft a block in a scope of its own; its tail expression is assigned to `target`
        (or returned, with `ret`); guards taken in it are released at its end."""
        if node.type in ("async_block", "unsafe_block"):
            node = next((c for c in named(node) if c.type == "block"), node)
        if node.type != "block":
            ctx.scopes.append(scope or Scope(loop=loop))
            self.tail(ctx, node, target, ret)
            guards.flush_temps(self, ctx, node)  # a closure's expression body is its own statement
            guards.end_scope(self, ctx, node)
            return
        ctx.scopes.append(scope or Scope(loop=loop))
        items = named(node)
        for i, item in enumerate(items):
            last = i == len(items) - 1
            statement = item.type in ("let_declaration", "expression_statement", "empty_statement")
            if item.type == "macro_invocation":
                statement = text(item).rstrip().endswith(";")
            if (
                last
                and item.type == "expression_statement"
                and not text(item).rstrip().endswith(";")
                and named(item)
            ):  # `if ..{ Ok(x) } else { Err(e) }` ending a block: its value is the block's
                self.tail(ctx, named(item)[0], target, ret)
            elif last and not statement and not item.type.endswith("_item"):
                self.tail(ctx, item, target, ret)
            else:
                self.statement(ctx, item)
        guards.end_scope(self, ctx, node)

    def tail(self, ctx: Ctx, node: Node, target: str | None = None, ret: bool = False) -> None:
        """A block's tail expression: its value goes to `target` or is returned."""
        if node.type in BLOCKLIKE or self.calls.is_blocklike(ctx, node):
            self.effect(ctx, node, target, ret)
            return
        if target is None and not ret:
            self.effect(ctx, node)
            return
        val = self.value(ctx, node)
        if val.stmt and val.text.split()[0] in ("acquire", "acquire_read", "acquire_write"):
            val = Val.none()
        guards.flush_temps(self, ctx, node)
        if target is not None:
            self.stmt(ctx, node, f"{target} = {self.rhs(ctx, node, val)}")
        elif ret and val.bare:
            self.stmt(ctx, node, val.text)
        elif ret and self._worth_returning(node, val):
            val = self.hoist(ctx, node, val)
            guards.release_all(self, ctx, guards.held(ctx), ctx.where(node))
            self.stmt(ctx, node, f"return {val.text}")
        elif val.stmt:
            self.stmt(ctx, node, val.text)

    def _worth_returning(self, node: Node, val: Val) -> bool:
        return val.stmt or val.text != "none"

    # ------------------------------------------------------------------ statements

    def statement(self, ctx: Ctx, node: Node) -> None:
        """One Rust statement."""
        if node.type == "let_declaration":
            self.let(ctx, node)
        elif node.type == "expression_statement":
            inner = named(node)
            if inner:
                self.effect(ctx, inner[0])
        elif node.type == "macro_invocation":
            self.effect(ctx, node)
        elif node.type in ("empty_statement", "attribute_item") or node.type.endswith("_item"):
            return
        else:
            self.effect(ctx, node)
        guards.flush_temps(self, ctx, node)

    def let(self, ctx: Ctx, node: Node) -> None:
        """`let pat = value;`"""
        pat = node.child_by_field_name("pattern")
        value = node.child_by_field_name("value")
        type_text = text(node.child_by_field_name("type"))
        if pat is None:
            return
        alternative = node.child_by_field_name("alternative")
        names = self._pattern_vars(pat)
        if value is None:
            for n in names:
                spec = self.local(ctx, n)
                ctx.bind(n, Binding(kind_of_type(type_text), (spec,)))
                self.stmt(ctx, node, f"let {spec} = none")
            return
        inner = unwrap_parens(value)
        if inner.type == "closure_expression" and pat.type == "identifier" and alternative is None:
            # `let job = move || ..`: drafted where it is run (called, spawned, passed on)
            ctx.bind(names[0], Binding(Kind.CLOSURE, (), code=inner))
            return
        if inner.type == "match_expression" and self._guard_match(ctx, node, inner, pat):
            return
        if inner.type in BLOCKLIKE or self.calls.is_blocklike(ctx, inner):
            spec = self.local(ctx, names[0]) if len(names) == 1 else self.spec.names.fresh("tmp")
            self.stmt(ctx, node, f"let {spec} = none")
            self.effect(ctx, inner, target=spec)
            for n in names:
                ctx.bind(n, Binding(kind_of_type(type_text), (spec,)))
            return
        val = self.value(ctx, value)
        if alternative is not None:  # let-else: the pattern may not match
            received = val.stmt and val.text.startswith(("recv ", "try_recv "))
            val = self.hoist(ctx, node, val, "msg")
            guards.flush_temps(self, ctx, node)
            if received:
                ctx.body.open(f"if is_none({val.text})", ctx.where(node))
            else:
                ctx.body.open("choose", ctx.where(node))
            self.block(ctx, alternative)
            if not received:
                ctx.body.close("or")
                ctx.body.stmt("skip", ctx.where(node))
            ctx.body.close()
            for n in self._pattern_vars(pat):
                ctx.bind(n, Binding(val.kind, (val.text,) if val.text != "none" else ()))
            return
        self._bind_pattern(ctx, node, pat, val, type_text)

    def _guard_match(self, ctx: Ctx, node: Node, match: Node, pat: Node) -> bool:
        """`let g = match m.lock() { Ok(g) => g, Err(p) => p.into_inner() };`: the guard
        is kept by the `let` (held to the end of its block; a poisoned lock is not
        modelled)."""
        scrut = match.child_by_field_name("value")
        body = match.child_by_field_name("body")
        if scrut is None or body is None:
            return False
        arms = [a for a in named(body) if a.type == "match_arm"]
        ok = next(
            (a for a in arms if text(a.child_by_field_name("pattern")).startswith("Ok(")), None
        )
        if ok is None:
            return False
        arm_pat = ok.child_by_field_name("pattern")
        arm_vars = self._pattern_vars(arm_pat) if arm_pat is not None else []
        value = ok.child_by_field_name("value")
        if value is None or value.type != "identifier" or text(value) not in arm_vars:
            return False
        mark, temps = ctx.body.mark(), list(ctx.temps)
        val = self.value(ctx, scrut)
        if val.guard is None or val.guard.target == GIL or val.guard not in ctx.temps:
            del ctx.body.ops[mark:]  # not a lock: drafted as any other match
            ctx.temps = temps
            return False
        self._bind_pattern(ctx, node, pat, val, "")
        guards.flush_temps(self, ctx, node)
        return True

    def _bind_pattern(self, ctx: Ctx, node: Node, pat: Node, val: Val, type_text: str) -> None:
        if val.guard is not None:
            g = val.guard
            ctx.temps = [t for t in ctx.temps if t is not g]
            for n in self._pattern_vars(pat):
                ctx.bind(n, g)
            ctx.scopes[-1].guards.append(g)
            return
        if pat.type == "tuple_pattern":
            parts = [p for p in named(pat)]
            if val.kind == Kind.PAIR and len(parts) == 2 and len(val.names) == 2:
                for p, name, kind in zip(parts, val.names, (Kind.MUTEX, Kind.CONDVAR), strict=True):
                    ctx.bind(text(p).replace("mut ", ""), Binding(kind, (name,)))
                return
            if (
                len(val.names) == len(parts)
                and val.stmt
                and val.text.startswith(("channel(", "oneshot("))
            ):
                ends = [self.local(ctx, text(p).replace("mut ", "")) for p in parts]
                self.stmt(ctx, node, f"let ({', '.join(ends)}) = {val.text}")
                for p, s, k in zip(parts, ends, (Kind.SENDER, Kind.RECEIVER), strict=True):
                    ctx.bind(text(p).replace("mut ", ""), Binding(k, (s,)))
                return
            if val.stmt:
                self.stmt(ctx, node, val.text)
            for p in parts:
                for n in self._pattern_vars(p):
                    spec_n = self.local(ctx, n)
                    self.stmt(ctx, node, f"let {spec_n} = none")
                    ctx.bind(n, Binding(Kind.UNKNOWN, (spec_n,)))
            return
        names = self._pattern_vars(pat)
        if not names:  # `let _ = ..`
            if val.stmt:
                self.stmt(ctx, node, val.text)
            return
        kind = val.kind
        declared = kind_of_type(type_text) if type_text else Kind.UNKNOWN
        if declared not in (Kind.UNKNOWN,) and kind in (Kind.UNKNOWN, Kind.PLAIN):
            kind = declared
        if kind == Kind.HANDLES and val.names:  # handles collected from spawning threads
            ctx.bind(names[0], Binding(kind, val.names))
            return
        if kind == Kind.HANDLES:  # a Vec of join handles: each pushed one is declared here
            ctx.bind(names[0], Binding(kind, (), extra=[str(ctx.body.mark())]))
            return
        if kind in (Kind.PAIR, Kind.SCOPE, Kind.PY, Kind.RUNTIME) or (
            not val.stmt and val.names and val.text == val.names[0] and kind in RESOURCES
        ):
            # an alias: another name for the same objects (Arc::clone, `let (l, c) = &*p`)
            ctx.bind(names[0], Binding(kind, val.names, extra=[]))
            return
        spec = self.local(ctx, names[0])
        self.stmt(ctx, node, f"let {spec} = {self.rhs(ctx, node, val)}")
        ctx.bind(names[0], Binding(kind, (spec,), type_text=type_text))
        if val.init and kind == Kind.MUTEX:
            self.spec.data_init[spec] = (val.init, ctx.where(node))
        for extra in names[1:]:
            ctx.bind(extra, Binding(kind, (spec,)))

    def _pattern_vars(self, pat: Node) -> list[str]:
        if pat.type == "identifier":
            return [text(pat)]
        if pat.type == "mut_pattern" or pat.type == "ref_pattern":
            return [n for c in named(pat) for n in self._pattern_vars(c)]
        out: list[str] = []
        for c in named(pat):
            if (
                c.type == "identifier"
                and c.prev_sibling is not None
                and text(c) in ("Some", "Ok", "Err", "None")
            ):
                continue
            if c.type == "identifier" and (text(c)[:1].isupper()):
                continue
            out.extend(self._pattern_vars(c))
        return out

    def local(self, ctx: Ctx, name: str) -> str:
        """The spec name of a new local: the Rust name where legal."""
        spec = legal(name)
        visible = {n for scope in ctx.scopes for b in scope.vars.values() for n in b.names}
        if spec in self.spec.names.used or spec in visible:  # Rust may shadow in one block
            spec = self.spec.names.fresh(spec)
        return spec

    # ------------------------------------------------------------------ effects

    def effect(self, ctx: Ctx, node: Node, target: str | None = None, ret: bool = False) -> None:
        """Draft an expression for its effect (and, with `target`, its value)."""
        node = unwrap_parens(node)
        t = node.type
        if t in ("block", "unsafe_block", "async_block"):
            self.block(ctx, node, target, ret)
        elif t == "if_expression":
            control.if_(self, ctx, node, target, ret)
        elif t == "match_expression":
            control.match(self, ctx, node, target, ret)
        elif t == "loop_expression":
            ctx.body.open("loop", ctx.where(node))
            self.block(ctx, self._body_of(node), loop=True)
            ctx.body.close()
        elif t == "while_expression":
            control.while_(self, ctx, node)
        elif t == "for_expression":
            control.for_(self, ctx, node)
        elif t == "break_expression":
            self.check_label(ctx, node)
            value = [c for c in named(node) if c.type != "label"]
            if value:  # `break f()`: the value is made before the loop is left
                val = self.value(ctx, value[0])
                if val.stmt:
                    self.stmt(ctx, node, val.text)
                guards.flush_temps(self, ctx, node)
            guards.leave_loop(self, ctx, node)
            self.stmt(ctx, node, "break")
        elif t == "continue_expression":
            self.check_label(ctx, node)
            guards.leave_loop(self, ctx, node)
            loop = next((s for s in reversed(ctx.scopes) if s.loop), None)
            self.stmt(ctx, node, "break" if loop is not None and loop.unrolled else "continue")
        elif t == "return_expression" and self.closure_return(ctx, node):
            return
        elif t == "return_expression":
            inner = named(node)
            val = self.value(ctx, inner[0]) if inner else Val.none()
            val = self.hoist(ctx, node, val) if val.guard is None else Val.none()
            guards.flush_temps(self, ctx, node)
            guards.release_on_exit(self, ctx, guards.held(ctx), node)
            self.stmt(ctx, node, f"return {val.text}" if val.text != "none" else "return")
        elif self.calls.is_blocklike(ctx, node):
            self.calls.blocklike(ctx, node, target, ret)
        elif t in ("assignment_expression", "compound_assignment_expr"):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            rv = self.value(ctx, right) if right is not None else Val.none()
            if left is not None and guards.write_through_guard(self, ctx, node, left, rv):
                return
            if left is not None:
                lv = self.value(ctx, left)
                if left.type == "identifier" and lv.names and not lv.stmt and rv.kind != Kind.GUARD:
                    b = ctx.lookup(text(left))
                    if (
                        b is not None
                        and b.kind not in (Kind.GUARD,)
                        and t == "assignment_expression"
                    ):
                        rv = self.hoist(ctx, node, rv) if rv.stmt else rv
                        self.stmt(ctx, node, f"{lv.names[0]} = {rv.text}")
                        return
            if rv.stmt:
                self.stmt(ctx, node, rv.text)
        else:
            val = self.value(ctx, node)
            if target is not None:
                self.stmt(ctx, node, f"{target} = {self.rhs(ctx, node, val)}")
            elif ret and val.bare:
                self.stmt(ctx, node, val.text)
            elif ret and val.text != "none":
                val = self.hoist(ctx, node, val)
                guards.release_all(self, ctx, guards.held(ctx), ctx.where(node))
                self.stmt(ctx, node, f"return {val.text}")
            elif val.stmt:
                self.stmt(ctx, node, val.text)

    def check_label(self, ctx: Ctx, node: Node) -> None:
        """`break 'outer` / `continue 'outer` must target the innermost loop: the spec's
        `break` leaves only that one, so a jump further out is refused."""
        label = next((c for c in node.children if c.type == "label"), None)
        if label is None:
            return
        loop = node.parent
        while loop is not None and loop.type not in (
            "loop_expression",
            "while_expression",
            "for_expression",
            "closure_expression",
        ):
            loop = loop.parent
        own = next((c for c in loop.children if c.type == "label"), None) if loop else None
        if own is None or text(own) != text(label):
            raise self.refuse(
                ctx,
                node,
                f"`{text(node)}` leaves more than the innermost loop",
                "restructure the loops (a flag, or a function that returns)",
            )

    def inline_closure(
        self, ctx: Ctx, node: Node, body: Node, target: str | None, ret: bool, scope: Scope
    ) -> None:
        """A closure's body drafted in place (`with_gil`, `allow_threads`, `call_once`).
        A `return` in it leaves the closure, not the function: such a body is wrapped in
        `loop { .. break }` and its `return`s assign the value and `break`."""
        if ret or not has_return(body):
            self.block(ctx, body, target, ret, scope=scope)
            return
        scope.closure, scope.target = True, target
        ctx.body.open("loop", ctx.where(node))
        self.block(ctx, body, target, False, scope=scope)
        ctx.body.stmt("break", ctx.where(node))
        ctx.body.close()

    def closure_return(self, ctx: Ctx, node: Node) -> bool:
        """`return v` inside an inlined closure: assign its value and leave the wrapper."""
        inside: list[Scope] = []
        for scope in reversed(ctx.scopes):
            inside.append(scope)
            if scope.loop and not scope.closure:
                break
            if scope.closure:
                inner = named(node)
                val = self.value(ctx, inner[0]) if inner else Val.none()
                val = self.hoist(ctx, node, val) if val.guard is None else Val.none()
                guards.flush_temps(self, ctx, node)
                guards.release_on_exit(self, ctx, [g for s in inside for g in s.guards], node)
                if scope.target is not None:
                    self.stmt(ctx, node, f"{scope.target} = {val.text}")
                # an adaptor's closure run in a loop: on to the next element
                self.stmt(ctx, node, "continue" if scope.loop else "break")
                return True
        if any(s.closure for s in ctx.scopes):
            raise self.refuse(
                ctx,
                node,
                "a `return` from a closure inside a loop of that closure cannot be drafted",
                "move the loop into a function of its own",
            )
        return False

    def pure_condition(self, ctx: Ctx, cond: Node) -> str | None:
        """A condition the spec can evaluate (over literals and modelled mutex data), or
        None (nothing is written for it then)."""
        mark, temps = ctx.body.mark(), list(ctx.temps)
        assumed = len(self.spec.writer.assumptions)
        val = self.value(ctx, cond)
        known = set(self.spec.data.values()) | {"not", "and", "or", "true", "false"}
        names = re.findall(r"[A-Za-z_]\w*", re.sub(r'"[^"]*"', "", val.text))
        ok = not val.stmt and val.kind == Kind.PLAIN and val.text not in ("none", "")
        ok = ok and all(n in known for n in names)  # literals and modelled data only
        if ok and ctx.body.empty_since(mark) and len(ctx.temps) == len(temps):
            return val.text
        del ctx.body.ops[mark:]
        ctx.temps = temps
        del self.spec.writer.assumptions[assumed:]
        return None

    def _body_of(self, node: Node) -> Node:
        body = node.child_by_field_name("body")
        assert body is not None
        return body

    def value(self, ctx: Ctx, node: Node) -> Val:
        """Draft an expression for its value (statements it needs first are written)."""
        return self.calls.value(ctx, node)


def has_return(node: Node) -> bool:
    """`node` holds a `return` of its own (not one of a nested closure or async block)."""
    if node.type == "return_expression":
        return True
    return any(
        has_return(c) for c in node.children if c.type not in ("closure_expression", "async_block")
    )
