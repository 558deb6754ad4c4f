"""Threads and the GIL: `with_gil`, `allow_threads` and `python` blocks, `join`, `fork`
and `print` (which takes the GIL like any Python call)."""

from __future__ import annotations

from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.lower.core import (
    RECEIVER,
    SENDER,
    Exit,
    Scope,
    end_span,
    head_span,
)
from gilcheck.semantics.lower.expressions import ExprLowerer
from gilcheck.semantics.resolve import ThreadSym, VarSym, symbol_kind
from gilcheck.source import Span
from gilcheck.syntax import ast


class ThreadLowerer(ExprLowerer):
    """Statements about threads, the GIL and the Python/native context."""

    def stmt_withgil(self, s: ast.WithGil) -> None:
        self.check_blocking(s.span, "with_gil { }")
        self.check_not_awaited(s.span, "with_gil { }")
        self.emit(ir.GilEnter(span=head_span(s.span, "with_gil")))
        self.contexts.append(ir.Context.NATIVE)
        self.frames.append(Exit(lambda: ir.GilExit(context=ir.Context.NATIVE)))
        self.gil_guards.append("with_gil")
        self.block(s.body)
        self.gil_guards.pop()
        self.frames.pop()
        self.emit(ir.GilExit(span=end_span(s.body.span)))
        self.contexts.pop()

    def stmt_allowthreads(self, s: ast.AllowThreads) -> None:
        self.check_blocking(s.span, "allow_threads { }")
        self.emit(ir.AllowEnter(span=head_span(s.span, "allow_threads")))
        self.contexts.append(ir.Context.NATIVE)
        self.frames.append(Exit(lambda: ir.AllowExit(context=ir.Context.NATIVE)))
        self.gil_guards.append("allow_threads")
        self.block(s.body)
        self.gil_guards.pop()
        self.frames.pop()
        self.emit(ir.AllowExit(span=end_span(s.body.span)))
        self.contexts.pop()

    def stmt_python(self, s: ast.Python) -> None:
        self.check_blocking(s.span, "python { }")
        self.check_not_awaited(s.span, "python { }")
        self.emit(ir.PythonEnter(span=head_span(s.span, "python")))
        self.contexts.append(ir.Context.PYTHON)
        self.frames.append(Exit(lambda: ir.PythonExit(context=ir.Context.PYTHON)))
        self.block(s.body)
        self.frames.pop()
        self.emit(ir.PythonExit(span=end_span(s.body.span)))
        self.contexts.pop()

    def stmt_acquiregil(self, s: ast.AcquireGil) -> None:
        self.check_blocking(s.span, "acquire_gil")
        self.check_not_awaited(s.span, "acquire_gil")
        self.emit(ir.AcquireGil(span=s.span))

    def stmt_releasegil(self, s: ast.ReleaseGil) -> None:
        self.emit(ir.ReleaseGil(span=s.span))

    def stmt_join(self, s: ast.Join) -> None:
        self.check_blocking(s.span, "join")
        ident = s.handle.name
        local = self.lookup_local(ident.name)
        if local is not None:
            # A kind the text shows (a channel's ends, a constructor bound to every
            # `let` of it) is checked here; a local bound to any other value (a var, an
            # array element, a message) is checked at run time.
            shown = self.object_kinds.get(ident.name, "")
            if local.kind in (SENDER, RECEIVER) or shown:
                what = f"a {shown}" if shown else a_kind(local.kind)
                self.wrong_kind(
                    ident.span,
                    f"`join` needs a thread handle, and `{ident.name}` is {what}",
                    f"wait for a future with `let v = result {ident.name}`"
                    if shown == "future"
                    else "bind the handle with `let h = spawn f()`",
                )
                return
            if s.handle.index is not None:
                self.sink.error(
                    "not-an-array",
                    f"`{ident.name}` is a local, not an array",
                    s.handle.index.span,
                    help=f"write `join {ident.name}`",
                )
                return
            self.emit(ir.Join(handle=ir.Local(slot=local.slot, name=ident.name), span=s.span))
            return
        sym = self.decls.symbols.get(ident.name)
        if isinstance(sym, ThreadSym):
            index = self.element(ident, s.handle.index, sym.size)
            self.emit(
                ir.Join(
                    handle=ir.ThreadRef(
                        thread=sym.index, size=sym.size, name=ident.name, index=index
                    ),
                    span=s.span,
                )
            )
            return
        if sym is None:
            self.undefined(ident)
            return
        if isinstance(sym, VarSym):
            # A handle kept in a shared var (`worker = t`, then `join worker` in `atexit`):
            # its kind is known only at run time.
            ref: ast.Expr = (
                ast.Name(ident=ident, span=s.handle.span)
                if s.handle.index is None
                else ast.Index(base=ident, index=s.handle.index, span=s.handle.span)
            )
            self.emit(ir.Join(handle=self.expr(ref), span=s.span))
            return
        self.wrong_kind(
            ident.span,
            f"`join` needs a thread handle, and `{ident.name}` is {symbol_kind(sym)}",
            "bind the handle with `let h = spawn f()`",
        )

    def stmt_print(self, s: ast.Print) -> None:
        self.check_blocking(s.span, "print")
        self.emit(ir.Print(value=self.expr(s.value), span=s.span))

    def check_not_awaited(self, span: Span, what: str) -> None:
        """A statement that needs the GIL cannot be inside `suspend { }`."""
        if self.suspend_depth:
            self.sink.error(
                "invalid-statement",
                f"`{what}` cannot be inside `suspend {{ }}`: an awaited operation runs no "
                "code on the loop's thread",
                span,
                help="move it before or after the `suspend` block",
            )

    def stmt_suspend(self, s: ast.Suspend) -> None:
        """`suspend { }`: an `await` in an event loop's task (no scope of its own)."""
        self.check_blocking(s.span, "suspend { }")
        if self.gil_guards:
            self.sink.error(
                "invalid-statement",
                f"`suspend` cannot be inside `{self.gil_guards[-1]} {{ }}`: PyO3 cannot hold "
                "a GIL guard across `.await`",
                head_span(s.span, "suspend"),
                help=f"end the `{self.gil_guards[-1]}` block before the `suspend`",
            )
        body = s.body.body
        force = len(body) == 1 and isinstance(body[0], ast.Skip)
        self.emit(ir.SuspendBegin(force=force, span=head_span(s.span, "suspend")))
        self.frames.append(Exit(lambda: ir.SuspendEnd()))
        self.suspend_depth += 1
        self.block_body(s.body)
        self.suspend_depth -= 1
        self.frames.pop()
        self.emit(ir.SuspendEnd(span=end_span(s.body.span)))

    def stmt_fork(self, s: ast.Fork) -> None:
        self.check_blocking(s.span, "fork { }")
        begin = self.emit(ir.ForkBegin(end=-1, span=head_span(s.span, "fork")))
        saved = self.frames
        self.frames = [f for f in saved if isinstance(f, Scope)]  # no break out of a child
        self.block(s.body)
        self.frames = saved
        end = self.emit(ir.ForkEnd(span=end_span(s.body.span)))
        self.patch(begin, end=end + 1)
