"""The calls and values the draft recognises: PyO3 (`with_gil`, `allow_threads`, errors,
Python objects), threads, channels, locks, once-cells, tokio, rayon and formatting
macros, the crate's own functions (called by name or passed by name where a closure is
expected); anything else is an assumption.

Every call inside an expression is drafted, in Rust's evaluation order, each bound to a
temporary before the next. `?` and `unwrap`/`expect` are drafted on their success path
only: the error path of `?` returns early and that of `unwrap` panics, neither hangs, so
a match on a result takes its `Err` arm whenever the value may be an error."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.rust import control, locks, printing, statics, threads
from gilcheck.draft.rust.closures import closure_params
from gilcheck.draft.rust.context import Ctx, Scope, Val
from gilcheck.draft.rust.crate import FnDef
from gilcheck.draft.rust.emit import Op
from gilcheck.draft.rust.kinds import GIL, Binding, Kind, kind_of_type
from gilcheck.draft.rust.literals import escape, message_text, mutex_literal, short
from gilcheck.draft.rust.names import legal
from gilcheck.draft.rust.parse import named, text, unwrap_parens, walk
from gilcheck.draft.rust.vocabulary import (
    CHANNEL_CTORS,
    CURRENT_THREAD,
    HARMLESS,
    HARMLESS_FUNCTIONS,
    PASSTHROUGH,
    RESULT_ADAPTORS,
    RUNS_PYTHON,
)

if TYPE_CHECKING:
    from gilcheck.draft.model import DraftError
    from gilcheck.draft.rust.translate import Drafter


def moving(ctx: Ctx, arg: Node, v: Val) -> bool:
    """`arg` moves a guard just made (`v.push(m.lock().unwrap())`), not a borrow of it."""
    g = v.guard
    return (
        g is not None
        and g.target != GIL
        and not g.released
        and any(t is g for t in ctx.temps)
        and arg.type != "reference_expression"
    )


def _path(code: str) -> str:
    """A called path without spaces and turbofish arguments: `Vec::new` for
    `Vec::<i64>::new`."""
    path = re.sub(r"\s", "", code)
    while True:
        stripped = re.sub(r"::<[^<>]*>", "", path)
        if stripped == path:
            return path
        path = stripped


class Calls:
    """Recognises calls, methods and macros, and drafts each."""

    def __init__(self, drafter: Drafter) -> None:
        self.d = drafter

    # ------------------------------------------------------------------ shapes

    def callee(self, node: Node) -> tuple[str, Node | None, list[Node]]:
        """(path or method name, receiver node for methods, argument nodes)."""
        fn = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        args = named(args_node) if args_node is not None else []
        if fn is None:
            return "", None, args
        if fn.type == "field_expression":
            return (
                "." + text(fn.child_by_field_name("field")),
                fn.child_by_field_name("value"),
                args,
            )
        if fn.type == "generic_function":
            inner = fn.child_by_field_name("function")
            if inner is not None and inner.type == "field_expression":  # `obj.extract::<T>(..)`
                return (
                    "." + text(inner.child_by_field_name("field")),
                    inner.child_by_field_name("value"),
                    args,
                )
            return _path(text(inner)), None, args
        return _path(text(fn)), None, args

    def closure_arg(self, args: list[Node], ctx: Ctx | None = None) -> Node | None:
        """The first closure or async block among a call\'s arguments (with `ctx`, a
        variable bound to a closure counts: its closure)."""
        for a in args:
            a = unwrap_parens(a)
            if a.type in ("closure_expression", "async_block"):
                return a
            if ctx is not None and a.type == "identifier":
                b = ctx.lookup(text(a))
                if b is not None and b.kind == Kind.CLOSURE and b.code is not None:
                    return b.code
        return None

    def callable_arg(self, ctx: Ctx, args: list[Node]) -> Node | None:
        """The code a call runs: its first closure or async block, else the first argument
        naming something that can be called (a crate fn passed by name, a variable holding
        a closure); the `py` token is not one."""
        closure = self.closure_arg(args, ctx)
        if closure is not None:
            return closure
        for a in args:
            a = unwrap_parens(a)
            if a.type in ("identifier", "scoped_identifier", "field_expression"):
                b = ctx.lookup(text(a)) if a.type == "identifier" else None
                if b is not None and b.kind in (Kind.PY, Kind.PLAIN):
                    continue
                if self.fn_ref(ctx, a) is not None or b is not None:
                    return a
                if a.type == "identifier" and text(a)[:1].islower():
                    return a
        return None

    def fn_ref(self, ctx: Ctx, node: Node) -> FnDef | None:
        """The crate function a path names, when it is passed as a value (`build_label`,
        `Self::refresh`, `worker::run`)."""
        node = unwrap_parens(node)
        if node.type not in ("identifier", "scoped_identifier"):
            return None
        if node.type == "identifier" and ctx.lookup(text(node)) is not None:
            return None
        path = re.sub(r"\s", "", text(node))
        fn = self.d.crate.fns.get(path)
        owner, _, last = path.rpartition("::")
        if fn is None and owner == "Self":
            fn = self.method_fn(last)
        if fn is None and owner and owner.rsplit("::", 1)[-1] in self.d.crate.modules:
            fn = self.d.crate.fns.get(last)
        return fn

    def call_ref(self, ctx: Ctx, node: Node, fn: FnDef) -> Val:
        """Calling a crate function passed by name, as the code it is given to does: its
        arguments are values the draft does not follow (`none`)."""
        name = self.crate_fn(ctx, fn, node)
        if name is None:
            return Val.none(Kind.UNKNOWN)
        params = [t for n, t in fn.params() if n != "self" and kind_of_type(t) != Kind.PY]
        argv = ["none"] * len(params)
        return Val(f"call {name}({', '.join(argv)})", Kind.UNKNOWN, stmt=True)

    def run_callable(self, ctx: Ctx, node: Node, callable_: Node | None) -> Val:
        """Run code given by name where it is run (a crate fn: called; anything else: an
        assumption). Closures are inlined by the caller."""
        if callable_ is None:
            return Val.none()
        fn = self.fn_ref(ctx, callable_)
        if fn is not None:
            return self.call_ref(ctx, callable_, fn)
        self.d.assume(
            ctx, callable_, "code passed by name, not drafted: assumed not to block: {code}"
        )
        return Val.none(Kind.UNKNOWN)

    def is_blocklike(self, ctx: Ctx, node: Node) -> bool:
        """A call that drafts to a block (`with_gil { }`, `allow_threads { }`, a block_on
        of an async block, a `thread::scope`)."""
        node = unwrap_parens(node)
        while node.type == "call_expression" and self.callee(node)[0] in (".unwrap", ".expect"):
            recv = self.callee(node)[1]
            if recv is None:
                break
            node = unwrap_parens(recv)
        if node.type != "call_expression":
            return False
        name, recv, args = self.callee(node)
        if name.endswith(("with_gil", "attach")) and "Python" in name:
            return True
        if name in (".allow_threads", ".detach") and self.closure_arg(args, ctx) is not None:
            return True
        if (name == "scope" or name.endswith("::scope")) and self.closure_arg(args, ctx):
            # thread::scope, crossbeam::scope, rayon::scope: what it spawns is joined at its end
            return True
        return (
            bool(args)
            and name.endswith("block_on")
            and (unwrap_parens(args[-1]).type == "async_block")
        )

    def blocklike(self, ctx: Ctx, node: Node, target: str | None, ret: bool) -> None:
        """Draft a block-like call (see `is_blocklike`)."""
        node = unwrap_parens(node)
        while node.type == "call_expression" and self.callee(node)[0] in (".unwrap", ".expect"):
            recv = self.callee(node)[1]
            if recv is None:
                break
            node = unwrap_parens(recv)
        name, recv, args = self.callee(node)
        closure = self.closure_arg(args, ctx)
        d = self.d
        if name.endswith("block_on"):
            body = unwrap_parens(args[-1])
            d.block(ctx, body, target, ret)
            return
        if closure is None:
            code = self.callable_arg(ctx, args)
            if code is None or "scope" in name:
                d.effect(ctx, args[0] if args else node, target, ret)
                return
            # `Python::with_gil(f)` of a function passed by name
            ctx.body.open("with_gil", ctx.where(node))
            v = self.run_callable(ctx, node, code)
            if target is not None:
                d.stmt(ctx, node, f"{target} = {d.rhs(ctx, node, v)}")
            elif ret and v.stmt:
                v = d.hoist(ctx, node, v)
                d.stmt(ctx, node, f"return {v.text}")
            elif v.stmt:
                d.stmt(ctx, node, v.text)
            ctx.body.close()
            return
        scope = Scope()
        params = closure_params(closure)
        body = closure.child_by_field_name("body") or closure
        if "scope" in name:
            for p in params:
                scope.vars[p] = Binding(Kind.SCOPE)
            d.block(ctx, body, target, ret, scope=scope)
            return
        word = "with_gil" if "Python" in name else "allow_threads"
        for p in params:
            scope.vars[p] = Binding(Kind.PY)
        ctx.body.open(word, ctx.where(node))
        d.inline_closure(ctx, node, body, target, ret, scope)
        ctx.body.close()

    def receiver_of(self, ctx: Ctx, node: Node | None) -> tuple[str, Kind] | None:
        """The spec name of the receiver a loop receives from: `rx`, `&rx`, `rx.iter()`,
        `rx.recv()`, `rx.blocking_recv()`, `rx.recv().await`, `rx.into_iter()`."""
        if node is None:
            return None
        node = unwrap_parens(node)
        if node.type == "await_expression":
            node = unwrap_parens(named(node)[0])
        if node.type == "identifier":
            b = ctx.lookup(text(node))
            if b is not None and b.kind == Kind.RECEIVER:
                return b.name, b.element
            return None
        if node.type == "call_expression":
            name, recv, _ = self.callee(node)
            if recv is not None and name in (
                ".iter",
                ".into_iter",
                ".recv",
                ".blocking_recv",
                ".unwrap",
                ".ok",
                ".recv_async",
            ):
                return self.receiver_of(ctx, recv)
        return None

    # ------------------------------------------------------------------ values

    def value(self, ctx: Ctx, node: Node) -> Val:
        """Draft an expression for its value."""
        d = self.d
        t = node.type
        if t in ("parenthesized_expression", "reference_expression", "try_expression"):
            inner = named(node)
            return self.value(ctx, inner[-1]) if inner else Val.none()
        if t == "unary_expression":
            inner = named(node)
            val = self.value(ctx, inner[-1]) if inner else Val.none()
            if val.stmt and val.guard is None:
                val = d.hoist(ctx, node, val)  # `!f()`, `*f()`: the call still runs
            if text(node).startswith("*"):
                if val.guard is not None:
                    var = d.spec.data_var(val.guard.target)
                    return Val(var, Kind.PLAIN) if var is not None else Val.none()
                return val if val.kind in (Kind.PAIR, Kind.MUTEX) else Val.none()
            return (
                Val.none()
                if val.stmt or val.kind != Kind.PLAIN or val.text == "none"
                else Val(("not " if text(node).startswith("!") else "-") + val.text, Kind.PLAIN)
            )
        if t == "identifier":
            name = text(node)
            b = ctx.lookup(name)
            if b is None and name in d.crate.statics and d.crate.statics[name].kind == "lazy":
                statics.lazy_init(self, ctx, node, name)
            if b is None:
                b = d.spec.statics.get(name)
            if b is None:
                if name == "None":
                    return Val.none()
                return Val.none(Kind.UNKNOWN)
            if b.kind == Kind.GUARD:
                return Val("none", Kind.GUARD, guard=b)
            return Val(b.name, b.kind, names=b.names)
        if t == "integer_literal":
            digits = re.sub(r"[a-z].*$", "", text(node).replace("_", ""))
            return Val(digits if digits.isdigit() else "0", Kind.PLAIN)
        if t == "float_literal":
            return Val("0", Kind.PLAIN)
        if t == "string_literal":
            return Val('"' + escape(text(node)[1:-1]) + '"', Kind.PLAIN)
        if t == "raw_string_literal":
            return Val('"raw string"', Kind.PLAIN)
        if t == "char_literal":
            return Val('"' + escape(text(node)[1:-1]) + '"', Kind.PLAIN)
        if t == "boolean_literal":
            return Val(text(node), Kind.PLAIN)
        if t == "unit_expression":
            return Val.none()
        if t == "binary_expression":
            # operands left to right, each call bound to a temporary before the next
            left = d.hoist(ctx, node, self.value(ctx, node.child_by_field_name("left") or node))
            right = d.hoist(ctx, node, self.value(ctx, node.child_by_field_name("right") or node))
            op = text(node.child_by_field_name("operator"))
            op = {"&&": "and", "||": "or"}.get(op, op)
            if (
                left.kind != Kind.PLAIN
                or right.kind != Kind.PLAIN
                or "none"
                in (
                    left.text,
                    right.text,
                )
            ):
                return Val.none()
            if op not in ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or"):
                return Val.none()
            return Val(f"{left.text} {op} {right.text}", Kind.PLAIN)
        if t == "await_expression":
            return self.awaited(ctx, node)
        if t == "call_expression" and self.is_blocklike(ctx, node):
            # `Python::with_gil(|py| ..) + 1`: the block drafted in place, its value kept
            tmp = d.spec.names.fresh("tmp")
            d.stmt(ctx, node, f"let {tmp} = none")
            self.blocklike(ctx, node, tmp, False)
            return Val(tmp, Kind.UNKNOWN, names=(tmp,))
        if t == "call_expression":
            return self.call(ctx, node)
        if t == "macro_invocation":
            return printing.macro(self, ctx, node)
        if t == "tuple_expression":
            parts = named(node)
            texts = [text(p) for p in parts]
            if len(parts) == 2 and "Mutex::new" in texts[0] and "Condvar::new" in texts[1]:
                m = d.spec.names.fresh("pair_m")
                cv = d.spec.names.fresh("pair_cv")
                d.stmt(ctx, node, f"let {m} = mutex()")
                d.stmt(ctx, node, f"let {cv} = condvar()")
                inner = named(parts[0].child_by_field_name("arguments") or parts[0])
                if mutex_literal(inner):
                    d.spec.data_init[m] = (mutex_literal(inner), ctx.where(node))
                return Val(m, Kind.PAIR, names=(m, cv))
            return self.holding(ctx, self.effects(ctx, parts), Val.none())
        if t == "closure_expression":
            d.assume(ctx, node, "a closure kept for later is assumed not to block: {code}")
            return Val.none()
        if t in (
            "block",
            "async_block",
            "unsafe_block",
            "if_expression",
            "match_expression",
            "loop_expression",
            "while_expression",
            "for_expression",
        ):
            tmp = d.spec.names.fresh("tmp")
            d.stmt(ctx, node, f"let {tmp} = none")
            d.effect(ctx, node, target=tmp)
            return Val(tmp, Kind.UNKNOWN, names=(tmp,))
        if t == "field_expression":
            base = node.child_by_field_name("value")
            if base is not None and text(base) not in ("self",):
                v = self.value(ctx, base)
                if v.stmt and v.guard is None:
                    d.hoist(ctx, base, v)  # `f().field`: the call still runs
                    return Val.none(Kind.UNKNOWN)
                if v.kind == Kind.PAIR and text(node.child_by_field_name("field")) in ("0", "1"):
                    i = int(text(node.child_by_field_name("field")))
                    return Val(v.names[i], (Kind.MUTEX, Kind.CONDVAR)[i], names=(v.names[i],))
            types = d.crate.fields.get(text(node.child_by_field_name("field")), [])
            if any(re.search(r"\b(PyErr|PyResult)\b", t) for t in types):
                # a struct's PyErr: formatting it takes the GIL
                return Val(f'pyerr("{escape(short(node))}")', Kind.PYVAL)
            if any(kind_of_type(t) == Kind.PYVAL for t in types):
                return Val.none(Kind.PYVAL)  # a struct's Python object
            return Val.none(Kind.UNKNOWN)
        if t in (
            "struct_expression",
            "array_expression",
            "index_expression",
            "range_expression",
            "type_cast_expression",
        ):
            moved = self.effects(ctx, self.subexpressions(node))  # calls inside still run
            plain = Val.none(Kind.UNKNOWN if t == "index_expression" else Kind.PLAIN)
            return self.holding(ctx, moved if t != "index_expression" else [], plain)
        if t in ("scoped_identifier", "self", "generic_function", "negative_literal"):
            return Val.none(Kind.UNKNOWN if t == "self" else Kind.PLAIN)
        if t in ("return_expression", "break_expression", "continue_expression"):
            d.effect(ctx, node)  # control leaves here: the value is never used
            return Val.none(Kind.UNKNOWN)
        d.assume(ctx, node, "not drafted, assumed not to block: {code}")
        self.effects(ctx, self.subexpressions(node))
        return Val.none(Kind.UNKNOWN)

    def holding(self, ctx: Ctx, moved: list[Binding], val: Val) -> Val:
        """A struct, tuple or array made with guards moved into it: it stands for the
        first (a `let` holds it as a guard, released at `drop` or the end of its block);
        any others are held to the end of the block."""
        if not moved:
            return val
        ctx.temps = [g for g in ctx.temps if not any(g is m for m in moved[1:])]
        ctx.scopes[-1].guards.extend(moved[1:])
        return Val("none", Kind.GUARD, guard=moved[0])

    def subexpressions(self, node: Node) -> list[Node]:
        """The expressions directly inside a struct literal, array, index, range or cast
        (types and field names left out)."""
        out: list[Node] = []
        for c in named(node):
            if c.type in ("field_initializer_list",):
                out.extend(self.subexpressions(c))
            elif c.type == "field_initializer":
                v = c.child_by_field_name("value")
                if v is not None:
                    out.append(v)
            elif c.type == "base_field_initializer":
                out.extend(named(c))
            elif c.type.endswith("type") or c.type in (
                "type_identifier",
                "scoped_type_identifier",
                "field_identifier",
                "shorthand_field_initializer",
                "identifier",
                "line_comment",
                "block_comment",
            ):
                continue
            else:
                out.append(c)
        return out

    def effects(self, ctx: Ctx, nodes: list[Node]) -> list[Binding]:
        """Evaluate expressions whose values are not used, for what they do: a call in
        them is still drafted (a statement form is written as a statement). Returns the
        guards made there and moved (not borrowed) into what they are passed to."""
        moved: list[Binding] = []
        for a in nodes:
            a = unwrap_parens(a)
            if a.type == "closure_expression":
                continue  # a closure passed on is drafted where it is run
            v = self.value(ctx, a)
            if v.stmt and v.guard is None and not v.made:
                self.d.stmt(ctx, a, v.text)
            if v.guard is not None and moving(ctx, a, v):
                moved.append(v.guard)
        return moved

    def keep(self, ctx: Ctx, node: Node, recv: Node, moved: list[Binding]) -> None:
        """Guards moved into a collection or value (`v.push(m.lock().unwrap())`) are held
        as long as it lives: to the end of the block that declares it, or its `drop`."""
        if not moved:
            return
        ctx.temps = [g for g in ctx.temps if not any(g is m for m in moved)]
        name = text(unwrap_parens(recv))
        depth = next(
            (i for i in range(len(ctx.scopes) - 1, -1, -1) if name in ctx.scopes[i].vars), None
        )
        between = ctx.scopes[depth + 1 :] if depth is not None else []
        if depth is not None and between and all(s.unrolled for s in between):
            # a literal range, unrolled: each copy of the body runs once, in order
            b = ctx.scopes[depth].vars[name]
            ctx.scopes[depth].guards.extend(moved)
            b.holds.extend(moved)
            return
        if any(s.loop for s in between):
            raise self._kept_across_loop(ctx, node, name)
        ctx.scopes[-1].guards.extend(moved)
        if depth is not None and depth == len(ctx.scopes) - 1:
            b = ctx.scopes[depth].vars[name]
            b.holds.extend(moved)
            return
        self._kept_to_block_end(ctx, node)

    def keep_bound(self, ctx: Ctx, node: Node, recv: Node, args: list[Node]) -> None:
        """A guard bound to a variable and moved into a collection declared further out
        (`v.push(g)`): held as long as the collection, not to the end of `g`'s block."""
        name = text(unwrap_parens(recv))
        outer = next(
            (i for i in range(len(ctx.scopes) - 1, -1, -1) if name in ctx.scopes[i].vars), None
        )
        for a in args:
            a = unwrap_parens(a)
            b = ctx.lookup(text(a)) if a.type == "identifier" else None
            if b is None or b.kind != Kind.GUARD or b.target == GIL or b.released:
                continue
            own = next(
                (i for i, sc in enumerate(ctx.scopes) if any(g is b for g in sc.guards)), None
            )
            if own is None or (outer is not None and outer >= own):
                continue  # its block ends no earlier than the collection's
            between = ctx.scopes[outer + 1 : own + 1] if outer is not None else []
            if outer is not None and all(sc.unrolled for sc in between):
                ctx.scopes[own].guards = [g for g in ctx.scopes[own].guards if g is not b]
                ctx.scopes[outer].guards.append(b)
                ctx.scopes[outer].vars[name].holds.append(b)
            elif any(sc.loop for sc in between):
                raise self._kept_across_loop(ctx, node, name)
            else:
                self._kept_to_block_end(ctx, node)

    def _kept_across_loop(self, ctx: Ctx, node: Node, name: str) -> DraftError:
        """The refusal for a guard moved into `name`, which lives across a loop's
        iterations."""
        return self.d.refuse(
            ctx,
            node,
            f"a guard kept in `{name}` across the iterations of a loop cannot be drafted",
            "drop each guard in the iteration that takes it, or take the lock once before the loop",
        )

    def _kept_to_block_end(self, ctx: Ctx, node: Node) -> None:
        """The assumption for a guard moved into a value: released at the end of its
        block."""
        self.d.assume(
            ctx,
            node,
            "the guard moved in by {code} is assumed released at the end of its block "
            "(it lives as long as what holds it)",
        )

    def awaited(self, ctx: Ctx, node: Node) -> Val:
        """`x.await`: a oneshot receiver or a JoinHandle blocks the awaiting thread; an
        awaited call is drafted as the call."""
        inner = unwrap_parens(named(node)[0])
        if inner.type == "identifier":
            b = ctx.lookup(text(inner))
            if b is not None and b.kind == Kind.RECEIVER:
                return Val(f"recv {b.name}", Kind.UNKNOWN, stmt=True)
            if b is not None and b.kind == Kind.HANDLE:
                return Val(f"join {b.name}", Kind.PLAIN, stmt=True)
        if inner.type == "call_expression":
            v = self.value(ctx, inner)
            if v.stmt and v.kind == Kind.HANDLE:  # `spawn_blocking(..).await`: waits for it
                v = self.d.hoist(ctx, node, v, "handle")
                return Val(f"join {v.text}", Kind.PLAIN, stmt=True)
            return v
        v = self.value(ctx, inner)
        if v.kind == Kind.RECEIVER and not v.stmt:
            return Val(f"recv {v.text}", Kind.UNKNOWN, stmt=True)
        if v.kind == Kind.HANDLE and not v.stmt:
            return Val(f"join {v.text}", Kind.PLAIN, stmt=True)
        if not v.stmt and inner.type in ("identifier", "field_expression", "index_expression"):
            self.d.assume(
                ctx, node, "the future awaited by {code} is not followed: assumed to complete"
            )
        return v

    # ------------------------------------------------------------------ calls

    def call(self, ctx: Ctx, node: Node) -> Val:
        """A function or method call."""
        name, recv, args = self.callee(node)
        if recv is not None:
            return self.method(ctx, node, name[1:], recv, args)
        return self.function(ctx, node, name, args)

    def function(self, ctx: Ctx, node: Node, path: str, args: list[Node]) -> Val:
        """A call of a path: `thread::spawn(..)`, `mpsc::channel()`, `Ok(x)`, `f(a)`."""
        d = self.d
        last = path.rsplit("::", 1)[-1]
        if path in ("Ok", "Err", "Some"):
            inner = self.value(ctx, args[0]) if args else Val.none()
            inner = d.hoist(ctx, node, inner)
            if path == "Some" or (path == "Ok" and inner.guard is not None):
                return inner  # (`Ok(m.lock().unwrap())`: the guard, held by what keeps it)
            kind = Kind.PYVAL if inner.kind == Kind.PYVAL else Kind.PLAIN
            return Val(f"{path.lower()}({inner.text})", kind)
        if last in ("new_err",) or path.startswith("PyErr::new") or last == "new_err_arguments":
            self.effects(ctx, args)  # `new_err(format!(.., f()))`: f still runs
            msg = message_text(args[0]) if args else "error"
            return Val(f'pyerr("{escape(msg)}")', Kind.PYVAL)
        if path in ("String::from", "str::to_string") and args:
            return self.value(ctx, args[0])
        if path.endswith("Python::acquire_gil") or path.endswith("GILGuard::acquire"):
            # the GIL is held until the guard is dropped: `with_gil {` up to there
            ctx.body.open("with_gil", ctx.where(node))
            at = [str(ctx.body.depth - 1), str(len(ctx.body.ops) - 1)]
            g = Binding(Kind.GUARD, (), target=GIL, extra=at)
            ctx.temps.append(g)
            return Val("none", Kind.GUARD, guard=g)
        if path.endswith(("Python::assume_gil_acquired", "Python::assume_attached")):
            return Val.none(Kind.PY)
        if path.endswith(("Arc::new", "Rc::new", "Box::new")) and args:
            return self.value(ctx, args[0])
        if path.endswith(("Arc::clone", "Rc::clone")) and args:
            return locks.cloned(self, ctx, node, self.value(ctx, args[0]))
        if last == "new" and re.search(r"(^|::)(Mutex|RwLock|Condvar)::new$", path):
            kind = {"Mutex": Kind.MUTEX, "RwLock": Kind.RWLOCK, "Condvar": Kind.CONDVAR}[
                path.rsplit("::", 2)[-2]
            ]
            if not mutex_literal(args):
                self.effects(ctx, args)  # `Mutex::new(load())`: the value is made first
            return Val(f"{kind.value}()", kind, stmt=True, init=mutex_literal(args))
        if last == "new" and re.search(r"(^|::)ReentrantMutex::new$", path):
            return Val("rlock()", Kind.MUTEX, stmt=True)
        if last == "new" and re.search(r"(^|::)Barrier::new$", path):
            n = text(args[0]).replace("_", "") if args else ""
            if not n.isdigit() or n == "0":
                self.d.assume(ctx, node, "assumed a barrier of 2 parties: {code}")
                n = "2"
            return Val(f"barrier({n})", Kind.BARRIER, stmt=True)
        if last == "new" and re.search(r"(^|::)(Once|OnceLock)::new$", path):
            return Val("once()", Kind.ONCE, stmt=True)
        if last in CHANNEL_CTORS and (
            "::" not in path or re.search(r"(mpsc|crossbeam\w*|channel|oneshot|flume)::", path)
        ):
            return locks.channel(self, ctx, node, path, args)
        if path == "drop" or path.endswith("mem::drop"):
            if args and unwrap_parens(args[0]).type != "identifier":
                self.effects(ctx, args)  # `drop(f())`: made, then dropped
                return Val.none()
            return locks.drop(self, ctx, node, args)
        if last in ("spawn", "spawn_blocking") and (
            "thread" in path or "task" in path or "tokio" in path or path == "spawn"
        ):
            return threads.spawn(self, ctx, node, args, "thread" if "thread" in path else "task")
        if path.endswith("rayon::join") or (path == "join" and len(args) == 2):
            return threads.rayon_join(self, ctx, node, args)
        if path.endswith("rayon::spawn"):
            call = threads.closure_call(self, ctx, args, "rayon_job")
            d.spec.use("rayon")
            return Val(f"submit rayon_global_pool, {call}", Kind.UNKNOWN, stmt=True)
        if last == "block_on" and args:
            return threads.block_on(self, ctx, node, args[-1])
        if re.fullmatch(r"[A-Z]\w*", path):  # a tuple struct or enum variant: plain data
            return self.holding(ctx, self.effects(ctx, args), Val.none(Kind.UNKNOWN))
        local = ctx.lookup(path) if "::" not in path else None
        if local is not None and local.kind == Kind.CLOSURE and local.code is not None:
            return self.call_closure(ctx, node, local.code, args)
        fn = d.crate.fns.get(path)
        owner = path.rsplit("::", 1)[0] if "::" in path else ""
        if fn is None and owner == "Self":
            fn = self.method_fn(last)
        if fn is None and owner and owner.rsplit("::", 1)[-1] in d.crate.modules:
            fn = d.crate.fns.get(last)  # crate::worker::run(), super::run()
            owner = fn.owner if fn is not None else owner
        if fn is not None and (not fn.owner or owner in (fn.owner, "Self")):
            return self.call_crate(ctx, node, fn, args)
        if re.search(r"(^|::)(Runtime::new|Handle::current)$", path):
            return Val.none(Kind.RUNTIME)
        if path in ("Vec::new", "Vec::with_capacity"):
            return Val.none(Kind.HANDLES)
        if (
            path in HARMLESS_FUNCTIONS
            or any(path.endswith("::" + known) for known in HARMLESS_FUNCTIONS)
            or path.endswith("::default")
        ):
            if self.effects(ctx, args):
                d.assume(ctx, node, "the guard passed to {code} is assumed released at once")
            return Val.none()
        if re.search(r"(^|::)(Py\w*)::(new|new_bound|import|import_bound|empty)", path):
            self.effects(ctx, args)
            self.python(ctx, node, path)
            return Val(f'pyobj("{escape(short(node))}")', Kind.PYVAL)
        d.assume(ctx, node, "assumed not to block: {code}")
        for a in args:  # arguments are still evaluated
            v = self.value(ctx, a)
            if v.stmt:
                d.stmt(ctx, a, v.text)
        return Val.none(Kind.UNKNOWN)

    def call_closure(self, ctx: Ctx, node: Node, closure: Node, args: list[Node]) -> Val:
        """`job(x)` of a closure bound to a variable: its body drafted in place, its
        parameters bound to the arguments."""
        d = self.d
        scope = Scope()
        for p, a in zip(closure_params(closure), args, strict=False):
            v = d.hoist(ctx, a, self.value(ctx, a), "arg")
            scope.vars[p] = Binding(v.kind, v.names or ((v.text,) if v.text != "none" else ()))
        for p in closure_params(closure)[len(args) :]:
            scope.vars[p] = Binding(Kind.UNKNOWN)
        tmp = d.spec.names.fresh("tmp")
        d.stmt(ctx, node, f"let {tmp} = none")
        body = closure.child_by_field_name("body") or closure
        d.inline_closure(ctx, node, body, tmp, False, scope)
        return Val(tmp, Kind.UNKNOWN, names=(tmp,))

    def python(self, ctx: Ctx, node: Node, what: str) -> None:
        """A call that runs Python code (an import, a Python callable)."""
        if what.rsplit(".", 1)[-1].rsplit("::", 1)[-1] in RUNS_PYTHON or "import" in what:
            self.d.assume(
                ctx, node, "the Python code run by {code} is assumed not to block or wait"
            )
            ctx.body.open("python", ctx.where(node))
            ctx.body.stmt("skip", ctx.where(node))
            ctx.body.close()

    def method(self, ctx: Ctx, node: Node, name: str, recv: Node, args: list[Node]) -> Val:
        """A method call `recv.name(args)`."""
        d = self.d
        if name in ("par_iter", "into_par_iter", "par_iter_mut", "par_bridge", "par_chunks"):
            return threads.par_iter(self, ctx, node, node, [])
        chain = threads.chain_rayon(self, node)
        if chain is not None:
            return threads.par_iter(self, ctx, node, chain, args)
        static = self.static_of(ctx, recv)
        if static is not None:
            return statics.static_method(self, ctx, node, static, name, args)
        if name == "spawn" and "Builder" in text(recv) and "ThreadPool" not in text(recv):
            return threads.spawn(
                self, ctx, node, args, "thread"
            )  # thread::Builder::new().spawn(..)
        if name == "build" and "ThreadPoolBuilder" in text(recv):
            m = re.search(r"num_threads\((\d+)\)", text(recv))
            return Val(f"pool({m.group(1) if m else 2})", Kind.POOL, stmt=True)
        if name == "build" and "new_current_thread" in text(recv):
            d.spec.writer.assume(ctx.where(node), CURRENT_THREAD)
        if name in ("build", "enable_all", "worker_threads") and re.search(
            r"runtime|new_multi_thread|new_current_thread", text(recv), re.IGNORECASE
        ):
            return Val.none(Kind.RUNTIME)
        rv = self.value(ctx, recv)
        k = rv.kind
        if k == Kind.UNKNOWN and rv.names and not rv.stmt:
            # a value received or passed in: its methods tell what it is
            if name in ("send", "blocking_send", "try_send") and len(args) == 1:
                k = Kind.SENDER
            elif (name in ("recv", "blocking_recv", "try_recv") and not args) or (
                name == "recv_timeout" and len(args) == 1
            ):
                k = Kind.RECEIVER
            elif name == "join" and not args:
                k = Kind.HANDLE
            b = ctx.lookup(text(recv)) if recv.type == "identifier" else None
            if k != Kind.UNKNOWN and b is not None and "element" in b.extra:
                # a channel end or handle taken from a collection the draft does not follow
                d.assume(ctx, node, "the channel or thread of {code} is not followed")
                self.effects(ctx, args)
                return Val.none(Kind.UNKNOWN)
        result_like = (rv.stmt or bool(rv.names)) and rv.kind in (Kind.UNKNOWN, Kind.PYVAL)
        if name in PASSTHROUGH or (name in RESULT_ADAPTORS and result_like):
            # (`r.unwrap_err()`, `r.map(..)` of a result: the value stands for its parts)
            runs = [
                a
                for a in args
                if unwrap_parens(a).type == "closure_expression" or self.fn_ref(ctx, a) is not None
            ]
            if runs:  # `unwrap_or_else(|| ..)`, `map_err(to_py)`: may run, at most once
                rv = d.hoist(ctx, recv, rv) if rv.guard is None else rv
                for a in runs:  # its parameter: (a part of) the value, `e` of `map_err(|e| ..)`
                    self.iterator_closure(ctx, node, unwrap_parens(a), rv if rv.names else None)
            self.effects(ctx, [a for a in args if a not in runs])
            return rv
        if rv.stmt and rv.guard is None:
            # `f().len()`, `spawn(..).join()`: the receiver's call runs first
            rv = d.hoist(ctx, recv, rv)
            if rv.text == "none":
                rv = Val.none(Kind.UNKNOWN)
            elif k == Kind.UNKNOWN:
                k = rv.kind
        if name == "clone":
            return locks.cloned(self, ctx, node, rv)
        if name == "to_string" or name == "to_owned":
            if k == Kind.PYVAL:
                return printing.format_python(self, ctx, node)
            if name == "to_string" and printing.format_values(self, ctx, node, [rv]):
                return Val('"' + escape(short(node)) + '"', Kind.PLAIN)
            return rv if rv.kind == Kind.PLAIN and rv.text.startswith('"') else Val.none()
        if rv.guard is not None and rv.guard.target == GIL and name == "python":
            return Val.none(Kind.PY)
        if k == Kind.SENDER:
            if name in ("send", "blocking_send", "send_async", "unbounded_send"):
                v = locks.message(self, ctx, node, args)
                return Val(f"send {rv.text}, {v.text}", Kind.UNKNOWN, stmt=True)
            if name == "try_send":
                v = locks.message(self, ctx, node, args)
                d.assume(ctx, node, "assumed to find room in the channel: {code}")
                return Val(f"send {rv.text}, {v.text}", Kind.UNKNOWN, stmt=True)
        if k == Kind.RECEIVER:
            if name in ("recv", "blocking_recv", "recv_async"):
                return Val(f"recv {rv.text}", Kind.UNKNOWN, stmt=True)
            if name == "try_recv":
                return Val(f"try_recv {rv.text}", Kind.UNKNOWN, stmt=True)
            if name in ("recv_timeout", "recv_deadline"):
                return Val(f"recv {rv.text} timeout", Kind.UNKNOWN, stmt=True)
            if name == "close":
                return Val.none()
        if k == Kind.MUTEX and name in ("lock", "blocking_lock"):
            return locks.lock(self, ctx, node, rv.text, "acquire", True)
        if k == Kind.MUTEX and name == "lock_py_attached":
            return locks.lock_detached(self, ctx, node, rv.text)
        if k == Kind.ONCE and name in (
            "call_once_py_attached",
            "call_once_force_py_attached",
            "get_or_init_py_attached",
        ):
            statics.once_detached(self, ctx, node, rv.text, self.callable_arg(ctx, args))
            return Val.none(Kind.UNKNOWN)
        if k == Kind.MUTEX and name == "try_lock":
            d.assume(ctx, node, "assumed to take the lock or go on: {code}")
            return Val.none()
        if k == Kind.RWLOCK and name in ("read", "write", "blocking_read", "blocking_write"):
            word = "acquire_read" if "read" in name else "acquire_write"
            return locks.lock(self, ctx, node, rv.text, word, "write" in name)
        if k == Kind.CONDVAR:
            return locks.condvar(self, ctx, node, rv.text, name, args)
        if k == Kind.BARRIER and name == "wait":
            d.stmt(ctx, node, f"wait {rv.text}")
            return Val.none()
        if k == Kind.ONCE and name in ("call_once", "call_once_force", "get_or_init"):
            statics.call_once(self, ctx, node, rv.text, self.callable_arg(ctx, args))
            return Val.none(Kind.UNKNOWN)
        if k == Kind.HANDLE and name == "join":
            return Val(f"join {rv.text}", Kind.PLAIN, stmt=True)
        if k == Kind.HANDLES and name == "push" and args:
            v = self.value(ctx, args[0])
            b = ctx.lookup(text(recv))
            if v.stmt and v.text.startswith(d.spec.spawn + " ") and b is not None and b.extra:
                h = d.spec.names.fresh("handle")
                at = int(b.extra[0]) + len(b.names)
                ctx.body.ops.insert(at, Op("stmt", f"let {h} = none", ctx.where(node)))
                d.stmt(ctx, node, f"{h} = {v.text}")
                b.names = (*b.names, h)
                return Val.none()
            if v.stmt and v.guard is None:
                d.stmt(ctx, node, v.text)
            if v.guard is not None and moving(ctx, unwrap_parens(args[0]), v):
                self.keep(ctx, node, recv, [v.guard])
            self.keep_bound(ctx, node, recv, args)
            return Val.none()
        if k == Kind.SCOPE and name == "spawn":
            call = threads.closure_call(self, ctx, args, "scoped")
            h = d.spec.names.fresh("handle")
            d.stmt(ctx, node, f"let {h} = {d.spec.spawn} {call}")
            for scope in reversed(ctx.scopes):
                if any(b.kind == Kind.SCOPE for b in scope.vars.values()):
                    scope.handles.append(h)
                    break
            return Val(h, Kind.HANDLE, names=(h,))
        if k == Kind.POOL and name in ("install", "spawn", "scope"):
            call = threads.closure_call(self, ctx, args, "rayon_job")
            d.spec.use("rayon")
            fut = d.hoist(
                ctx, node, Val(f"submit {rv.text}, {call}", Kind.UNKNOWN, stmt=True), "job"
            )
            if name == "spawn":
                return Val.none()
            return Val(f"call rayon_install({fut.text})", Kind.UNKNOWN, stmt=True)
        if k == Kind.RUNTIME or (name in ("block_on",) and k == Kind.UNKNOWN):
            if name == "block_on" and args:
                return threads.block_on(self, ctx, node, args[-1])
            if name in ("spawn", "spawn_blocking"):
                return threads.spawn(self, ctx, node, args, "task")
        if k == Kind.PY and name in ("allow_threads", "detach"):
            body = self.callable_arg(ctx, args)
            tmp = d.spec.names.fresh("tmp")
            d.stmt(ctx, node, f"let {tmp} = none")
            ctx.body.open("allow_threads", ctx.where(node))
            if body is not None and body.type in ("closure_expression", "async_block"):
                d.inline_closure(
                    ctx, node, body.child_by_field_name("body") or body, tmp, False, Scope()
                )
            elif body is not None:  # `py.allow_threads(f)` of a function passed by name
                d.stmt(ctx, node, f"{tmp} = {d.rhs(ctx, node, self.run_callable(ctx, node, body))}")
            ctx.body.close()
            return Val(tmp, Kind.UNKNOWN, names=(tmp,))
        if k in (Kind.UNKNOWN, Kind.PLAIN) and any(
            unwrap_parens(a).type == "identifier"
            and (b := ctx.lookup(text(unwrap_parens(a)))) is not None
            and b.kind == Kind.PY
            for a in args
        ):
            k = Kind.PYVAL  # `obj.call(py, ..)`, `obj.getattr(py, ..)`: a Python object
        if k in (Kind.PY, Kind.PYVAL):
            self.effects(ctx, args)
            if name in ("is_instance_of", "is_none", "get_type", "value", "traceback"):
                return Val.none(Kind.PYVAL)
            self.python(ctx, node, name)
            return Val(f'pyobj("{escape(short(node))}")', Kind.PYVAL)
        if recv.type == "self" or text(recv) == "self":
            fn = self.method_fn(name)
            if fn is not None:
                return self.call_crate(ctx, node, fn, args)
        if k == Kind.UNKNOWN and name in ("lock", "read", "write") and not args:
            # a lock reached through data the draft does not follow: one global lock
            kind = "mutex" if name == "lock" else "rwlock"
            key = f"{kind} {text(recv)}"
            lockname = d.spec.unknown_locks.get(key, "")
            if not lockname:
                stem = re.sub(r"\W+", "_", text(recv)).strip("_") or "lock"
                lockname = d.spec.unknown_locks[key] = d.spec.names.claim(stem)
                d.spec.item(f"{kind} {lockname}", ctx.where(node))
            d.assume(ctx, node, "assumed one lock shared by every caller: {code}")
            word = {"lock": "acquire", "read": "acquire_read", "write": "acquire_write"}[name]
            return locks.lock(self, ctx, node, lockname, word, name != "read")
        if rv.kind == Kind.HANDLES and rv.names:
            if name in ("collect", "iter", "into_iter", "drain", "iter_mut"):
                return rv
            closure = self.closure_arg(args, ctx)
            if name in ("map", "for_each", "try_for_each") and closure is not None:
                # `handles.into_iter().map(|h| h.join())`: the closure runs for each handle
                params = closure_params(closure)
                body = closure.child_by_field_name("body") or closure
                for h in rv.names:
                    scope = Scope()
                    for p in params[:1]:
                        scope.vars[p] = Binding(Kind.HANDLE, (h,))
                    d.block(ctx, body, scope=scope)
                return Val.none()
        if name == "map" and rv.kind != Kind.HANDLES:
            spawned = self.spawning_map(ctx, node, recv, args)
            if spawned is not None:
                return spawned
        if name in HARMLESS and not (name == "join" and not args):  # `parts.join(",")`
            moved: list[Binding] = []
            for a in args:
                a = unwrap_parens(a)
                if a.type == "closure_expression" or self.fn_ref(ctx, a) is not None:
                    self.iterator_closure(ctx, node, a)
                    continue
                moved.extend(self.effects(ctx, [a]))
            self.keep(ctx, node, recv, moved)
            self.keep_bound(ctx, node, recv, args)
            return Val.none()
        fn = self.method_fn(name)
        typed = ctx.lookup(text(recv)) if recv.type == "identifier" else None
        if (
            fn is not None
            and typed is not None
            and re.search(rf"\b{re.escape(fn.owner)}\b", typed.type_text)
        ):  # `store.refresh()` with `store: &Store`
            return self.call_crate(ctx, node, fn, args)
        owners = {f.owner for f in d.crate.fns.values() if f.owner and f.name == name}
        if fn is not None and len(owners) == 1 and k in (Kind.UNKNOWN, Kind.PLAIN):
            # `w.run()` of a value whose type the draft does not know: the crate's only
            # method of that name
            d.assume(ctx, node, f"{{code}} is assumed to call `{fn.owner}::{fn.name}`")
            return self.call_crate(ctx, node, fn, args)
        d.assume(ctx, node, "assumed not to block: {code}")
        self.keep(ctx, node, recv, self.effects(ctx, args))  # the arguments still run
        self.keep_bound(ctx, node, recv, args)
        return Val.none(Kind.UNKNOWN)

    def spawning_map(self, ctx: Ctx, node: Node, recv: Node, args: list[Node]) -> Val | None:
        """`(0..3).map(|i| thread::spawn(..))` over a small literal range: one thread per
        element, their handles collected (joined by a later `for h in handles`)."""
        d = self.d
        closure = self.closure_arg(args, ctx)
        if closure is None or closure.type != "closure_expression":
            return None
        body = closure.child_by_field_name("body") or closure
        tail = body
        if tail.type == "block":
            inner = named(tail)
            tail = inner[-1] if inner else tail
        if not re.search(r"\bspawn\s*\(", text(tail)):
            return None
        src = unwrap_parens(recv)
        while src.type == "call_expression" and self.callee(src)[0] == ".into_iter":
            inner_recv = self.callee(src)[1]
            if inner_recv is None:
                return None
            src = unwrap_parens(inner_recv)
        parts = [text(c) for c in named(src)] if src.type == "range_expression" else []
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            return None
        lo, hi = int(parts[0]), int(parts[1]) + (1 if "..=" in text(src) else 0)
        if not 0 <= hi - lo <= 8:
            return None
        handles: list[str] = []
        params = closure_params(closure)
        for k in range(lo, hi):
            h = d.spec.names.fresh("handle")
            d.stmt(ctx, node, f"let {h} = none")
            scope = Scope()
            for p in params[:1]:  # each copy binds the element under a name of its own
                spec = d.spec.names.fresh(legal(p))
                d.stmt(ctx, node, f"let {spec} = {k}")
                scope.vars[p] = Binding(Kind.PLAIN, (spec,))
            d.block(ctx, body, target=h, scope=scope)
            handles.append(h)
        return Val("none", Kind.HANDLES, names=tuple(handles))

    def iterator_closure(
        self, ctx: Ctx, node: Node, closure: Node, given: Val | None = None
    ) -> None:
        """A closure given to an iterator adaptor or a container method (`map`,
        `for_each`, `retain`): run in place, at most `unroll` times, when it calls
        anything; a closure of pure arithmetic is left out."""
        fn = self.fn_ref(ctx, closure)
        if fn is not None:  # `xs.iter().map(parse_one)`: the function, run in place
            control.bounded(
                self.d,
                ctx,
                node,
                None,
                [],
                "the function given to {code} runs at most {n} times",
                run=lambda: (
                    self.d.stmt(ctx, node, self.call_ref(ctx, closure, fn).text)
                    if self.crate_fn(ctx, fn, closure) is not None
                    else None
                ),
            )
            return
        body = closure.child_by_field_name("body") or closure
        if not any(n.type in ("call_expression", "macro_invocation") for n in walk(body)):
            return
        control.bounded(
            self.d,
            ctx,
            node,
            body,
            closure_params(closure),
            "the closure of {code} runs at most {n} times",
            given=given,
            closure=True,
        )

    def method_fn(self, name: str) -> FnDef | None:
        """A method of the crate\'s `impl` blocks called `name`, if any."""
        for fn in self.d.crate.fns.values():
            if fn.owner and fn.name == name:
                return fn
        return None

    def static_of(self, ctx: Ctx, recv: Node) -> str | None:
        """The crate static a method is called on (`M.lock()`), if it is one."""
        node = unwrap_parens(recv)
        if node.type == "identifier" and ctx.lookup(text(node)) is None:
            name = text(node)
            if name in self.d.crate.statics:
                return name
        return None

    # ------------------------------------------------------------------ the crate's own fns

    def crate_fn(self, ctx: Ctx, fn: FnDef, node: Node) -> str | None:
        """The spec name of a crate function, drafted on first use (None beyond the
        inlining depth: an assumption)."""
        d = self.d
        key = f"{fn.owner}::{fn.name}" if fn.owner else fn.name
        if key in d.spec.drafted:
            return d.spec.drafted[key]
        if ctx.depth + 1 > d.options.inline_depth:
            d.assume(ctx, node, "beyond the inlining depth, assumed not to block: {code}")
            return None
        name = d.spec.names.claim(fn.name if not fn.owner else f"{fn.owner}_{fn.name}")
        d.spec.drafted[key] = name
        body = d.function_body(fn, name, ctx.depth + 1)
        d.spec.fns.append(body)
        return name

    def call_crate(self, ctx: Ctx, node: Node, fn: FnDef, args: list[Node]) -> Val:
        """`f(a, b)` of the crate's own function: `call f(a, b)`."""
        if (
            any(self.closure_of(ctx, a) is not None for a in args)
            and fn.src is ctx.src
            and not fn.is_pyentry
            and not fn.is_async
            and not fn.returns_guard
            and ctx.depth + 1 <= self.d.options.inline_depth
            and fn.node.child_by_field_name("body") is not None
        ):
            return self.inline_crate(ctx, node, fn, args)
        name = self.crate_fn(ctx, fn, node)
        if name is None:
            self.effects(ctx, args)
            return Val.none(Kind.UNKNOWN)
        argv = self.arguments(ctx, node, fn, args)
        lock = self.d.spec.returned.get(name)
        if lock is not None:  # a guard handed back: held here, as if taken here
            if lock.startswith("#"):
                i = int(lock[1:])
                lock = argv[i] if i < len(argv) else "none"
            if lock != "none":
                self.d.stmt(ctx, node, f"call {name}({', '.join(argv)})")
                g = Binding(Kind.GUARD, (), target=lock)
                ctx.temps.append(g)
                return Val("none", Kind.GUARD, guard=g)
        if fn.returns_guard and name not in self.d.spec.returned:
            self.d.assume(ctx, node, "the guard returned by {code} is assumed released at once")
        return Val(f"call {name}({', '.join(argv)})", Kind.UNKNOWN, stmt=True)

    def closure_of(self, ctx: Ctx, arg: Node) -> Node | None:
        """The closure an argument passes: written there, or bound to a variable."""
        a = unwrap_parens(arg)
        if a.type == "closure_expression":
            return a
        b = ctx.lookup(text(a)) if a.type == "identifier" else None
        return b.code if b is not None and b.kind == Kind.CLOSURE else None

    def inline_crate(self, ctx: Ctx, node: Node, fn: FnDef, args: list[Node]) -> Val:
        """`in_gil(|| ..)`: a crate function given a closure is drafted in place, so that
        the closure runs where the function calls it (`f()`)."""
        d = self.d
        scope = Scope()
        params = [(n, t) for n, t in fn.params() if n != "self"]
        for (pname, ptype), arg in zip(params, args, strict=False):
            closure = self.closure_of(ctx, arg)
            if closure is not None:
                scope.vars[pname] = Binding(Kind.CLOSURE, (), code=closure)
                continue
            kind = kind_of_type(ptype)
            if kind == Kind.PY:
                scope.vars[pname] = Binding(Kind.PY)
                continue
            v = d.hoist(ctx, arg, self.value(ctx, arg), "arg")
            names = v.names or ((v.text,) if v.text != "none" else ())
            scope.vars[pname] = Binding(v.kind if v.kind != Kind.UNKNOWN else kind, names)
        tmp = d.spec.names.fresh("tmp")
        d.stmt(ctx, node, f"let {tmp} = none")
        body = fn.node.child_by_field_name("body")
        assert body is not None
        ctx.depth += 1
        try:
            d.inline_closure(ctx, node, body, tmp, False, scope)
        finally:
            ctx.depth -= 1
        return Val(tmp, Kind.UNKNOWN, names=(tmp,))

    def arguments(self, ctx: Ctx, node: Node, fn: FnDef, args: list[Node]) -> list[str]:
        """The spec arguments of a call of a crate function (its `py` left out)."""
        params = [(n, t) for n, t in fn.params() if n != "self"]
        out: list[str] = []
        for i, (_, ptype) in enumerate(params):
            if i >= len(args):
                break
            kind = kind_of_type(ptype)
            if kind == Kind.PY:
                continue
            arg = args[i]
            v = self.value(ctx, arg)
            if kind == Kind.PAIR and v.kind == Kind.PAIR:
                out.extend(v.names)
                continue
            if kind == Kind.PAIR:
                self.d.hoist(ctx, arg, v)
                out.extend(["none", "none"])
                continue
            if v.kind == Kind.SENDER and arg.type == "reference_expression":
                v = Val(f"clone {v.text}", Kind.SENDER, stmt=True)
            v = self.d.hoist(ctx, arg, v, "arg")
            out.append(v.text)
        return out
