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
import concurrent.futures
import ctypes
import ctypes.util
import faulthandler
import itertools
import json
import os
import pickle
import queue as _queue
import random
import signal
import subprocess
import sys
import threading
import time

EXIT_FINISHED, EXIT_HANG, EXIT_ASSERTION, EXIT_PANIC, EXIT_MISUSE = 0, 3, 4, 5, 6
EXIT_INTERNAL = 7
EXIT_UNREALIZABLE = 8  # the run reached what the realization cannot map
_LIBC_NAME = ctypes.util.find_library("c")
_RELEASING = ctypes.CDLL(_LIBC_NAME)  # a call through CDLL releases the GIL while it runs
_KEEPING = ctypes.PyDLL(_LIBC_NAME)  # a call through PyDLL keeps the GIL while it blocks
_SEM_BYTES = 64  # at least sizeof(sem_t)


class _StateLock:
    """The lock every statement runs under, so that it is one atomic step as in the spec; a
    thread that must wait releases it and parks on its own semaphore. In a program that
    starts processes it is one lock for all of them (a `multiprocessing` lock), and taking
    it brings this process's copy of the objects they share up to date (`_World`)."""

    def __init__(self):
        self.local = threading.Lock()
        self.world = None
        self.owner = None

    def acquire(self):
        # With processes, `local` is this process's gate to the shared lock: a process
        # that ends keeps its gate, so that none of its threads takes the shared lock and
        # dies holding it.
        self.local.acquire()
        if self.world is not None:
            self.world.lock.acquire()
            self.world.load()
        self.owner = threading.get_ident()
        return True

    def release(self, closing=False):
        self.owner = None
        if self.world is not None:
            self.world.store()
            self.world.lock.release()
        if not closing:
            self.local.release()

    def mine(self):
        return self.owner == threading.get_ident()

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()


_STATE = _StateLock()
_PARKED = []
_STDOUT_LOCK = threading.Lock()  # only ever taken while holding _STATE, never while parked


def _violation(code, what):
    """A verdict other than a deadlock: report it and stop the whole program at once (with
    processes, every process stops with it: the verdict is written to what they share)."""
    with _STDOUT_LOCK:
        sys.stdout.flush()
        sys.stderr.write(what + "\n")
        sys.stderr.flush()
    end_process(code)


def end_process(code):
    """This process ends with `code`; the lock shared with other processes is let go."""
    sys.stdout.flush()
    if _STATE.world is not None and _STATE.mine():
        if code != EXIT_FINISHED:
            _STATE.world.verdict = code
        _STATE.release(closing=True)
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


_SERIAL = itertools.count(1)  # next() on it is atomic: threads may take keys at once


def new_key():
    """A name no other object of any process of the program has."""
    return (os.getpid(), next(_SERIAL))


_THREAD_KEYS = {}


class RemoteThread:
    """A thread of another process, as the objects shared with it name their holders."""

    def __init__(self, key, name):
        self.key = key
        self.name = name

    def __reduce__(self):
        return (_thread_ref, (self.key, self.name))


def _thread_ref(key, name):
    """A thread named in what processes share: this process's own, or a stand-in (one
    per thread, so that `is` tells holders apart as it does within a process)."""
    if key not in _THREAD_KEYS:
        _THREAD_KEYS[key] = RemoteThread(key, name)
    return _THREAD_KEYS[key]


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
        self.key = new_key()
        _THREAD_KEYS[self.key] = self

    def __reduce__(self):
        return (_thread_ref, (self.key, self.name))


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


POLL = 0.005  # seconds: with processes, how often a parked thread looks again


def park(me, keep_gil, timeout=None):
    """Wait for a wake_all, or `timeout` seconds (called and returning holding _STATE). With
    processes, no wake crosses a process: a parked thread looks again every POLL seconds,
    a thread that keeps the GIL keeping the real one as it waits."""
    me.parked = True
    me.woken = False
    _PARKED.append(me)
    _STATE.release()
    try:
        if _STATE.world is None:
            me.parker.park(keep_gil, timeout)
        elif not me.parker.timed_wait(_KEEPING if keep_gil else _RELEASING, POLL):
            if keep_gil and others_runnable(me.parker):
                me.parker.timed_wait(_RELEASING, 0.002)
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


def block(me, ctx, ready, where, then=None, timed=False, real=None):
    """Wait until `ready()` holds, then do `then()` at once, in the same step (called and
    returning holding _STATE; returns what `then` returns, or TIMED_OUT when a timed wait
    gives up). Native code that holds the GIL keeps it while it waits, the real one
    included; Python code releases it while it waits and takes it back after its
    operation; native code without it waits without it.

    `ready` may itself do the operation when it can (a standard-library object's
    non-blocking form: `Lock.acquire(False)`); it is tried only when the step may
    complete. `real(timeout)`, when given, is the object's own blocking call (whether it
    completed): unsteered, a thread that waits without keeping the GIL waits in it, outside
    the state lock, as a CPython program does."""
    if STEER.may_complete(me, where) and ready():
        return then() if then is not None else None
    if me.loop_task is not None and me.loop_task.suspending:
        me.loop_task.give_loop(me)  # an awaited operation that cannot complete yet
    gave_back = ctx == "python" and GIL.holds(me)
    if gave_back:
        GIL.give(me)
    keep = keeps_gil(me, ctx)
    STEER.blocking(me, where)
    deadline = time.monotonic() + TIMED_WAIT
    really = real is not None and not keep and _STATE.world is None
    while True:
        if really and not STEER.active:  # unsteered, or the trace has been followed
            result = wait_really(me, real, then, timed)
            break
        if STEER.may_complete(me, where) and ready():
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


def wait_really(me, real, then, timed):
    """Wait in the object's own blocking call, outside the state lock (which a thread
    waiting in it does not hold in the spec either), releasing the real GIL as it does."""
    me.parked = True  # not runnable: no GIL is lent to it
    _STATE.release()
    try:
        completed = real(TIMED_WAIT if timed else None)
    finally:
        _STATE.acquire()
        me.parked = False
    wake_all()  # a thread polling the same object may go on now (room in a queue, ...)
    if not completed:
        return TIMED_OUT
    return then() if then is not None else None


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


# ---------------------------------------------------------------- what processes share

PROCESSES = False  # whether the program starts processes (`spawn process`)
LOOPS = False  # whether it has event loops
REAL_POOLS = False  # whether pools are `ThreadPoolExecutor`s (unsteered, no processes, no fork)
WORLD_BYTES = 1 << 22
_SHARED = {}  # key -> this process's copy of an object shared between processes


class _World:
    """What the processes of a program share, pickled into shared memory and guarded by
    the one state lock: the objects passed between processes, the steering, the count of
    spawned threads by function and a verdict. Each process keeps its own copy of each
    shared object; taking the lock brings the copies up to date, letting it go writes
    them back. Holders are named by thread (`_thread_ref`), so `is` works as before."""

    def __init__(self, lock, memory):
        self.lock = lock
        self.memory = memory
        self.version = -1
        self.written = b""
        self.verdict = None

    @staticmethod
    def make():
        """The world of a program's first process: shared memory (an anonymous mapping,
        inherited by processes started with spawn) that starts with the lock, a POSIX
        semaphore shared between processes, so that no named object outlives a run."""
        import multiprocessing

        memory = multiprocessing.get_context("spawn").RawArray(ctypes.c_char, WORLD_BYTES)
        if _RELEASING.sem_init(memory, 1, 1) != 0:
            raise OSError("sem_init failed")
        return _World(_WorldLock(memory), memory)

    def __reduce__(self):
        return (_World, (self.lock, self.memory))

    def load(self):
        base = ctypes.addressof(self.memory) + _SEM_BYTES
        version = ctypes.c_longlong.from_address(base).value
        if version != self.version:
            size = ctypes.c_longlong.from_address(base + 8).value
            self.version = version
            self.written = ctypes.string_at(base + 16, size) if size else b""
            if size:
                world = pickle.loads(self.written)
                for obj, fields in world["objects"]:
                    obj.__dict__.update(fields)
                _SPAWNED.clear()
                _SPAWNED.update(world["spawned"])
                STEER.at, STEER.active, STEER.moved = world["steer"]
                self.verdict = world["verdict"]
        if self.verdict is not None:  # another process has ended the program
            self.lock.release()
            sys.stdout.flush()
            os._exit(self.verdict)

    def store(self):
        world = {
            "objects": [(o, {f: o.__dict__[f] for f in o.FIELDS}) for o in _SHARED.values()],
            "spawned": dict(_SPAWNED),
            "steer": (STEER.at, STEER.active, STEER.moved),
            "verdict": self.verdict,
        }
        data = pickle.dumps(world)
        if data == self.written:
            return
        if len(data) > WORLD_BYTES - _SEM_BYTES - 16:
            sys.stderr.write("the objects processes share outgrew their memory\n")
            self.verdict = EXIT_INTERNAL
            data = pickle.dumps({**world, "objects": [], "verdict": EXIT_INTERNAL})
        base = ctypes.addressof(self.memory) + _SEM_BYTES
        ctypes.memmove(base + 16, data, len(data))
        ctypes.c_longlong.from_address(base + 8).value = len(data)
        self.version += 1
        ctypes.c_longlong.from_address(base).value = self.version
        self.written = data


class _WorldLock:
    """The lock at the head of the world's memory: taken without giving the real GIL up
    when it is free, as `threading.Lock` is; waited for without it otherwise."""

    def __init__(self, memory):
        self.memory = memory

    def __reduce__(self):
        return (_WorldLock, (self.memory,))

    def acquire(self):
        if _KEEPING.sem_trywait(self.memory) == 0:
            return
        while _RELEASING.sem_wait(self.memory) != 0:
            pass

    def release(self):
        _RELEASING.sem_post(self.memory)


class Shared:
    """An object that can be passed to another process: once shared, its FIELDS live in
    the world, and it pickles as a reference to its key."""

    FIELDS = ()
    key = None

    def share(self):
        if self.key is None:
            self.key = new_key()
            _SHARED[self.key] = self

    def __reduce__(self):
        if self.key is None:
            raise pickle.PicklingError(f"{self.name} is not shared")
        consts = {k: v for k, v in self.__dict__.items() if k not in self.FIELDS and k != "key"}
        return (_shared_ref, (self.key, type(self).__name__, consts))


def _shared_ref(key, class_name, consts):
    """This process's copy of a shared object (made on first sight; its fields come with
    the next load of the world)."""
    if key not in _SHARED:
        cls = globals()[class_name]
        obj = cls.__new__(cls)
        obj.__dict__.update(consts)
        obj.key = key
        _SHARED[key] = obj
    return _SHARED[key]


def queue_cannot_carry(v):
    """What in `v` a multiprocessing queue cannot carry (a resource, future, pool, loop,
    channel or handle), named; None for data and Python values."""
    if isinstance(v, (Handle, Channel)):
        return "a channel handle"
    if isinstance(v, tuple):
        for x in v:
            found = queue_cannot_carry(x)
            if found is not None:
                return found
        return None
    kind = getattr(v, "kind", None)
    if isinstance(kind, str):
        article = "an" if kind[0] in "aeiu" else "a"
        name = getattr(v, "name", None)
        return f"{article} {kind}" + (f" ({name})" if isinstance(name, str) else "")
    return None


def share_value(v, where, passing):
    """Everything `v` reaches becomes shared with other processes: resources and
    channels; what cannot be pickled is a misuse when passed to `spawn process`."""
    if isinstance(v, Handle):
        share_value(v.channel, where, passing)
    elif isinstance(v, tuple):
        for x in v:
            share_value(x, where, passing)
    elif isinstance(v, Shared):
        if v.key is None:
            carried = getattr(v, "carried", None)
            if passing and carried is not None:
                _violation(
                    EXIT_MISUSE,
                    f"misuse: {v.name} passed to a process at {where} after it "
                    f"carried {carried} (a multiprocessing queue pickles what it carries)",
                )
            v.share()
            for message in getattr(v, "buffer", ()):  # what a channel holds goes with it
                share_value(message, where, passing)
    elif hasattr(v, "kind"):
        if passing:
            _violation(EXIT_MISUSE, f"misuse: {show(v)} cannot be passed to a process at {where}")
        _violation(
            EXIT_UNREALIZABLE,
            f"not realizable: {show(v)} sent to another process at {where} (gilcheck shares "
            "it; multiprocessing cannot pickle it)",
        )


# ---------------------------------------------------------------- resources


class _Acquirable(Shared):
    """A resource `acquire` takes; `real`, when set, is its standard-library object."""

    FOREVER = -1  # `threading.Lock.acquire`'s timeout for none (`Semaphore`'s is None)
    real = None

    def blocking(self):
        """The standard-library object's own blocking acquire, as `block` calls it."""
        if self.real is None:
            return None

        def lock_acquire(timeout):  # the name a hang's stack dump shows
            return self.real.acquire(True, self.FOREVER if timeout is None else timeout)

        return lock_acquire


class Mutex(_Acquirable):
    """A `threading.Lock`; in a program with processes, the runtime's own lock (shared
    between processes). `holder` is the spec's view of who holds it."""

    kind = "mutex"
    FIELDS = ("holder",)

    def __init__(self, name):
        self.name = name
        self.holder = None
        self.real = None if PROCESSES else threading.Lock()

    def ready(self, me):
        """Whether it can be taken now; a `threading.Lock` is taken by the test itself."""
        if self.real is not None:
            return self.real.acquire(False)
        return self.holder is None

    def take(self, me):
        self.holder = me.who

    def release(self, me):
        free = self.holder is None if self.real is None else not self.real.locked()
        if free:
            _violation(EXIT_MISUSE, f"misuse: {me.name} releases {self.name}, which is free")
        if self.real is not None:
            self.real.release()
        self.holder = None
        wake_all()


class RLock(_Acquirable):
    """A `threading.RLock`; the runtime's own in a program with processes or event loops
    (whose tasks run on threads of their own here but own locks as their loop's thread),
    and for stdout's lock (Rust's, reentrant)."""

    kind = "rlock"
    FIELDS = ("holder", "count")

    def __init__(self, name, own=False):
        self.name = name
        self.holder = None
        self.count = 0
        self.real = None if own or PROCESSES or LOOPS else threading.RLock()

    def ready(self, me):
        if self.real is not None:
            return self.real.acquire(False)
        return self.holder is None or self.holder is me.who

    def take(self, me):
        self.holder = me.who
        self.count += 1

    def release(self, me):
        if self.holder is not me.who:
            _violation(EXIT_MISUSE, f"misuse: {me.name} releases {self.name}, not its own")
        if self.real is not None:
            self.real.release()
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


class Semaphore(_Acquirable):
    """A `threading.Semaphore`; the runtime's own in a program with processes."""

    kind = "semaphore"
    FIELDS = ("count",)
    FOREVER = None

    def __init__(self, name, count):
        self.name = name
        self.count = count
        self.real = None if PROCESSES else threading.Semaphore(count)

    def ready(self, me):
        if self.real is not None:
            return self.real.acquire(False)
        return self.count > 0

    def take(self, me):
        self.count -= 1

    def release(self, me):
        self.count += 1
        if self.real is not None:
            self.real.release()
        wake_all()


class Event(Shared):
    """A `threading.Event`; the runtime's own in a program with processes. `flag` and
    `sets` (how many times it was set) are the spec's view, kept with it."""

    kind = "event"
    FIELDS = ("flag", "sets")

    def __init__(self, name):
        self.name = name
        self.flag = False
        self.sets = 0
        self.real = None if PROCESSES else threading.Event()


class Condvar(Shared):
    kind = "condvar"
    FIELDS = ("waiters", "notified")

    def __init__(self, name):
        self.name = name
        self.waiters = []  # the waiting threads' tickets, oldest first
        self.notified = set()  # tickets notified whose thread has not woken yet


class Barrier(Shared):
    kind = "barrier"
    FIELDS = ("arrived", "generation")

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


class Latch(Shared):
    kind = "latch"
    FIELDS = ("count",)

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
    ready, take = lambda: res.ready(me), lambda: res.take(me)  # noqa: E731
    return block(me, ctx, ready, where, take, timed, res.blocking()) is not TIMED_OUT


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
    real = None
    if ev.real is not None:
        real = lambda timeout: wait_event_really(ev, seen, timeout)  # noqa: E731
    return block(me, ctx, lambda: ev.sets != seen, where, None, timed, real) is not TIMED_OUT


def wait_event_really(ev, seen, timeout):
    """`threading.Event.wait`, in slices: a set cleared again before this thread began to
    wait in it still wakes it, as the spec's waiter was waiting then."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = 0.05 if deadline is None else min(0.05, max(deadline - time.monotonic(), 0))
        if ev.real.wait(left) or ev.sets != seen:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def wait_latch(me, ctx, latch, where, timed=False):
    return block(me, ctx, lambda: latch.count == 0, where, None, timed) is not TIMED_OUT


def set_event(ev):
    ev.flag = True
    ev.sets += 1
    if ev.real is not None:
        ev.real.set()
    wake_all()


def clear_event(ev):
    ev.flag = False
    if ev.real is not None:
        ev.real.clear()


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
    ticket = (new_key(), me.name)
    cv.waiters.append(ticket)
    levels = m.count if isinstance(m, RLock) else 1  # an rlock is released entirely
    for _ in range(levels):
        m.release(me)
    woken = block(me, ctx, lambda: ticket in cv.notified, where, None, timed) is not TIMED_OUT
    cv.notified.discard(ticket)
    if not woken and ctx != "python" and ticket in cv.waiters:
        cv.waiters.remove(ticket)
    block(me, ctx, lambda: m.ready(me), where, lambda: m.take(me), False, m.blocking())
    for _ in range(levels - 1):  # ... and retaken as deep as it was held
        m.ready(me)
        m.take(me)
    if not woken and ticket in cv.waiters:
        cv.waiters.remove(ticket)
    cv.notified.discard(ticket)  # notified while it took the mutex back after a timeout
    return woken


def notify(cv, everyone):
    woken = cv.waiters if everyone else cv.waiters[:1]
    named = STEER.woken()
    if not everyone and named is not None:  # steered: the waiter the trace wakes
        woken = [t for t in cv.waiters if t[1] == named][:1] or woken
    cv.notified.update(woken)
    for ticket in woken:
        cv.waiters.remove(ticket)
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
        self.real = concurrent.futures.Future()  # never shared with another process


def settle(fut, value, where):
    if isinstance(value, (Handle, ThreadHandle)):
        _violation(EXIT_MISUSE, f"misuse: a future completed with a handle at {where}")
    fut.done = True
    fut.value = value
    fut.real.set_result(value)
    wake_all()


def complete(fut, value, where):
    if fut.done or fut.by_submit:
        _violation(EXIT_MISUSE, f"misuse: {fut.name} completed twice or made by submit, at {where}")
    settle(fut, value, where)


def result(me, ctx, fut, where, timed=False):
    """`result f`; timed: ok(value) or err("timeout")."""
    got = block(
        me, ctx, lambda: fut.done, where, lambda: ("ok", fut.value), timed, result_really(fut)
    )
    if not timed:
        return got[1]
    return ("err", "timeout") if got is TIMED_OUT else got


def result_really(fut):
    """`concurrent.futures.Future.result`, as `block` calls it."""

    def future_result(timeout):
        try:
            fut.real.result(timeout)
            return True
        except concurrent.futures.TimeoutError:
            return False

    return future_result


def is_done(fut):
    return the(fut, "future", "is_done").done


_POOLS = []


class Pool:
    """A `ThreadPoolExecutor(max_workers)`: tasks queued in order, taken by idle workers;
    a new worker starts at a submit when none is idle and fewer than the maximum exist.

    Unsteered, in a program without processes and `fork`, it is a real
    `concurrent.futures.ThreadPoolExecutor` (`real`), whose own threads run the tasks;
    otherwise the runtime's own, whose workers a steered run can follow by name."""

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
        self.real = None
        if REAL_POOLS:
            self.real = concurrent.futures.ThreadPoolExecutor(
                max_workers, thread_name_prefix=workers_name
            )
        self.pending = 0  # real: tasks submitted and not yet finished
        _POOLS.append(self)

    def drained(self):
        if self.real is not None:
            return self.pending == 0
        return not self.queue and self.running == 0

    def shutdown_really(self):
        """The executor's own `shutdown(wait=True)`, as `block` calls it (None: none)."""
        if self.real is None:
            return None

        def executor_shutdown(timeout):
            self.real.shutdown(wait=True)
            return True

        return executor_shutdown


_POOL_THREAD = threading.local()


def submit_really(pool, body, args, fut):
    """A task of a real `ThreadPoolExecutor`: it runs on the executor's own thread, as a
    realized thread of its own (named as the pool's workers are), in native code."""

    def task():
        with _STATE:
            me = getattr(_POOL_THREAD, "value", None)
            if me is None:  # the executor started this thread for this task
                me = RThread(f"{pool.workers_name}#{len(pool.workers) + 1}", 0, True)
                me.thread = threading.current_thread()
                _POOL_THREAD.value = me
                pool.workers.append(me)
                _THREADS.append(me)
            _ME.value = me
            try:
                value = body(me, "native", *args)
                stmt(me, "native", pool.finish_where)
                pool.pending -= 1
                settle(fut, value, pool.finish_where)
            except Exception:
                internal_error()

    pool.pending += 1
    pool.real.submit(task)


def submit(me, pool, body, args, where):
    if isinstance(pool, Loop):
        return submit_task(me, pool, body, args, where)
    if pool.shut:
        _violation(EXIT_MISUSE, f"misuse: submit to {pool.name} after its shutdown, at {where}")
    fut = Future(f"the future of a task of {pool.name}", True)
    if pool.real is not None:
        submit_really(pool, body, args, fut)
        return fut
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
    block(me, ctx, pool.drained, where, None, False, pool.shutdown_really())


# ---------------------------------------------------------------- channels


class Channel(Shared):
    """A channel with the spec's exact semantics: `capacity` None is unbounded, 0 a
    rendezvous (the sender waits until its message is taken)."""

    FIELDS = ("buffer", "senders", "receiver", "closed", "taken")

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
        # The first thing it carried that a multiprocessing queue cannot, shown, while it
        # is not shared with a process: passing it to one then is a misuse.
        self.carried = None
        # `queue(N)` is a `queue.Queue` (the runtime's own buffer with processes).
        self.real = _queue.Queue(capacity or 0) if kind == "queue" and not PROCESSES else None

    def ended(self):
        """Whether a receive returns none: closed, or every sender dropped (a `queue(N)`
        never closes)."""
        if self.kind == "queue":
            return False
        return self.closed or (not self.declared and self.senders == 0)

    def can_send(self):
        if self.capacity is None:
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
        elif ch.kind == "queue":
            ch.receiver = False  # a `queue.Queue` keeps its items for whoever still has it
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
    if ch.real is not None:
        return queue_put(me, ctx, ch, value, where)

    def put():
        if ch.receiver_gone():
            return False
        if ch.key is not None:
            held = queue_cannot_carry(value)
            if held is not None:
                _violation(
                    EXIT_MISUSE,
                    f"misuse: {held} sent on a channel passed to a process at {where} (a "
                    "multiprocessing queue pickles what it carries)",
                )
            share_value(value, where, False)
        elif PROCESSES and ch.carried is None:
            ch.carried = queue_cannot_carry(value)
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


def queue_put(me, ctx, ch, value, where):
    """`send` on a `queue(N)`: `queue.Queue.put`, which never fails (it waits for room)."""

    def now():
        try:
            ch.real.put_nowait(value)
        except _queue.Full:
            return False
        wake_all()
        return True

    def queue_put_really(timeout):
        ch.real.put(value)
        return True

    block(me, ctx, now, where, None, False, queue_put_really)
    return ("ok", None)


def queue_get(me, ctx, ch, where, timed):
    """`recv` on a `queue(N)`: `queue.Queue.get`."""
    got = []

    def now():
        try:
            got.append(ch.real.get_nowait())
        except _queue.Empty:
            return False
        wake_all()
        return True

    def queue_get_really(timeout):
        try:
            got.append(ch.real.get(True, timeout))
        except _queue.Empty:
            return False
        return True

    return block(me, ctx, now, where, lambda: ("ok", got.pop()), timed, queue_get_really)


def recv(me, ctx, ref, where, timed=False):
    """`recv`; timed: ok(message) or err("timeout")."""
    ch = channel_of(ref, "rx", where)
    ready = lambda: bool(ch.buffer) or ch.ended()  # noqa: E731
    if ch.real is not None:
        got = queue_get(me, ctx, ch, where, timed)
    else:
        got = block(me, ctx, ready, where, lambda: ("ok", take_message(ch)), timed)
    if not timed:
        return got[1]
    return ("err", "timeout") if got is TIMED_OUT else got


def take_message(ch):
    if ch.real is not None:
        try:
            message = ch.real.get_nowait()
        except _queue.Empty:
            return None
        wake_all()
        return message
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
    ch = channel_of(ref, "rx", where)
    return ch.real.qsize() if ch.real is not None else len(ch.buffer)


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


class ProcessHandle:
    """A child process started by `spawn process`, as its parent holds it."""

    kind = "process"

    def __init__(self, name, process, daemon):
        self.name = name
        self.process = process
        self.daemon = daemon

    def ended(self):
        code = self.process.exitcode
        if code not in (None, EXIT_FINISHED, -signal.SIGTERM):
            _violation(EXIT_INTERNAL, f"internal error: process {self.name} failed ({code})")
        return code is not None


_PROCESSES = []  # this process's children, in the order they started


def spawn_process(me, ctx, function_name, daemon, body, args, where):
    """`spawn process g(a)`: a new OS process (multiprocessing, start method spawn: fresh
    copies of every global), whose main thread runs `g`. Passed resources and channels are
    shared with it; Python values are pickled under this process's GIL."""
    if _DAEMON_PROCESS:
        _violation(
            EXIT_MISUSE,
            f"misuse: a daemon process cannot start processes, at {where} (multiprocessing: "
            "daemonic processes are not allowed to have children)",
        )
    for a in args:
        share_value(a, where, True)  # what cannot be pickled is a misuse
    if any(is_python_value(a) for a in args):
        need_gil_for_step(me, ctx, where)
    _SPAWNED[function_name] += 1
    name = f"{function_name}#{_SPAWNED[function_name]}"
    import multiprocessing

    process = multiprocessing.get_context("spawn").Process(
        target=_process_main,
        args=(_STATE.world, name, body.__name__, args, STEER.patience, daemon),
        name=name,
    )
    sys.stdout.flush()
    process.start()
    handle = ProcessHandle(name, process, daemon)
    _PROCESSES.append(handle)
    return handle


_DAEMON_PROCESS = False  # whether this process was started by `spawn daemon process`


def _process_main(world, name, body_name, args, patience, daemon):
    """A child process: its main thread runs the function, then the process ends as
    multiprocessing's bootstrap ends it (`finish_child`)."""
    global STEER, _DAEMON_PROCESS
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    _DAEMON_PROCESS = daemon
    _STATE.world = world
    STEER = Steering(STEPS, patience)
    for loop in _LOOPS:
        loop.threadless = True  # a child's copies of declared loops have no thread
    me = RThread(name, 0, False)
    _ME.value = me
    _THREADS.append(me)
    with _STATE:
        try:
            globals()[body_name](me, "native", *args)
            finish_child(me)
        except Exception:
            internal_error()


# Set by bench/conformance to confirm a daemon child's own deadlock, which its parent's
# end would otherwise cut short: daemon children are then joined, not terminated.
JOIN_DAEMONS = os.environ.get("GILCHECK_REALIZED_JOIN_DAEMONS") == "1"


def end_children(me):
    """Daemon child processes are terminated, the others joined."""
    for handle in list(_PROCESSES):
        if handle.daemon and not JOIN_DAEMONS and handle.process.exitcode is None:
            handle.process.terminate()  # it cannot hold the state lock: this thread does
            handle.process.join()
        block(me, "native", handle.ended, (0, 0))


def finish_child(me):
    """A child process's end, as multiprocessing's bootstrap: its own child processes
    ended, its pools shut down, its non-daemon threads joined, then finalization takes
    its GIL; no atexit handlers."""
    end_children(me)
    shut_pools_down(me)
    join_threads(me)
    GIL.take(me)
    wait_children()
    end_process(EXIT_FINISHED)


def shut_pools_down(me):
    """The executors' exit hook: every pool shut down, and its tasks waited for."""
    for pool in list(_POOLS):
        pool.shut = True
        block(me, "native", pool.drained, (0, 0), None, False, pool.shutdown_really())


def join_threads(me):
    """The exit join: every non-daemon thread of this process but `me` has ended."""
    for t in list(_THREADS):
        if t is not me and not t.daemon:
            block(me, "native", lambda t=t: t.done, (0, 0))


def join(me, ctx, handle, where, timed=False):
    if isinstance(handle, ProcessHandle):
        block(me, ctx, handle.ended, where, None, timed)
        return handle.ended()
    if not isinstance(handle, ThreadHandle):
        _violation(EXIT_MISUSE, f"misuse: {show(handle)} is not a thread at {where}")
    thread = handle.rthread.thread  # None for main

    def thread_join(timeout):
        thread.join(timeout)
        return not thread.is_alive()

    real = thread_join if thread is not None else None
    block(me, ctx, lambda: handle.rthread.done, where, None, timed, real)
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


STDOUT = RLock("stdout's lock", own=True)


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

    def woken(self):
        """The thread the current step's `notify` wakes, when steered."""
        step = self.current()
        return step[5] if step is not None else None

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
        if _STATE.world is not None:  # the child shares nothing with other processes:
            _STATE.world = _World.make()  # a world of its own, for the processes it starts
            _STATE.world.lock.acquire()  # held, as this thread holds the state lock
            _STATE.owner = threading.get_ident()
        _PROCESSES.clear()
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
            end_process(code)


# ---------------------------------------------------------------- program end and watchdog


def finish_host_python(me):
    """`host python`: main has returned; join the non-daemon threads, then finalization
    takes the GIL (a daemon thread holding it hangs the program), then the process ends.
    Before the join, the executors' exit hook shuts every pool down and waits for it."""
    shut_pools_down(me)
    join_threads(me)
    for hook in globals().get("ATEXIT", []):  # Python's atexit handlers (Python code)
        hook(me, "python")
    end_children(me)
    GIL.take(me)
    sys.stdout.flush()
    wait_children()
    end_process(EXIT_FINISHED)


def supervise(timeout):
    """Run this program as a child with a watchdog: a child still running after `timeout`
    seconds has hung; its threads' stacks are dumped (faulthandler, which needs no GIL)
    and the supervisor prints `hang` and exits 3. Otherwise the child's own exit code."""
    argv = [sys.executable, *sys.argv, "--realized-child"]
    child = subprocess.Popen(argv, start_new_session=True)
    try:
        code = child.wait(timeout)
    except subprocess.TimeoutExpired:
        _signal_group(child, signal.SIGUSR1)  # each process dumps its threads' stacks
        time.sleep(0.3)
        _signal_group(child, signal.SIGKILL)  # and the processes it started
        child.wait()
        sys.stdout.flush()
        print("hang", flush=True)
        sys.exit(EXIT_HANG)
    _signal_group(child, signal.SIGKILL)  # a daemon process left behind
    sys.exit(code)


def _signal_group(child, number):
    try:
        os.killpg(child.pid, number)
    except ProcessLookupError:
        pass


def run_program(main_body, declared, steps, patience, host, timeout):
    """The realized program's entry point."""
    if "--realized-child" not in sys.argv:
        supervise(timeout)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    global STEER
    STEER = Steering(steps, patience)
    if PROCESSES:
        _STATE.world = _World.make()
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
            wait_children()
            end_process(EXIT_FINISHED)
        except Exception:
            internal_error()
# ---------------------------------------------------------------- end of the runtime
'''
