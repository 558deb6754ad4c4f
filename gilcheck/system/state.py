"""The state of a running spec: plain nested tuples, hashable, holding indices, never names.

State   = (threads, gil_owner, vars, locks, channels, stdout_owner, ended[, fork, interrupts,
           path, heap[, processes]])
(the last four only in programs that fork, have a `finalizer` or `signal` block, compute
on unknown values or make objects at run time: smaller states for the others; the
processes part only in programs that `spawn process`)
Thread  = (frames, status, gil_count, gil_mode, allow_stack, phase, daemon, self_index, origin)
Frame   = (code, pc, locals, context)
Channel = (buffer, senders, receiver_alive, closed, kind, capacity, is_global, pending,
           between_processes)
(pending: the rendezvous sender whose offer was taken but who has not gone on yet, or -1;
between_processes: True once a handle of it was passed to `spawn process`, so that it is
a multiprocessing queue, which pickles what it carries; handlers_processes.CARRIED once it
carried an object before that; else False)
fork: () in the first process; in a process made by `fork { }`, the forks that led to it,
each (forking thread, code, pc of the fork statement), outermost first.
interrupts: a bit per `finalizer`/`signal` block (in `Program.hooks` order) that has started.
path: (the number of wide `any` values made so far, the path condition: a sorted tuple of
boolean terms over the unknowns that hold on this path).
heap: the objects made at run time (`let m = mutex()`, `future()`), each
(kind, count, state, origin): its kind, its count (a barrier's parties), its state as its
primitive defines it, and where it was made as (code, pc). A value `("obj", i)` refers to
`heap[i]`; objects are numbered canonically (system/objects.py), not by creation.
processes: (current, owners, records). `owners[tid]` is the process thread `tid` belongs to;
`records[pid]` = (parent, main thread, daemon, channels, parts): the process that started it
(-1 for the first), the thread that runs its `g`, whether it is a daemon process, its copies
of the declared channels (("chan", cid) each; () in the first process, which has the
declared ones), and its own parts (gil, vars, stdout, ended, interrupts). The parts of the
`current` process (the first, in stored states) are the state's own gil, vars, stdout, ended
and interrupts, and its record holds None; a child's thread steps in a view of the state
with its process current (engine/handlers_processes.py). Each process has its own block of
the declared sync objects: process `pid`'s are at `pid * (number of declared objects)` on.
Sync objects (the `locks` part): kind by kind in the order of gilcheck/sync/registry.py,
each object's state the plain value its primitive (gilcheck/sync/<kind>.py) defines.
"""

from __future__ import annotations

from typing import Any

(
    S_THREADS,
    S_GIL,
    S_VARS,
    S_LOCKS,
    S_CHANS,
    S_STDOUT,
    S_ENDED,
    S_FORK,
    S_INTERRUPTS,
    S_PATH,
    S_HEAP,
    S_PROCS,
) = range(12)
# A run-time object in the heap: its kind, count, state and where it was made.
H_KIND, H_COUNT, H_STATE, H_ORIGIN = range(4)
T_FRAMES, T_STATUS, T_GILCOUNT, T_GILMODE, T_ALLOW, T_PHASE, T_DAEMON, T_SELF, T_ORIGIN = range(9)
F_CODE, F_PC, F_LOCALS, F_CTX = range(4)
C_BUF, C_SENDERS, C_RECEIVER, C_CLOSED, C_KIND, C_CAP, C_GLOBAL, C_PENDING, C_PROCESSES = range(9)

# Thread status.
# GONE: a thread of the parent that does not exist in a forked child; what it held stays
# held and what it owned stays alive.
# CHILD_JOIN: a process's main thread at its end, joining its child processes (daemon ones
# are terminated first), as multiprocessing's exit function does.
RUNNING, ENDED, EXIT_JOIN, FINALIZING, GONE, CHILD_JOIN = range(6)
# A process's parts, in its record.
PR_PARENT, PR_MAIN, PR_DAEMON, PR_CHANS, PR_PARTS = range(5)
# How a thread with a positive GIL count relates to the GIL.
GIL_NORMAL, GIL_LOST, GIL_BLOCKING = range(3)
# Execution context of a frame.
NATIVE, PYTHON = 0, 1
NO_THREAD = -1

State = tuple[Any, ...]
Thread = tuple[Any, ...]
Frame = tuple[Any, ...]
Channel = tuple[Any, ...]


class Work:
    """A copy-on-write working copy of a state, for building one successor."""

    __slots__ = (
        "_c",
        "_l",
        "_t",
        "_v",
        "chans",
        "ended",
        "extra",
        "gil",
        "locks",
        "stdout",
        "threads",
        "vars",
    )

    def __init__(self, state: State) -> None:
        try:  # the common, small state: unpacked without slicing or a length check
            (
                self.threads,
                self.gil,
                self.vars,
                self.locks,
                self.chans,
                self.stdout,
                self.ended,
            ) = state
            self.extra: list[Any] | None = None
        except ValueError:
            (
                self.threads,
                self.gil,
                self.vars,
                self.locks,
                self.chans,
                self.stdout,
                self.ended,
                *self.extra,
            ) = state
        self._t = self._v = self._l = self._c = False

    # The parts only programs that fork, interrupt or compute on unknowns have.
    @property
    def fork(self) -> tuple[tuple[int, int, int], ...]:
        return self.extra[0] if self.extra is not None else ()

    @fork.setter
    def fork(self, value: tuple[tuple[int, int, int], ...]) -> None:
        assert self.extra is not None
        self.extra[0] = value

    @property
    def interrupts(self) -> int:
        return self.extra[1] if self.extra is not None else 0

    @interrupts.setter
    def interrupts(self, value: int) -> None:
        assert self.extra is not None
        self.extra[1] = value

    @property
    def path(self) -> tuple[Any, ...]:
        return self.extra[2] if self.extra is not None else (0, ())

    @path.setter
    def path(self, value: tuple[Any, ...]) -> None:
        assert self.extra is not None
        self.extra[2] = value

    @property
    def procs(self) -> tuple[Any, ...]:
        assert self.extra is not None
        return self.extra[4]  # type: ignore[no-any-return]

    @procs.setter
    def procs(self, value: tuple[Any, ...]) -> None:
        assert self.extra is not None
        self.extra[4] = value

    def add_locks(self, block: tuple[Any, ...]) -> None:
        """Append a block of sync objects (a new process's declared ones)."""
        if not self._l:
            self.locks = list(self.locks)
            self._l = True
        self.locks.extend(block)

    @property
    def heap(self) -> tuple[Any, ...]:
        return self.extra[3] if self.extra is not None else ()

    def set_object(self, oid: int, entry: tuple[Any, ...]) -> None:
        """Replace run-time object `oid` (the heap is small: copied whole)."""
        assert self.extra is not None
        heap = self.extra[3]
        self.extra[3] = (*heap[:oid], entry, *heap[oid + 1 :])

    def add_object(self, entry: tuple[Any, ...]) -> int:
        """Add a run-time object; its number (until the state is put in canonical form)."""
        assert self.extra is not None
        self.extra[3] = (*self.extra[3], entry)
        return len(self.extra[3]) - 1

    def set_thread(self, tid: int, thread: Thread) -> None:
        if not self._t:
            self.threads = list(self.threads)
            self._t = True
        self.threads[tid] = thread

    def add_thread(self, thread: Thread) -> int:
        if not self._t:
            self.threads = list(self.threads)
            self._t = True
        self.threads.append(thread)
        return len(self.threads) - 1

    def set_var(self, slot: int, value: object) -> None:
        if not self._v:
            self.vars = list(self.vars)
            self._v = True
        self.vars[slot] = value

    def set_lock(self, index: int, value: object) -> None:
        if not self._l:
            self.locks = list(self.locks)
            self._l = True
        self.locks[index] = value

    def set_chan(self, index: int, chan: Channel) -> None:
        if not self._c:
            self.chans = list(self.chans)
            self._c = True
        self.chans[index] = chan

    def add_chan(self, chan: Channel) -> int:
        if not self._c:
            self.chans = list(self.chans)
            self._c = True
        self.chans.append(chan)
        return len(self.chans) - 1

    def freeze(self) -> State:
        threads = tuple(self.threads) if self._t else self.threads
        vars_ = tuple(self.vars) if self._v else self.vars
        locks = tuple(self.locks) if self._l else self.locks
        chans = tuple(self.chans) if self._c else self.chans
        if self.extra is None:
            return (threads, self.gil, vars_, locks, chans, self.stdout, self.ended)
        return (threads, self.gil, vars_, locks, chans, self.stdout, self.ended, *self.extra)


def heap_of(state: State) -> tuple[Any, ...]:
    """The run-time objects of a state (none in programs that make none)."""
    return state[S_HEAP] if len(state) > S_HEAP else ()


def fork_path(state: State) -> tuple[tuple[int, int, int], ...]:
    """The forks that led to this state's process (empty in the first process)."""
    return state[S_FORK] if len(state) > S_FORK else ()
