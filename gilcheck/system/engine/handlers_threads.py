"""Handlers for functions and threads: calls, returns, a thread's end, `fork`, `spawn`, `join`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics import ir
from gilcheck.semantics.ir import Verdict
from gilcheck.semantics.values import (
    EvalError,
    Value,
)

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.base import (
    Base,
)
from gilcheck.system.engine.common import (
    Prepared,
    SpecMisuse,
    _with,
)
from gilcheck.system.expr import (
    MOVED,
    IndexOutOfRange,
    UseAfterMove,
    compile_expr,
    element,
)
from gilcheck.system.model import (
    FORK_CHILD,
    STEP,
    TIMEOUT,
    LimitHit,
    Transition,
)
from gilcheck.system.state import (
    CHILD_JOIN,
    ENDED,
    EXIT_JOIN,
    F_CODE,
    F_CTX,
    F_LOCALS,
    F_PC,
    FINALIZING,
    GIL_NORMAL,
    GONE,
    NATIVE,
    RUNNING,
    S_FORK,
    S_GIL,
    S_THREADS,
    T_DAEMON,
    T_FRAMES,
    T_STATUS,
    Frame,
    State,
    Thread,
    Work,
)


class ThreadHandlers(Base):
    """Handlers of function and thread statements."""

    def _call(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.CallFn = p.instr  # type: ignore[assignment]
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        if len(th[T_FRAMES]) >= self.options.max_call_depth:
            out.append(
                (
                    (tid, STEP, 0),
                    LimitHit(
                        Verdict.INCONCLUSIVE,
                        f"call depth above {self.options.max_call_depth} (unbounded recursion?)",
                        tid,
                        instr.span,
                    ),
                )
            )
            return False
        w = Work(state)
        caller_locals = self._hand_over(w, frame[F_LOCALS], p, args)
        caller = (frame[F_CODE], frame[F_PC], caller_locals, frame[F_CTX])
        callee = self._entry_frame(instr.function, args, self.context(p, frame))
        w.set_thread(tid, _with(th, T_FRAMES, th[T_FRAMES][:-1] + (caller, callee)))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _return(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th) if p.value is not None else None
        w = Work(state)
        self._finish_frame(w, tid, th, self._hand_over(w, frame[F_LOCALS], p, (value,)), value)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _end(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        w = Work(state)
        self._finish_frame(w, tid, th, frame[F_LOCALS], None)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _finish_frame(
        self, w: Work, tid: int, th: Thread, locals_: tuple[Value, ...], value: Value
    ) -> None:
        """Pop a frame: drop its locals, hand the value to the caller, or end the thread."""
        for local in locals_:
            if local is not MOVED and local != MOVED:
                self.drop_value(w, local)
        ending = th[T_FRAMES][-1][F_CODE]
        frames = th[T_FRAMES][:-1]
        if not frames:
            if w.extra is not None and w.fork and w.fork[-1][0] == tid:
                # `return` out of a `fork` block (whose frame is the child's only one)
                self._child_ends(w, tid, th)
                return
            self.drop_value(w, value)
            self._thread_ends(w, tid, th, ending)
            return
        if self.codes[ending].kind in ("finalizer", "signal"):
            # The interrupt is over: the thread goes on where it was interrupted.
            w.set_thread(tid, _with(th, T_FRAMES, frames))
            return
        caller = frames[-1]
        call: ir.CallFn = self.codes[caller[F_CODE]].instrs[caller[F_PC]]
        caller_locals = self._store(w, caller[F_LOCALS], call.target, value, caller, th)
        next_pc = self.prepared[caller[F_CODE]][caller[F_PC]].next_pc
        new_caller = (caller[F_CODE], next_pc, caller_locals, caller[F_CTX])
        w.set_thread(tid, _with(th, T_FRAMES, frames[:-1] + (new_caller,)))

    def _thread_ends(self, w: Work, tid: int, th: Thread, code: int) -> None:
        """A thread's last frame has ended; `main`'s end (or its `atexit` block's) goes on to
        the program's end."""
        done = _with(th, T_FRAMES, ())
        if tid != self.main_tid:
            if self.has_processes and tid == self.process_main(w):
                # A child process's `g` returned: it joins its child processes, its
                # threads, then finalizes (multiprocessing's bootstrap).
                w.set_thread(tid, _with(done, T_STATUS, CHILD_JOIN))
                return
            w.set_thread(tid, _with(done, T_STATUS, ENDED))
            return
        python = self.program.host == "python"
        handlers = self.atexit_codes
        if code in handlers:
            after = handlers.index(code) + 1
            if after < len(handlers):  # the next handler
                w.set_thread(tid, self._running_hook(done, handlers[after], NATIVE))
            else:
                # the first process joins its child processes, then finalizes
                last = (CHILD_JOIN if self.has_processes else FINALIZING) if python else ENDED
                w.set_thread(tid, _with(done, T_STATUS, last))
                w.ended = 0 if python else 1
        elif python:
            w.set_thread(tid, _with(done, T_STATUS, EXIT_JOIN))
            if self.has_pools:
                self._pools_exit(w)
        elif handlers:  # C `atexit` handlers and static destructors
            w.set_thread(tid, self._running_hook(done, handlers[0], NATIVE))
        else:
            w.set_thread(tid, _with(done, T_STATUS, ENDED))
            w.ended = 1

    def _child_ends(self, w: Work, tid: int, th: Thread) -> None:
        """A forked child ends at the end of its block, as with `os._exit`."""
        w.set_thread(tid, _with(_with(th, T_FRAMES, ()), T_STATUS, ENDED))
        w.ended = 1

    def _fork(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """The parent goes on past the block; the child, a copy of the state in which only
        this thread exists, runs the block (explored as a branch of its own)."""
        instr: ir.ForkBegin = p.instr  # type: ignore[assignment]
        w = Work(state)
        self._advance(w, tid, th, frame, self.resolve_pc(p.code, instr.end))
        out.append(((tid, STEP, 0), w.freeze()))
        child = Work(state)
        # (in a spec with processes, the threads of every other process are gone too: the
        # child is explored alone, as LANGUAGE.md's fork is)
        for other, t in enumerate(state[S_THREADS]):
            if other != tid and t[T_STATUS] != ENDED:
                # Gone: nothing of it matters to the child but its name (what it held and
                # owned lives on in the locks and channels), so children forked from parent
                # states that differ only in other threads' positions are one state.
                child.set_thread(other, ((), GONE, 0, GIL_NORMAL, (), 0, t[T_DAEMON], *t[7:]))
        # Only the frame running the block is kept: the child ends where the block ends.
        top = (frame[F_CODE], p.next_pc, frame[F_LOCALS], frame[F_CTX])
        child.set_thread(tid, _with(th, T_FRAMES, (top,)))
        child.fork = (*state[S_FORK], (tid, p.code, p.pc))
        out.append(((tid, FORK_CHILD, 0), child.freeze()))
        return False

    def _fork_end(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        w = Work(state)
        self._child_ends(w, tid, th)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _spawn(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.SpawnFn = p.instr  # type: ignore[assignment]
        if instr.process:
            return self._spawn_process(state, tid, th, frame, p, out)
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        w = Work(state)
        new_frame = self._entry_frame(instr.function, args)
        # (every child process is a Python one: its daemon threads are daemons)
        daemon = instr.daemon and (
            self.program.host == "python"
            or (self.has_processes and self.current_process(state) != 0)
        )
        child = w.add_thread(
            ((new_frame,), RUNNING, 0, GIL_NORMAL, (), 0, daemon, 0, -(instr.function + 1))
        )
        locals_ = self._hand_over(w, frame[F_LOCALS], p, args)
        locals_ = self._store(w, locals_, instr.target, ("thread", child), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _join(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        target = self.join_target(state, th, frame, p)
        if not self.join_ended(state[S_THREADS][target]):
            return False
        return self._skip(state, tid, th, frame, p, out)

    def join_ended(self, th: Thread) -> bool:
        """Whether a `join` of this thread returns: it has ended. In a forked child,
        Python's threading marks the parent's other threads stopped (joining them returns);
        a native join waits for ever."""
        status = th[T_STATUS]
        return status == ENDED or (status == GONE and self.program.host == "python")

    def join_watch(self, state: State, tid: int) -> int | None:
        """The thread whose end thread `tid`'s next statement, a `join`, waits for: all its
        steps read of other threads (explore/steptable.py keeps an entry each way). None
        for any other statement, or where naming the thread is a violation."""
        th = state[S_THREADS][tid]
        if th[T_STATUS] != RUNNING or not th[T_FRAMES]:
            return None
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        if not isinstance(p.instr, ir.Join) or (self.gil_off and state[S_GIL] == tid):
            return None
        try:
            return self.join_target(state, th, frame, p)
        except (SpecMisuse, EvalError, IndexOutOfRange, UseAfterMove, KeyError):
            return None  # the step reports it

    def _join_timed(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`join h timeout`: true once the thread has ended; until then a timeout step may
        yield false."""
        instr: ir.Join = p.instr  # type: ignore[assignment]
        target = self.join_target(state, th, frame, p)
        ended = self.join_ended(state[S_THREADS][target])
        if not ended and not self.may_time_out(state, tid, th, frame, p):
            return False
        w = Work(state)
        locals_ = self._store(w, frame[F_LOCALS], instr.target, ended, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP if ended else TIMEOUT, 0), w.freeze()))
        return False

    def join_target(self, state: State, th: Thread, frame: Frame, p: Prepared) -> int:
        """The thread id a `join` waits for."""
        instr: ir.Join = p.instr  # type: ignore[assignment]
        if isinstance(instr.handle, ir.ThreadRef):
            ref = instr.handle
            index = 0
            if ref.index is not None:
                value = compile_expr(ref.index, self.params)(
                    frame[F_LOCALS], state[2], th[7], state[4]
                )
                index = element(0, ref.size, value, ref.name)
            return self.thread_ids[(ref.thread, index)]
        handle = self._eval(p.value, state, frame, th)
        if not (isinstance(handle, tuple) and len(handle) == 2 and handle[0] == "thread"):
            raise SpecMisuse(f"`join` needs a thread handle, not {self.describe(state, handle)}")
        return int(handle[1])
