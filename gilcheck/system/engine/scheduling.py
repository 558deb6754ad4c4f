"""Scheduling: every enabled step of a state, with the GIL (handover at Python statement
boundaries, release while blocked inside Python code), `gil off` stop-the-world pauses,
interrupts (`finalizer`, `signal`) and the program's end (exit join, finalization)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gilcheck.semantics import ir, values
from gilcheck.semantics.ir import Verdict
from gilcheck.semantics.values import (
    EvalError,
    SplitNeeded,
    SymbolicLimit,
    Undecided,
)
from gilcheck.symbolic.paths import SolverUnknown

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.common import (
    _OVER,
    CHANNEL_PIN,
    SpecMisuse,
    SpecPanic,
    _with,
)
from gilcheck.system.engine.handlers_sync import PINNED
from gilcheck.system.engine.reduction import (
    Reduction,
)
from gilcheck.system.expr import (
    IndexOutOfRange,
    UseAfterMove,
)
from gilcheck.system.model import (
    EXIT_JOIN_DONE,
    FINALIZE,
    GIL_BACK,
    GIL_RELEASE_TO_BLOCK,
    GIL_YIELD,
    INTERRUPT,
    PAUSE_END,
    PAUSE_START,
    SPURIOUS_WAKEUP,
    STEP,
    Action,
    LimitHit,
    Target,
    Transition,
    Violation,
)
from gilcheck.system.objects import canonical
from gilcheck.system.state import (
    CHILD_JOIN,
    EXIT_JOIN,
    F_CODE,
    F_PC,
    FINALIZING,
    GIL_BLOCKING,
    GIL_LOST,
    GIL_NORMAL,
    NATIVE,
    NO_THREAD,
    PYTHON,
    RUNNING,
    S_ENDED,
    S_GIL,
    S_INTERRUPTS,
    S_LOCKS,
    S_PATH,
    S_PROCS,
    S_THREADS,
    T_DAEMON,
    T_FRAMES,
    T_GILCOUNT,
    T_GILMODE,
    T_PHASE,
    T_STATUS,
    State,
    Thread,
    Work,
)

# Next instructions whose steps read other threads than their own.
_READS_OTHER_THREADS = (ir.Join, ir.AtomicBegin)


class Scheduling(Reduction):
    """Which threads move, and the GIL's, pauses' and interrupts' own steps."""

    def transitions(self, state: State) -> list[Transition]:
        """Every enabled step, ordered by thread id; in a program that makes objects at run
        time, each target in canonical form (system/objects.py)."""
        out = self.raw_transitions(state)
        if not self.objects:
            return out
        return [self._canonical_step(state, action, target) for action, target in out]

    def _canonical_step(self, state: State, action: Action, target: Target) -> Transition:
        """A step whose target is named canonically; past `--object-bound`, a limit."""
        if type(target) is not tuple:
            return action, target
        found = canonical(target, self.declared_channels, self.pool_slots_of(target))
        if found.live > self.options.object_bound:
            tid = action[0]
            frame = state[S_THREADS][tid][T_FRAMES][-1]
            span = self.prepared[frame[F_CODE]][frame[F_PC]].instr.span
            message = (
                f"more than {self.options.object_bound} objects made at run time are alive "
                "(--object-bound)"
            )
            return action, LimitHit(Verdict.BOUND, message, tid, span)
        return action, found.state

    def pool_slots_of(self, state: State) -> tuple[int, ...]:
        """The declared pools' slots in a state (in every process's block)."""
        if not self.has_processes or not self.pool_slots:
            return self.pool_slots
        blocks = len(state[S_LOCKS]) // self.lock_block
        return tuple(s + k * self.lock_block for k in range(blocks) for s in self.pool_slots)

    def raw_transitions(self, state: State) -> list[Transition]:
        """Every enabled step, ordered by thread id, objects numbered as the steps made them."""
        if self.has_processes:
            # Each process steps in its own view; one deadlocked while others still run
            # is a deadlock: the state is reported as one, with no steps (LANGUAGE.md,
            # "v1.2: processes"). Child processes go on after the first one has ended.
            if self.symbolic:
                values.CURRENT_PATH = state[S_PATH][1]
            steps, moving = self.process_steps(state)
            return [] if self.deadlocked_processes(state, moving) else steps
        if state[S_ENDED]:
            return []
        if self.symbolic:  # what splitting operations read (values.CURRENT_PATH)
            values.CURRENT_PATH = state[S_PATH][1]
        stubborn = self.stubborn if self.merge_local_steps else None
        if self.merge_local_steps and self.ample:
            ample = self._local_ample(state)
            # With persistent sets every reduced step must go forward (their cycle proviso).
            if ample is not None and (stubborn is None or stubborn.forward(state, ample)):
                return [ample]
        out = self.steps_of(state, range(len(state[S_THREADS])))
        if stubborn is not None:
            return stubborn.reduce(state, out) or out
        return out

    def steps_of(self, state: State, tids: Sequence[int]) -> list[Transition]:
        """The steps of the given threads (all of them, or a process's in its view), with
        the GIL's handover, merged."""
        if self.gil_off:
            return self._merge(self._free_threaded_transitions(state, tids))
        out: list[Transition] = []
        gil_wanted = False
        threads = state[S_THREADS]
        for tid in tids:
            gil_wanted |= self.thread_transitions(state, tid, threads[tid], out)
        gil = state[S_GIL]
        if gil_wanted and gil != NO_THREAD:
            handover = self.handover_step(state, gil)
            if handover is not None:
                at = next((i for i, t in enumerate(out) if t[0][0] > gil), len(out))
                out.insert(at, handover)
        return self._merge(out)

    def thread_transitions(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """Append one thread's steps, not yet merged; True when it waits for the GIL.

        Every step appended is the thread's own (its id first in the action), and only the
        thread, the GIL, vars, locks, channels and stdout change; what it reads of other
        threads is limited to `join`, `atomic` bodies and the exit join (explore/steptable.py
        relies on this).
        """
        if self.gil_off:
            self._free_threaded_steps(state, tid, th, out)
            return False  # nothing waits for a GIL
        status = th[T_STATUS]
        if status in _OVER:
            return False
        if status != RUNNING:
            return self._ending(state, tid, th, out)
        if th[T_GILMODE] == GIL_LOST:
            if state[S_GIL] == NO_THREAD:
                w = Work(state)
                w.gil = tid
                w.set_thread(tid, _with(th, T_GILMODE, GIL_NORMAL))
                out.append(((tid, GIL_BACK, 0), w.freeze()))
                return False
            return True
        if self.has_loops and self.is_task(th):
            return self.task_steps(state, tid, th, out)
        if not self.interrupts:
            return self.thread_steps(state, tid, th, out)
        before = len(out)
        gil_wanted = self.thread_steps(state, tid, th, out)
        if state[S_GIL] == tid and len(out) > before:
            self._interrupts(state, tid, th, out)
        return gil_wanted

    def enabled_threads(self, state: State) -> set[int]:
        """Threads that can move in a state, without any reduction (for `stuck`)."""
        merging = self.merge_local_steps
        self.merge_local_steps = False
        try:
            return {
                action[0]
                for action, _ in self.transitions(state)
                if action[1] != SPURIOUS_WAKEUP  # may never happen: the thread counts as blocked
            }
        finally:
            self.merge_local_steps = merging

    def thread_steps(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """Append a running thread's steps; True when it is blocked on the GIL."""
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        before = len(out)
        try:
            gil_blocked: bool = p.handler(state, tid, th, frame, p, out)
        except (SpecMisuse, UseAfterMove, EvalError) as err:
            del out[before:]
            message = (
                f"`{err.name}` is used after it was moved or dropped"
                if isinstance(err, UseAfterMove)
                else str(err)
            )
            # Arithmetic that has no value panics, as in Rust (debug builds for overflow).
            arithmetic = "division by zero" in message or "integer overflow" in message
            verdict = Verdict.PANIC if arithmetic else Verdict.MISUSE
            violation = Violation(verdict, message, tid, p.instr.span, self.path_of(state))
            out.append(((tid, STEP, 0), violation))
            return False
        except (SpecPanic, IndexOutOfRange) as err:
            del out[before:]
            violation = Violation(Verdict.PANIC, str(err), tid, p.instr.span, self.path_of(state))
            out.append(((tid, STEP, 0), violation))
            return False
        except SplitNeeded as split:
            del out[before:]
            try:
                self._split(state, tid, split.alternatives, out)
            except SolverUnknown as err:
                message = f"z3 could not decide a condition ({err})"
                out.append(
                    ((tid, STEP, 0), LimitHit(Verdict.INCONCLUSIVE, message, tid, p.instr.span))
                )
            return False
        except (SymbolicLimit, SolverUnknown, Undecided) as err:
            del out[before:]
            message = (
                f"z3 could not decide a condition ({err})"
                if isinstance(err, SolverUnknown)
                else f"{err}: not decided symbolically"
                if isinstance(err, SymbolicLimit)
                else f"a condition over unknown values is not decided here: {err}"
            )
            out.append(((tid, STEP, 0), LimitHit(Verdict.INCONCLUSIVE, message, tid, p.instr.span)))
            return False
        if th[T_GILMODE] == GIL_BLOCKING and len(out) > before:
            # The blocking operation is done without the GIL; the thread must take the GIL
            # back before its next statement.
            for i in range(before, len(out)):
                action, target = out[i]
                if type(target) is tuple:
                    after = target[0][tid]
                    if after[T_STATUS] == RUNNING and after[T_GILMODE] == GIL_BLOCKING:
                        threads = target[0]
                        lost = _with(after, T_GILMODE, GIL_LOST)
                        new_threads = threads[:tid] + (lost,) + threads[tid + 1 :]
                        out[i] = (action, (new_threads, *target[1:]))
            return gil_blocked
        if (
            state[S_GIL] == tid
            and not gil_blocked
            and th[T_GILMODE] == GIL_NORMAL
            and not self.gil_off
            and self.context(p, frame) == PYTHON
        ):
            # Python code holding the GIL: CPython's blocking calls release it while they wait.
            if (
                isinstance(p.instr, ir.BLOCKING_INSTRUCTIONS)
                and (
                    len(out) == before
                    # a spurious wakeup may never come: the wait blocks, releasing the GIL
                    or all(action[1] == SPURIOUS_WAKEUP for action, _ in out[before:])
                )
            ):
                w = Work(state)
                w.gil = NO_THREAD
                w.set_thread(tid, _with(th, T_GILMODE, GIL_BLOCKING))
                out.append(((tid, GIL_RELEASE_TO_BLOCK, 0), w.freeze()))
            elif not _pinned(th[T_PHASE]):
                # A statement naming its object through shared state that starts waiting
                # on the object it read releases the GIL in that same step.
                for i in range(before, len(out)):
                    action, target = out[i]
                    if type(target) is tuple and _pinned(target[S_THREADS][tid][T_PHASE]):
                        threads = target[S_THREADS]
                        waiting = _with(threads[tid], T_GILMODE, GIL_BLOCKING)
                        new_threads = threads[:tid] + (waiting,) + threads[tid + 1 :]
                        out[i] = (action, (new_threads, NO_THREAD, *target[S_GIL + 1 :]))
        return gil_blocked

    def handover_step(self, state: State, owner: int) -> Transition | None:
        """The eval loop hands the GIL to a waiting thread at a Python statement boundary:
        the owner's step giving the GIL up, if it is at one (none under `gil off`)."""
        th = state[S_THREADS][owner]
        if not self.may_hand_over(th):
            return None
        w = Work(state)
        w.gil = NO_THREAD
        w.set_thread(owner, _with(th, T_GILMODE, GIL_LOST))
        return ((owner, GIL_YIELD, 0), w.freeze())

    def may_hand_over(self, th: Thread) -> bool:
        """Whether the eval loop may hand the GIL over before the thread's next statement:
        it holds the GIL at a statement boundary of Python code (never under `gil off`)."""
        return (
            not self.gil_off
            and th[T_GILMODE] == GIL_NORMAL
            and th[T_GILCOUNT] > 0
            and self.at_python_boundary(th)
        )

    def at_python_boundary(self, th: Thread) -> bool:
        """Whether a running thread is about to run a statement of Python code."""
        return th[T_PHASE] == 0 and self.in_python_code(th)

    def in_python_code(self, th: Thread) -> bool:
        """Whether a running thread is at (or blocked in) a statement of Python code."""
        if th[T_STATUS] != RUNNING or not th[T_FRAMES]:
            return False
        frame = th[T_FRAMES][-1]
        return self.context(self.prepared[frame[0]][frame[1]], frame) == PYTHON

    def pause_waits_for(self, state: State, requester: int) -> list[int]:
        """Threads a stop-the-world pause still waits for: attached, and neither parked at a
        Python statement boundary nor blocked in Python code (which detaches, even in the
        middle of a two-step statement such as a condvar wait or a rendezvous send)."""
        owners = state[S_PROCS][1] if self.has_processes else None
        return [
            i
            for i, t in enumerate(state[S_THREADS])
            if i != requester
            and (owners is None or owners[i] == owners[requester])
            and t[T_STATUS] == RUNNING
            and t[T_GILCOUNT] > 0
            and not self.in_python_code(t)
        ]

    def _free_threaded_transitions(self, state: State, tids: Sequence[int]) -> list[Transition]:
        """`gil off`: no mutual exclusion; stop-the-world pauses at Python statement
        boundaries (of the given threads)."""
        out: list[Transition] = []
        threads = state[S_THREADS]
        for tid in tids:
            self._free_threaded_steps(state, tid, threads[tid], out)
        return out

    def _free_threaded_steps(
        self, state: State, tid: int, th: Thread, out: list[Transition]
    ) -> None:
        """`gil off`: one thread's steps. They read the pause (the state's GIL field) and
        the thread alone, but for the pause's requester, which waits for every attached
        thread (`pause_waits_for`), and a thread that is ending."""
        pause = state[S_GIL]
        status = th[T_STATUS]
        if status in _OVER:
            return
        if status != RUNNING:
            self._ending(state, tid, th, out)
            return
        in_python = self.in_python_code(th)
        if pause != NO_THREAD:
            if tid == pause:
                if not self.pause_waits_for(state, tid):
                    w = Work(state)
                    w.gil = NO_THREAD
                    out.append(((tid, PAUSE_END, 0), w.freeze()))
                return
            if in_python:
                return  # parked (or, woken in Python code, re-attaching) until it ends
        before = len(out)
        if self.has_loops and self.is_task(th):
            self.task_steps(state, tid, th, out)
        else:
            self.thread_steps(state, tid, th, out)
        if self.interrupts and th[T_GILCOUNT] > 0 and len(out) > before:
            self._interrupts(state, tid, th, out)
        # A pause starts between statements of a thread that can go on: one blocked
        # inside its statement is not between statements (and could otherwise start
        # pauses for ever instead of being seen blocked).
        can_go_on = len(out) > before
        if (
            pause == NO_THREAD
            and in_python
            and th[T_PHASE] == 0
            and th[T_GILCOUNT] > 0
            and can_go_on
        ):
            w = Work(state)
            w.gil = tid
            out.append(((tid, PAUSE_START, 0), w.freeze()))

    def reads_other_threads(self, state: State, tid: int) -> bool:
        """Whether thread `tid`'s steps in `state` read other threads than itself: a `join`,
        an `atomic` block, a thread that is ending (the exit join, finalization), and under
        `gil off` the requester of a stop-the-world pause (explore/steptable.py interprets
        them in every state)."""
        th = state[S_THREADS][tid]
        if th[T_STATUS] not in (RUNNING, *_OVER):
            return True
        if self.gil_off and state[S_GIL] == tid:
            return True
        frames = th[T_FRAMES]
        if not frames:
            return False
        frame = frames[-1]
        return isinstance(self.prepared[frame[F_CODE]][frame[F_PC]].instr, _READS_OTHER_THREADS)

    def _ending(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """`host python` program end: the exit join, then finalization taking the GIL."""
        if th[T_STATUS] == CHILD_JOIN:
            self.child_join_steps(state, tid, th, out)
            return False
        if th[T_STATUS] == EXIT_JOIN:
            threads = state[S_THREADS]
            owners = state[S_PROCS][1] if self.has_processes else None
            if all(
                t[T_STATUS] in _OVER
                or t[T_DAEMON]
                or i == tid
                or (owners is not None and owners[i] != owners[tid])
                or (self.has_pools and self.idle_thread(state, i))
                for i, t in enumerate(threads)
            ):
                w = Work(state)
                child = self.has_processes and self.current_process(state) != 0
                if child:  # a child process runs no `atexit` block: it finalizes
                    w.set_thread(tid, _with(th, T_STATUS, FINALIZING))
                elif not self.atexit_codes:
                    # the first process joins its child processes, then finalizes
                    status = CHILD_JOIN if self.has_processes else FINALIZING
                    w.set_thread(tid, _with(th, T_STATUS, status))
                else:  # Python's atexit handlers run now, before finalization
                    w.set_thread(tid, self._running_hook(th, self.atexit_codes[0], NATIVE))
                out.append(((tid, EXIT_JOIN_DONE, 0), w.freeze()))
            return False
        if state[S_GIL] in (NO_THREAD, tid):  # `main` may still hold a GIL from `acquire_gil`
            w = Work(state)
            w.gil = NO_THREAD if self.gil_off else tid
            w.ended = 1
            if self.has_processes and self.current_process(state) != 0:
                self.child_finalized(w, tid)
            out.append(((tid, FINALIZE, 0), w.freeze()))
            return False
        return True

    def _interrupts(self, state: State, tid: int, th: Thread, out: list[Transition]) -> None:
        """A `finalizer` (any thread) or `signal` (`main` only) not yet started may start at a
        Python statement boundary where the thread holds the GIL (is attached, `gil off`) and
        can go on: a thread blocked inside a statement is not at a boundary."""
        if th[T_GILMODE] != GIL_NORMAL or not self.at_python_boundary(th):
            return
        started = state[S_INTERRUPTS]
        for bit, kind, code in self.interrupts:
            if started & bit or (kind == "signal" and tid != self.process_main(state)):
                continue
            w = Work(state)
            w.interrupts = started | bit
            w.set_thread(tid, self._running_hook(th, code, PYTHON))
            out.append(((tid, INTERRUPT, bit.bit_length() - 1), w.freeze()))

    def is_progress(self, state: State, action: tuple[int, int, object]) -> bool:
        """Whether a step runs a `progress` statement."""
        tid = action[0]
        frames = state[S_THREADS][tid][T_FRAMES]
        if action[1] != STEP or not frames:
            return False
        frame = frames[-1]
        return isinstance(self.codes[frame[0]].instrs[frame[1]], ir.Progress)

    def has_ended(self, state: State) -> bool:
        """Whether the program has ended (host rust: main returned; host python: finalized)."""
        if not state[S_ENDED]:
            return False
        # With `host rust` child processes are not waited for: they go on, and the run
        # is over once each has ended too (or, in a fork child's world, is gone).
        return not self.has_processes or not self.children_running(state)


def _pinned(phase: object) -> bool:
    """Whether a thread's phase keeps the object or channel it started waiting on."""
    return type(phase) is tuple and bool(phase) and phase[0] in (PINNED, CHANNEL_PIN)
