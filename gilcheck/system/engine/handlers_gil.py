"""Handlers for the GIL: `with_gil`, `allow_threads`, `python { }` and `print` (LANGUAGE.md's
GIL rules, with the scheduling in scheduling.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics.values import (
    is_python_value,
)

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.base import (
    Base,
)
from gilcheck.system.engine.common import (
    Prepared,
    SpecMisuse,
    _moved_to,
)
from gilcheck.system.model import (
    STEP,
    Transition,
)
from gilcheck.system.state import (
    F_PC,
    NO_THREAD,
    PYTHON,
    S_GIL,
    T_ALLOW,
    T_GILCOUNT,
    T_PHASE,
    Frame,
    State,
    Thread,
    Work,
)


class GilHandlers(Base):
    """Handlers of the GIL's statements."""

    def _gil_enter(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        count = th[T_GILCOUNT]
        gil = state[1]
        if count == 0:
            if gil not in (NO_THREAD, tid):
                return True
            if not self.gil_off:
                gil = tid
        new_th = (_moved_to(th, frame, p.next_pc), th[1], count + 1, *th[3:])
        threads = state[0]
        out.append(
            ((tid, STEP, 0), (threads[:tid] + (new_th,) + threads[tid + 1 :], gil, *state[2:]))
        )
        return False

    def _gil_exit(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        count = th[T_GILCOUNT] - 1
        gil = state[1]
        if count <= 0:
            count = 0
            if gil == tid and not self.gil_off:
                gil = NO_THREAD
        new_th = (_moved_to(th, frame, p.next_pc), th[1], count, *th[3:])
        threads = state[0]
        out.append(
            ((tid, STEP, 0), (threads[:tid] + (new_th,) + threads[tid + 1 :], gil, *state[2:]))
        )
        return False

    _python_exit = _gil_exit

    def _allow_enter(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        w = Work(state)
        if state[S_GIL] == tid and not self.gil_off:
            w.gil = NO_THREAD
        self._advance(
            w, tid, th, frame, p.next_pc, gil_count=0, allow_stack=th[T_ALLOW] + (th[T_GILCOUNT],)
        )
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _allow_exit(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        stack = th[T_ALLOW]
        saved = stack[-1] if stack else 0
        w = Work(state)
        if saved > 0:
            if state[S_GIL] not in (NO_THREAD, tid):
                return True
            if not self.gil_off:
                w.gil = tid
        self._advance(w, tid, th, frame, p.next_pc, gil_count=saved, allow_stack=stack[:-1])
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _python_enter(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        count = th[T_GILCOUNT]
        if count == 0 and th[T_ALLOW]:
            raise SpecMisuse(
                "Python code (`python { }`) runs inside `allow_threads { }`, without the GIL"
            )
        return self._gil_enter(state, tid, th, frame, p, out)

    def _print(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th)
        if self.context(p, frame) == PYTHON:
            return self._skip(state, tid, th, frame, p, out)  # Python's print: under the GIL
        stdout = state[5]
        attached = th[T_GILCOUNT] > 0 if self.gil_off else state[S_GIL] == tid
        needs_gil = is_python_value(value) and not attached
        w = Work(state)
        if th[T_PHASE] == 1:  # holds stdout's lock, waits for the GIL to format
            if state[S_GIL] not in (NO_THREAD, tid):
                return True
            w.stdout = NO_THREAD
            self._advance(w, tid, th, frame, p.next_pc, phase=0)
            out.append(((tid, STEP, 1), w.freeze()))
            return False
        if stdout not in (NO_THREAD, tid):
            return False
        if needs_gil:
            w.stdout = tid
            self._advance(w, tid, th, frame, frame[F_PC], phase=1)
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        self._advance(w, tid, th, frame, p.next_pc)
        out.append(((tid, STEP, 0), w.freeze()))
        return False
