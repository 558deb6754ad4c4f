"""Event loops (language v1.2): `eventloop lp`, `submit lp, g(a)` and `suspend { }`.

A loop has a thread of its own (its code unit `lp` never runs a statement: it is the
identity its tasks' locks belong to), and each task submitted to it gets a thread entry of
its own (`lp.task`) that runs only while it holds the loop, or inside a `suspend` block
once it has given the loop back. Which task holds the loop is the loop's primitive's
(gilcheck/sync/eventloop.py); these handlers make the tasks and gate their steps.
"""

from __future__ import annotations

from typing import Any

from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.ir import Verdict
from gilcheck.sync.base import Misuse, Moved, Site
from gilcheck.sync.eventloop import L_HOLDER, L_READY, awaiting_entry
from gilcheck.system.engine.common import Prepared, SpecMisuse, _with
from gilcheck.system.engine.handlers_pools import PoolHandlers
from gilcheck.system.engine.handlers_sync import _res_name
from gilcheck.system.model import (
    GIL_RELEASE_TO_BLOCK,
    LOOP_GIVE_BACK,
    SPURIOUS_WAKEUP,
    STEP,
    TIMEOUT,
    LimitHit,
    Transition,
)
from gilcheck.system.state import (
    ENDED,
    F_CODE,
    F_CTX,
    F_LOCALS,
    F_PC,
    GIL_NORMAL,
    GONE,
    NATIVE,
    NO_THREAD,
    PYTHON,
    RUNNING,
    S_GIL,
    S_LOCKS,
    S_THREADS,
    T_ALLOW,
    T_FRAMES,
    T_GILCOUNT,
    T_GILMODE,
    T_PHASE,
    T_STATUS,
    Frame,
    State,
    Thread,
    Work,
)

# The phases of a `suspend` block's end in a task that gave the loop back: ready, waiting
# to take the loop back; then (with a GIL count to take back) waiting for the GIL.
_RETAKE_LOOP, _RETAKE_GIL = 1, 2
_GIVEN_UP = (GIL_RELEASE_TO_BLOCK, SPURIOUS_WAKEUP, TIMEOUT)


class LoopHandlers(PoolHandlers):
    """Event loops: their tasks' steps and the gate on them."""

    has_loops: bool
    # Each declared loop by its slot among the declared objects: its thread's id, and its
    # tasks' code unit.
    loop_threads: dict[int, int]
    _loop_task_codes: dict[int, int]

    def is_task(self, th: Thread) -> bool:
        """Whether a thread entry is a task of an event loop."""
        frames = th[T_FRAMES]
        return bool(frames) and self.codes[frames[0][F_CODE]].kind == "task"

    def task_loop(self, th: Thread) -> int:
        """The slot of the loop a task belongs to."""
        ref = th[T_FRAMES][0][F_LOCALS][0]
        return self.lock_offset["eventloop"] + int(ref[2])

    def owner_of(self, tid: int, th: Thread) -> int:
        """Whose locks a thread's statements take: a loop task's are its loop thread's."""
        if self.has_loops and self.is_task(th):
            # (a child process's copy of a loop has no thread: its tasks never run)
            return self.loop_threads.get(self.task_loop(th), tid)
        return tid

    def _submit(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`submit x, g(a)`: to a pool (handlers_pools.py) or an event loop, by what `x` is."""
        if self._need_gil(state, tid, p):
            return True
        res: ir.ResourceRef = p.instr.executor  # type: ignore[union-attr]
        ref = self._reference(p.ref_value, res, p.index, frame, th, state)
        where, at, kind, count = self._locate(ref, state, "submit", res.name)
        label = _res_name(res, at, self) if res.value is None else res.name
        if kind == "eventloop":
            self._submit_to_loop(state, tid, th, frame, p, at, ref, label, out)
        elif kind == "pool":
            self._submit_to_pool(state, tid, th, frame, p, ref, (where, at, count or 1), label, out)
        else:
            raise SpecMisuse(f"`submit` needs a pool, and `{res.name}` is {a_kind(kind)}")
        return False

    def _submit_to_loop(
        self,
        state: State,
        tid: int,
        th: Thread,
        frame: Frame,
        p: Prepared,
        at: int,
        ref: Any,
        label: str,
        out: list[Transition],
    ) -> None:
        """`submit lp, g(a)`: a new task, ready at once, and its future."""
        instr: ir.Submit = p.instr  # type: ignore[assignment]
        threads = state[S_THREADS]
        waiting = sum(
            1
            for t in state[S_LOCKS][at][L_READY]
            if len(threads[t][T_FRAMES]) == 1  # not started yet
        )
        if waiting >= self.options.channel_bound:
            message = (
                f"the queue of tasks not yet started on event loop {label} grew "
                f"past {self.options.channel_bound} tasks (--channel-bound)"
            )
            out.append(((tid, STEP, 0), LimitHit(Verdict.BOUND, message, tid, instr.span)))
            return
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        w = Work(state)
        future = self._submitted_future(w, p)
        task = len(state[S_THREADS])
        code = self._loop_task_codes[at % self.lock_block if self.has_processes else at]
        start = (code, self.resolve_pc(code, 0), (ref, future, None, instr.function, args), NATIVE)
        w.add_thread(((start,), RUNNING, 0, GIL_NORMAL, (), 0, True, 0, -(code + 1)))
        result = self._loop_site("submit", at).step(w.locks[at], tid, 0, task)
        assert not isinstance(result, Misuse)
        w.set_lock(at, result[0].obj)
        locals_ = self._hand_over(w, frame[F_LOCALS], p, args)
        locals_ = self._store(w, locals_, instr.target, future, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))

    def _loop_site(self, verb: str, at: int) -> Site:
        """A step of the loop in slot `at` (its count: the order ready tasks run in)."""
        slot = at % self.lock_block if self.has_processes else at
        order = self._declared_counts.get(("eventloop", slot - self.lock_offset["eventloop"]), 0)
        return self._executor_site("eventloop", verb, order)

    def loop_gone(self, state: State, at: int) -> bool:
        """Whether the loop's thread does not exist (a `fork` child; a child process's copy
        of a declared loop): it runs no task."""
        thread = self.loop_threads.get(at)
        return thread is None or bool(state[S_THREADS][thread][T_STATUS] == GONE)

    def _loop_start(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A task takes the loop when it is free and its turn has come, and runs."""
        at = self.task_loop(th)
        if self.loop_gone(state, at):
            return False
        result = self._loop_site("take", at).step(state[S_LOCKS][at], tid, 0, None)
        if isinstance(result, Misuse) or not result:
            return False
        ref, future, _, function, args = frame[F_LOCALS]
        w = Work(state)
        w.set_lock(at, result[0].obj)
        task = (frame[F_CODE], frame[F_PC], (ref, future, None, None, None), frame[F_CTX])
        w.set_thread(tid, _with(th, T_FRAMES, (task, self._entry_frame(function, args))))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _loop_finish(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """The task has returned: its future completes, it gives the loop back and ends."""
        _, future, value, _, _ = frame[F_LOCALS]
        at = self.task_loop(th)
        w = Work(state)
        self._complete_submitted(w, future, value)
        result = self._loop_site("finish", at).step(state[S_LOCKS][at], tid, 0, None)
        assert not isinstance(result, Misuse)
        w.set_lock(at, result[0].obj)
        w.set_thread(tid, _with(_with(th, T_FRAMES, ()), T_STATUS, ENDED))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _loop_idle(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A loop's own thread never runs a statement of its own."""
        return False

    def _suspend_begin(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`suspend {`: the task awaits, still holding the loop; `suspend { skip }` gives
        it back at once."""
        if not (self.has_loops and self.is_task(th)):
            raise SpecMisuse("`suspend` outside a task of an event loop: nothing awaits it")
        if (th[T_GILCOUNT] > 0 and self.context(p, frame) != PYTHON) or th[T_ALLOW]:
            block = "allow_threads" if th[T_ALLOW] else "with_gil"
            raise SpecMisuse(
                f"`suspend` reached inside `{block} {{ }}` (through a call): PyO3 cannot hold "
                "a GIL guard across `.await`"
            )
        at = self.task_loop(th)
        obj = state[S_LOCKS][at]
        instr: ir.SuspendBegin = p.instr  # type: ignore[assignment]
        result = self._loop_site("suspend", at).step(obj, tid, 0, None)
        assert not isinstance(result, Misuse)
        w = Work(state)
        w.set_lock(at, result[0].obj)
        # `suspend { skip }` (`asyncio.sleep(0)`, `yield_now`) gives the loop back, if held
        gives_back = instr.force and obj[L_HOLDER] == tid
        if gives_back:
            th = self._give_back(w, tid, th, frame, p, at)
        self._advance(w, tid, th, frame, p.next_pc)
        out.append(((tid, LOOP_GIVE_BACK if gives_back else STEP, 0), w.freeze()))
        return False

    def awaiting(self, state: State, tid: int, th: Thread) -> bool:
        """Whether a thread is a loop task inside a `suspend` block."""
        if not self.is_task(th):
            return False
        return awaiting_entry(state[S_LOCKS][self.task_loop(th)], tid) is not None

    def _give_back(
        self, w: Work, tid: int, th: Thread, frame: Frame, p: Prepared, at: int
    ) -> Thread:
        """The task gives the loop back (in Python code, the GIL too, to take back later);
        the thread as it is now."""
        saved = 0
        python = self.context(p, frame) == PYTHON
        holds = th[T_GILCOUNT] > 0 and th[T_GILMODE] == GIL_NORMAL
        if python and holds and (self.gil_off or w.gil == tid):
            saved = th[T_GILCOUNT]
            if not self.gil_off:
                w.gil = NO_THREAD
            th = _with(th, T_GILCOUNT, 0)
            w.set_thread(tid, th)
        result = self._loop_site("give_back", at).step(w.locks[at], tid, 0, saved)
        assert not isinstance(result, Misuse)
        w.set_lock(at, result[0].obj)
        return th

    def _suspend_end(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`}` of `suspend`: a task that kept the loop goes on; one that gave it back becomes
        ready, takes the loop back, then (in Python code) the GIL."""
        at = self.task_loop(th)
        obj = state[S_LOCKS][at]
        phase = th[T_PHASE]
        w = Work(state)
        if phase == 0:
            result = self._loop_site("resume", at).step(obj, tid, 0, None)
            assert not isinstance(result, Misuse)
            moved: Moved = result[0]
            w.set_lock(at, moved.obj)
            if moved.value is None:  # it never had to wait: it kept the loop
                self._advance(w, tid, th, frame, p.next_pc)
            else:
                self._advance(w, tid, th, frame, frame[F_PC], phase=(_RETAKE_LOOP, moved.value))
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        step, saved = phase
        if step == _RETAKE_LOOP:
            if self.loop_gone(state, at):
                return False
            result = self._loop_site("take", at).step(obj, tid, 0, None)
            if isinstance(result, Misuse) or not result:
                return False
            w.set_lock(at, result[0].obj)
            if saved:
                self._advance(w, tid, th, frame, frame[F_PC], phase=(_RETAKE_GIL, saved))
            else:
                self._advance(w, tid, th, frame, p.next_pc, phase=0)
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        # Take the GIL back (with `gil off`: attach, unless a pause is pending).
        if state[S_GIL] != NO_THREAD and state[S_GIL] != tid:
            return not self.gil_off
        if not self.gil_off:
            w.gil = tid
        self._advance(w, tid, th, frame, p.next_pc, phase=0, gil_count=saved)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def task_steps(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """A loop task's steps: it runs while it holds the loop, or inside a `suspend` block
        once it gave the loop back; holding the loop inside one, a statement that cannot
        complete gives the loop back instead (a step)."""
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        if isinstance(p.instr, ir.LoopStart | ir.SuspendEnd):
            return self.thread_steps(state, tid, th, out)
        at = self.task_loop(th)
        obj = state[S_LOCKS][at]
        entry = awaiting_entry(obj, tid)
        if obj[L_HOLDER] == tid:
            before = len(out)
            wanted = self.thread_steps(state, tid, th, out)
            if entry is not None and not wanted:
                mine = out[before:]
                if all(action[1] in _GIVEN_UP for action, _ in mine):
                    del out[before:]
                    w = Work(state)
                    self._give_back(w, tid, th, frame, p, at)
                    out.append(((tid, LOOP_GIVE_BACK, 0), w.freeze()))
            return wanted
        if entry is not None and entry[1]:
            return self.thread_steps(state, tid, th, out)
        return False

    def loop_of_future(self, state: State, future: Any) -> tuple[int, int, int] | None:
        """For a future of a loop task: (the loop's slot, the task's id, its function); the
        task id is -1 while the task has not started (None: not a loop task's future)."""
        for tid, th in enumerate(state[S_THREADS]):
            if th[T_STATUS] == ENDED or not self.is_task(th):
                continue
            bottom = th[T_FRAMES][0]
            if bottom[F_LOCALS][1] != future:
                continue
            at = self.task_loop(th)
            if len(th[T_FRAMES]) == 1 and bottom[F_LOCALS][3] is not None:
                return at, -1, int(bottom[F_LOCALS][3])
            return at, tid, th[T_FRAMES][1][F_CODE] if len(th[T_FRAMES]) > 1 else -1
        return None


def loop_units(
    program: ir.Program, lock_offset: dict[str, int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Each declared loop element's slot -> its thread's code unit, and -> its tasks'."""
    by_name = {
        code.name: i for i, code in enumerate(program.codes) if code.kind in ("loop", "task")
    }
    threads: dict[int, int] = {}
    tasks: dict[int, int] = {}
    for info in program.resources:
        if info.kind == "eventloop":
            for k in range(info.size or 1):
                slot = lock_offset["eventloop"] + info.base + k
                threads[slot] = by_name[info.name]
                tasks[slot] = by_name[f"{info.name}.task"]
    return threads, tasks
