"""Processes made by `spawn process`: each with its own GIL, stdout lock, globals and
interrupts, sharing only what was passed to it, judged for deadlock one by one.

The state keeps the first process's parts in their usual places and every other process's
in its record (system/state.py, "processes"). A child's thread steps in a *view* of the
state in which its process is current: the view swaps the child's parts into place, so
every handler reads and writes that process's GIL, vars, stdout lock, end and interrupts
unchanged; the step's target is swapped back. Declared sync objects are one block per
process in the `locks` part (`lock_id` adds the block's start); declared channels are the
first process's, and a child's copies are channels made at its start, found through its
record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gilcheck.semantics import describe, ir
from gilcheck.semantics.ir import Verdict
from gilcheck.semantics.values import EvalError, Value, is_python_value
from gilcheck.sync.eventloop import L_HOLDER, awaiting_entry
from gilcheck.system.engine.common import (
    _OVER,
    DECLARED,
    HEAP,
    Prepared,
    SpecMisuse,
    _with,
)
from gilcheck.system.engine.handlers_loops import LoopHandlers
from gilcheck.system.engine.handlers_threads import ThreadHandlers
from gilcheck.system.expr import IndexOutOfRange, UseAfterMove, compile_expr
from gilcheck.system.model import (
    EXIT_JOIN_DONE,
    FORK_CHILD,
    SPURIOUS_WAKEUP,
    STEP,
    LimitHit,
    Transition,
)
from gilcheck.system.objects import references
from gilcheck.system.state import (
    C_BUF,
    C_PROCESSES,
    CHILD_JOIN,
    ENDED,
    EXIT_JOIN,
    F_LOCALS,
    FINALIZING,
    GIL_LOST,
    GIL_NORMAL,
    H_KIND,
    H_STATE,
    NO_THREAD,
    PR_CHANS,
    PR_DAEMON,
    PR_MAIN,
    PR_PARENT,
    PR_PARTS,
    RUNNING,
    S_CHANS,
    S_ENDED,
    S_FORK,
    S_GIL,
    S_HEAP,
    S_INTERRUPTS,
    S_LOCKS,
    S_PROCS,
    S_STDOUT,
    S_THREADS,
    S_VARS,
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
)

# Kinds a process may be passed (multiprocessing's Lock, RLock, Semaphore, Event,
# Condition, Barrier; a latch is a shared counter with a condition): the same object in
# both processes. The others cannot be pickled.
SHAREABLE = frozenset({"mutex", "rlock", "semaphore", "event", "condvar", "barrier", "latch"})


def _held(state: State, value: Value) -> Iterator[str]:
    """What a value holds beyond data, depth first (last items first): a resource's or
    run-time object's kind ("mutex", "future", ...), "thread" for a thread or process
    handle, "channel" for a channel handle or a declared channel's name, and "python" for
    a Python value (which a process pickles)."""
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if is_python_value(item):
            yield "python"
            continue
        if type(item) is not tuple or not item:
            continue
        tag = item[0]
        if len(item) == 3 and tag == "res":
            yield item[1]
        elif len(item) == 2 and tag == "obj":
            yield state[S_HEAP][item[1]][H_KIND]
        elif len(item) == 2 and tag == "thread":
            yield "thread"
        elif len(item) == 2 and tag in ("tx", "rx", "chan"):
            yield "channel"
        else:
            stack.extend(item)


def _object_held(state: State, value: Value) -> str | None:
    """The first thing a value holds that a multiprocessing queue cannot carry (anything
    but data and Python values), as `_held` names it; None for none."""
    return next((kind for kind in _held(state, value) if kind != "python"), None)


def _a(kind: str) -> str:
    """A kind of `_held` as a message names it: "a future", "an event", "a once", "a
    channel handle", "a thread or process handle"."""
    kind = {"channel": "channel handle", "thread": "thread or process handle"}.get(kind, kind)
    return f"an {kind}" if kind[0] in "aeiu" else f"a {kind}"


def _why(kind: str) -> str:
    """Why a multiprocessing queue cannot carry an object of this kind of `_held`."""
    if kind in SHAREABLE or kind == "channel":
        return f"{_a(kind)} passes to another process only as an argument of `spawn process`"
    return f"{_a(kind)} cannot be pickled"


# What a channel not yet passed to a process carried that a multiprocessing queue cannot.
CARRIED = "a resource, future, pool, loop, channel handle or thread handle"


def _passed_name(expr: ir.Expr) -> str:
    """How an argument of `spawn process` reads in the spec (a declared channel passed by
    name is lowered to the `channel_value` builtin)."""
    if isinstance(expr, ir.Builtin) and expr.name == "channel_value" and len(expr.args) == 1:
        return describe.expression(expr.args[0])
    return describe.expression(expr)


# EXIT_JOIN_DONE arguments of a process main's own end steps.
TERMINATES_DAEMONS, CHILDREN_JOINED = 1, 2


class ProcessHandlers(ThreadHandlers, LoopHandlers):
    """`spawn process`, views of a state by process, process ends and per-process deadlock."""

    # ------------------------------------------------------------ views

    def view(self, state: State, pid: int) -> State:
        """The state with process `pid` current: its parts in the state's own places."""
        procs = state[S_PROCS]
        current = procs[0]
        if pid == current:
            return state
        records = list(procs[2])
        gil, vars_, stdout, ended, interrupts = records[pid][PR_PARTS]
        records[current] = (
            *records[current][:PR_PARTS],
            (state[S_GIL], state[S_VARS], state[S_STDOUT], state[S_ENDED], state[S_INTERRUPTS]),
        )
        records[pid] = (*records[pid][:PR_PARTS], None)
        return (
            state[S_THREADS],
            gil,
            vars_,
            state[S_LOCKS],
            state[S_CHANS],
            stdout,
            ended,
            state[S_FORK],
            interrupts,
            *state[S_INTERRUPTS + 1 : S_PROCS],
            (pid, procs[1], tuple(records)),
        )

    def current_process(self, state: State | Work) -> int:
        """The process whose parts a state (or view) holds in their own places."""
        procs = state.procs if isinstance(state, Work) else state[S_PROCS]
        return int(procs[0])

    def process_of(self, state: State, tid: int) -> int:
        """The process a thread belongs to (0 in programs without processes)."""
        if not self.has_processes:
            return 0
        return int(state[S_PROCS][1][tid])

    def process_main(self, state: State | Work) -> int:
        """The thread that runs the current process's `g` (`main` in the first)."""
        if not self.has_processes:
            return self.main_tid
        procs = state.procs if isinstance(state, Work) else state[S_PROCS]
        return int(procs[2][procs[0]][PR_MAIN])

    def process_mains(self, state: State) -> dict[int, int]:
        """Each child process's main thread -> its process (the first process left out)."""
        if not self.has_processes:
            return {}
        return {rec[PR_MAIN]: pid for pid, rec in enumerate(state[S_PROCS][2]) if pid}

    def process_ended(self, state: State, pid: int) -> bool:
        """Whether a process has ended (finalized, or terminated)."""
        procs = state[S_PROCS]
        if pid == procs[0]:
            return bool(state[S_ENDED])
        return bool(procs[2][pid][PR_PARTS][3])

    def process_channel(self, state: State | Work, cid: int) -> int:
        """A declared channel as the current process has it (a child has its own copy)."""
        procs = state.procs if isinstance(state, Work) else state[S_PROCS]
        current = procs[0]
        if current == 0:
            return cid
        return int(procs[2][current][PR_CHANS][cid][1])

    def live_threads(self, state: State) -> dict[int, list[int]]:
        """Each process that has not ended and still has a thread -> those threads (in a
        `fork` child's world every other process's threads are gone)."""
        threads = state[S_THREADS]
        found: dict[int, list[int]] = {}
        for tid, owner in enumerate(state[S_PROCS][1]):
            if threads[tid][T_STATUS] not in _OVER:
                found.setdefault(owner, []).append(tid)
        return {pid: tids for pid, tids in found.items() if not self.process_ended(state, pid)}

    def children_running(self, state: State) -> bool:
        """Whether a process other than the current one has not ended and has a thread."""
        return any(pid != state[S_PROCS][0] for pid in self.live_threads(state))

    def running_children(self, state: State, pid: int) -> list[int]:
        """The child processes of a process that have not ended."""
        return [
            k
            for k, rec in enumerate(state[S_PROCS][2])
            if k and rec[PR_PARENT] == pid and not self.process_ended(state, k)
        ]

    # ------------------------------------------------------------ `spawn process`

    def _spawn_process(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A new process: fresh globals, its own GIL and stdout lock, its main thread at `g`
        with the arguments (resources shared, channel handles moved, Python values pickled,
        which takes the GIL in the parent for the step)."""
        instr: ir.SpawnFn = p.instr  # type: ignore[assignment]
        procs = state[S_PROCS]
        current, owners, records = procs
        if records[current][PR_DAEMON]:
            raise SpecMisuse(
                "a daemon process cannot start processes (multiprocessing: daemonic "
                "processes are not allowed to have children)"
            )
        alive = sum(not self.process_ended(state, k) for k in range(len(records)))
        if alive > self.options.object_bound:
            message = (
                f"more than {self.options.object_bound} processes are running (--object-bound)"
            )
            out.append(((tid, STEP, 0), LimitHit(Verdict.BOUND, message, tid, instr.span)))
            return False
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        pickles = False
        for value, expr in zip(args, instr.args, strict=True):
            pickles |= self._check_picklable(state, value, expr)
        if pickles and self._waits_for_gil(state, tid):
            return True  # pickling takes the GIL
        w = Work(state)
        for value, expr in zip(args, instr.args, strict=True):
            self._pass_channels(w, state, value, expr)
        pid = len(records)
        channels = tuple(("chan", w.add_chan(chan)) for chan in self._initial_chans)
        w.add_locks(self._initial_block)
        entry = self._entry_frame(instr.function, args)
        child = w.add_thread(
            ((entry,), RUNNING, 0, GIL_NORMAL, (), 0, False, 0, -(instr.function + 1))
        )
        parts = (NO_THREAD, self._initial_vars, NO_THREAD, 0, 0)
        record = (current, child, instr.daemon, channels, parts)
        w.procs = (current, (*owners, pid), (*records, record))
        locals_ = self._hand_over(w, frame[F_LOCALS], p, args)
        locals_ = self._store(w, locals_, instr.target, ("thread", child), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _check_picklable(self, state: State, value: Value, expr: ir.Expr) -> bool:
        """A misuse when a value cannot be passed to a process; whether it is pickled
        (holds a Python value)."""
        found = False
        for kind in _held(state, value):
            if kind == "python":
                found = True
            elif kind == "thread":
                raise SpecMisuse(
                    f"`{describe.expression(expr)}` holds a thread or process handle, which "
                    "cannot be passed to a process (it cannot be pickled)"
                )
            elif kind != "channel" and kind not in SHAREABLE:
                what = "a future" if kind == "future" else f"a {kind}"
                raise SpecMisuse(
                    f"`{describe.expression(expr)}` is {what}, which cannot be passed to a "
                    "process (it cannot be pickled); only mutex, rlock, semaphore, event, "
                    "condvar, barrier and latch objects are shared with a process"
                )
        return found

    def queued_between_processes(
        self, state: State, chan: Channel, value: Value, expr: ir.Expr
    ) -> Channel:
        """A completed `send` of `value`: a misuse on a channel passed to a process when
        the value is not data; on another channel, the channel as it is left (marked
        `CARRIED` once it carries an object).

        A channel a handle of which is ever passed to `spawn process` is a
        `multiprocessing.Queue` from its creation on, which pickles every item: futures,
        once-cells, rwlocks, pools, loops and thread handles cannot be pickled, and locks,
        events, conditions and queues pass to a process only by inheritance (`spawn
        process`). CPython drops such an item with a traceback in the queue's feeder
        thread, and its receiver waits for ever. An object a channel carried before it is
        passed is judged at the `spawn process` (`_pass_channels`)."""
        marked = chan[C_PROCESSES]
        if marked is not True and marked is not False:
            return chan  # it carried an object already
        held = _object_held(state, value)
        if held is None:
            return chan
        if marked is True:
            raise SpecMisuse(
                f"`{describe.expression(expr)}` holds {_a(held)}, sent on a channel passed to "
                f"a process: a multiprocessing queue pickles what it carries, and {_why(held)} "
                "(the item is lost and its receiver waits for ever)"
            )
        # One mark whatever was carried (a mark per kind would keep apart states that
        # differ only in which object came first).
        return _with(chan, C_PROCESSES, CARRIED)

    def _pass_channels(self, w: Work, state: State, value: Value, expr: ir.Expr) -> None:
        """The channels of the handles in an argument of `spawn process` are
        multiprocessing queues: what they carried before must have pickled."""
        for cid in (number for where, number in references(value) if where == 1):
            chan = w.chans[cid]
            marked = chan[C_PROCESSES]
            if marked is True:
                continue
            if marked is not False:
                raise SpecMisuse(
                    f"`{_passed_name(expr)}` is passed to a process after its channel "
                    f"carried {CARRIED}: a channel passed to a process is a multiprocessing "
                    "queue, which pickles what it carries, and such objects cannot be "
                    "pickled or pass to a process only as arguments of `spawn process` (the "
                    "item was lost when it was sent, and its receiver waits for ever)"
                )
            w.set_chan(cid, _with(chan, C_PROCESSES, True))

    # ------------------------------------------------------------ ends

    def child_join_steps(self, state: State, tid: int, th: Thread, out: list[Transition]) -> None:
        """A process's main at its end joins its child processes, after terminating the
        daemon ones (multiprocessing's exit function); then the first process finalizes
        and a child joins its own threads."""
        current, _, records = state[S_PROCS]
        children = self.running_children(state, current)
        daemons = [k for k in children if records[k][PR_DAEMON]]
        if daemons:
            w = Work(state)
            for k in daemons:
                self._terminate(w, k)
            out.append(((tid, EXIT_JOIN_DONE, TERMINATES_DAEMONS), w.freeze()))
            return
        if children:
            return
        w = Work(state)
        w.set_thread(tid, _with(th, T_STATUS, FINALIZING if current == 0 else EXIT_JOIN))
        if current and self.has_pools:  # a child then shuts its pools down
            self._pools_exit(w)
        out.append(((tid, EXIT_JOIN_DONE, CHILDREN_JOINED), w.freeze()))

    def _terminate(self, w: Work, pid: int) -> None:
        """A process is killed: its threads stop where they are (what they hold stays held)."""
        current, owners, records = w.procs
        rec = records[pid]
        gil, vars_, stdout, _, interrupts = rec[PR_PARTS]
        new_records = list(records)
        new_records[pid] = (*rec[:PR_PARTS], (gil, vars_, stdout, 1, interrupts))
        w.procs = (current, owners, tuple(new_records))
        _stop_threads(w, pid)

    def child_finalized(self, w: Work, tid: int) -> None:
        """A child process's finalization holds its GIL: the process is over; its threads
        (daemons still running, and its main) stop with it."""
        _stop_threads(w, w.procs[0])

    # ------------------------------------------------------------ scheduling

    def process_steps(self, state: State) -> tuple[list[Transition], set[int]]:
        """Every process's steps (each computed in its view, targets swapped back), ordered
        by thread; and the processes with a step that may really happen."""
        current = state[S_PROCS][0]
        found: list[Transition] = []
        moving: set[int] = set()
        for pid, mine in sorted(self.live_threads(state).items()):
            for action, target in self.steps_of(self.view(state, pid), mine):
                if type(target) is tuple:
                    if len(target[S_THREADS]) > len(target[S_PROCS][1]):
                        target = self._owned_by(target, pid)
                    if action[1] != FORK_CHILD:
                        # (a `fork` child's world keeps the forking process current: its
                        # end is that world's end)
                        target = self.view(target, current)
                if action[1] != SPURIOUS_WAKEUP:
                    moving.add(pid)
                found.append((action, target))
        found.sort(key=lambda step: step[0][0])
        return found, moving

    @staticmethod
    def _owned_by(target: State, pid: int) -> State:
        """Threads a step added belong to the process that took it."""
        procs = target[S_PROCS]
        added = len(target[S_THREADS]) - len(procs[1])
        return (*target[:S_PROCS], (procs[0], (*procs[1], *(pid,) * added), procs[2]))

    # ------------------------------------------------------------ deadlock per process

    def deadlocked_processes(self, state: State, moving: set[int] | None = None) -> list[int]:
        """The processes deadlocked in a state (LANGUAGE.md, "v1.2: processes"): from those
        not ended whose threads are all blocked or idle, drop any that a process outside the
        set could still wake, until none can be dropped."""
        if not self.has_processes:
            return []
        live = self.live_threads(state)
        if moving is None:
            moving = self.process_steps(state)[1]
        candidates = {
            pid
            for pid, tids in live.items()
            if pid not in moving and not all(self._idle(state, t) for t in tids)
        }
        if not candidates:
            return []
        # What each candidate's threads wait on, once; then the processes outside the set
        # grow (a dropped candidate is outside too) until no candidate can be woken.
        waits = {pid: self._process_waits(state, pid) for pid in candidates}
        outside = [pid for pid in live if pid not in candidates]
        locks, heap, chans = self._reachable(state, outside)
        outside_set = set(outside)
        changed = True
        while changed and candidates:
            changed = False
            for pid in sorted(candidates):
                if any(
                    (kind == "process" and key in outside_set)
                    or (kind == "lock" and key in locks)
                    or (kind == "heap" and key in heap)
                    or (kind == "chan" and key in chans)
                    for kind, key in waits[pid]
                ):
                    candidates.discard(pid)
                    outside_set.add(pid)
                    more = self._reachable(state, [pid])
                    locks |= more[0]
                    heap |= more[1]
                    chans |= more[2]
                    changed = True
        return sorted(candidates)

    def _idle(self, state: State, tid: int) -> bool:
        return (self.has_pools or self.has_loops) and self.idle_thread(state, tid)

    def _process_waits(self, state: State, pid: int) -> list[tuple[str, int]]:
        """What the threads of a blocked process wait on that another process could
        change: ("process", pid) for a process joined, ("lock", slot), ("heap", object) or
        ("chan", channel). The GIL, stdout's lock and its vars are its own."""
        owners = state[S_PROCS][1]
        view = self.view(state, pid)
        found: list[tuple[str, int]] = []
        for tid, owner in enumerate(owners):
            if owner != pid:
                continue
            th = state[S_THREADS][tid]
            status = th[T_STATUS]
            if status == CHILD_JOIN:
                found.extend(("process", k) for k in self.running_children(state, pid))
            elif status == RUNNING and th[T_FRAMES]:
                for kind, key in self.waits_on(view, tid):
                    found.append(("process", owners[key]) if kind == "thread" else (kind, key))
        return found

    def waits_on(self, state: State, tid: int) -> list[tuple[str, int]]:
        """What a blocked thread's statement waits on: ("thread", tid), ("lock", index),
        ("heap", object) or ("chan", channel); empty when it waits for its process's own
        GIL, a stop-the-world pause or its event loop, or names nothing another process
        could change."""
        th = state[S_THREADS][tid]
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[0]][frame[1]]
        instr = p.instr
        if th[T_GILMODE] == GIL_LOST:
            return []  # it waits to take its process's GIL back
        gil = state[S_GIL]
        if self.gil_off:
            if gil == tid:
                return []  # it started a pause and waits for the others to detach
            if gil != NO_THREAD and (
                self.in_python_code(th) or (p.makes_pyobj and th[T_GILCOUNT] == 0)
            ):
                return []  # parked by its process's pause, or waiting to attach
        elif p.makes_pyobj and gil not in (NO_THREAD, tid):
            return []  # it needs the GIL for its step
        if self.has_loops and self.is_task(th) and not isinstance(instr, ir.LoopStart):
            obj = state[S_LOCKS][self.task_loop(th)]
            entry = awaiting_entry(obj, tid)
            if obj[L_HOLDER] != tid and not (entry is not None and entry[1]):
                return []  # it waits for its event loop
        found: list[tuple[str, int]] = []
        try:
            if isinstance(instr, ir.Join):
                found.append(("thread", self.join_target(state, th, frame, p)))
            elif isinstance(instr, ir.Recv | ir.Send):
                want = "rx" if isinstance(instr, ir.Recv) else "tx"
                found.append(("chan", self.channel_id(instr.channel, frame, th, state, want)))
            elif isinstance(instr, ir.Await | ir.AtomicBegin):
                cond = instr.cond if isinstance(instr, ir.Await) else self._leading_await(frame)
                if cond is not None:
                    found.extend(self._condition_reads(state, th, frame, cond))
            elif p.verb:
                reached = self.reached(state, tid)
                if reached is not None:
                    found.extend(self._object_waits(state, tid, reached))
        except (SpecMisuse, EvalError, IndexOutOfRange, UseAfterMove):
            return found  # the step itself reports the bad operand
        return found

    def _object_waits(self, state: State, tid: int, reached: Any) -> list[tuple[str, int]]:
        """The object a blocked statement waits on; a condvar wait waits for a notify
        while it is a waiter, and for its mutex once notified (or timed out)."""
        main = ("lock" if reached.where == DECLARED else "heap", reached.at)
        if reached.partner_at < 0:
            return [main]
        partner = ("lock" if reached.partner_where == DECLARED else "heap", reached.partner_at)
        phase = reached.phase
        if reached.kind == "condvar" and type(phase) is tuple and phase and phase[0] == "cv":
            waiting = self.object_state(state, reached.obj)[0]
            return [main] if tid in waiting else [partner]
        if type(phase) is tuple and phase and phase[0] in ("cv-late", "cv-woken"):
            return [partner]
        return [main, partner]

    def _leading_await(self, frame: Frame) -> ir.Expr | None:
        """The condition of the `await` an `atomic` block starts with, if it has one."""
        following = self.prepared[frame[0]][frame[1] + 1].instr
        return following.cond if isinstance(following, ir.Await) else None

    def _condition_reads(
        self, state: State, th: Thread, frame: Frame, cond: ir.Expr
    ) -> list[tuple[str, int]]:
        """The channels (`len`) and futures (`is_done`) an `await` condition reads: what
        another process could change under it (vars are the process's own)."""
        found: list[tuple[str, int]] = []
        stack: list[Any] = [cond]
        while stack:
            expr = stack.pop()
            if isinstance(expr, ir.Builtin):
                if expr.name == "len" and expr.args:
                    ref = expr.args[0]
                    if isinstance(ref, ir.GlobalChannel | ir.HandleRef):
                        found.append(("chan", self.channel_id(ref, frame, th, state, "")))
                        continue
                if expr.name == "is_done" and expr.args:
                    operand: Any = expr.args[0]
                    value = self._eval(compile_expr(operand, self.params), state, frame, th)
                    if type(value) is tuple and len(value) == 2 and value[0] == "obj":
                        found.append(("heap", int(value[1])))
                    continue
                stack.extend(a for a in expr.args if not isinstance(a, ir.GlobalChannel))
            elif isinstance(expr, ir.UnaryOp):
                stack.append(expr.operand)
            elif isinstance(expr, ir.BinaryOp):
                stack.extend((expr.left, expr.right))
        return found

    def reachable_objects(self, state: State, pid: int) -> set[tuple[int, int]]:
        """The declared objects and objects made at run time a process can reach, as
        (where, at) keys."""
        locks, heap, _ = self._reachable(state, [pid])
        return {(DECLARED, at) for at in locks} | {(HEAP, at) for at in heap}

    def _reachable(self, state: State, pids: list[int]) -> tuple[set[int], set[int], set[int]]:
        """The declared objects, objects made at run time and channels the processes can
        reach: their own, and what their threads and globals refer to, transitively."""
        procs = state[S_PROCS]
        current, owners, records = procs
        heap = state[S_HEAP]
        chans = state[S_CHANS]
        locks: set[int] = set()
        objects: set[int] = set()
        channels: set[int] = set()
        stack: list[Any] = []
        for pid in pids:
            base = self.lock_block * pid
            locks.update(range(base, base + self.lock_block))
            stack.extend(state[S_LOCKS][base : base + self.lock_block])  # pools' queues
            mine = (
                range(self.declared_channels)
                if pid == 0
                else [c for _, c in records[pid][PR_CHANS]]
            )
            for cid in mine:
                if cid not in channels:
                    channels.add(cid)
                    stack.append(chans[cid][C_BUF])
            stack.append(state[S_VARS] if pid == current else records[pid][PR_PARTS][1])
            for tid, owner in enumerate(owners):
                if owner == pid:
                    th = state[S_THREADS][tid]
                    stack.extend(frame[F_LOCALS] for frame in th[T_FRAMES])
                    stack.append(th[T_PHASE])
        while stack:
            item = stack.pop()
            if type(item) is not tuple or not item:
                continue
            tag = item[0]
            if len(item) == 3 and tag == "res" and type(item[2]) is int:
                locks.add(self.lock_offset[item[1]] + item[2])
                continue
            if len(item) == 2 and type(item[1]) is int:
                if tag == "obj":
                    if item[1] not in objects:
                        objects.add(item[1])
                        stack.append(heap[item[1]][H_STATE])
                    continue
                if tag in ("tx", "rx", "chan"):
                    if item[1] not in channels:
                        channels.add(item[1])
                        stack.append(chans[item[1]][C_BUF])
                    continue
            stack.extend(item)
        return locks, objects, channels


def _stop_threads(w: Work, pid: int) -> None:
    """Every thread of a process that is still there stops where it is, as ended (what it
    holds stays held)."""
    for t, owner in enumerate(w.procs[1]):
        th = w.threads[t]
        if owner == pid and th[T_STATUS] not in _OVER:
            w.set_thread(t, _with(_with(th, T_FRAMES, ()), T_STATUS, ENDED))
