"""Channel statements: making a channel's two ends, cloning a handle, closing."""

from __future__ import annotations

from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.lower.core import RECEIVER, SENDER, THREAD, UNKNOWN, VALUE
from gilcheck.semantics.lower.expressions import ExprLowerer, ref_as_expr
from gilcheck.semantics.resolve import ChannelSym, channel_kind
from gilcheck.source import Span
from gilcheck.syntax import ast


class ChannelLowerer(ExprLowerer):
    """`let (tx, rx) = channel(..)`, `clone`, `close`."""

    def let_channel(self, s: ast.Let, make: ast.MakeChannel) -> None:
        if len(s.names) != 2:
            self.sink.error(
                "invalid-statement",
                "a channel has two ends: bind both",
                s.span,
                help=f"write `let ({s.names[0].name}_tx, {s.names[0].name}_rx) = "
                f"{maker_text(make)}`",
            )
            return
        resolved = self.channel_maker(make)
        base = len(self.local_names)
        tx = ir.LocalTarget(slot=base, name=s.names[0].name)
        rx = ir.LocalTarget(slot=base + 1, name=s.names[1].name)
        if resolved is not None:
            kind, capacity = resolved
            self.emit(
                ir.MakeChannel(
                    kind=kind,
                    capacity=None if capacity is None else ir.Const(value=capacity),
                    sender=tx,
                    receiver=rx,
                    span=s.span,
                )
            )
        self.declare(s.names[0], SENDER)
        self.declare(s.names[1], RECEIVER)

    def channel_maker(self, make: ast.MakeChannel) -> tuple[str, int | None] | None:
        if make.maker == "oneshot":
            if make.arg is not None:
                self.sink.error(
                    "wrong-arity",
                    "`oneshot()` takes no argument",
                    make.arg.span,
                    help="write `oneshot()`",
                )
                return None
            return ("oneshot", None)
        if make.maker == "queue":
            if make.arg is None:
                return ("queue", None)
            cap = self.folder.fold_int(make.arg, "a queue's maxsize", minimum=0)
            return None if cap is None else ("queue", cap or None)
        arg = make.arg
        if arg is None:
            self.sink.error(
                "unknown-channel-kind",
                "`channel()` needs a kind",
                make.span,
                help="write `channel(unbounded)`, `channel(2)` or `channel(rendezvous)`",
            )
            return None
        if (
            isinstance(arg, ast.Name)
            and arg.ident.name not in self.decls.symbols
            and (self.lookup_local(arg.ident.name) is None)
        ):
            return channel_kind(arg.ident, None, self.folder, self.sink, global_decl=False)
        if isinstance(arg, ast.BuiltinCall) and arg.func.name in ("bounded", "queue"):
            inner = arg.args[0] if len(arg.args) == 1 else None
            return channel_kind(arg.func, inner, self.folder, self.sink, global_decl=False)
        cap = self.folder.fold_int(arg, "a channel capacity", minimum=0)
        if cap is None:
            return None
        return ("rendezvous", None) if cap == 0 else ("bounded", cap)

    def clone(self, ref: ast.Ref, target: ir.Target | None, span: Span) -> str:
        local = self.lookup_local(ref.name.name) if ref.index is None else None
        if local is not None:
            if local.kind in (RECEIVER, THREAD):
                self.wrong_kind(
                    ref.name.span,
                    f"`clone` needs a sender or a value, and `{ref.name.name}` is "
                    f"{a_kind(local.kind)}",
                    "only senders can be cloned: a channel has one receiver",
                )
                return UNKNOWN
            self.emit(
                ir.CloneHandle(
                    source=ir.HandleRef(slot=local.slot, name=ref.name.name, kind=local.kind),
                    target=target,
                    span=span,
                )
            )
            return local.kind
        sym = self.decls.symbols.get(ref.name.name)
        if isinstance(sym, ChannelSym):
            self.wrong_kind(
                ref.name.span,
                f"`{ref.name.name}` is a global channel",
                "a global channel is used by its name from any thread: no clone needed",
            )
            return UNKNOWN
        source = self.expr(ref_as_expr(ref))
        self.emit(ir.CloneHandle(source=source, target=target, span=span))
        return VALUE

    def stmt_close(self, s: ast.Close) -> None:
        sym = self.decls.symbols.get(s.channel.name.name)
        if (
            self.lookup_local(s.channel.name.name) is None
            and isinstance(sym, ChannelSym)
            and sym.info.kind == "queue"
        ):
            self.wrong_kind(
                s.channel.name.span,
                f"`{s.channel.name.name}` is a queue, which never closes",
                "queue.Queue has no close: send a sentinel value the consumer stops on",
            )
            return
        chan = self.channel(s.channel, "close", {RECEIVER})
        if chan is not None:
            self.emit(ir.Close(channel=chan, span=s.span))


def maker_text(make: ast.MakeChannel) -> str:
    """The maker to suggest in a help text about binding a new channel."""
    return {"oneshot": "oneshot()", "queue": "queue(0)"}.get(make.maker, "channel(unbounded)")
