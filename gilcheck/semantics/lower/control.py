"""Control flow: `if`, loops, `break`/`continue`/`return` with their unwinding, `choose`,
`await` and `atomic` blocks."""

from __future__ import annotations

from collections.abc import Callable

from gilcheck.semantics import ir
from gilcheck.semantics.lower.core import RECEIVER, UNKNOWN, Loop, Scope, end_span, head_span
from gilcheck.semantics.lower.expressions import ExprLowerer
from gilcheck.source import Span
from gilcheck.syntax import ast


class ControlLowerer(ExprLowerer):
    """Statements that branch, loop, jump or group steps."""

    def stmt_return(self, s: ast.Return) -> None:
        if self.kind != "fn":
            self.sink.error(
                "return-outside-function",
                "`return` outside a function",
                s.span,
                help="a thread ends at the end of its body; `return` is for `fn`s",
            )
            return
        if self.leaves_atomic(s.span, "return"):
            return
        value = self.expr(s.value) if s.value is not None else None
        self.unwind(_NoFrame, s.span)
        self.emit(ir.Return(value=value, span=s.span))

    def stmt_if(self, s: ast.If) -> None:
        branch = self.emit(ir.Branch(cond=self.expr(s.cond), if_false=-1, span=s.cond.span))
        self.block(s.then)
        if s.orelse is None:
            self.patch(branch, if_false=self.here())
            return
        jump = self.emit(ir.Jump(target=-1, span=s.then.span))
        self.patch(branch, if_false=self.here())
        if isinstance(s.orelse, ast.If):
            self.stmt_if(s.orelse)
        else:
            self.block(s.orelse)
        self.patch(jump, target=self.here())

    def loop_frame(self, start: int, body: Callable[[], None]) -> list[int]:
        loop = Loop(continue_target=start)
        self.frames.append(loop)
        body()
        self.frames.pop()
        return loop.break_jumps

    def stmt_while(self, s: ast.While) -> None:
        self.check_loop(s.span, "while")
        start = self.here()
        branch = self.emit(ir.Branch(cond=self.expr(s.cond), if_false=-1, span=s.cond.span))
        breaks = self.loop_frame(start, lambda: self.block(s.body))
        self.emit(ir.Jump(target=start, span=s.span))
        self.patch(branch, if_false=self.here())
        for b in breaks:
            self.patch(b, target=self.here())

    def stmt_loop(self, s: ast.Loop) -> None:
        self.check_loop(s.span, "loop")
        start = self.here()
        breaks = self.loop_frame(start, lambda: self.block(s.body))
        if self.here() == start or all(isinstance(i, ir.Jump) for i in self.code[start:]):
            self.emit(ir.Skip(span=head_span(s.span, "loop")))  # an empty loop spins
        self.emit(ir.Jump(target=start, span=s.span))
        for b in breaks:
            self.patch(b, target=self.here())

    def stmt_for(self, s: ast.For) -> None:
        self.check_loop(s.span, "for")
        chan = self.channel(s.channel, "for", {RECEIVER})
        start = self.here()
        scope = Scope()
        recv_at = -1

        def body() -> None:
            nonlocal recv_at
            self.frames.append(scope)
            slot = len(self.local_names)
            if chan is not None:
                recv_at = self.emit(
                    ir.Recv(
                        channel=chan,
                        target=ir.LocalTarget(slot=slot, name=s.var.name),
                        exit_target=-1,
                        span=s.span.cover(s.channel.span),
                    )
                )
            self.declare(s.var, UNKNOWN)
            self.block(s.body)
            self.frames.pop()
            if scope.slots:
                self.emit(ir.EndScope(slots=tuple(scope.slots), span=end_span(s.body.span)))

        breaks = self.loop_frame(start, body)
        self.emit(ir.Jump(target=start, span=s.span))
        if recv_at >= 0:
            self.patch(recv_at, exit_target=self.here())
        for b in breaks:
            self.patch(b, target=self.here())

    def leaves_atomic(self, span: Span, what: str) -> bool:
        loops = [i for i, f in enumerate(self.frames) if isinstance(f, Loop)]
        inner_loop = loops[-1] if loops and what != "return" else -1
        if self.atomic_depth and inner_loop < self.atomic_frame_index:
            self.sink.error(
                "invalid-statement",
                f"`{what}` cannot leave an `atomic` block",
                span,
                help="an `atomic` block runs to its end as one step",
            )
            return True
        return False

    def stmt_break(self, s: ast.Break) -> None:
        if self.leaves_atomic(s.span, "break"):
            return
        loop = self.unwind(Loop, s.span)
        if not isinstance(loop, Loop):
            self.sink.error(
                "break-outside-loop",
                "`break` outside a loop",
                s.span,
                help="`break` leaves the innermost `while`, `loop` or `for`",
            )
            return
        loop.break_jumps.append(self.emit(ir.Jump(target=-1, span=s.span)))

    def stmt_continue(self, s: ast.Continue) -> None:
        if self.leaves_atomic(s.span, "continue"):
            return
        loop = self.unwind(Loop, s.span)
        if not isinstance(loop, Loop):
            self.sink.error(
                "continue-outside-loop",
                "`continue` outside a loop",
                s.span,
                help="`continue` goes back to the start of the innermost loop",
            )
            return
        self.emit(ir.Jump(target=loop.continue_target, span=s.span))

    def stmt_choose(self, s: ast.Choose) -> None:
        choose = self.emit(ir.Choose(targets=(), span=head_span(s.span, "choose")))
        targets: list[int] = []
        ends: list[int] = []
        for branch in s.branches:
            targets.append(self.here())
            self.block(branch)
            ends.append(self.emit(ir.Jump(target=-1, span=branch.span)))
        self.patch(choose, targets=tuple(targets))
        for e in ends:
            self.patch(e, target=self.here())

    def stmt_await(self, s: ast.Await) -> None:
        if self.atomic_depth and not self.atomic_leading_await:
            self.sink.error(
                "blocking-in-atomic",
                "`await` inside `atomic` must be its first statement",
                s.span,
                help="move the `await` to the start of the block",
            )
        self.emit(ir.Await(cond=self.expr(s.cond), span=s.span))

    def stmt_atomic(self, s: ast.Atomic) -> None:
        begin = self.emit(ir.AtomicBegin(end=-1, span=head_span(s.span, "atomic")))
        self.atomic_depth += 1
        saved_index = self.atomic_frame_index
        if self.atomic_depth == 1:
            self.atomic_frame_index = len(self.frames)
        scope = Scope()
        self.frames.append(scope)
        for i, stmt in enumerate(s.body.body):
            self.atomic_leading_await = i == 0 and self.atomic_depth == 1
            self.stmt(stmt)
        self.atomic_leading_await = False
        self.frames.pop()
        self.atomic_depth -= 1
        self.atomic_frame_index = saved_index
        if scope.slots:
            self.emit(ir.EndScope(slots=tuple(scope.slots), span=end_span(s.body.span)))
        end = self.emit(ir.AtomicEnd(span=end_span(s.body.span)))
        self.patch(begin, end=end)


class _NoFrame:
    """A frame type that never matches: unwinding to it unwinds everything."""
