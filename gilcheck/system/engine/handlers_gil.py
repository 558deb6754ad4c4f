"""Handlers for the GIL: `with_gil`, `allow_threads`, `python { }`, `print` and the C API's
`acquire_gil`/`release_gil` (LANGUAGE.md's GIL rules, with the scheduling in scheduling.py).

`release_gil` saves the thread's GIL count on its allow stack as a negative entry (`-count`;
`allow_threads` pushes counts >= 0); the thread has given the GIL up while its count is 0
and that entry is on top, until `acquire_gil` pops it and restores the count."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics.values import (
    is_python_value,
)

if TYPE_CHECKING:
    pass
from gilcheck.semantics import ir
from gilcheck.system.engine.base import (
    Base,
)
from gilcheck.system.engine.common import (
    Handler,
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
        if th[T_GILCOUNT] == 0 and gave_up_gil(th):
            block = "python { }" if isinstance(p.instr, ir.PythonExit) else "with_gil { }"
            raise SpecMisuse(
                f"`{block}` ends after `release_gil` (PyEval_SaveThread) and before "
                "`acquire_gil`, without the GIL: call `acquire_gil` before the block ends"
            )
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
        while stack and stack[-1] < 0:
            # A `release_gil` inside the block after an `acquire_gil` there: C drops the
            # thread state PyEval_SaveThread returned, and Py_END_ALLOW_THREADS restores its own.
            stack = stack[:-1]
        saved = stack[-1] if stack else 0
        if th[T_GILCOUNT] > 0:
            raise SpecMisuse(
                "`allow_threads { }` ends (Py_END_ALLOW_THREADS, which is PyEval_RestoreThread) "
                f"while the thread {'is attached' if self.gil_off else 'holds the GIL'} by "
                f"an `acquire_gil` inside the block: {_NOT_REENTRANT}"
            )
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
        if count == 0 and gave_up_gil(th):
            raise SpecMisuse(
                "Python code (`python { }`) runs after `release_gil` (PyEval_SaveThread) and "
                "before `acquire_gil`, without the GIL"
            )
        if count == 0 and th[T_ALLOW]:
            raise SpecMisuse(
                "Python code (`python { }`) runs inside `allow_threads { }`, without the GIL"
            )
        return self._gil_enter(state, tid, th, frame, p, out)

    def _print(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th)
        if self.has_loops and is_python_value(value) and self.awaiting(state, tid, th):
            raise SpecMisuse(
                "`print` of a Python value inside `suspend { }`: it needs the GIL, and an "
                "awaited operation runs no code on the loop's thread"
            )
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

    # ------------------------------------------------- the C API's thread-state calls (v1.2)

    def _holds_gil_words(self) -> str:
        return "is attached (holds a thread state)" if self.gil_off else "holds the GIL"

    def _acquire_gil(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`acquire_gil` (PyEval_RestoreThread): takes the GIL (with `gil off`: attaches),
        restoring the count `release_gil` saved, or 1; not reentrant."""
        if th[T_GILCOUNT] > 0:
            raise SpecMisuse(
                f"`acquire_gil` (PyEval_RestoreThread) while the thread already "
                f"{self._holds_gil_words()}: {_NOT_REENTRANT}"
            )
        gil = state[S_GIL]
        if gil not in (NO_THREAD, tid):
            return True  # another thread holds the GIL (`gil off`: its pause is pending)
        stack = th[T_ALLOW]
        if stack and stack[-1] < 0:
            count, stack = -stack[-1], stack[:-1]
        else:
            count = 1
        w = Work(state)
        if not self.gil_off:
            w.gil = tid
        self._advance(w, tid, th, frame, p.next_pc, gil_count=count, allow_stack=stack)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _release_gil(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`release_gil` (PyEval_SaveThread): gives up all of the GIL the thread holds (with
        `gil off`: detaches), saving its count for `acquire_gil`."""
        count = th[T_GILCOUNT]
        if count == 0:
            inside = " (inside `allow_threads { }`, which released it)" if th[T_ALLOW] else ""
            held = "attached" if self.gil_off else "holding the GIL"
            raise SpecMisuse(f"`release_gil` (PyEval_SaveThread) without {held}{inside}")
        w = Work(state)
        if state[S_GIL] == tid and not self.gil_off:
            w.gil = NO_THREAD
        self._advance(
            w, tid, th, frame, p.next_pc, gil_count=0, allow_stack=th[T_ALLOW] + (-count,)
        )
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _guarded_handler(self, instr: ir.Instr) -> Handler:
        """The instruction's handler; in a program with `release_gil`, a statement that may
        run as Python code first checks that its thread has not given the GIL up."""
        handler: Handler = self._handler(instr)
        if (
            not self.gil_api
            or instr.context == ir.Context.NATIVE
            or isinstance(instr, ir.NOT_PYTHON_CODE)
        ):
            return handler

        def guarded(
            state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
        ) -> bool:
            if th[T_GILCOUNT] == 0 and gave_up_gil(th) and self.context(p, frame) == PYTHON:
                raise SpecMisuse(
                    "a statement of Python code runs after `release_gil` (PyEval_SaveThread) "
                    "and before `acquire_gil`, without the GIL (C code called from Python is "
                    "written as `with_gil { }` inside `python { }`)"
                )
            return handler(state, tid, th, frame, p, out)

        return guarded


_NOT_REENTRANT = "PyEval_RestoreThread is not reentrant (CPython <= 3.12 hangs, 3.13+ aborts)"


def gave_up_gil(th: Thread) -> bool:
    """Whether the top of the thread's allow stack is a count `release_gil` saved (the thread
    has given the GIL up when its count is also 0)."""
    stack = th[T_ALLOW]
    return bool(stack) and stack[-1] < 0
