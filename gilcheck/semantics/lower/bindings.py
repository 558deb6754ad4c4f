"""Bindings and simple statements: `let`, assignment, value-yielding operations used as
statements, `drop`, `assert`, `panic`, `progress` and `skip`."""

from __future__ import annotations

from collections.abc import Callable
from typing import assert_never

from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.lower.channels import ChannelLowerer, maker_text
from gilcheck.semantics.lower.core import (
    RECEIVER,
    SENDER,
    THREAD,
    UNKNOWN,
    VALUE,
    constructor_kind,
)
from gilcheck.semantics.lower.sync import SyncLowerer
from gilcheck.semantics.resolve import ChannelSym, symbol_kind
from gilcheck.source import Span
from gilcheck.sync import registry
from gilcheck.syntax import ast, unparse


class BindingLowerer(ChannelLowerer, SyncLowerer):
    """Statements that bind, assign or compute values."""

    def stmt_let(self, s: ast.Let) -> None:
        if isinstance(s.value, ast.MakeChannel):
            self.let_channel(s, s.value)
            return
        if len(s.names) != 1:
            self.sink.error(
                "invalid-statement",
                "only `channel(..)`, `oneshot()` and `queue(..)` give a pair",
                s.span,
                help=f"write `let {s.names[0].name} = ...`",
            )
            return
        kind, emit_value = self.rhs_kind(s.value)
        info_slot = len(self.local_names)
        target = ir.LocalTarget(slot=info_slot, name=s.names[0].name)
        kind = emit_value(target)
        info = self.declare(s.names[0], kind)
        assert info.slot == info_slot

    def rhs_kind(self, value: ast.Rhs) -> tuple[str, Callable[[ir.Target | None], str]]:
        made = constructor_kind(value)
        if made is not None:
            call: ast.BuiltinCall = value  # type: ignore[assignment]
            return UNKNOWN, lambda target: self.make_object(made, call, target)
        if isinstance(value, ast.Operation):
            op = value
            return UNKNOWN, lambda target: self.operation(op, target, op.span)

        expr = value

        def emit_expr(target: ir.Target | None) -> str:
            lowered = self.expr(expr)
            assert target is not None
            self.emit(ir.Assign(target=target, value=lowered, span=expr.span))
            return self.static_kind(expr)

        return VALUE, emit_expr

    def static_kind(self, e: ast.Expr) -> str:
        if isinstance(e, ast.Name):
            local = self.lookup_local(e.ident.name)
            return local.kind if local is not None else VALUE
        return VALUE

    def stmt_assign(self, s: ast.Assign) -> None:
        if isinstance(s.value, ast.MakeChannel):
            self.sink.error(
                "invalid-statement",
                "a new channel must be bound with `let (tx, rx) = ...`",
                s.span,
                help=f"write `let (tx, rx) = {maker_text(s.value)}`",
            )
            return
        _, emit_value = self.rhs_kind(s.value)
        target = self.target(s.target)
        # With no valid target an error is already recorded and this IR is never used.
        kind = emit_value(target if target is not None else ir.LocalTarget(slot=-1, name="?"))
        if isinstance(target, ir.LocalTarget):
            local = self.lookup_local(target.name)
            if local is not None and local.kind != kind:
                local.kind = UNKNOWN

    def stmt_opstmt(self, s: ast.OpStmt) -> None:
        self.operation(s.op, None, s.span)

    def stmt_drop(self, s: ast.Drop) -> None:
        local = self.lookup_local(s.target.name.name)
        if local is None or s.target.index is not None:
            sym = self.decls.symbols.get(s.target.name.name)
            if sym is None and local is None:
                self.undefined(s.target.name)
                return
            self.wrong_kind(
                s.target.span,
                f"`drop` needs a local, and `{s.target.name.name}` is "
                + ("an element" if local is not None else symbol_kind(sym)),  # type: ignore[arg-type]
                "only values and handles held in locals can be dropped; use `close c` for a "
                "global channel",
            )
            return
        self.emit(ir.DropValue(slot=local.slot, name=s.target.name.name, span=s.span))

    def operation(self, op: ast.Operation, target: ir.Target | None, span: Span) -> str:
        """Lower a value-yielding operation; return the static kind of its value."""
        match op:
            case ast.Recv(channel=ref):
                self.check_blocking(span, "recv")
                chan = self.channel(ref, "recv", {RECEIVER})
                if chan is not None:
                    self.emit(ir.Recv(channel=chan, target=target, span=span))
                return UNKNOWN
            case ast.TryRecv(channel=ref):
                chan = self.channel(ref, "try_recv", {RECEIVER})
                if chan is not None:
                    self.emit(ir.TryRecv(channel=chan, target=target, span=span))
                return UNKNOWN
            case ast.Send(channel=ref, value=value):
                self.check_blocking(span, "send")
                chan = self.channel(ref, "send", {SENDER})
                val = self.expr(value)
                if chan is not None:
                    self.emit(ir.Send(channel=chan, value=val, target=target, span=span))
                return VALUE
            case ast.Clone(source=ref):
                return self.clone(ref, target, span)
            case ast.Unwrap(value=value):
                self.emit(ir.Unwrap(value=self.expr(value), target=target, span=span))
                return UNKNOWN
            case ast.Call(func=func, args=args):
                values = tuple(self.argument(a) for a in args)
                index = self.function(func, args, span)
                if index is not None:
                    at = self.emit(ir.CallFn(function=index, args=values, target=target, span=span))
                    if self.atomic_depth:
                        self.atomic_calls.append((index, span))
                    del at
                return UNKNOWN
            case ast.Spawn(func=func, args=args, daemon=daemon, process=process, process_span=at):
                values = tuple(self.argument(a) for a in args)
                index = self.function(func, args, span)
                if process and self.atomic_depth:
                    self.sink.error(
                        "invalid-statement",
                        "`spawn process` cannot be inside `atomic`",
                        at,
                        help="starting a process pickles its arguments and may wait for the "
                        "GIL; an `atomic` block runs as one step",
                    )
                if index is not None:
                    self.emit(
                        ir.SpawnFn(
                            function=index,
                            args=values,
                            daemon=daemon,
                            target=target,
                            span=span,
                            process=process,
                        )
                    )
                return THREAD
            case ast.Submit(executor=ref, func=func, args=args):
                executor = self.resource(ref, "submit")
                values = tuple(self.argument(a) for a in args)
                index = self.function(func, args, span)
                if executor is not None and index is not None:
                    self.emit(
                        ir.Submit(
                            executor=executor,
                            function=index,
                            args=values,
                            target=target,
                            span=span,
                        )
                    )
                return UNKNOWN
            case ast.AnyValue(low=low, high=high):
                self.check_any_range(low, high)
                self.emit(
                    ir.AnyInt(low=self.expr(low), high=self.expr(high), target=target, span=span)
                )
                return VALUE
            case ast.SyncOp():
                return self.sync_operation(op, target, span)
            case ast.Timed(form=form):
                return self.timed(form, target, span)
            case ast.TryAcquire(target=ref):
                res = self.resource(ref, "try_acquire")
                if res is not None:
                    self.emit(ir.SyncOp(verb="try_acquire", resource=res, target=target, span=span))
                return VALUE
            case ast.MakeChannel():
                self.sink.error(
                    "invalid-statement",
                    "a channel has two ends: bind both",
                    span,
                    help="write `let (tx, rx) = " + maker_text(op) + "`",
                )
                return UNKNOWN
            case _:
                assert_never(op)

    def make_object(self, kind: str, call: ast.BuiltinCall, target: ir.Target | None) -> str:
        """`mutex()`, `semaphore(2)`, `future()`: a new object made at run time; its count a
        constant expression, as in a declaration."""
        prim = registry.primitive(kind)
        takes_count = prim.count_minimum is not None
        if len(call.args) != (1 if takes_count else 0):
            self.sink.error(
                "wrong-arity",
                f"`{kind}(..)` takes {'a count' if takes_count else 'no argument'}",
                call.span,
                help=f"write `{kind}({'N' if takes_count else ''})`",
            )
            return UNKNOWN
        count: int | None = None
        if takes_count:
            count = self.folder.fold_int(
                call.args[0], f"a {kind} count", minimum=prim.count_minimum or 0
            )
            if count is None:
                return UNKNOWN
        self.emit(ir.MakeObject(kind=kind, count=count, target=target, span=call.span))
        return UNKNOWN

    def argument(self, arg: ast.Expr) -> ir.Expr:
        """An argument of `call`, `spawn`, `spawn process` or `submit`: a global channel
        passed by name is passed as a shared reference (`("chan", c)`: either end, as a
        Python `Queue` is passed), as a global resource is; anything else is an
        expression."""
        match arg:
            case ast.Name(ident=ident) | ast.Index(base=ident):
                sym = self.decls.symbols.get(ident.name)
                if self.lookup_local(ident.name) is None and isinstance(sym, ChannelSym):
                    index = arg.index if isinstance(arg, ast.Index) else None
                    element = self.element(ident, index, sym.info.size)
                    chan = ir.GlobalChannel(
                        base=sym.info.base, size=sym.info.size, name=ident.name, index=element
                    )
                    return ir.Builtin(name="channel_value", args=(chan,))
        return self.expr(arg)

    def timed(
        self,
        form: ast.Acquire | ast.Wait | ast.Join | ast.Recv,
        target: ir.Target | None,
        span: Span,
    ) -> str:
        """A timed wait (`acquire m timeout`): the form's own instruction, marked timed and
        given the target of its true/false (`recv`: ok(v) or err("timeout"))."""
        what = unparse.operation(ast.Timed(form=form, span=span))
        if self.atomic_depth:
            self.sink.error(
                "blocking-in-atomic",
                f"`{what}` waits (a timed wait), so it cannot be inside `atomic`",
                span,
                help="an `atomic` block runs as one step; `try_acquire` never waits",
            )
        if isinstance(form, ast.Recv):
            chan = self.channel(form.channel, "recv", {RECEIVER})
            if chan is not None:
                self.emit(ir.Recv(channel=chan, target=target, timed=True, span=span))
            return UNKNOWN
        depth, self.atomic_depth = self.atomic_depth, 0  # reported once, above
        start = self.here()
        self.stmt(form)
        self.atomic_depth = depth
        if self.here() != start + 1:
            return VALUE  # an error was reported
        instr = self.code[start]
        if isinstance(instr, ir.Acquire | ir.Wait):
            mode = instr.mode if isinstance(instr, ir.Acquire) else ""
            verb = (
                "wait" if isinstance(instr, ir.Wait) else "acquire_" + mode if mode else "acquire"
            )
            if instr.resource.kind and registry.verb(instr.resource.kind, verb).timeout is None:
                self.sink.error(
                    "wrong-kind",
                    f"`{verb}` on {a_kind(instr.resource.kind)} cannot time out",
                    span,
                    help=f"{a_kind(instr.resource.kind)} has no timed wait: remove `timeout`",
                )
                return VALUE
        self.patch(start, timed=True, target=target, span=span)
        return VALUE

    def check_any_range(self, low: ast.Expr, high: ast.Expr) -> None:
        lo, hi = self.expr(low), self.expr(high)
        if (
            isinstance(lo, ir.Const)
            and isinstance(hi, ir.Const)
            and isinstance(lo.value, int)
            and isinstance(hi.value, int)
            and lo.value >= hi.value
        ):
            self.sink.error(
                "bad-constant",
                f"the range {lo.value}..{hi.value} is empty",
                low.span.cover(high.span),
                help="ranges are half-open: `any(0..3)` is 0, 1 or 2",
            )

    # ------------------------------------------------------------ atomic checks

    def stmt_assert(self, s: ast.Assert) -> None:
        message = self.expr(s.message) if s.message is not None else None
        self.emit(ir.Assert(cond=self.expr(s.cond), message=message, span=s.span))

    def stmt_panic(self, s: ast.Panic) -> None:
        message = self.expr(s.message) if s.message is not None else None
        self.emit(ir.Panic(message=message, span=s.span))

    def stmt_progress(self, s: ast.Progress) -> None:
        self.emit(ir.Progress(span=s.span))

    def stmt_skip(self, s: ast.Skip) -> None:
        self.emit(ir.Skip(span=s.span))
