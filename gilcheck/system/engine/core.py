"""The engine: one class made of its parts (see __init__.py), and the handler table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.ownership import private_locks
from gilcheck.semantics.values import (
    Term,
    Value,
)
from gilcheck.symbolic.paths import PathCondition, conjoin
from gilcheck.system.expr import Evaluator
from gilcheck.system.memo import IdentityMemo
from gilcheck.system.model import Transition
from gilcheck.system.state import Frame, State, Thread, Work

if TYPE_CHECKING:
    from gilcheck.symbolic.solver import Solver
from gilcheck.system.engine.common import (
    Prepared,
    _small_constant_range,
)
from gilcheck.system.engine.footprints import Footprints
from gilcheck.system.engine.handlers_channels import (
    ChannelHandlers,
)
from gilcheck.system.engine.handlers_control import (
    ControlHandlers,
)
from gilcheck.system.engine.handlers_data import (
    DataHandlers,
)
from gilcheck.system.engine.handlers_gil import (
    GilHandlers,
)
from gilcheck.system.engine.handlers_loops import loop_units
from gilcheck.system.engine.handlers_pools import worker_codes
from gilcheck.system.engine.handlers_processes import ProcessHandlers
from gilcheck.system.engine.preparation import (
    Preparation,
)
from gilcheck.system.engine.scheduling import (
    Scheduling,
)
from gilcheck.system.engine.stubborn import StubbornSets

# The private locks of the last few programs: a check, its replay and its analyses build
# several engines of one program.
_PRIVATE_LOCKS: IdentityMemo[frozenset[tuple[str, int]]] = IdentityMemo(16)


def _private_locks(program: ir.Program) -> frozenset[tuple[str, int]]:
    known = _PRIVATE_LOCKS.get(program)
    return known if known is not None else _PRIVATE_LOCKS.put(program, private_locks(program))


class Engine(
    Scheduling,
    Footprints,
    Preparation,
    DataHandlers,
    ControlHandlers,
    GilHandlers,
    ChannelHandlers,
    ProcessHandlers,
):
    """The transition system of one program (implements model.TransitionSystem)."""

    def __init__(self, program: ir.Program, options: CheckOptions) -> None:
        self.program = program
        self.options = options
        self.merge_local_steps = options.merge_local_steps
        # The ample set of one thread's local steps (a partial-order reduction); traces of
        # a symmetry-reduced search are rebuilt without it (explore/symmetric.py). Set
        # below: off in programs with private locks.
        self.ample = True
        # With `gil off` the GIL slot of a state holds the thread whose stop-the-world pause
        # is pending (or -1); attaching waits while another thread's pause is pending.
        self.gil_off = program.gil == "off"
        self.has_progress = any(
            isinstance(instr, ir.Progress) for code in program.codes for instr in code.instrs
        )
        self._pure_memo: dict[Thread, Thread] = {}
        # A fork copies the whole state, so it sees whether a release (of a lock, the GIL,
        # a handle at a scope's end) has happened yet: releases do not commute with it and
        # are not merged into the step before in a program that forks.
        # Only code that can run counts: a model's helpers that the spec never calls do not
        # change how the spec's own steps are merged.
        running = [program.codes[ci] for ci in sorted(reachable_codes(program))]
        self.has_fork = any(
            isinstance(instr, ir.ForkBegin) for code in running for instr in code.instrs
        )
        # Timed waits and `try_acquire` see a lock held for a moment, a thread not yet ended
        # or a channel not yet closed: a release, a thread's end or a dropped handle is no
        # longer invisible to others, so in such programs only pure steps are merged.
        self.watches_windows = any(
            getattr(instr, "timed", False)
            or (isinstance(instr, ir.SyncOp) and instr.verb == "try_acquire")
            for code in running
            for instr in code.instrs
        )
        self.codes = program.codes
        # Locks only one thread can touch: taking one that is free is merged like a local
        # step (semantics/ownership.py).
        self.private_locks = _private_locks(program) if options.merge_local_steps else frozenset()
        # A loop of local steps and private locks is merged step by step for ever; an
        # ample set of that one thread would then keep every other thread from moving
        # (the ignoring problem), so such programs are explored without ample sets.
        self.ample = not self.private_locks
        self.lock_offset = self._lock_offsets(program)
        # Thread pools: each pool's worker loop, and the sites of its primitive's steps.
        self._worker_codes, self._made_worker_codes = worker_codes(program, self.lock_offset)
        self._executor_sites = {}
        self.has_pools = bool(self._worker_codes) or bool(self._made_worker_codes)
        self.pool_slots = tuple(self._worker_codes)  # declared pools: their queues hold values
        # Event loops: each loop's thread (its id set with the initial state) and tasks.
        self._loop_thread_codes, self._loop_task_codes = loop_units(program, self.lock_offset)
        first = sum(info.size or 1 for info in program.threads)
        self.loop_threads = {
            slot: first + i for i, slot in enumerate(sorted(self._loop_thread_codes))
        }
        self.has_loops = bool(self._loop_thread_codes)
        self.thread_ids: dict[tuple[int, int], int] = {}
        self.main_tid = -1
        # `atexit` blocks run last declared first, as Python's and C's atexit handlers run
        # last registered first (and static destructors in reverse order of construction).
        self.atexit_codes = tuple(
            reversed([code for kind, code in program.hooks if kind == "atexit"])
        )
        # `finalizer` and `signal` blocks: (bit in the state's interrupts, kind, code).
        self.interrupts = tuple(
            (1 << i, kind, code)
            for i, (kind, code) in enumerate(program.hooks)
            if kind in ("finalizer", "signal")
        )
        # Unknown values: each `param` is a term; `any` over a wide range makes a fresh one.
        self.params: tuple[Value, ...] = tuple(
            Term("param", (i, info.name)) for i, info in enumerate(program.params)
        )
        self.symbolic = bool(self.params) or any(
            isinstance(instr, ir.AnyInt) and not _small_constant_range(instr)
            for code in program.codes
            for instr in code.instrs
        )
        self.solver: Solver
        if self.symbolic:  # z3 is imported only by specs that need it
            from gilcheck.symbolic.solver import Solver

            self.solver = Solver()
        self.domain: PathCondition = ()
        for term, info in zip(self.params, program.params, strict=True):
            self.domain = conjoin(self.domain, Term("<=", (info.low, term)))
            self.domain = conjoin(self.domain, Term("<", (term, info.high)))
        # States carry the fork path, the started interrupts and the path condition only
        # where they can change.
        # Objects made at run time (`let m = mutex()`, `future()`) are kept in the state's
        # heap; they and channels made at run time are named canonically after every step
        # (system/objects.py).
        self.heap = any(
            isinstance(instr, ir.MakeObject | ir.Submit)
            for code in program.codes
            for instr in code.instrs
        )
        self.objects = self.heap or any(
            isinstance(instr, ir.MakeChannel) for code in program.codes for instr in code.instrs
        )
        self.declared_channels = sum(chan.size or 1 for chan in program.channels)
        # Statements on objects whose kind is known only at run time, by kind (their sites
        # are made once), and every declared object's count.
        self._dynamic_sites = {}
        self._declared_counts = {
            (info.kind, info.base + i): info.count or 0
            for info in program.resources
            for i in range(info.size or 1)
        }
        # Processes (`spawn process`): states carry every process's parts; each steps in a
        # view of its own (handlers_processes.py). A process deadlocked while others run is
        # judged in states that still have steps, so no ample set of one thread is taken.
        spawns = [
            instr
            for code in program.codes
            for instr in code.instrs
            if isinstance(instr, ir.SpawnFn) and instr.process
        ]
        self.has_processes = bool(spawns)
        self.passes_channels = any(
            isinstance(arg, ir.Local | ir.GlobalVar | ir.Builtin)
            for instr in spawns
            for arg in instr.args
        )
        if self.has_processes:
            self.ample = False
        self.lock_block = sum(info.size or 1 for info in program.resources)
        # Pure statements of Python code are merged while their thread holds the GIL
        # (Reduction._pure_at), except where a statement boundary is also where a
        # finalizer, a signal, a stop-the-world pause or another process may come in, or
        # where the GIL is an event loop's.
        self.python_merge = not (
            self.gil_off or self.interrupts or self.has_processes or self.has_loops or self.has_fork
        )
        # Calls and returns that move plain data only are merged too (Reduction), except
        # where a frame's end can mean more than a return: a pool task's or event loop
        # task's end, a child process's, an interrupt's. (Persistent sets read what a
        # step touches from the statements merged after it within one function; past a
        # merged call the step can only go on with releases, GIL exits and private locks,
        # since their programs have no handles or objects: steps that only let others
        # go on, which no thread outside the set can touch first.)
        self.calls_merge = not (
            self.interrupts or self.has_processes or self.has_loops or self.has_pools
        )
        self.extended = (
            bool(self.interrupts)
            or self.symbolic
            or self.has_fork
            or self.heap
            or self.has_processes
        )
        self.handlers: dict[type, Callable[..., bool]] = {
            ir.Assign: self._assign,
            ir.Recv: self._recv,
            ir.TryRecv: self._try_recv,
            ir.Send: self._send,
            ir.CloneHandle: self._clone,
            ir.Unwrap: self._unwrap,
            ir.CallFn: self._call,
            ir.SpawnFn: self._spawn,
            ir.Submit: self._submit,
            ir.TakeTask: self._take_task,
            ir.FinishTask: self._finish_task,
            ir.LoopStart: self._loop_start,
            ir.LoopFinish: self._loop_finish,
            ir.LoopIdle: self._loop_idle,
            ir.SuspendBegin: self._suspend_begin,
            ir.SuspendEnd: self._suspend_end,
            ir.AnyInt: self._any,
            ir.MakeChannel: self._make_channel,
            ir.MakeObject: self._make_object,
            ir.DropValue: self._drop,
            ir.Close: self._close,
            ir.GilEnter: self._gil_enter,
            ir.GilExit: self._gil_exit,
            ir.AllowEnter: self._allow_enter,
            ir.AllowExit: self._allow_exit,
            ir.PythonEnter: self._python_enter,
            ir.PythonExit: self._python_exit,
            ir.AcquireGil: self._acquire_gil,
            ir.ReleaseGil: self._release_gil,
            ir.Acquire: self._sync,
            ir.SetEvent: self._sync,
            ir.ClearEvent: self._sync,
            ir.Wait: self._sync,
            ir.SyncOp: self._sync,
            ir.Notify: self._sync,
            ir.OnceBegin: self._sync,
            ir.OnceEnd: self._sync,
            ir.Release: self._sync,
            ir.Join: self._join,
            ir.Return: self._return,
            ir.Branch: self._branch,
            ir.Choose: self._choose,
            ir.Await: self._await,
            ir.Assert: self._assert,
            ir.Panic: self._panic,
            ir.Print: self._print,
            ir.AtomicBegin: self._atomic,
            ir.AtomicEnd: self._skip,
            ir.Progress: self._skip,
            ir.Skip: self._skip,
            ir.Jump: self._skip,
            ir.EndScope: self._end_scope,
            ir.ForkBegin: self._fork,
            ir.ForkEnd: self._fork_end,
            ir.End: self._end,
        }
        # `release_gil` (v1.2): statements of Python code check that the GIL was not given up
        # (handlers_gil.py), only in programs that can give it up.
        self.gil_api = any(
            isinstance(instr, ir.ReleaseGil) for code in program.codes for instr in code.instrs
        )
        self.valued_handlers = {
            ir.Acquire: self._sync_valued,
            ir.Wait: self._sync_valued,
            ir.SyncOp: self._sync_valued,
            ir.Recv: self._recv_timed,
            ir.Join: self._join_timed,
        }
        self.prepared: list[list[Prepared]] = [
            [self._prepare(ci, pc) for pc in range(len(code.instrs))]
            for ci, code in enumerate(self.codes)
        ]
        # Persistent (stubborn) sets of threads whose next steps touch objects no other
        # thread can touch first (`--stubborn-sets`; engine/stubborn.py).
        self.stubborn: StubbornSets | None = (
            StubbornSets(self)
            if options.stubborn_sets and options.merge_local_steps and StubbornSets.apply(self)
            else None
        )

    # ------------------------------------------------------------ public names
    # The names the search and the analyses use (model.TransitionSystem,
    # model.ThreadwiseSystem), kept here in one block over the engine's own.

    def threadwise(self) -> Engine | None:
        """The engine itself when the step table can patch its steps (model.TransitionSystem)."""
        # Not where states are named canonically: the table patches a thread's own steps.
        return None if self.symbolic or self.extended or self.objects else self

    def merge(self, out: list[Transition]) -> list[Transition]:
        """Steps with the local steps after each merged into it (when merging is on)."""
        return self._merge(out)

    def evaluate(
        self, fn: Evaluator | None, state: State | Work, frame: Frame, th: Thread
    ) -> Value:
        """An expression's value in a thread's frame of a state."""
        return self._eval(fn, state, frame, th)


def reachable_codes(program: ir.Program) -> set[int]:
    """The code units that can run: every thread, hook, worker, loop and task body, and the
    functions they call, spawn or submit, transitively."""
    found = {ci for ci, code in enumerate(program.codes) if code.kind != "fn"}
    pending = list(found)
    while pending:
        for instr in program.codes[pending.pop()].instrs:
            if not isinstance(instr, ir.CallFn | ir.SpawnFn | ir.Submit):
                continue
            if instr.function not in found:
                found.add(instr.function)
                pending.append(instr.function)
    return found
