"""Partial-order reduction: local steps and releases merged into the step before (Lipton's
reduction), and the ample set of one thread's local steps, with the cycle proviso (a local
loop stops the merging where it would repeat) in `_settle` and `_pure_chain`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics import ir, values
from gilcheck.semantics.values import (
    EvalError,
)
from gilcheck.sync.base import Misuse

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.common import (
    Prepared,
    SpecMisuse,
    _has_handle,
    _has_receiver,
)
from gilcheck.system.engine.splitting import (
    Splitting,
)
from gilcheck.system.expr import (
    MOVED,
    IndexOutOfRange,
    UseAfterMove,
)
from gilcheck.system.model import (
    STEP,
    Transition,
)
from gilcheck.system.state import (
    F_CODE,
    F_CTX,
    F_LOCALS,
    F_PC,
    GIL_NORMAL,
    PYTHON,
    RUNNING,
    S_PATH,
    T_FRAMES,
    T_GILCOUNT,
    T_GILMODE,
    T_PHASE,
    T_SELF,
    T_STATUS,
    Frame,
    State,
    Thread,
)


def _plain(value: object) -> bool:
    """Whether dropping a local's value is invisible to other threads: plain data, or
    nothing (a handle closes its channel, an object may be collected)."""
    return value is None or type(value) is int or type(value) is bool or value == MOVED


class Reduction(Splitting):
    """Merging local steps and ample sets of one thread."""

    # Where the step table collects what merging looks at (explore/steptable.py): each
    # state and thread whose next statement `_settle` considered merging, once it ran the
    # thread's pure steps (which read the thread alone). None: not collected.
    merge_reads: list[tuple[State, int]] | None = None

    def _merge(self, out: list[Transition]) -> list[Transition]:
        if self.merge_local_steps:
            prepared = self.prepared
            for i, (action, target) in enumerate(out):
                if type(target) is tuple:
                    frames = target[0][action[0]][0]
                    if frames:
                        top = frames[-1]
                        if not prepared[top[0]][top[1]].merges:
                            continue
                    settled = self._settle(target, action[0])
                    if settled is not target:
                        out[i] = (action, settled)
        return out

    def _local_ample(self, state: State) -> Transition | None:
        """A thread whose next steps are local, taken alone (an ample set of one thread).

        Its local steps commute with every other step, so exploring only them from this
        state keeps every deadlock and violation; a local loop that would come back to
        the same state falls back to the full expansion (the cycle proviso).
        """
        for tid, th in enumerate(state[0]):
            ample = self.ample_step(state, tid, th)
            if ample is not None:
                return ample
        return None

    def ample_step(self, state: State, tid: int, th: Thread) -> Transition | None:
        """The thread's run of local steps when it has one (see `_local_ample`)."""
        frames = th[0]
        if not frames or th[T_STATUS] != RUNNING:
            return None
        frame = frames[-1]
        p = self.prepared[frame[0]][frame[1]]
        if th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0 or not self._pure_at(p, frame, th):
            return None
        settled = self._settle(state, tid)
        if settled != state:
            return ((tid, STEP, 0), settled)
        return None

    def _settle(self, state: State, tid: int) -> State:
        """Run the thread's following local steps (invisible to other threads) in the same step.

        Local steps (skip, jumps, assignments and branches over locals, all in native code)
        commute with every step of every other thread, and releases (of the GIL by leaving
        `with_gil` or entering `allow_threads`, of a held lock, of senders at a scope end) commute
        to the left past them (Lipton's reduction): taking them at once keeps every deadlock and
        every violation reachable, as SPIN's statement merging does. A local loop stops the
        merging where it would repeat.
        """
        seen: set[Frame] | None = None
        if self.symbolic:
            values.CURRENT_PATH = state[S_PATH][1]
        for _ in range(256):
            th = state[0][tid]
            frames = th[0]
            if not frames:
                return state
            frame = frames[-1]
            p = self.prepared[frame[0]][frame[1]]
            if th[T_STATUS] != RUNNING or th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0:
                return state
            pure = self._pure_at(p, frame, th)
            if not pure and (not p.local or self._runs_python(p, frame)):
                return state
            if pure:
                # With unknown values a branch's outcome depends on the path condition too.
                key = (th, state[S_PATH]) if self.symbolic else th
                after = self._pure_memo.get(key)
                if after is None:
                    after = self._pure_chain(state, tid)
                    self._pure_memo[key] = after
                if after == th:
                    return state
                threads = state[0]
                state = (threads[:tid] + (after,) + threads[tid + 1 :], *state[1:])
                continue
            if self.merge_reads is not None:
                self.merge_reads.append((state, tid))
            if not self._may_merge(state, tid, th, frame, p):
                return state
            if seen is None:
                seen = set()
            if frame in seen:
                return state
            seen.add(frame)
            steps: list[Transition] = []
            try:
                p.handler(state, tid, th, frame, p, steps)
            except Exception:
                return state
            if len(steps) != 1 or type(steps[0][1]) is not tuple:
                return state
            state = steps[0][1]
        return state

    def _pure_chain(self, state: State, tid: int) -> Thread:
        """The thread after its run of pure local steps (which depend on the thread alone)."""
        seen: set[Frame] = set()
        th: Thread = state[0][tid]
        while True:
            frame = th[0][-1]
            p = self.prepared[frame[0]][frame[1]]
            if frame in seen or th[T_STATUS] != RUNNING or not self._pure_at(p, frame, th):
                return th
            instr = p.instr
            if (
                isinstance(instr, ir.Assign)
                and isinstance(instr.target, ir.LocalTarget)
                and (_has_handle(frame[2][instr.target.slot]))
            ):
                return th  # overwriting a handle drops it: not local
            if isinstance(instr, ir.EndScope) and not all(
                _plain(frame[F_LOCALS][slot]) for slot in instr.slots
            ):
                return th  # (only in Python code: elsewhere a scope's end is not pure)
            if p.frame_step and not self._frame_step_is_pure(th, frame, p):
                return th
            seen.add(frame)
            steps: list[Transition] = []
            try:
                p.handler(state, tid, th, frame, p, steps)
            except Exception:
                return th
            if len(steps) != 1 or type(steps[0][1]) is not tuple:
                return th
            state = steps[0][1]
            before, th = th, state[0][tid]
            if not th[0]:
                return th
            if self._runs_python(p, frame) and not self.may_hand_over(th):
                return before  # a Python statement is merged only where a boundary follows

    def _pure_at(self, p: Prepared, frame: Frame, th: Thread) -> bool:
        """Whether the thread's next statement depends on and changes its own thread alone
        and is merged into the step before.

        In Python code that holds the GIL, the eval loop may hand the GIL over before the
        statement; but the statement is invisible to every other thread, so handing it
        over after the statement, at the boundary that follows it, reaches the same states
        of the others with this thread one statement further, and the same deadlocks
        (a thread that waits to take the GIL back waits alike before and after it). So
        such a statement is merged like a native one, provided a boundary follows it (it
        is checked in `_pure_chain`). Not in programs where a boundary is also where a
        `finalizer`, `signal`, stop-the-world pause or `fork` may come in, or with
        processes or event loops.
        """
        if self._runs_python(p, frame):
            return p.python_pure and th[T_GILCOUNT] > 0
        return p.pure or p.frame_step

    def _frame_step_is_pure(self, th: Thread, frame: Frame, p: Prepared) -> bool:
        """Whether a `call` or `return` (`Prepared.frame_step`) changes its thread alone
        here: a call passes plain data; a return leaves a function (not the thread's first
        frame, nor a finalizer's or signal's) whose locals and result are plain data, into
        a local of the caller that holds plain data (or nowhere)."""
        locals_ = frame[F_LOCALS]
        me = th[T_SELF]
        try:
            if isinstance(p.instr, ir.CallFn):
                return all(_plain(evaluate(locals_, (), me, ())) for evaluate in p.values)
            frames = th[T_FRAMES]
            if len(frames) < 2 or self.codes[frame[F_CODE]].kind in ("finalizer", "signal"):
                return False
            if not all(_plain(value) for value in locals_):
                return False
            if p.value is not None and not _plain(p.value(locals_, (), me, ())):
                return False
        except Exception:
            return False  # (the step itself reports what is wrong)
        caller = frames[-2]
        call = self.codes[caller[F_CODE]].instrs[caller[F_PC]]
        if not isinstance(call, ir.CallFn):
            return False
        target = call.target
        return target is None or (
            isinstance(target, ir.LocalTarget) and _plain(caller[F_LOCALS][target.slot])
        )

    @staticmethod
    def _runs_python(p: Prepared, frame: Frame) -> bool:
        """Whether the statement runs as Python code in this frame."""
        return p.context == PYTHON or (p.context is None and frame[F_CTX] == PYTHON)

    def _may_merge(self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared) -> bool:
        """Dynamic side of `Prepared.local`: a release that would be a misuse, or a scope end
        that drops a receiver (which makes pending sends fail), is not merged."""
        instr = p.instr
        if isinstance(instr, ir.EndScope):
            return not any(_has_receiver(frame[F_LOCALS][slot]) for slot in instr.slots)
        if isinstance(instr, ir.End):
            # A thread's end only enables others (joins, the exit join), as long as it drops
            # no receiver; `main`'s end may end the whole program, so it is never merged.
            if tid == self.main_tid and len(th[T_FRAMES]) == 1:
                return False
            return not any(_has_receiver(v) for v in frame[F_LOCALS])
        if p.site is not None:  # a release: merged unless it is a misuse
            try:
                lid = self.lock_id(p.instr.resource, frame, th, state, p.index)  # type: ignore[union-attr]
            except (IndexOutOfRange, EvalError, SpecMisuse, UseAfterMove):
                return False  # not merged: the step itself reports the panic or misuse
            result = p.site.verb.run(p.site, state[3][lid], tid, th[T_PHASE], None)
            return result.__class__ is not Misuse
        return True
