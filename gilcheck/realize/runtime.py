"""The runtime every realized program starts with: its threads, its objects, the spec's
GIL as a token, parking on POSIX semaphores (through `ctypes.PyDLL` to keep the real GIL
while blocked, through `ctypes.CDLL` to release it), steering, and the watchdog.

It is program text, copied verbatim at the head of each realized program, so that the
program needs nothing but CPython's standard library to run.
"""

from __future__ import annotations

from typing import Final

RUNTIME: Final[str] = r'''
# ---------------------------------------------------------------- gilcheck realize runtime
import collections
import ctypes
import ctypes.util
import faulthandler
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

EXIT_FINISHED, EXIT_HANG, EXIT_ASSERTION, EXIT_PANIC, EXIT_MISUSE = 0, 3, 4, 5, 6
EXIT_INTERNAL = 7
_LIBC_NAME = ctypes.util.find_library("c")
_RELEASING = ctypes.CDLL(_LIBC_NAME)  # a call through CDLL releases the GIL while it runs
_KEEPING = ctypes.PyDLL(_LIBC_NAME)  # a call through PyDLL keeps the GIL while it blocks
_SEM_BYTES = 64  # at least sizeof(sem_t)

# Every statement runs holding _STATE, so it is one atomic step as in the spec; a thread
# that must wait releases _STATE and parks on its own semaphore.
_STATE = threading.Lock()
_PARKED = []
_STDOUT_LOCK = threading.Lock()  # only ever taken while holding _STATE, never while parked


def _violation(code, what):
    """A verdict other than a deadlock: report it and stop the whole program at once."""
    with _STDOUT_LOCK:
        sys.stdout.flush()
        sys.stderr.write(what + "\n")
        sys.stderr.flush()
    os._exit(code)


def internal_error():
    """A bug of the realization, not a verdict: say so, with the traceback."""
    import traceback

    traceback.print_exc()
    _violation(EXIT_INTERNAL, "internal error of the realized program: please report it")


def failed(code, what, message):
    """A failed assertion or a panic, with its message."""
    _violation(code, what if message is None else f"{what}: {show(message)}")


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Parker:
    """A thread's own POSIX semaphore, the only place where a realized thread blocks."""

    def __init__(self):
        self.sem = ctypes.create_string_buffer(_SEM_BYTES)
        if _RELEASING.sem_init(self.sem, 0, 0) != 0:
            raise OSError("sem_init failed")

    def park(self, keep_gil, timeout=None):
        if timeout is not None:
            self.park_timed(keep_gil, timeout)
        elif keep_gil:
            self.park_keeping_the_gil()
        else:
            self.park_releasing_the_gil()

    def park_timed(self, keep_gil, timeout):
        """sem_timedwait, through PyDLL (keeping the GIL) or CDLL (releasing it)."""
        self.timed_wait(_KEEPING if keep_gil else _RELEASING, timeout)

    def timed_wait(self, lib, timeout):
        """Whether the semaphore was taken within `timeout` seconds."""
        at = time.time() + timeout
        deadline = _Timespec(int(at), int((at % 1) * 1e9))
        while lib.sem_timedwait(self.sem, ctypes.byref(deadline)) != 0:
            if time.time() >= at:
                return False
        return True

    def park_keeping_the_gil(self):
        """sem_wait through PyDLL: the real GIL stays held while this thread blocks. Realized
        native code without the GIL is Python bytecode and needs the real GIL to run, so
        the GIL is lent to it for a moment while such a thread is runnable (a real native
        thread would not need it); once every other thread waits, it is held for good."""
        while True:
            if self.timed_wait(_KEEPING, 0.02):
                return
            if others_runnable(self) and self.timed_wait(_RELEASING, 0.002):
                return

    def park_releasing_the_gil(self):
        """sem_wait through CDLL: the real GIL is released while this thread blocks."""
        while _RELEASING.sem_wait(self.sem) != 0:
            pass

    def unpark(self):
        _RELEASING.sem_post(self.sem)


class RThread:
    """A realized thread: its name as traces write it, `self`, its GIL bookkeeping."""

    def __init__(self, name, self_index, daemon):
        self.name = name
        self.self_index = self_index
        self.daemon = daemon
        self.who = self  # whose locks and GIL counts: a loop task's are its loop thread's
        self.loop_task = None  # the loop task this thread runs, if it is one
        self.parker = Parker()
        self.parked = False
        self.woken = False
        self.gil_count = 0  # with_gil nesting
        self.python_took = []  # per open python block: whether it took the GIL on entry
        self.allowed = []  # per open allow_threads block: (gil_count, python_took)
        self.blocks = []  # the open with_gil, python and allow_threads blocks
        self.saved = None  # what release_gil gave up, until acquire_gil
        self.owes_gil = False  # steered: gave the GIL up, takes it back at the trace's step
        self.done = False
        self.thread = None


_ME = threading.local()


def others_runnable(parker):
    """Whether a realized thread other than the one parked on `parker` may run now."""
    return any(not t.parked and not t.done and t.parker is not parker for t in _THREADS)


def wake_all():
    """Every parked thread re-checks what it waits for (called holding _STATE)."""
    for t in _PARKED:
        if not t.woken:
            t.woken = True
            t.parker.unpark()


def park(me, keep_gil, timeout=None):
    """Wait for a wake_all, or `timeout` seconds (called and returning holding _STATE)."""
    me.parked = True
    me.woken = False
    _PARKED.append(me)
    _STATE.release()
    try:
        me.parker.park(keep_gil, timeout)
    finally:
        _STATE.acquire()
        _PARKED.remove(me)
        me.parked = False


# ---------------------------------------------------------------- the spec's GIL


class Gil:
    """The spec's GIL as a token: at most one thread holds it; handed over first come,
    first served. A thread holding it in native code that blocks keeps it, and parks
    through PyDLL, so that it keeps the real GIL too."""

    def __init__(self):
        self.owner = None
        self.queue = collections.deque()

    def holds(self, me):
        return self.owner is me.who

    def take(self, me):
        if self.owner is me.who:
            return
        if self.owner is None and not self.queue:
            self.owner = me.who
            return
        self.queue.append(me)
        while self.owner is not me.who:
            park(me, keep_gil=False)  # a thread waiting for the GIL does not hold it

    def give(self, me):
        if self.owner is not me.who:
            return
        self.owner = self.queue.popleft().who if self.queue else None
        wake_all()

    def wanted(self):
        return bool(self.queue)


GIL = Gil()


def in_python(me):
    return bool(me.who.python_took) and not me.who.allowed


def keeps_gil(me, ctx):
    """Whether blocking now keeps the GIL: native code holding it never gives it up."""
    return ctx == "native" and GIL.holds(me)


TIMED_OUT = object()
TIMED_WAIT = 0.05  # seconds a timed wait waits, unsteered (the spec has no clock)


def block(me, ctx, ready, where, then=None, timed=False):
    """Wait until `ready()` holds, then do `then()` at once, in the same step (called and
    returning holding _STATE; returns what `then` returns, or TIMED_OUT when a timed wait
    gives up). Native code that holds the GIL keeps it while it waits, the real one
    included; Python code releases it while it waits and takes it back after its
    operation; native code without it waits without it."""
    if ready() and STEER.may_complete(me, where):
        return then() if then is not None else None
    if me.loop_task is not None and me.loop_task.suspending:
        me.loop_task.give_loop(me)  # an awaited operation that cannot complete yet
    gave_back = ctx == "python" and GIL.holds(me)
    if gave_back:
        GIL.give(me)
    keep = keeps_gil(me, ctx)
    STEER.blocking(me, where)
    deadline = time.monotonic() + TIMED_WAIT
    while True:
        if ready() and STEER.may_complete(me, where):
            result = then() if then is not None else None
            break
        if timed and STEER.may_time_out(me, where, deadline):
            result = TIMED_OUT
            break
        if timed and not STEER.active:
            park(me, keep, max(deadline - time.monotonic(), 0.001))
        else:
            park(me, keep)
    task = me.loop_task
    if gave_back and task is not None and task.gave_loop:
        task.owes_gil = True  # taken back once the task has the loop again
    elif gave_back and STEER.active:
        me.owes_gil = True  # taken back at the trace's `back` step
    elif gave_back:
        GIL.take(me)
    return result


def need_gil_for_step(me, ctx, where):
    """A statement that needs the GIL for its own step only (making a pyobj, printing a
    Python value): wait until the GIL is free, as PyO3 takes and releases it."""
    if not GIL.holds(me):
        block(me, ctx, lambda: GIL.owner is None, where)


def gil_enter(me, ctx):
    GIL.take(me)
    me.who.gil_count += 1
    me.who.blocks.append("with_gil")


def gil_exit(me):
    me.who.blocks.pop()
    me.who.gil_count -= 1
    if me.who.gil_count == 0 and not any(me.who.python_took):
        GIL.give(me)


def python_enter(me):
    if me.who.blocks and me.who.blocks[-1] == "allow_threads":
        _violation(EXIT_MISUSE, f"misuse: python code inside allow_threads in {me.name}")
    took = not GIL.holds(me)
    GIL.take(me)
    me.who.python_took.append(took)
    me.who.blocks.append("python")


def python_exit(me):
    me.who.blocks.pop()
    took = me.who.python_took.pop()
    if took and me.who.gil_count == 0:
        GIL.give(me)


def allow_enter(me):
    me.who.blocks.append("allow_threads")
    me.who.allowed.append((me.who.gil_count, me.who.python_took))
    me.who.gil_count, me.who.python_took = 0, []
    GIL.give(me)


def allow_exit(me):
    me.who.blocks.pop()
    GIL.take(me)
    me.who.gil_count, me.who.python_took = me.who.allowed.pop()


def release_gil(me, where):
    """`release_gil` (PyEval_SaveThread): gives up all of the GIL, saving the counts."""
    if not GIL.holds(me):
        _violation(EXIT_MISUSE, f"misuse: release_gil without the GIL at {where}")
    me.who.saved = (me.who.gil_count, me.who.python_took)
    me.who.gil_count, me.who.python_took = 0, []
    GIL.give(me)


def acquire_gil(me, where):
    """`acquire_gil` (PyEval_RestoreThread): takes the GIL back, restoring the counts."""
    if GIL.holds(me):
        _violation(EXIT_MISUSE, f"misuse: acquire_gil while holding the GIL at {where}")
    GIL.take(me)
    if me.who.saved is not None:
        me.who.gil_count, me.who.python_took = me.who.saved
        me.who.saved = None
    else:
        me.who.gil_count = 1


def check_not_released(me, where):
    """Leaving a GIL block, or Python code, between release_gil and acquire_gil."""
    if me.who.saved is not None:
        _violation(EXIT_MISUSE, f"misuse: {me.name} has released the GIL (release_gil) at {where}")


def python_boundary(me):
    """Between two statements of Python code the interpreter may hand the GIL over."""
    if GIL.holds(me) and GIL.wanted():
        GIL.give(me)
        GIL.take(me)


# ---------------------------------------------------------------- values


def is_python_value(v):
    if isinstance(v, tuple) and v and v[0] in ("pyobj", "pyerr"):
        return True
    return isinstance(v, tuple) and any(is_python_value(x) for x in v[1:])


def show(v):
    if v is None:
        return "None"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, tuple) and len(v) == 2 and v[0] in ("ok", "err"):
        return f"{v[0].capitalize()}({show(v[1])})"
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "pyobj":
        return f"<{v[1]}>"
    if isinstance(v, tuple) and len(v) == 2 and v[0] == "pyerr":
        return f"PyErr({v[1]!r})"
    return str(v)


def div(a, b):
    if b == 0:
        _violation(EXIT_PANIC, "panic: division by zero")
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def rem(a, b):
    return a - div(a, b) * b


def index(i, size, where):
    if not 0 <= i < size:
        _violation(EXIT_PANIC, f"panic: index {i} out of range at {where}")
    return i


MOVED = object()


def is_ok(v):
    return isinstance(v, tuple) and len(v) == 2 and v[0] == "ok"


def is_err(v):
    return isinstance(v, tuple) and len(v) == 2 and v[0] == "err"


# ---------------------------------------------------------------- resources


class Mutex:
    kind = "mutex"

    def __init__(self, name):
        self.name = name
        self.holder = None

    def ready(self, me):
        return self.holder is None

    def take(self, me):
        self.holder = me.who

    def release(self, me):
        if self.holder is None:
            _violation(EXIT_MISUSE, f"misuse: {me.name} releases {self.name}, which is free")
        self.holder = None
        wake_all()


class RLock:
    kind = "rlock"

    def __init__(self, name):
        self.name = name
        self.holder = None
        self.count = 0

    def ready(self, me):
        return self.holder is None or self.holder is me.who

    def take(self, me):
        self.holder = me.who
        self.count += 1

    def release(self, me):
        if self.holder is not me.who:
            _violation(EXIT_MISUSE, f"misuse: {me.name} releases {self.name}, not its own")
        self.count -= 1
        if self.count == 0:
            self.holder = None
            wake_all()


class RwLock:
    """A writer-preferring readers-writer lock: once a writer waits, new readers wait."""

    kind = "rwlock"

    def __init__(self, name):
        self.name = name
        self.readers = collections.Counter()
        self.writer = None
        self.writers_waiting = 0

    def release(self, me):
        if self.writer is me.who:
            self.writer = None
        elif self.readers[me.who]:
            self.readers[me.who] -= 1
            if not self.readers[me.who]:
                del self.readers[me.who]
        else:
            _violation(EXIT_MISUSE, f"misuse: {me.name} releases {self.name}, not held")
        wake_all()


def acquire_read(me, ctx, rw, where, timed=False):
    def take():
        rw.readers[me.who] += 1

    ready = lambda: rw.writer is None and rw.writers_waiting == 0  # noqa: E731
    return block(me, ctx, ready, where, take, timed) is not TIMED_OUT


def acquire_write(me, ctx, rw, where, timed=False):
    ready = lambda: rw.writer is None and not rw.readers  # noqa: E731

    def take():
        rw.writer = me.who

    if ready() and STEER.may_complete(me, where):
        take()
        return True
    rw.writers_waiting += 1
    got = block(me, ctx, ready, where, take, timed)
    rw.writers_waiting -= 1
    wake_all()  # readers blocked only by this writer may go on
    return got is not TIMED_OUT


class Semaphore:
    kind = "semaphore"

    def __init__(self, name, count):
        self.name = name
        self.count = count

    def ready(self, me):
        return self.count > 0

    def take(self, me):
        self.count -= 1

    def release(self, me):
        self.count += 1
        wake_all()


class Event:
    kind = "event"

    def __init__(self, name):
        self.name = name
        self.flag = False
        self.sets = 0


class Condvar:
    kind = "condvar"

    def __init__(self, name):
        self.name = name
        self.waiters = []  # tickets: [notified]


class Barrier:
    kind = "barrier"

    def __init__(self, name, parties):
        self.name = name
        self.parties = parties
        self.arrived = 0
        self.generation = 0


class Once:
    kind = "once"

    def __init__(self, name):
        self.name = name
        self.state = "new"


class Latch:
    kind = "latch"

    def __init__(self, name, count):
        self.name = name
        self.count = count


def the(obj, kind, where):
    """A resource reached through a value: of the kind the statement needs, or a misuse."""
    if getattr(obj, "kind", None) not in kind.split("|"):
        _violation(EXIT_MISUSE, f"misuse: {show(obj)} is not a {kind} at {where}")
    return obj


def acquire(me, ctx, res, where, timed=False):
    """`acquire`; timed: whether it acquired."""
    got = block(me, ctx, lambda: res.ready(me), where, lambda: res.take(me), timed)
    return got is not TIMED_OUT


def try_acquire(me, res):
    if isinstance(res, Mutex) and res.holder is me.who:
        return False
    if res.ready(me):
        res.take(me)
        return True
    return False


def wait_event(me, ctx, ev, where, timed=False):
    if ev.flag:
        block(me, ctx, lambda: True, where)
        return True
    seen = ev.sets
    return block(me, ctx, lambda: ev.sets != seen, where, None, timed) is not TIMED_OUT


def wait_latch(me, ctx, latch, where, timed=False):
    return block(me, ctx, lambda: latch.count == 0, where, None, timed) is not TIMED_OUT


def set_event(ev):
    ev.flag = True
    ev.sets += 1
    wake_all()


def wait_barrier(me, ctx, b, where):
    generation = b.generation
    b.arrived += 1
    if b.arrived == b.parties:
        b.arrived = 0
        b.generation += 1
        wake_all()
        block(me, ctx, lambda: True, where)
        return
    block(me, ctx, lambda: b.generation != generation, where)


def wait_condvar(me, ctx, cv, m, where, timed=False):
    """`wait cv, m`; timed: whether it was notified. A waiter that timed out in Python code
    stays a target of `notify` until it has `m` back, as CPython's Condition does."""
    if m.holder is not me.who:
        _violation(EXIT_MISUSE, f"misuse: {me.name} waits on {cv.name} without holding {m.name}")
    ticket = [False]
    cv.waiters.append(ticket)
    m.release(me)
    woken = block(me, ctx, lambda: ticket[0], where, None, timed) is not TIMED_OUT
    if not woken and ctx != "python" and ticket in cv.waiters:
        cv.waiters.remove(ticket)
    block(me, ctx, lambda: m.ready(me), where, lambda: m.take(me))
    if not woken and ticket in cv.waiters:
        cv.waiters.remove(ticket)
    return woken


def notify(cv, everyone):
    woken = cv.waiters if everyone else cv.waiters[:1]
    for ticket in woken:
        ticket[0] = True
    del cv.waiters[: len(woken)]
    wake_all()


def once_begin(me, ctx, once, where):
    """True when this caller runs the block; otherwise waits until it has run."""
    if once.state == "new":
        once.state = "running"
        return True
    block(me, ctx, lambda: once.state == "done", where)
    return False


def once_end(once):
    once.state = "done"
    wake_all()


def await_condition(me, ctx, cond, where):
    block(me, ctx, cond, where)


# ---------------------------------------------------------------- futures and pools


class Future:
    """A `concurrent.futures.Future`: set once, by `complete` or by its pool task."""

    kind = "future"

    def __init__(self, name, by_submit):
        self.name = name
        self.by_submit = by_submit
        self.done = False
        self.value = None


def settle(fut, value, where):
    if isinstance(value, (Handle, ThreadHandle)):
        _violation(EXIT_MISUSE, f"misuse: a future completed with a handle at {where}")
    fut.done = True
    fut.value = value
    wake_all()


def complete(fut, value, where):
    if fut.done or fut.by_submit:
        _violation(EXIT_MISUSE, f"misuse: {fut.name} completed twice or made by submit, at {where}")
    settle(fut, value, where)


def result(me, ctx, fut, where, timed=False):
    """`result f`; timed: ok(value) or err("timeout")."""
    got = block(me, ctx, lambda: fut.done, where, lambda: ("ok", fut.value), timed)
    if not timed:
        return got[1]
    return ("err", "timeout") if got is TIMED_OUT else got


def is_done(fut):
    return the(fut, "future", "is_done").done


_POOLS = []


class Pool:
    """A `ThreadPoolExecutor(max_workers)`: tasks queued in order, taken by idle workers;
    a new worker starts at a submit when none is idle and fewer than the maximum exist."""

    kind = "pool"

    def __init__(self, name, max_workers, workers_name, take_where, finish_where):
        self.name = name
        self.max_workers = max_workers
        self.workers_name = workers_name
        self.take_where = take_where
        self.finish_where = finish_where
        self.queue = collections.deque()
        self.workers = []
        self.idle = 0
        self.running = 0
        self.shut = False
        _POOLS.append(self)

    def drained(self):
        return not self.queue and self.running == 0


def submit(me, pool, body, args, where):
    if isinstance(pool, Loop):
        return submit_task(me, pool, body, args, where)
    if pool.shut:
        _violation(EXIT_MISUSE, f"misuse: submit to {pool.name} after its shutdown, at {where}")
    fut = Future(f"the future of a task of {pool.name}", True)
    pool.queue.append((body, args, fut))
    if pool.idle == 0 and len(pool.workers) < pool.max_workers:
        handle = spawn(pool.workers_name, True, pool_worker, (pool,))
        pool.workers.append(handle.rthread)
    wake_all()
    return fut


def pool_worker(me, ctx, pool):
    """A pool's worker thread: takes the oldest task, runs it as native code, completes its
    future, and is idle again (holding no GIL)."""
    while True:
        pool.idle += 1
        stmt(me, "native", pool.take_where)
        block(me, "native", lambda: bool(pool.queue), pool.take_where)
        pool.idle -= 1
        body, args, fut = pool.queue.popleft()
        pool.running += 1
        done(me, pool.take_where, True)
        value = body(me, "native", *args)
        stmt(me, "native", pool.finish_where)
        pool.running -= 1
        settle(fut, value, pool.finish_where)
        done(me, pool.finish_where, True)


_LOOPS = []


class Loop:
    """An event loop with its own thread (an asyncio loop in a thread): its tasks run one
    at a time, each holding the loop from its start until it ends or suspends; ready
    tasks take it in the order they became ready (any order with `any_order`). A task runs
    on a thread of its own here, but its locks and GIL counts are the loop thread's."""

    kind = "eventloop"

    def __init__(self, name, any_order, task_name, start_where, finish_where):
        self.name = name
        self.any_order = any_order
        self.task_name = task_name
        self.start_where = start_where
        self.finish_where = finish_where
        self.identity = RThread(name, 0, True)
        self.holder = None
        self.ready = []
        self.threadless = False  # a fork child's copy: its thread does not exist
        _LOOPS.append(self)

    def may_take(self, task):
        if self.threadless or self.holder is not None or task not in self.ready:
            return False
        return self.any_order or self.ready[0] is task


class LoopTask:
    """One task of a loop: whether it holds the loop, and whether it is inside `suspend`."""

    def __init__(self, loop):
        self.loop = loop
        self.suspending = False
        self.gave_loop = False
        self.owes_gil = False  # gave the GIL up with the loop, inside Python code

    def take_loop(self, me, where, ready=False):
        if not ready:  # a task is ready from its submit; a suspended one from its block's end
            self.loop.ready.append(self)
        wake_all()
        block(me, "native", lambda: self.loop.may_take(self), where)
        self.loop.ready.remove(self)
        self.loop.holder = self

    def give_loop(self, me):
        if self.loop.holder is self:
            self.loop.holder = None
            self.gave_loop = True
            wake_all()


def submit_task(me, loop, body, args, where):
    fut = Future(f"the future of a task of {loop.name}", True)
    task = LoopTask(loop)
    loop.ready.append(task)

    def run_task(t, ctx):
        t.who = loop.identity
        t.loop_task = task
        stmt(t, "native", loop.start_where)
        task.take_loop(t, loop.start_where, ready=True)
        done(t, loop.start_where, True)
        value = body(t, "native", *args)
        stmt(t, "native", loop.finish_where)
        settle(fut, value, loop.finish_where)
        task.give_loop(t)
        done(t, loop.finish_where, True)

    spawn(loop.task_name, True, run_task, ())
    return fut


def suspend_begin(me, ctx, force, where):
    task = me.loop_task
    if task is None:
        _violation(EXIT_MISUSE, f"misuse: suspend outside a loop task, in {me.name} at {where}")
    task.suspending = True
    task.gave_loop = False
    if force:
        task.give_loop(me)
        if ctx == "python" and GIL.holds(me):
            GIL.give(me)
            task.owes_gil = True


def suspend_end(me, ctx, where):
    task = me.loop_task
    task.suspending = False
    if task.gave_loop:
        task.gave_loop = False
        task.take_loop(me, where)
    if task.owes_gil:
        task.owes_gil = False
        GIL.take(me)


def shutdown(me, ctx, pool, where):
    if me in pool.workers:
        _violation(EXIT_MISUSE, f"misuse: {pool.name} shut down by its own task, at {where}")
    pool.shut = True
    wake_all()
    block(me, ctx, pool.drained, where)


# ---------------------------------------------------------------- channels


class Channel:
    """A channel with the spec's exact semantics: `capacity` None is unbounded, 0 a
    rendezvous (the sender waits until its message is taken)."""

    def __init__(self, name, kind, capacity, declared):
        self.name = name
        self.kind = kind
        self.capacity = capacity
        self.declared = declared  # a global channel: closed only by `close`
        self.buffer = collections.deque()
        self.senders = 0 if declared else 1
        self.receiver = True
        self.closed = False
        self.taken = 0  # rendezvous: messages taken so far

    def ended(self):
        return self.closed or (not self.declared and self.senders == 0)

    def can_send(self):
        if self.kind == "queue" or self.capacity is None:
            return True
        if self.capacity == 0:
            return not self.buffer
        return len(self.buffer) < self.capacity

    def receiver_gone(self):
        return self.kind != "queue" and (self.closed or not self.receiver)


class Handle:
    """A sender or receiver handle of a channel made at run time."""

    def __init__(self, channel, side):
        self.channel = channel
        self.side = side
        self.alive = True

    def drop(self):
        if not self.alive:
            return
        self.alive = False
        ch = self.channel
        if self.side == "tx":
            ch.senders -= 1
        else:
            ch.receiver = False
            for message in ch.buffer:
                drop_value(message)
            ch.buffer.clear()
        wake_all()


def drop_value(v):
    if isinstance(v, Handle):
        v.drop()
    elif isinstance(v, tuple):
        for x in v:
            drop_value(x)


def make_channel(kind, capacity, where):
    ch = Channel(f"channel made at {where}", kind, capacity, declared=False)
    if kind == "oneshot":
        ch.capacity = 1
    return Handle(ch, "tx"), Handle(ch, "rx")


def channel_of(ref, side, where):
    if isinstance(ref, Channel):
        return ref
    if isinstance(ref, Handle):
        if not ref.alive:
            _violation(EXIT_MISUSE, f"misuse: a dropped handle used at {where}")
        return ref.channel
    _violation(EXIT_MISUSE, f"misuse: {show(ref)} is not a channel at {where}")


def send(me, ctx, ref, value, where):
    ch = channel_of(ref, "tx", where)

    def put():
        if ch.receiver_gone():
            return False
        ch.buffer.append(value)
        wake_all()
        return True

    if not block(me, ctx, lambda: ch.receiver_gone() or ch.can_send(), where, put):
        return ("err", value)
    if isinstance(ref, Handle) and ch.kind == "oneshot":
        ref.drop()
    if ch.capacity == 0 and ch.kind != "queue":
        mark = ch.taken + len(ch.buffer)
        block(me, ctx, lambda: ch.taken >= mark or ch.receiver_gone(), where)
        if ch.taken < mark:
            ch.buffer.remove(value)
            return ("err", value)
    return ("ok", None)


def recv(me, ctx, ref, where, timed=False):
    """`recv`; timed: ok(message) or err("timeout")."""
    ch = channel_of(ref, "rx", where)
    ready = lambda: bool(ch.buffer) or ch.ended()  # noqa: E731
    got = block(me, ctx, ready, where, lambda: ("ok", take_message(ch)), timed)
    if not timed:
        return got[1]
    return ("err", "timeout") if got is TIMED_OUT else got


def take_message(ch):
    if not ch.buffer:
        return None
    ch.taken += 1
    wake_all()
    return ch.buffer.popleft()


def try_recv(ref, where):
    return take_message(channel_of(ref, "rx", where))


def close(ref, where):
    ch = channel_of(ref, "tx", where)
    if ch.kind != "queue":
        ch.closed = True
    wake_all()


def clone(v, where):
    if isinstance(v, Handle):
        if not v.alive:
            _violation(EXIT_MISUSE, f"misuse: a dropped handle cloned at {where}")
        if v.side == "tx":
            v.channel.senders += 1
        return Handle(v.channel, v.side)
    return v


def length(ref, where):
    return len(channel_of(ref, "rx", where).buffer)


def unwrap(v, where):
    if v is None or is_err(v):
        _violation(EXIT_PANIC, f"panic: unwrap of {show(v)} at {where}")
    return v[1] if is_ok(v) else v


# ---------------------------------------------------------------- threads


class ThreadHandle:
    kind = "thread"

    def __init__(self, rthread):
        self.rthread = rthread


_THREADS = []
_SPAWNED = collections.Counter()


def start_thread(name, self_index, daemon, body, args):
    t = RThread(name, self_index, daemon)

    def run():
        _ME.value = t
        with _STATE:
            try:
                body(t, "native", *args)
            except Exception:
                internal_error()
            finally:
                t.done = True
                # A GIL taken by acquire_gil and never released stays held for ever.
                wake_all()

    t.thread = threading.Thread(target=run, name=name, daemon=True)
    _THREADS.append(t)
    t.thread.start()
    return ThreadHandle(t)


def spawn(function_name, daemon, body, args):
    _SPAWNED[function_name] += 1
    return start_thread(f"{function_name}#{_SPAWNED[function_name]}", 0, daemon, body, args)


def join(me, ctx, handle, where, timed=False):
    if not isinstance(handle, ThreadHandle):
        _violation(EXIT_MISUSE, f"misuse: {show(handle)} is not a thread at {where}")
    block(me, ctx, lambda: handle.rthread.done, where, None, timed)
    return handle.rthread.done


def choose(me, n):
    return STEER.value(me, 0, n) if STEER.active else random.randrange(n)


def any_int(me, low, high):
    if high <= low:
        _violation(EXIT_PANIC, f"panic: any({low}..{high}) is empty")
    if STEER.active:
        return STEER.value(me, low, high)
    return random.randrange(low, high)


def do_print(me, ctx, value, where):
    """`print`: stdout's lock, then the GIL for a Python value; in Python code, print."""
    if ctx == "python":
        sys.stdout.write(show(value) + "\n")
        sys.stdout.flush()
        return
    block(me, ctx, lambda: STDOUT.ready(me), where, lambda: STDOUT.take(me))
    if is_python_value(value) and not GIL.holds(me):
        done(me, where, True)
        block(me, ctx, lambda: GIL.owner is None, where)
    sys.stdout.write(show(value) + "\n")
    sys.stdout.flush()
    STDOUT.release(me)


STDOUT = RLock("stdout's lock")


# ---------------------------------------------------------------- steering


class Steering:
    """Follows a counterexample: each step of the trace names the thread that takes it, the
    line and column of its statement, and its kind (`step`; `yield`: the interpreter hands
    the GIL over; `back`: takes the GIL back; `block`: releases the GIL to wait). A thread
    runs a statement only when the trace's next step is its own at that statement; a
    thread that must wait gives its turn up. Turns only ever delay a thread between
    statements, or hold back a parked thread: they are taken holding _STATE alone and
    never while holding a turn-only object, so they never change who holds what. If the
    run leaves the trace (no thread can take the next step within `patience` seconds),
    steering ends and the threads run freely."""

    def __init__(self, steps, patience):
        self.steps = steps  # [thread, line, column, kind, chosen value or None]
        self.at = 0
        self.active = bool(steps)
        self.patience = patience
        self.moved = time.monotonic()

    def current(self):
        if not self.active or self.at >= len(self.steps):
            return None
        return self.steps[self.at]

    def mine(self, me, where, kinds=("step", "block", "timeout", "fork_child")):
        step = self.current()
        return (
            step is not None
            and step[0] == me.name
            and (step[1], step[2]) == tuple(where)
            and step[3] in kinds
        )

    def advance(self):
        self.at += 1
        self.moved = time.monotonic()
        if self.at >= len(self.steps):
            self.active = False
        wake_all()

    def turn(self, me, where):
        """Wait for this thread's turn at the statement `where` (holding _STATE). A hand-over
        of the GIL the trace shows here is done here; the GIL is taken back at the trace's
        `back` step."""
        while self.active:
            step = self.current()
            if self.mine(me, where, ("finalizer", "signal")):
                self.advance()
                run_hook(me, step[3], step[4])
                continue
            if self.mine(me, where, ("yield",)):
                GIL.give(me)
                me.owes_gil = True
                self.advance()
                continue
            if step is not None and step[0] == me.name and step[3] == "back":
                if me.owes_gil:
                    me.owes_gil = False
                    GIL.take(me)
                self.advance()
                continue
            if self.mine(me, where):
                return
            park(me, keep_gil=False)

    def done(self, me, where, exact):
        if self.mine(me, where):
            self.advance()
            while not exact and self.mine(me, where, ("step",)):
                self.advance()

    def may_complete(self, me, where):
        return not self.active or self.mine(me, where, ("step",))

    def may_time_out(self, me, where, deadline):
        if self.active:
            return self.mine(me, where, ("timeout",))
        return time.monotonic() >= deadline

    def blocking(self, me, where):
        """The thread starts to wait: the trace's steps of it doing so are taken."""
        while self.active and self.mine(me, where, ("step", "block")):
            self.advance()

    def value(self, me, low, high):
        """The value the trace's step chose (a branch of `choose`, an `any`)."""
        step = self.current()
        if step is not None and step[0] == me.name and step[4] is not None:
            if low <= step[4] < high:
                return step[4]
        return random.randrange(low, high)

    def watch(self):
        """A daemon thread: end steering when the trace cannot be followed any more."""
        while self.active:
            time.sleep(self.patience / 4)
            with _STATE:
                if self.active and time.monotonic() - self.moved > self.patience:
                    step = self.steps[self.at]
                    sys.stderr.write(
                        f"steering lost at step {self.at + 1} ({step[0]} at line {step[1]}):"
                        " running freely\n"
                    )
                    self.active = False
                    wake_all()


STEER = Steering([], 1.0)


HOOKS = []  # [kind, line, code]: `finalizer { }` and `signal { }` blocks not run yet
HOOK_CHANCE = 0.05  # unsteered: how often a Python statement boundary runs one


def run_hook(me, kind, line):
    """Run a pending finalizer (on any thread) or signal handler (on main) here, at a
    statement boundary of Python code, to its end, before the thread goes on: at most once
    each. Steered, the one the trace starts here; unsteered, one picked at random."""
    for hook in list(HOOKS):
        hook_kind, hook_line, code = hook
        if kind is not None and (hook_kind != kind or line not in (None, hook_line)):
            continue
        if hook_kind == "signal" and me.name != "main":
            continue
        HOOKS.remove(hook)
        code(me, "python")
        return


def stmt(me, ctx, where):
    """Before a statement: a scheduling point (other threads may run their statements),
    the interpreter's GIL hand-over in Python code, and, when steered, the turn."""
    _STATE.release()
    if random.random() < 0.3:
        time.sleep(0)
    _STATE.acquire()
    if ctx == "python" and me.who.saved is not None and not GIL.holds(me):
        check_not_released(me, where)
    if STEER.active:
        STEER.turn(me, where)
    elif ctx == "python":
        python_boundary(me)
        if HOOKS and random.random() < HOOK_CHANCE:
            run_hook(me, None, None)
    if me.owes_gil:
        me.owes_gil = False
        GIL.take(me)


def done(me, where, exact):
    """After a statement: when steered, the trace's step for it is taken."""
    if STEER.active:
        STEER.done(me, where, exact)


# ---------------------------------------------------------------- fork

_CHILDREN = []


def fork(me, where):
    """`fork { }`: os.fork(). The child is a copy in which only this thread runs: what
    other threads hold (locks, the GIL token) stays held in it for ever. True in the child.
    Steered, the side the trace follows keeps following it; the other runs freely."""
    follow_child = STEER.active and STEER.mine(me, where, ("fork_child",))
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        _CHILDREN.clear()
        _THREADS[:] = [me]
        _PARKED.clear()
        GIL.queue.clear()  # threads that do not exist in the child never take the GIL
        for pool in _POOLS:
            if pool.workers:  # its workers are gone: it never runs a task in the child
                pool.max_workers = 0
        for loop in _LOOPS:
            loop.threadless = True  # a loop never runs a task in the child
        if not follow_child:
            STEER.active = False
        return True
    _CHILDREN.append(pid)
    if follow_child:
        STEER.active = False
    return False


def fork_end():
    """The end of the child's block: the child ends as with os._exit (no exit join, no
    atexit handlers, no finalization)."""
    sys.stdout.flush()
    os._exit(EXIT_FINISHED)


def wait_children():
    """Before the process ends: a forked child that hangs makes the program hang, one that
    fails makes it fail the same way (a verdict found in a child is the program's)."""
    for pid in _CHILDREN:
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != EXIT_FINISHED:
            os._exit(code)


# ---------------------------------------------------------------- program end and watchdog


def finish_host_python(me):
    """`host python`: main has returned; join the non-daemon threads, then finalization
    takes the GIL (a daemon thread holding it hangs the program), then the process ends.
    Before the join, the executors' exit hook shuts every pool down and waits for it."""
    for pool in list(_POOLS):
        pool.shut = True
        block(me, "native", pool.drained, (0, 0))
    for t in list(_THREADS):
        if t is not me and not t.daemon:
            block(me, "native", lambda t=t: t.done, (0, 0))
    for hook in globals().get("ATEXIT", []):  # Python's atexit handlers (Python code)
        hook(me, "python")
    GIL.take(me)
    sys.stdout.flush()
    wait_children()
    os._exit(EXIT_FINISHED)


def supervise(timeout):
    """Run this program as a child with a watchdog: a child still running after `timeout`
    seconds has hung; its threads' stacks are dumped (faulthandler, which needs no GIL)
    and the supervisor prints `hang` and exits 3. Otherwise the child's own exit code."""
    argv = [sys.executable, *sys.argv, "--realized-child"]
    child = subprocess.Popen(argv, start_new_session=True)
    try:
        code = child.wait(timeout)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGUSR1)
        time.sleep(0.3)
        os.killpg(child.pid, signal.SIGKILL)  # and the children it forked
        child.wait()
        sys.stdout.flush()
        print("hang", flush=True)
        sys.exit(EXIT_HANG)
    sys.exit(code)


def run_program(main_body, declared, steps, patience, host, timeout):
    """The realized program's entry point."""
    if "--realized-child" not in sys.argv:
        supervise(timeout)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    global STEER
    STEER = Steering(steps, patience)
    if STEER.active:
        threading.Thread(target=STEER.watch, daemon=True).start()
    me = RThread("main", 0, False)
    _ME.value = me
    _THREADS.append(me)
    with _STATE:
        try:
            for start in declared:
                start()
            main_body(me, "native")
            if host == "python":
                finish_host_python(me)
        except Exception:
            internal_error()
    sys.stdout.flush()
    wait_children()
    os._exit(EXIT_FINISHED)
# ---------------------------------------------------------------- end of the runtime
'''
