"""Drafting Rust statements and expressions into spec statements: blocks, bindings, guards
held to the end of their block, control flow over data the draft cannot evaluate, and the
calls the draft recognises (delegated to `calls`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from gilcheck.draft.model import DraftError, DraftOptions, Origin
from gilcheck.draft.rust.closures import captured, closure_params
from gilcheck.draft.rust.context import Ctx, Scope, Val
from gilcheck.draft.rust.crate import Crate, FnDef
from gilcheck.draft.rust.emit import Body, Op
from gilcheck.draft.rust.kinds import GIL, RESOURCES, Binding, Kind, element_kind, kind_of_type
from gilcheck.draft.rust.names import NameTable, legal
from gilcheck.draft.rust.parse import named, text, unwrap_parens
from gilcheck.draft.writer import SpecWriter

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


@dataclass
class Spec:
    """What the draft has made so far: top-level items, functions, `use`d models."""

    writer: SpecWriter
    names: NameTable
    items: list[tuple[str, Origin | None]] = field(default_factory=list)
    fns: list[Body] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)
    drafted: dict[str, str] = field(default_factory=dict)  # crate fn key -> spec fn name
    statics: dict[str, Binding] = field(default_factory=dict)
    # mutex -> the literal it was made with, and where
    data_init: dict[str, tuple[str, Origin | None]] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)  # mutex -> the var of its data
    unknown_locks: dict[str, str] = field(default_factory=dict)  # source text -> global lock

    def data_var(self, lock: str) -> str | None:
        """The shared var that holds a mutex's data (a literal `bool` or integer), declared
        on first use; None when the data is not modelled."""
        if lock in self.data:
            return self.data[lock]
        if lock not in self.data_init:
            return None
        var = self.names.claim(f"{lock}_data")
        init, where = self.data_init[lock]
        self.item(f"var {var} = {init}", where)
        self.data[lock] = var
        return var

    def use(self, model: str) -> None:
        """Use a model library (`use "rayon"`)."""
        if model not in self.uses:
            self.uses.append(model)

    def item(self, text: str, origin: Origin | None = None) -> None:
        """A top-level declaration, once."""
        if all(text != t for t, _ in self.items):
            self.items.append((text, origin))


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
        body = Body(f"fn {spec_name}({', '.join(params)})", None)
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
        if closure.type == "identifier":
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
            self.flush_temps(ctx, node)  # a closure's expression body is its own statement
            self.end_scope(ctx, node)
            return
        ctx.scopes.append(scope or Scope(loop=loop))
        items = named(node)
        for i, item in enumerate(items):
            last = i == len(items) - 1
            statement = item.type in ("let_declaration", "expression_statement", "empty_statement")
            if item.type == "macro_invocation":
                statement = text(item).rstrip().endswith(";")
            if last and not statement and not item.type.endswith("_item"):
                self.tail(ctx, item, target, ret)
            else:
                self.statement(ctx, item)
        self.end_scope(ctx, node)

    def end_scope(self, ctx: Ctx, node: Node) -> None:
        """Leave a scope: a `thread::scope` joins its threads; guards are released."""
        scope = ctx.scopes.pop()
        for h in scope.handles:
            ctx.body.stmt(f"join {h}", self.end_of(ctx, node))
        self.release_all(ctx, scope.guards, self.end_of(ctx, node))

    def end_of(self, ctx: Ctx, node: Node) -> Origin:
        """The origin of what happens where a block ends (its `}`)."""
        if ctx.origin_at is not None:
            return ctx.origin_at
        row, column = node.end_point.row, node.end_point.column
        return ctx.src.origin(row + 1, max(column, 1))

    def release_all(self, ctx: Ctx, guards: list[Binding], where: Origin | None) -> None:
        """Release guards still held, the last taken first."""
        for g in reversed(guards):
            if not g.released:
                self.release(ctx, g, where)
                g.released = True

    def release(self, ctx: Ctx, g: Binding, where: Origin | None) -> None:
        """Release one guard's lock. When only plain statements were written since its
        `acquire` (a temporary guard, a short block), they become `lock m { .. }`."""
        if g.target == GIL:  # a GILGuard: the `with_gil {` opened where it was taken ends
            ctx.body.close()
            return
        ops = ctx.body.ops
        words = {"acquire": "lock", "acquire_write": "write", "acquire_read": "read"}
        takes = {f"{w} {g.target}" for w in words}
        i = len(ops) - 1
        while i >= 0 and ops[i].kind == "stmt" and ops[i].text not in takes:
            i -= 1
        flat = all(not op.text.startswith("let ") for op in ops[i + 1 :])  # no scope change
        if i >= 0 and ops[i].kind == "stmt" and len(ops) - i <= 4 and flat:
            taken = ops[i]
            inner = ops[i + 1 :] or [Op("stmt", "skip", taken.origin)]
            del ops[i:]
            ctx.body.open(f"{words[taken.text.split()[0]]} {g.target}", taken.origin)
            ops.extend(inner)
            ctx.body.close()
            return
        ctx.body.stmt(f"release {g.target}", where)

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
        self.flush_temps(ctx, node)
        if target is not None:
            self.stmt(ctx, node, f"{target} = {self.rhs(ctx, node, val)}")
        elif ret and val.bare:
            self.stmt(ctx, node, val.text)
        elif ret and self._worth_returning(node, val):
            val = self.hoist(ctx, node, val)
            self.release_all(ctx, [g for s in ctx.scopes for g in s.guards], ctx.where(node))
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
        self.flush_temps(ctx, node)

    def flush_temps(self, ctx: Ctx, node: Node | None = None) -> None:
        """Release the temporary guards of the statement just drafted (`node`)."""
        temps, ctx.temps = ctx.temps, []
        for g in reversed(temps):
            if not g.released:
                self.release(ctx, g, ctx.where(node) if node is not None else None)
                g.released = True

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
            self.flush_temps(ctx, node)
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
            self.if_(ctx, node, target, ret)
        elif t == "match_expression":
            self.match(ctx, node, target, ret)
        elif t == "loop_expression":
            ctx.body.open("loop", ctx.where(node))
            self.block(ctx, self._body_of(node), loop=True)
            ctx.body.close()
        elif t == "while_expression":
            self.while_(ctx, node)
        elif t == "for_expression":
            self.for_(ctx, node)
        elif t == "break_expression":
            self.leave_loop(ctx, node)
            self.stmt(ctx, node, "break")
        elif t == "continue_expression":
            self.leave_loop(ctx, node)
            loop = next((s for s in reversed(ctx.scopes) if s.loop), None)
            self.stmt(ctx, node, "break" if loop is not None and loop.unrolled else "continue")
        elif t == "return_expression" and self.closure_return(ctx, node):
            return
        elif t == "return_expression":
            inner = named(node)
            val = self.value(ctx, inner[0]) if inner else Val.none()
            val = self.hoist(ctx, node, val) if val.guard is None else Val.none()
            self.flush_temps(ctx, node)
            self.release_on_exit(ctx, [g for s in ctx.scopes for g in s.guards], node)
            self.stmt(ctx, node, f"return {val.text}" if val.text != "none" else "return")
        elif self.calls.is_blocklike(ctx, node):
            self.calls.blocklike(ctx, node, target, ret)
        elif t in ("assignment_expression", "compound_assignment_expr"):
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            rv = self.value(ctx, right) if right is not None else Val.none()
            if left is not None and self.write_through_guard(ctx, node, left, rv):
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
                self.release_all(ctx, [g for s in ctx.scopes for g in s.guards], ctx.where(node))
                self.stmt(ctx, node, f"return {val.text}")
            elif val.stmt:
                self.stmt(ctx, node, val.text)

    def inline_closure(
        self, ctx: Ctx, node: Node, body: Node, target: str | None, ret: bool, scope: Scope
    ) -> None:
        """A closure's body drafted in place (`with_gil`, `allow_threads`, `call_once`).
        A `return` in it leaves the closure, not the function: such a body is wrapped in
        `loop { .. break }` and its `return`s assign the value and `break`."""
        if ret or not _returns(body):
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
                self.flush_temps(ctx, node)
                self.release_on_exit(ctx, [g for s in inside for g in s.guards], node)
                if scope.target is not None:
                    self.stmt(ctx, node, f"{scope.target} = {val.text}")
                self.stmt(ctx, node, "break")
                return True
        if any(s.closure for s in ctx.scopes):
            raise self.refuse(
                ctx,
                node,
                "a `return` from a closure inside a loop of that closure cannot be drafted",
                "move the loop into a function of its own",
            )
        return False

    def write_through_guard(self, ctx: Ctx, node: Node, left: Node, rv: Val) -> bool:
        """`*guard = v` / `*guard += v` on a mutex whose data is modelled: the data var is
        written (one step, under the lock)."""
        if left.type != "unary_expression" or not text(left).startswith("*"):
            return False
        inner = named(left)
        gv = self.value(ctx, inner[-1]) if inner else Val.none()
        if gv.guard is None:
            return False
        var = self.spec.data_var(gv.guard.target)
        if var is None:
            return False
        if rv.stmt or rv.kind != Kind.PLAIN or rv.text == "none":
            self.assume(ctx, node, "the value written by {code} is not modelled")
            return True
        op = (
            text(node.child_by_field_name("operator"))
            if node.type != "assignment_expression"
            else "="
        )
        if op == "=":
            self.stmt(ctx, node, f"{var} = {rv.text}")
        elif op in ("+=", "-=", "*=", "/=", "%="):
            self.stmt(ctx, node, f"{var} = {var} {op[0]} ({rv.text})")
        else:
            self.assume(ctx, node, "the value written by {code} is not modelled")
        return True

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

    def release_on_exit(self, ctx: Ctx, guards: list[Binding], node: Node) -> None:
        """Before an early exit (`return`, `break`): release the guards still held, without
        marking them released (the path that does not exit still holds them)."""
        for g in reversed(guards):
            if not g.released and g.target != GIL:  # leaving the block leaves `with_gil`
                ctx.body.stmt(f"release {g.target}", ctx.where(node))

    def leave_loop(self, ctx: Ctx, node: Node) -> None:
        """Before `break`/`continue`: release the guards of the scopes inside the loop."""
        guards: list[Binding] = []
        for scope in reversed(ctx.scopes):
            guards = scope.guards + guards
            if scope.loop:
                break
        for g in reversed(guards):
            if not g.released and g.target != GIL:
                ctx.body.stmt(f"release {g.target}", ctx.where(node))

    def choose(
        self, ctx: Ctx, node: Node, branches: list[Node | None], target: str | None, ret: bool
    ) -> None:
        """`choose { a } or { b }` over branches the draft cannot decide between."""
        ctx.body.open("choose", ctx.where(node))
        for i, branch in enumerate(branches):
            if i:
                ctx.body.close("or")
            if branch is None:
                ctx.body.stmt("skip", ctx.where(node))
            else:
                self.block(ctx, branch, target, ret)
        ctx.body.close()

    def if_(self, ctx: Ctx, node: Node, target: str | None, ret: bool) -> None:
        """`if` on data the draft cannot evaluate is a choice; `if let Some(v) = rx.recv()`
        tests the message."""
        cond = node.child_by_field_name("condition")
        cons = node.child_by_field_name("consequence")
        alt = node.child_by_field_name("alternative")
        alt_block = named(alt)[0] if alt is not None and named(alt) else None
        if cond is not None and cond.type == "let_condition":
            pat = cond.child_by_field_name("pattern")
            val = self.value(ctx, cond.child_by_field_name("value") or cond)
            if val.stmt and val.text.startswith(("recv ", "try_recv ")):
                tmp = self.hoist(ctx, cond, val, "msg")
                ctx.body.open(f"if not is_none({tmp.text})", ctx.where(node))
                scope = Scope()
                for n in self._pattern_vars(pat) if pat is not None else []:
                    scope.vars[n] = Binding(Kind.UNKNOWN, (tmp.text,))
                if cons is not None:
                    self.block(ctx, cons, target, ret, scope=scope)
                if alt_block is not None:
                    ctx.body.close("else")
                    self.block(ctx, alt_block, target, ret)
                ctx.body.close()
                return
            word = val.text.split(" ", 1)[0] if val.stmt else ""
            tmp = self.hoist(ctx, cond, val)
            self.flush_temps(ctx, node)
            shape = text(pat).split("(", 1)[0].strip() if pat is not None else ""
            if word in ("spawn", "join", "call_once") or val.guard is not None:
                # what the model cannot see fail (a thread not starting, a poisoned lock)
                # takes the success path
                chosen = cons if shape in ("Ok", "Some") else alt_block
                if chosen is not None:
                    self.block(ctx, chosen, target, ret)
                return
            if word == "send" and shape in ("Ok", "Err"):
                test = "is_ok" if shape == "Ok" else "is_err"
                ctx.body.open(f"if {test}({tmp.text})", ctx.where(node))
                if cons is not None:
                    self.block(ctx, cons, target, ret)
                if alt_block is not None:
                    ctx.body.close("else")
                    self.block(ctx, alt_block, target, ret)
                ctx.body.close()
                return
            scope = Scope()
            for n in self._pattern_vars(pat) if pat is not None else []:
                scope.vars[n] = Binding(tmp.kind, (tmp.text,) if tmp.text != "none" else ())
            ctx.body.open("choose", ctx.where(node))
            if cons is not None:
                self.block(ctx, cons, target, ret, scope=scope)
            ctx.body.close("or")
            if alt_block is not None:
                self.block(ctx, alt_block, target, ret)
            else:
                ctx.body.stmt("skip", ctx.where(node))
            ctx.body.close()
            return
        pure = self.pure_condition(ctx, cond) if cond is not None else None
        if pure is not None and text(cond) not in ("true", "false"):
            ctx.body.open(f"if {pure}", ctx.where(node))
            if cons is not None:
                self.block(ctx, cons, target, ret)
            if alt_block is not None:
                ctx.body.close("else")
                self.block(ctx, alt_block, target, ret)
            ctx.body.close()
            return
        if cond is not None:
            if text(cond) in ("true", "false"):
                chosen = cons if text(cond) == "true" else alt_block
                if chosen is not None:
                    self.block(ctx, chosen, target, ret)
                return
            val = self.value(ctx, cond)
            if val.stmt:
                self.stmt(ctx, cond, val.text)
            self.flush_temps(ctx, node)
        self.choose(ctx, node, [cons, alt_block], target, ret)

    def match(self, ctx: Ctx, node: Node, target: str | None, ret: bool) -> None:
        """`match` on data: a choice among its arms (a message received: tested)."""
        scrut = node.child_by_field_name("value")
        val = self.value(ctx, scrut) if scrut is not None else Val.none()
        tmp = self.hoist(ctx, node, val, "msg") if val.guard is None else Val.none()
        self.flush_temps(ctx, node)
        body = node.child_by_field_name("body")
        arms = [a for a in named(body)] if body is not None else []
        arms = [a for a in arms if a.type == "match_arm"]
        if not arms:
            return
        received = val.stmt and val.text.startswith(("recv ", "try_recv "))
        if received and len(arms) == 2:
            firsts = [text(a.child_by_field_name("pattern")) for a in arms]
            some = next((i for i, p in enumerate(firsts) if p.startswith(("Some", "Ok"))), None)
            if some is not None:
                other = 1 - some
                ctx.body.open(f"if not is_none({tmp.text})", ctx.where(node))
                self._arm(ctx, arms[some], tmp, target, ret)
                ctx.body.close("else")
                self._arm(ctx, arms[other], tmp, target, ret)
                ctx.body.close()
                return
        if len(arms) == 1:
            self._arm(ctx, arms[0], tmp, target, ret)
            return
        ctx.body.open("choose", ctx.where(node))
        for i, arm in enumerate(arms):
            if i:
                ctx.body.close("or")
            self._arm(ctx, arm, tmp, target, ret)
        ctx.body.close()

    def _arm(self, ctx: Ctx, arm: Node, tmp: Val, target: str | None, ret: bool) -> None:
        pat = arm.child_by_field_name("pattern")
        scope = Scope()
        for n in self._pattern_vars(pat) if pat is not None else []:
            scope.vars[n] = Binding(tmp.kind, (tmp.text,) if tmp.text != "none" else ())
        value = arm.child_by_field_name("value")
        if value is not None:
            self.block(ctx, value, target, ret, scope=scope)

    def while_(self, ctx: Ctx, node: Node) -> None:
        """`while let Some(x) = rx.recv()` is `for x in rx`; other loops over data run at
        most `unroll` times."""
        cond = node.child_by_field_name("condition")
        body = self._body_of(node)
        if cond is not None and cond.type == "let_condition":
            pat = cond.child_by_field_name("pattern")
            found = self.calls.receiver_of(ctx, cond.child_by_field_name("value"))
            if found is not None and pat is not None and text(pat).startswith(("Some", "Ok")):
                rx, element = found
                names = self._pattern_vars(pat)
                var = self.local(ctx, names[0]) if names else self.spec.names.fresh("msg")
                scope = Scope(loop=True)
                for n in names:
                    scope.vars[n] = Binding(element, (var,))
                ctx.body.open(f"for {var} in {rx}", ctx.where(node))
                self.block(ctx, body, scope=scope)
                ctx.body.close()
                return
        if cond is not None and text(cond) == "true":
            ctx.body.open("loop", ctx.where(node))
            self.block(ctx, body, loop=True)
            ctx.body.close()
            return
        pure = self.pure_condition(ctx, cond) if cond is not None else None
        if pure is not None:
            ctx.body.open(f"while {pure}", ctx.where(node))
            self.block(ctx, body, loop=True)
            ctx.body.close()
            return
        self.bounded(ctx, node, body, [], "{code} runs at most {n} times")

    def bounded(self, ctx: Ctx, node: Node, body: Node, names: list[str], what: str) -> None:
        """A loop over data the draft cannot evaluate: 0 to `unroll` iterations (an
        assumption)."""
        n = self.options.unroll
        head = text(node).split("{", 1)[0].strip()
        self.spec.writer.assume(
            ctx.where(node), what.format(code=f"`{' '.join(head.split())}`", n=n)
        )
        count = self.spec.names.fresh("iter")
        self.stmt(ctx, node, f"let {count} = 0")
        ctx.body.open(f"while {count} < {n}", ctx.where(node))
        ctx.body.stmt(f"{count} = {count} + 1", ctx.where(node))
        ctx.body.open("choose", ctx.where(node))
        ctx.body.stmt("skip", ctx.where(node))
        ctx.body.close("or")
        ctx.body.stmt("break", ctx.where(node))
        ctx.body.close()
        scope = Scope(loop=True)
        for name in names:
            spec = self.local(ctx, name)
            ctx.body.stmt(f"let {spec} = none", ctx.where(node))
            scope.vars[name] = Binding(Kind.UNKNOWN, (spec,))
        self.block(ctx, body, scope=scope)
        ctx.body.close()

    def for_(self, ctx: Ctx, node: Node) -> None:
        """`for x in rx` / `rx.iter()` / `&rx`: receive until closed; over join handles:
        each; over a small literal range: unrolled; over other data: bounded."""
        pat = node.child_by_field_name("pattern")
        value = node.child_by_field_name("value")
        body = self._body_of(node)
        names = self._pattern_vars(pat) if pat is not None else []
        found = self.calls.receiver_of(ctx, value) if value is not None else None
        if found is not None:
            rx, element = found
            var = self.local(ctx, names[0]) if names else self.spec.names.fresh("msg")
            scope = Scope(loop=True)
            for n in names:
                scope.vars[n] = Binding(element, (var,))
            ctx.body.open(f"for {var} in {rx}", ctx.where(node))
            self.block(ctx, body, scope=scope)
            ctx.body.close()
            return
        src = unwrap_parens(value) if value is not None else None
        while (
            src is not None
            and src.type == "call_expression"
            and text(src.child_by_field_name("function")).endswith(
                (".into_iter", ".iter", ".drain", ".iter_mut")
            )
        ):
            fn = src.child_by_field_name("function")
            src = fn.child_by_field_name("value") if fn is not None else None
        if src is not None and src.type == "identifier":
            b = ctx.lookup(text(src))
            if b is not None and b.kind == Kind.HANDLES:
                for h in b.names:
                    scope = Scope()
                    for n in names:
                        scope.vars[n] = Binding(Kind.HANDLE, (h,))
                    self.block(ctx, body, scope=scope)
                return
        if src is not None and src.type == "range_expression":
            parts = [text(c) for c in named(src)]
            if len(parts) == 2 and all(re.fullmatch(r"\d+", p) for p in parts):
                lo, hi = int(parts[0]), int(parts[1])
                if "..=" in text(src):
                    hi += 1
                if hi - lo <= 8:
                    for k in range(lo, hi):
                        scope = Scope(loop=True, unrolled=True)
                        ctx.body.open("loop", ctx.where(node))
                        for n in names:
                            spec = self.local(ctx, n)
                            self.stmt(ctx, node, f"let {spec} = {k}")
                            scope.vars[n] = Binding(Kind.PLAIN, (spec,))
                        self.block(ctx, body, scope=scope)
                        ctx.body.stmt("break", ctx.where(node))
                        ctx.body.close()
                    return
        self.bounded(ctx, node, body, names, "{code} runs at most {n} times")

    # ------------------------------------------------------------------ values

    def value(self, ctx: Ctx, node: Node) -> Val:
        """Draft an expression for its value (statements it needs first are written)."""
        return self.calls.value(ctx, node)


def _returns(node: Node) -> bool:
    """`node` holds a `return` of its own (not one of a nested closure or async block)."""
    if node.type == "return_expression":
        return True
    return any(
        _returns(c) for c in node.children if c.type not in ("closure_expression", "async_block")
    )
