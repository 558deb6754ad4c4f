"""Handlers of thread pools (language v1.2): `submit p, g(a)`, and the worker loop every
pool's workers run (take the oldest task, run it as a call, complete its future). The pool's
own rules (when a worker starts, what `shutdown` waits for) are its primitive's
(gilcheck/sync/pool.py); these handlers make the threads and futures it needs. `submit`
itself is dispatched by kind (pool or event loop) in handlers_loops.py."""

from __future__ import annotations

from typing import Any, NamedTuple

from gilcheck.semantics import ir
from gilcheck.semantics.ir import Verdict
from gilcheck.sync import registry
from gilcheck.sync.base import Misuse, Site
from gilcheck.sync.future import carries_handle
from gilcheck.sync.pool import EXITED, P_BUSY, P_IDLE, P_QUEUE, P_SHUT, has_idle
from gilcheck.system.engine.common import DECLARED, HEAP, Prepared, SpecMisuse, _with
from gilcheck.system.engine.handlers_sync import (
    SyncHandlers,
    _object_state,
    _set_object_state,
)
from gilcheck.system.model import STEP, LimitHit, Transition
from gilcheck.system.state import (
    F_CODE,
    F_CTX,
    F_LOCALS,
    F_PC,
    GIL_NORMAL,
    GONE,
    H_KIND,
    H_ORIGIN,
    H_STATE,
    NATIVE,
    RUNNING,
    S_HEAP,
    S_LOCKS,
    S_THREADS,
    T_FRAMES,
    T_STATUS,
    Frame,
    State,
    Thread,
    Work,
    fork_path,
    heap_of,
)

_FUTURE_SUBMITTED = (False, None, True)  # a future made by `submit`: not complete


class TaskAt(NamedTuple):
    """Where a submitted task is: its function, its pool, and the worker running it (-1:
    still queued)."""

    function: int
    pool: tuple[int, int]
    worker: int


class PoolHandlers(SyncHandlers):
    """`submit`, and the steps of pool workers."""

    _executor_sites: dict[tuple[str, str, int], Site]
    # The worker loop's code unit of each declared pool (by its slot), and of the pools each
    # `pool(N)` makes (by where it is, (code, pc)).
    _worker_codes: dict[int, int]
    _made_worker_codes: dict[tuple[int, int], int]

    def _executor_site(self, kind: str, verb: str, count: int) -> Site:
        """A pool's or event loop's own step (`take`, `finish`, ...) for a count (made once)."""
        key = (kind, verb, count)
        site = self._executor_sites.get(key)
        if site is None:
            prim = registry.primitive(kind)
            site = self._executor_sites[key] = Site(verb=prim.verbs[verb], name=kind, count=count)
        return site

    def _submitted_future(self, w: Work, p: Prepared) -> tuple[str, int]:
        """A new future, not complete, for the task `submit` queues (its value)."""
        return ("obj", w.add_object(("future", None, _FUTURE_SUBMITTED, (p.code, p.pc))))

    def _complete_submitted(self, w: Work, future: tuple[str, int], value: Any) -> None:
        """A task has returned `value`: its future completes (a handle is a misuse)."""
        if carries_handle(value):
            raise SpecMisuse(
                "a task returns a channel or thread handle: its future's value is copied to "
                "every waiter, and a handle cannot be"
            )
        _set_object_state(w, HEAP, future[1], (True, value, True))

    def _submit_to_pool(
        self,
        state: State,
        tid: int,
        th: Thread,
        frame: Frame,
        p: Prepared,
        ref: Any,
        key: tuple[int, int, int],
        label: str,
        out: list[Transition],
    ) -> None:
        """`submit p, g(a)`: queue the task and make its future; start a worker when the pool
        says so. `key` is the pool's (where, at, count)."""
        instr: ir.Submit = p.instr  # type: ignore[assignment]
        where, at, count = key
        obj = _object_state(state, where, at)
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        w = Work(state)
        future = self._submitted_future(w, p)
        worker = len(state[S_THREADS])
        if self.has_fork and self.forked_workers(state, obj):
            worker = -1  # a fork child of a pool that had started workers: none runs a task
        result = self._executor_site("pool", "submit", count).step(
            obj, tid, 0, ((instr.function, args, future), worker)
        )
        if isinstance(result, Misuse):
            raise SpecMisuse(result.message.replace("{label}", label))
        if len(obj[P_QUEUE]) >= self.options.channel_bound:  # a refused submit queues nothing
            message = (
                f"the task queue of pool {label} grew past {self.options.channel_bound} "
                "tasks (--channel-bound)"
            )
            out.append(((tid, STEP, 0), LimitHit(Verdict.BOUND, message, tid, instr.span)))
            return
        moved = result[0]
        _set_object_state(w, where, at, moved.obj)
        if moved.value:  # a new worker, waiting for the task
            code = self._worker_code(state, where, at)
            start = (code, self.resolve_pc(code, 0), (ref, None, None), NATIVE)
            w.add_thread(((start,), RUNNING, 0, GIL_NORMAL, (), 0, False, 0, -(code + 1)))
        locals_ = self._hand_over(w, frame[F_LOCALS], p, args)
        locals_ = self._store(w, locals_, instr.target, future, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))

    def _take_task(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A worker takes the oldest queued task and calls it (idle while none is queued)."""
        ref = frame[F_LOCALS][0]
        where, at, _, count = self._locate(ref, state, "take", "pool")
        result = self._executor_site("pool", "take", count or 1).step(
            _object_state(state, where, at), tid, 0, None
        )
        if isinstance(result, Misuse) or not result:
            return False
        moved = result[0]
        function, args, future = moved.value
        w = Work(state)
        _set_object_state(w, where, at, moved.obj)
        worker = (frame[F_CODE], frame[F_PC], (ref, future, None), frame[F_CTX])
        w.set_thread(tid, _with(th, T_FRAMES, (worker, self._entry_frame(function, args))))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _finish_task(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """The task has returned: its future completes with the value; the worker waits."""
        ref, future, value = frame[F_LOCALS]
        where, at, _, count = self._locate(ref, state, "finish", "pool")
        w = Work(state)
        self._complete_submitted(w, future, value)
        result = self._executor_site("pool", "finish", count or 1).step(
            _object_state(state, where, at), tid, 0, None
        )
        assert not isinstance(result, Misuse)
        _set_object_state(w, where, at, result[0].obj)
        start = (frame[F_CODE], self.resolve_pc(frame[F_CODE], 0), (ref, None, None), frame[F_CTX])
        w.set_thread(tid, _with(th, T_FRAMES, (start,)))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def forked_workers(self, state: State, obj: Any) -> bool:
        """In a `fork` child: whether the pool had started a worker before a fork (one that
        does not exist in the child, or the forking thread itself)."""
        forks = fork_path(state)
        if not forks:
            return False
        forkers = {entry[0] for entry in forks}
        threads = state[S_THREADS]
        return any(threads[t][T_STATUS] == GONE or t in forkers for t in obj[P_IDLE] + obj[P_BUSY])

    def _worker_code(self, state: State, where: int, at: int) -> int:
        """The worker loop of a pool: its declaration's, or its constructor's."""
        if where == DECLARED:
            return self._worker_codes[at % self.lock_block if self.has_processes else at]
        return self._made_worker_codes[state[S_HEAP][at][H_ORIGIN]]

    def idle_thread(self, state: State, tid: int) -> bool:
        """Whether a thread is idle: a pool worker waiting for a task with none queued, or an
        event loop's own thread (its tasks have thread entries of their own). Idle threads
        are never stuck and neither make nor prevent a deadlock."""
        if not self.has_pools and not self.has_loops:
            return False
        th = state[S_THREADS][tid]
        frames = th[T_FRAMES]
        if th[T_STATUS] != RUNNING or len(frames) != 1:
            return False
        kind = self.codes[frames[0][F_CODE]].kind
        if kind == "loop":  # an event loop's own thread: its tasks run as its coroutines
            return True
        if kind != "worker" or frames[0][F_PC] != 0:  # pc 0: waiting for a task (TakeTask)
            return False
        return has_idle(_object_state(state, *self.worker_pool(state, tid)), tid)

    def worker_pool(self, state: State, tid: int) -> tuple[int, int]:
        """The pool a worker thread belongs to, as a (where, at) key."""
        ref = state[S_THREADS][tid][T_FRAMES][0][F_LOCALS][0]
        where, at, _, _ = self._locate(ref, state, "take", "pool")
        return where, at

    def pools(self, state: State) -> list[tuple[int, int]]:
        """Every pool of a state, as (where, at) keys: declared ones, then ones made at run
        time."""
        return self._pool_keys(heap_of(state), len(state[S_LOCKS]))

    def _pool_keys(self, heap: tuple[Any, ...], declared: int) -> list[tuple[int, int]]:
        """Every pool: declared ones (in each process's block), then ones made at run time."""
        found = [(DECLARED, at) for at in self._worker_codes]
        if self.has_processes and self.lock_block:
            blocks = declared // self.lock_block
            found = [
                (DECLARED, at + k * self.lock_block)
                for k in range(blocks)
                for at in self._worker_codes
            ]
        if self._made_worker_codes:
            found += [(HEAP, oid) for oid, entry in enumerate(heap) if entry[H_KIND] == "pool"]
        return found

    def task_of(self, state: State, future: Any) -> TaskAt | None:
        """Where the task that completes a future made by `submit` is: running on a worker,
        or queued on a pool (None: nowhere, it was dropped)."""
        for tid, th in enumerate(state[S_THREADS]):
            frames = th[T_FRAMES]
            if (
                len(frames) > 1
                and self.codes[frames[0][F_CODE]].kind == "worker"
                and frames[0][F_LOCALS][1] == future
            ):
                return TaskAt(frames[1][F_CODE], self.worker_pool(state, tid), tid)
        for key in self.pools(state):
            for function, _, queued in _object_state(state, *key)[P_QUEUE]:
                if queued == future:
                    return TaskAt(function, key, -1)
        return None

    def _pools_exit(self, w: Work) -> None:
        """The executors' exit hook, when `main` returns with `host python`: every pool is
        marked shut down (a later `submit` is a misuse); the exit join then waits for their
        tasks."""
        keys = self._pool_keys(w.heap, len(w.locks))
        if self.has_processes:  # only the current process's pools (none is ever passed)
            mine = self.reachable_objects(w.freeze(), self.current_process(w))
            keys = [(where, at) for where, at in keys if (where, at) in mine]
        for where, at in keys:
            obj = w.locks[at] if where == DECLARED else w.heap[at][H_STATE]
            if not obj[P_SHUT]:
                _set_object_state(w, where, at, (EXITED, *obj[P_SHUT + 1 :]))


def worker_codes(
    program: ir.Program, lock_offset: dict[str, int]
) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
    """The worker loop's code unit of every declared pool, by its slot in the state's
    declared objects, and of the pools each `pool(N)` makes, by where it is ((code, pc))."""
    by_name = {code.name: i for i, code in enumerate(program.codes) if code.kind == "worker"}
    declared: dict[int, int] = {}
    names = {info.name for info in program.resources if info.kind == "pool"}
    for info in program.resources:
        if info.kind == "pool":
            for k in range(info.size or 1):
                declared[lock_offset["pool"] + info.base + k] = by_name[f"{info.name}.worker"]
    made = {
        (ci, pc): by_name[ir.made_pool_workers(instr, names)]
        for ci, code in enumerate(program.codes)
        for pc, instr in enumerate(code.instrs)
        if isinstance(instr, ir.MakeObject) and instr.kind == "pool"
    }
    return declared, made
