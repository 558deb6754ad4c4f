"""The engine's parts share this: its fields, and the helpers that step a thread, evaluate,
store and drop values, and find the object a reference denotes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.values import (
    Value,
    describe_value,
    is_python_value,
)
from gilcheck.symbolic.paths import PathCondition

if TYPE_CHECKING:
    from gilcheck.symbolic.solver import Solver
    from gilcheck.system.engine.stubborn import StubbornSets
from gilcheck.system.engine.common import (
    _FIELD,
    CHANNEL_PIN,
    Handler,
    Prepared,
    SpecMisuse,
    _has_handle,
    _moved_to,
    _with,
)
from gilcheck.system.expr import (
    CURRENT_HEAP,
    MOVED,
    PROCESS,
    Evaluator,
    UseAfterMove,
    compile_expr,
    element,
)
from gilcheck.system.model import (
    STEP,
    Transition,
)
from gilcheck.system.state import (
    C_BUF,
    C_KIND,
    C_PENDING,
    C_RECEIVER,
    C_SENDERS,
    F_CTX,
    F_LOCALS,
    GIL_NORMAL,
    H_KIND,
    NATIVE,
    NO_THREAD,
    PR_CHANS,
    PYTHON,
    RUNNING,
    S_GIL,
    S_HEAP,
    S_PATH,
    S_PROCS,
    S_THREADS,
    T_FRAMES,
    T_GILCOUNT,
    T_GILMODE,
    T_PHASE,
    T_STATUS,
    Channel,
    Frame,
    State,
    Thread,
    Work,
    heap_of,
)


class Base:
    """The fields and helpers every part of the engine uses."""

    program: ir.Program
    options: CheckOptions
    merge_local_steps: bool
    ample: bool
    python_merge: bool  # pure statements of Python code merged (Reduction._pure_at)
    calls_merge: bool  # calls and returns of plain data merged (Reduction._pure_at)
    stubborn: StubbornSets | None  # persistent sets (`--stubborn-sets`), where they apply
    gil_off: bool
    has_progress: bool
    has_fork: bool
    watches_windows: bool  # has timed waits or `try_acquire` (see core.py)
    codes: tuple[ir.CodeUnit, ...]
    private_locks: frozenset[tuple[str, int]]
    lock_offset: dict[str, int]
    thread_ids: dict[tuple[int, int], int]
    main_tid: int
    atexit_codes: tuple[int, ...]
    interrupts: tuple[tuple[int, str, int], ...]
    params: tuple[Value, ...]
    symbolic: bool
    solver: Solver
    domain: PathCondition
    extended: bool
    objects: bool  # makes objects or channels at run time: states named canonically
    heap: bool  # makes objects at run time: states have a heap part
    declared_channels: int
    handlers: dict[type, Handler]
    gil_api: bool
    has_pools: bool  # declares or makes thread pools (handlers_pools.py)
    pool_slots: tuple[int, ...]  # the declared pools' slots among the declared objects
    has_loops: bool  # declares event loops (handlers_loops.py)
    _loop_thread_codes: dict[int, int]
    _loop_task_codes: dict[int, int]
    loop_threads: dict[int, int]
    # Handlers of statements that yield a value where the plain form yields none (timed
    # waits, `try_acquire`), by instruction type.
    valued_handlers: dict[type, Handler]
    prepared: list[list[Prepared]]
    _pure_memo: dict[Thread, Thread]
    # Processes (handlers_processes.py): whether the program spawns any, the size of one
    # process's block of declared sync objects, and what a new process starts with.
    has_processes: bool
    # Whether a `spawn process` may pass a channel (an argument that is not arithmetic):
    # only then is what channels carry before they are passed marked on them.
    passes_channels: bool
    lock_block: int
    _initial_block: tuple[Any, ...]
    _initial_vars: tuple[Value, ...]
    _initial_chans: tuple[Any, ...]

    def _spawn_process(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`spawn process g(a)` (handlers_processes.py)."""
        raise NotImplementedError

    def process_main(self, state: State | Work) -> int:
        """The current process's main thread (handlers_processes.py)."""
        raise NotImplementedError

    def current_process(self, state: State | Work) -> int:
        """The process whose parts a state holds in place (handlers_processes.py)."""
        raise NotImplementedError

    def process_channel(self, state: State | Work, cid: int) -> int:
        """A declared channel as the current process has it (handlers_processes.py)."""
        raise NotImplementedError

    def queued_between_processes(
        self, state: State, chan: Channel, value: Value, expr: ir.Expr
    ) -> Channel:
        """The channel as a completed send of `value` leaves it, before the value is
        queued: a misuse on a multiprocessing queue for what it cannot carry
        (handlers_processes.py)."""
        raise NotImplementedError

    def child_join_steps(self, state: State, tid: int, th: Thread, out: list[Transition]) -> None:
        """A process main joining its child processes (handlers_processes.py)."""
        raise NotImplementedError

    def children_running(self, state: State) -> bool:
        """Whether a child process still runs (handlers_processes.py)."""
        raise NotImplementedError

    def has_ended(self, state: State) -> bool:
        """Whether the run is over (scheduling.py)."""
        raise NotImplementedError

    def in_python_code(self, th: Thread) -> bool:
        """Whether a running thread is at a statement of Python code (scheduling.py)."""
        raise NotImplementedError

    def may_hand_over(self, th: Thread) -> bool:
        """Whether the eval loop may hand the GIL over before the thread's next statement
        (scheduling.py)."""
        raise NotImplementedError

    def pool_slots_of(self, state: State) -> tuple[int, ...]:
        """The declared pools' slots in a state (scheduling.py)."""
        raise NotImplementedError

    def reachable_objects(self, state: State, pid: int) -> set[tuple[int, int]]:
        """The objects a process can reach (handlers_processes.py)."""
        raise NotImplementedError

    def child_finalized(self, w: Work, tid: int) -> None:
        """A child process's end at its finalization (handlers_processes.py)."""
        raise NotImplementedError

    def process_steps(self, state: State) -> tuple[list[Transition], set[int]]:
        """Every process's steps (handlers_processes.py)."""
        raise NotImplementedError

    def deadlocked_processes(self, state: State, moving: set[int] | None = None) -> list[int]:
        """The processes deadlocked in a state (handlers_processes.py)."""
        raise NotImplementedError

    def steps_of(self, view: State, tids: Sequence[int]) -> list[Transition]:
        """The steps of some threads of a view's current process (scheduling.py)."""
        raise NotImplementedError

    def thread_steps(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """Append a running thread's steps (scheduling.py)."""
        raise NotImplementedError

    def idle_thread(self, state: State, tid: int) -> bool:
        """Whether a thread is an idle pool worker or loop thread (handlers_pools.py)."""
        raise NotImplementedError

    def task_steps(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """An event loop task's steps, gated by the loop (handlers_loops.py)."""
        raise NotImplementedError

    def is_task(self, th: Thread) -> bool:
        """Whether a thread entry is an event loop's task (handlers_loops.py)."""
        raise NotImplementedError

    def awaiting(self, state: State, tid: int, th: Thread) -> bool:
        """Whether a thread is a loop task inside a `suspend` block (handlers_loops.py)."""
        raise NotImplementedError

    def owner_of(self, tid: int, th: Thread) -> int:
        """Whose locks a thread's statements take (handlers_loops.py)."""
        raise NotImplementedError

    def actor_on(self, kind: str, tid: int, th: Thread) -> int:
        """The id a statement on an object of `kind` acts as: a loop task takes locks as
        its loop's thread, but waits for an event as itself (an event has no owner, and each
        task waiting on it is woken by a `set`), and holds its loop as itself."""
        if not self.has_loops or kind in ("event", "eventloop"):
            return tid
        return self.owner_of(tid, th)

    def _pools_exit(self, w: Work) -> None:
        """The executors' exit hook (handlers_pools.py)."""
        raise NotImplementedError

    def _guarded_handler(self, instr: ir.Instr) -> Handler:
        """The handler an instruction runs with (handlers_gil.py)."""
        raise NotImplementedError

    def _handler(self, instr: ir.Instr) -> Handler:
        """The instruction's own handler (preparation.py)."""
        raise NotImplementedError

    def resolve_pc(self, code: int, pc: int) -> int:
        """Follow jumps from `pc` (a jump cycle stops at its first jump, run as a skip)."""
        instrs = self.codes[code].instrs
        seen: set[int] = set()
        while pc < len(instrs) and pc not in seen:
            instr = instrs[pc]
            if not isinstance(instr, ir.Jump):
                break
            seen.add(pc)
            pc = instr.target
        return pc

    def context(self, p: Prepared, frame: Frame) -> int:
        """NATIVE or PYTHON: the innermost python/with_gil block decides, else the caller."""
        return p.context if p.context is not None else frame[F_CTX]

    def may_time_out(self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared) -> bool:
        """Whether a timed wait that cannot complete may time out now: not while it holds the
        GIL in Python code, where it first releases the GIL (a step of its own), then completes
        or times out, then takes the GIL back (LANGUAGE.md's three steps)."""
        return not (
            state[S_GIL] == tid
            and th[T_GILMODE] == GIL_NORMAL
            and not self.gil_off
            and self.context(p, frame) == PYTHON
        )

    def _advance(
        self,
        w: Work,
        tid: int,
        th: Thread,
        frame: Frame,
        pc: int,
        locals_: tuple[Value, ...] | None = None,
        **fields: Any,
    ) -> None:
        new_frame = (frame[0], pc, frame[2] if locals_ is None else locals_, frame[3])
        frames = th[0]
        new_frames = (new_frame,) if len(frames) == 1 else frames[:-1] + (new_frame,)
        if not fields:
            w.set_thread(tid, (new_frames, *th[1:]))
            return
        new = list(th)
        new[T_FRAMES] = new_frames
        for key, value in fields.items():
            new[_FIELD[key]] = value
        w.set_thread(tid, tuple(new))

    def _skip(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        new_th = (_moved_to(th, frame, p.next_pc), *th[1:])
        threads = state[0]
        out.append(((tid, STEP, 0), (threads[:tid] + (new_th,) + threads[tid + 1 :], *state[1:])))
        return False

    def _entry_frame(self, function: int, args: tuple[Value, ...], context: int = NATIVE) -> Frame:
        """A function's first frame: its arguments in its first locals (`call`, `spawn`, a
        pool's or event loop's task)."""
        locals_ = args + (None,) * (len(self.codes[function].local_names) - len(args))
        return (function, self.resolve_pc(function, 0), locals_, context)

    def _running_hook(self, th: Thread, code: int, context: int) -> Thread:
        """The thread running a hook's block: on top of what it was running (an interrupt), or
        as its only frame (`atexit`, when the thread's own code has ended)."""
        frame = (
            code,
            self.resolve_pc(code, 0),
            (None,) * len(self.codes[code].local_names),
            context,
        )
        return _with(_with(th, T_FRAMES, th[T_FRAMES] + (frame,)), T_STATUS, RUNNING)

    def _eval(self, fn: Evaluator | None, state: State | Work, frame: Frame, th: Thread) -> Value:
        assert fn is not None
        if self.heap:  # what `is_done(f)` reads
            CURRENT_HEAP[0] = state.heap if isinstance(state, Work) else state[S_HEAP]
        if self.has_processes:
            self._process_globals(state)
        elif PROCESS[0] or PROCESS[1]:  # left by another program's engine
            PROCESS[0], PROCESS[1] = 0, ()
        if isinstance(state, Work):
            return fn(frame[F_LOCALS], state.vars, th[7], state.chans)
        return fn(frame[F_LOCALS], state[2], th[7], state[4])

    def _gil_free_for(self, state: State, tid: int) -> bool:
        return state[S_GIL] in (NO_THREAD, tid)

    def describe(self, state: State | Work, value: Value) -> str:
        """A value for a message, objects named by their kind (`a mutex`)."""
        if type(value) is tuple and len(value) == 3 and value[0] == "res":
            return f"a {value[1]}"
        if type(value) is tuple and len(value) == 2 and value[0] == "obj":
            heap = state.heap if isinstance(state, Work) else heap_of(state)
            return f"a {heap[value[1]][H_KIND]}"
        return describe_value(value)

    def _hand_over(
        self, w: Work, locals_: tuple[Value, ...], p: Prepared, values: tuple[Value, ...]
    ) -> tuple[Value, ...]:
        """What an instruction passing `values` on (to a local, a var, a message, a call, a
        thread or a task) does to ownership: handles it reads out of a shared var are
        copied (`_copied`), handles it takes from locals are moved (`_moved`); the locals
        after it."""
        self._copied(w, p, values)
        return self._moved(locals_, p)

    def _copied(self, w: Work, p: Prepared, values: tuple[Value, ...]) -> None:
        """Handles read out of a shared var: the copy owns a handle of its own, as the var
        still holds one (a sender is cloned); a receiver can be copied only from a queue,
        which never closes."""
        for copied, value in zip(p.copies, values, strict=False):
            end = _channel_end(value) if copied else None
            if end is None:
                continue
            tag, cid = end
            chan = w.chans[cid]
            if tag == "tx" and chan[C_KIND] == "oneshot":
                raise SpecMisuse(
                    "a oneshot sender read from a shared var is a copy of it: a oneshot "
                    "sender cannot be cloned (send it on a channel to hand it over)"
                )
            if tag == "tx":
                w.set_chan(cid, _with(chan, C_SENDERS, chan[C_SENDERS] + 1))
            elif chan[C_KIND] != "queue":
                raise SpecMisuse(
                    "a receiver read from a shared var is a copy of it: a channel has one "
                    "receiver (send it on a channel to hand it over)"
                )

    def _moved(self, locals_: tuple[Value, ...], p: Prepared) -> tuple[Value, ...]:
        """Locals with handles that the instruction moves out marked as moved."""
        if not p.moves:
            return locals_
        new = list(locals_)
        for slot in p.moves:
            if new[slot] is MOVED and _has_handle(locals_[slot]):
                # `call f(tx, tx)`: one handle cannot be moved into two places
                raise UseAfterMove(self.codes[p.code].local_names[slot])
            if _has_handle(new[slot]):
                new[slot] = MOVED
        return tuple(new)

    def _store(
        self,
        w: Work,
        locals_: tuple[Value, ...],
        target: ir.Target | None,
        value: Value,
        frame: Frame,
        th: Thread,
    ) -> tuple[Value, ...]:
        """Store into a local or shared var (dropping what it held); return the locals."""
        if target is None:
            self.drop_value(w, value)
            return locals_
        if isinstance(target, ir.LocalTarget):
            old = locals_[target.slot]
            if _has_handle(old):
                self.drop_value(w, old)
            return locals_[: target.slot] + (value,) + locals_[target.slot + 1 :]
        index = None
        if target.index is not None:
            index = compile_expr(target.index, self.params)(locals_, w.vars, th[7], w.chans)
        slot = element(target.base, target.size, index, target.name)
        old = w.vars[slot]
        if _has_handle(old):
            self.drop_value(w, old)
        w.set_var(slot, value)
        return locals_

    def drop_value(self, w: Work, value: Value) -> None:
        """Drop a value: a sender handle may close its channel; a receiver drops its buffer."""
        end = _channel_end(value)
        if end is None:
            return
        tag, inner = end
        if tag == "tx":
            chan = w.chans[inner]
            w.set_chan(inner, _with(chan, C_SENDERS, max(0, chan[C_SENDERS] - 1)))
        elif tag == "rx":
            chan = w.chans[inner]
            if chan[C_KIND] == "queue":
                return  # a queue.Queue never closes: its items stay, puts go on (and block)
            if chan[C_PENDING] != NO_THREAD:  # the waiting rendezvous sender gets it back
                w.set_chan(inner, _with(chan, C_RECEIVER, False))
                return
            buffered = chan[C_BUF]
            w.set_chan(inner, _with(_with(chan, C_RECEIVER, False), C_BUF, ()))
            for message in buffered:
                self.drop_value(w, message)

    def channel_id(
        self,
        ref: ir.ChannelRef,
        frame: Frame,
        th: Thread,
        state: State | Work,
        want: str,
        index_fn: Evaluator | None = None,
    ) -> int:
        """The channel a reference denotes; a handle of the wrong end is a misuse."""
        if isinstance(ref, ir.GlobalChannel):
            if ref.index is None:
                if self.has_processes:
                    return self.process_channel(state, ref.base)
                return ref.base
            phase = th[T_PHASE]
            if type(phase) is tuple and phase[0] == CHANNEL_PIN:
                return int(phase[1])  # the element it started waiting on
            vars_ = state.vars if isinstance(state, Work) else state[2]
            chans = state.chans if isinstance(state, Work) else state[4]
            index_fn = index_fn or compile_expr(ref.index, self.params)
            index = index_fn(frame[F_LOCALS], vars_, th[7], chans)
            at = element(ref.base, ref.size, index, ref.name)
            return self.process_channel(state, at) if self.has_processes else at
        handle = frame[F_LOCALS][ref.slot]
        if handle is MOVED or handle == MOVED:
            raise UseAfterMove(ref.name)
        if type(handle) is tuple and len(handle) == 2 and handle[0] == "chan":
            return int(handle[1])  # a global channel passed to a process: either end
        if not (isinstance(handle, tuple) and len(handle) == 2 and handle[0] in ("tx", "rx")):
            what = self.describe(state, handle)
            raise SpecMisuse(f"`{ref.name}` is {what}, not a channel handle")
        if want and handle[0] != want:
            end = "sender" if handle[0] == "tx" else "receiver"
            raise SpecMisuse(f"`{ref.name}` is a {end}; this needs the other end")
        return int(handle[1])

    def lock_id(
        self,
        res: ir.ResourceRef,
        frame: Frame,
        th: Thread,
        state: State,
        index_fn: Evaluator | None = None,
    ) -> int:
        """Index of a declared sync object in the state's lock tuple (in the current
        process's block)."""
        base = self.lock_block * state[S_PROCS][0] if self.has_processes else 0
        if res.index is None:
            return base + self.lock_offset[res.kind] + res.base
        if index_fn is None:
            index_fn = compile_expr(res.index, self.params)
        if self.has_processes:
            self._process_globals(state)
        index = index_fn(frame[F_LOCALS], state[2], th[7], state[4])
        return base + self.lock_offset[res.kind] + element(res.base, res.size, index, res.name)

    def _process_globals(self, state: State | Work) -> None:
        """What expressions read of the current process: where its declared objects start
        and its copies of the declared channels (expr.PROCESS)."""
        procs = state.procs if isinstance(state, Work) else state[S_PROCS]
        current = procs[0]
        PROCESS[0] = self.lock_block * current
        PROCESS[1] = tuple(c for _, c in procs[2][current][PR_CHANS]) if current else ()

    def _need_gil(
        self, state: State, tid: int, p: Prepared, value: Value = None, clone: bool = False
    ) -> bool:
        """Whether the step must take the GIL implicitly and cannot (another thread holds it)."""
        needs = p.makes_pyobj or (clone and is_python_value(value))
        return needs and self._waits_for_gil(state, tid)

    def _waits_for_gil(self, state: State, tid: int) -> bool:
        """Whether a step that takes the GIL implicitly (making or pickling a Python object)
        cannot take it now: another thread holds it (`gil off`: a pause is pending and the
        thread is not attached)."""
        if self.gil_off and state[S_THREADS][tid][T_GILCOUNT] > 0:
            return False  # attached already: keeps running even during a pause
        return not self._gil_free_for(state, tid)

    def path_of(self, state: State) -> PathCondition:
        """The path condition of a state (empty without unknown values)."""
        return state[S_PATH][1] if self.symbolic else ()


def _channel_end(value: Value) -> tuple[str, int] | None:
    """The channel end a value is or wraps (in `ok(..)`/`err(..)`): ("tx" or "rx", channel)."""
    while type(value) is tuple and len(value) == 2:
        tag, inner = value
        if tag == "tx" or tag == "rx":
            return tag, inner
        if tag != "ok" and tag != "err":
            return None
        value = inner
    return None
