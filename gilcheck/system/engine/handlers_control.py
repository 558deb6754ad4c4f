"""Handlers for control: branches, `choose`, `await`, `assert`, `panic`, `atomic` blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics import ir
from gilcheck.semantics.ir import Verdict
from gilcheck.semantics.values import (
    Term,
    describe_value,
)

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.common import (
    Prepared,
    _truth,
    _with_path,
)
from gilcheck.system.engine.splitting import (
    Splitting,
)
from gilcheck.system.model import (
    DECIDE,
    STEP,
    Action,
    LimitHit,
    Target,
    Transition,
    Violation,
)
from gilcheck.system.state import (
    F_CODE,
    F_PC,
    S_PATH,
    S_THREADS,
    T_FRAMES,
    Frame,
    State,
    Thread,
    Work,
)


class ControlHandlers(Splitting):
    """Handlers of control statements."""

    def _branch(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.Branch = p.instr  # type: ignore[assignment]
        value = self._eval(p.value, state, frame, th)
        if value.__class__ is not Term:  # the concrete case, kept fast
            w = Work(state)
            taken = _truth(value)
            target = p.next_pc if taken else self.resolve_pc(p.code, instr.if_false)
            self._advance(w, tid, th, frame, target)
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        cases = self.cases(state, value)
        for taken, narrowed in cases:
            w = Work(narrowed)
            target = p.next_pc if taken else self.resolve_pc(p.code, instr.if_false)
            self._advance(w, tid, th, frame, target)
            out.append(((tid, STEP, 0 if taken or len(cases) == 1 else 1), w.freeze()))
        return False

    def _choose(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Choose = p.instr  # type: ignore[assignment]
        for i, target in enumerate(instr.targets):
            w = Work(state)
            self._advance(w, tid, th, frame, self.resolve_pc(p.code, target))
            out.append(((tid, STEP, i), w.freeze()))
        return False

    def _await(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th)
        if isinstance(value, Term):
            cases = self.cases(state, value)
            if len(cases) == 2:
                # Whether the thread can go on depends on the unknowns: split the state (it
                # does not move), so that a state where it is blocked is judged on its own.
                for truth, narrowed in cases:
                    out.append(((tid, DECIDE, int(truth)), narrowed))
                return False
            value = cases[0][0] if cases else False
        if not _truth(value):
            return False
        return self._skip(state, tid, th, frame, p, out)

    def _assert(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th)
        if value.__class__ is not Term and _truth(value):
            return self._skip(state, tid, th, frame, p, out)
        cases = self.cases(state, value)
        for holds, narrowed in cases:
            if holds:
                self._skip(narrowed, tid, th, frame, p, out)
                continue
            message = "assertion failed"
            if p.values:
                text = self._eval(p.values[0], state, frame, th)
                shown = text if isinstance(text, str) else describe_value(text)
                message = f"assertion failed: {shown}"
            violation = Violation(
                Verdict.ASSERTION, message, tid, p.instr.span, self.path_of(narrowed)
            )
            out.append(((tid, STEP, len(cases) - 1), violation))
        return False

    def _panic(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        message = "panic"
        if p.value is not None:
            text = self._eval(p.value, state, frame, th)
            message = f"panic: {text if isinstance(text, str) else describe_value(text)}"
        violation = Violation(Verdict.PANIC, message, tid, p.instr.span, self.path_of(state))
        out.append(((tid, STEP, 0), violation))
        return False

    def _atomic(
        self,
        state: State,
        tid: int,
        th: Thread,
        frame: Frame,
        p: Prepared,
        out: list[Transition],
        parents: dict[Target, tuple[State, Action | None]] | None = None,
    ) -> bool:
        """Run the block to its end as one step (each nondeterministic outcome one step).

        With `parents`, each state reached inside the block (and each outcome) is mapped
        to the state and the step it was first reached by (None: leaving the block).
        """
        instr: ir.AtomicBegin = p.instr  # type: ignore[assignment]
        w = Work(state)
        self._advance(w, tid, th, frame, p.next_pc)
        frontier = [w.freeze()]
        finals: dict[State, None] = {}
        gil_blocked = False
        while frontier:
            current = frontier.pop()
            cur_th = current[S_THREADS][tid]
            cur_frame = cur_th[T_FRAMES][-1]
            if cur_frame[F_CODE] == p.code and cur_frame[F_PC] == instr.end:
                done = Work(current)
                end_p = self.prepared[p.code][instr.end]
                self._advance(done, tid, cur_th, cur_frame, end_p.next_pc)
                final = done.freeze()
                finals[final] = None
                if parents is not None:
                    parents.setdefault(final, (current, None))
                continue
            steps: list[Transition] = []
            gil_blocked |= self.thread_steps(current, tid, cur_th, steps)
            if any(action[1] == DECIDE for action, _ in steps):
                # Its leading `await` depends on unknown values: split the state before
                # the block, which runs on each side as a step of its own.
                for action, narrowed in steps:
                    out.append((action, _with_path(state, narrowed[S_PATH])))  # type: ignore[arg-type]
                return False
            for step in steps:
                if parents is not None:
                    parents.setdefault(step[1], (current, step[0]))
                if not isinstance(step[1], tuple) or isinstance(step[1], Violation | LimitHit):
                    out.append(((tid, STEP, 0), step[1]))
                    return False
                frontier.append(step[1])
        for i, final in enumerate(finals):
            out.append(((tid, STEP, i), final))
        return gil_blocked and not finals

    def atomic_path(
        self, state: State, tid: int, outcome: Target
    ) -> list[tuple[State, Action, Target]]:
        """The statements thread `tid`'s `atomic` step from `state` runs to reach `outcome`
        (a state past the block, or the violation or limit a statement in it hits).

        Each is (the state inside the block, the statement's step, where it leads); the
        first starts just inside the block, the last leads to `outcome` or to the block's
        end. Of several ways to one outcome, the first the block's run finds. Empty when
        the thread is not at an `atomic` block or `outcome` is not one of its step's.
        """
        th = state[S_THREADS][tid]
        if not th[T_FRAMES]:
            return []
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        if not isinstance(p.instr, ir.AtomicBegin):
            return []
        parents: dict[Target, tuple[State, Action | None]] = {}
        self._atomic(state, tid, th, frame, p, [], parents)
        path: list[tuple[State, Action, Target]] = []
        node: Target = outcome
        seen: set[Target] = set()
        while node in parents and node not in seen:  # (a block has no loops: no repeats)
            seen.add(node)
            before, action = parents[node]
            if action is not None:
                path.append((before, action, node))
            node = before
        path.reverse()
        return path
