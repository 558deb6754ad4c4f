"""Handlers of thread pools (language v1.2): `submit p, g(a)`, and the worker loop every
pool's workers run (take the oldest task, run it as a call, complete its future). The pool's
own rules (when a worker starts, what `shutdown` waits for) are its primitive's
(gilcheck/sync/pool.py); these handlers make the threads and futures it needs."""

from __future__ import annotations

from typing import Any, NamedTuple

from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.ir import Verdict
from gilcheck.sync import registry
from gilcheck.sync.base import Misuse, Site
from gilcheck.sync.future import carries_handle
from gilcheck.sync.pool import EXITED, P_BUSY, P_IDLE, P_QUEUE, P_SHUT, has_idle
from gilcheck.system.engine.common import DECLARED, HEAP, Prepared, SpecMisuse, _with
from gilcheck.system.engine.handlers_sync import (
    SyncHandlers,
    _object_state,
    _res_name,
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
    S_THREADS,
    T_FRAMES,
    T_STATUS,
    Frame,
    State,
    Thread,
    Work,
    fork_path,
)

_POOL = registry.primitive("pool")
_FUTURE_SUBMITTED = (False, None, True)  # a future made by `submit`: not complete


class TaskAt(NamedTuple):
    """Where a submitted task is: its function, its pool, and the worker running it (-1:
    still queued)."""

    function: int
    pool: tuple[int, int]
    worker: int


class PoolHandlers(SyncHandlers):
    """`submit`, and the steps of pool workers."""

    _pool_sites: dict[tuple[str, int], Site]
    # The worker loop's code unit of each declared pool (by its first slot), and of pools
    # made at run time (-1 when the program makes none).
    _worker_codes: dict[int, int]
    _made_worker_codes: dict[tuple[int, int], int]

    def _pool_site(self, verb: str, count: int) -> Site:
        key = (verb, count)
        site = self._pool_sites.get(key)
        if site is None:
            site = self._pool_sites[key] = Site(verb=_POOL.verbs[verb], name="pool", count=count)
        return site

    def _submit(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """Queue the task and make its future; start a worker when the pool says so."""
        if self._need_gil(state, tid, p):
            return True
        instr: ir.Submit = p.instr  # type: ignore[assignment]
        res = instr.executor
        ref = self._reference(p.ref_value, res, p, frame, th, state)
        where, at, kind, count = self._locate(ref, state, "submit", res.name)
        if kind != "pool":
            raise SpecMisuse(f"`submit` needs a pool, and `{res.name}` is {a_kind(kind)}")
        label = _res_name(res, at, self) if res.value is None else res.name
        obj = _object_state(state, where, at)
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        w = Work(state)
        future = ("obj", w.add_object(("future", None, _FUTURE_SUBMITTED, (p.code, p.pc))))
        worker = len(state[S_THREADS])
        if self.has_fork and self._forked_workers(state, obj):
            worker = -1  # a fork child of a pool that had started workers: none runs a task
        result = self._pool_site("submit", count or 1).step(
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
            return False
        moved = result[0]
        _set_object_state(w, where, at, moved.obj)
        if moved.value:  # a new worker, waiting for the task
            code = self._worker_code(state, where, at)
            start = (code, self.resolve_pc(code, 0), (ref, None, None), NATIVE)
            w.add_thread(((start,), RUNNING, 0, GIL_NORMAL, (), 0, False, 0, -(code + 1)))
        locals_ = self._moved(frame[F_LOCALS], p)
        locals_ = self._store(w, locals_, instr.target, future, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _take_task(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A worker takes the oldest queued task and calls it (idle while none is queued)."""
        ref = frame[F_LOCALS][0]
        where, at, _, count = self._locate(ref, state, "take", "pool")
        result = self._pool_site("take", count or 1).step(
            _object_state(state, where, at), tid, 0, None
        )
        if isinstance(result, Misuse) or not result:
            return False
        moved = result[0]
        function, args, future = moved.value
        w = Work(state)
        _set_object_state(w, where, at, moved.obj)
        code = self.codes[function]
        callee_locals = args + (None,) * (len(code.local_names) - len(args))
        worker = (frame[F_CODE], frame[F_PC], (ref, future, None), frame[F_CTX])
        callee = (function, self.resolve_pc(function, 0), callee_locals, NATIVE)
        w.set_thread(tid, _with(th, T_FRAMES, (worker, callee)))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _finish_task(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """The task has returned: its future completes with the value; the worker waits."""
        ref, future, value = frame[F_LOCALS]
        where, at, _, count = self._locate(ref, state, "finish", "pool")
        if carries_handle(value):
            raise SpecMisuse(
                "a task returns a channel or thread handle: its future's value is copied to "
                "every waiter, and a handle cannot be"
            )
        result = self._pool_site("finish", count or 1).step(
            _object_state(state, where, at), tid, 0, None
        )
        assert not isinstance(result, Misuse)
        w = Work(state)
        _set_object_state(w, where, at, result[0].obj)
        _set_object_state(w, HEAP, future[1], (True, value, True))
        start = (frame[F_CODE], self.resolve_pc(frame[F_CODE], 0), (ref, None, None), frame[F_CTX])
        w.set_thread(tid, _with(th, T_FRAMES, (start,)))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _forked_workers(self, state: State, obj: Any) -> bool:
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
            return self._worker_codes[at]
        return self._made_worker_codes[state[S_HEAP][at][H_ORIGIN]]

    def idle_worker(self, state: State, tid: int) -> bool:
        """Whether a thread is idle: a pool worker waiting for a task with none queued, or an
        event loop's own thread (its tasks have thread entries of their own). Idle threads
        are never stuck and neither make nor prevent a deadlock."""
        if not self.has_pools and not self.has_loops:
            return False
        th = state[S_THREADS][tid]
        frames = th[T_FRAMES]
        if th[1] != RUNNING or len(frames) != 1:
            return False
        kind = self.codes[frames[0][F_CODE]].kind
        if kind == "loop":  # an event loop's own thread: its tasks run as its coroutines
            return True
        if kind != "worker":
            return False
        frame = frames[0]
        if not isinstance(self.codes[frame[F_CODE]].instrs[frame[F_PC]], ir.TakeTask):
            return False
        where, at, _, _ = self._locate(frame[F_LOCALS][0], state, "take", "pool")
        return has_idle(_object_state(state, where, at), tid)

    def worker_pool(self, state: State, tid: int) -> tuple[int, int]:
        """The pool a worker thread belongs to, as a (where, at) key."""
        ref = state[S_THREADS][tid][T_FRAMES][0][F_LOCALS][0]
        where, at, _, _ = self._locate(ref, state, "take", "pool")
        return where, at

    def pools(self, state: State) -> list[tuple[int, int]]:
        """Every pool of a state, as (where, at) keys: declared ones, then ones made at run
        time."""
        found = [(DECLARED, at) for at in self._worker_codes]
        if self._made_worker_codes:
            heap = state[S_HEAP]
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
                ref = frames[0][F_LOCALS][0]
                where, at, _, _ = self._locate(ref, state, "take", "pool")
                return TaskAt(frames[1][F_CODE], (where, at), tid)
        for key in self.pools(state):
            for function, _, queued in _object_state(state, *key)[P_QUEUE]:
                if queued == future:
                    return TaskAt(function, key, -1)
        return None

    def _pools_exit(self, w: Work) -> None:
        """The executors' exit hook, when `main` returns with `host python`: every pool is
        marked shut down (a later `submit` is a misuse); the exit join then waits for their
        tasks."""
        for at in self._worker_codes:
            obj = w.locks[at]
            if not obj[P_SHUT]:
                w.set_lock(at, (EXITED, *obj[P_SHUT + 1 :]))
        if self._made_worker_codes:
            for oid, entry in enumerate(w.heap):
                if entry[H_KIND] == "pool" and not entry[H_STATE][P_SHUT]:
                    obj = entry[H_STATE]
                    _set_object_state(w, HEAP, oid, (EXITED, *obj[P_SHUT + 1 :]))


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
