"""The wait-for explanation of a stuck state: who waits for what, held by whom, and the cycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from gilcheck.analysis.capable import CHANNEL, Able, WhoCould
from gilcheck.analysis.executors import pool_backlog
from gilcheck.analysis.finalstate import FinalState
from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.locations import NOWHERE, Location, location_of
from gilcheck.analysis.statements import condition_text, statement_text
from gilcheck.analysis.waitgraph import held_words
from gilcheck.semantics import ir
from gilcheck.semantics.values import (
    EvalError,
    SplitNeeded,
    SymbolicLimit,
    Undecided,
    is_python_value,
)
from gilcheck.source import SourceMap
from gilcheck.symbolic.paths import SolverUnknown
from gilcheck.sync import registry
from gilcheck.sync.base import Could
from gilcheck.sync.eventloop import L_HOLDER
from gilcheck.system.engine import Engine, Prepared, SpecMisuse, SpecPanic
from gilcheck.system.engine.common import DECLARED, HEAP
from gilcheck.system.expr import IndexOutOfRange, UseAfterMove
from gilcheck.system.model import TIMEOUT, Transition
from gilcheck.system.state import (
    C_BUF,
    C_CAP,
    C_KIND,
    C_PENDING,
    CHILD_JOIN,
    ENDED,
    EXIT_JOIN,
    F_CODE,
    F_PC,
    FINALIZING,
    GIL_BLOCKING,
    GIL_LOST,
    GONE,
    H_KIND,
    H_STATE,
    NO_THREAD,
    PR_MAIN,
    S_CHANS,
    S_GIL,
    S_LOCKS,
    S_PROCS,
    S_STDOUT,
    S_THREADS,
    T_ALLOW,
    T_DAEMON,
    T_FRAMES,
    T_GILCOUNT,
    T_GILMODE,
    T_PHASE,
    T_STATUS,
    Frame,
    State,
    Thread,
    fork_path,
    heap_of,
)
from gilcheck.trace.model import Pending, Wait, Watched

# What evaluating a blocked statement's operands may raise: the step itself reports it.
_STATEMENT_ERRORS = (
    SpecMisuse,
    SpecPanic,
    EvalError,
    UseAfterMove,
    IndexOutOfRange,
    SplitNeeded,
    SymbolicLimit,
    Undecided,
    SolverUnknown,
)


class Why(NamedTuple):
    """Why a thread cannot move: a sentence, the threads holding what it waits for, and
    how they relate to it (for the wait-for graph: analysis/waitgraph.py)."""

    text: str
    holders: list[int]
    any_of: bool = False  # any one of the holders could end the wait
    itself: str = ""  # it waits for itself, in words (`it holds lock m`)
    exhausted: str = ""  # a pool's exhaustion that keeps its future's task from starting


# What the explanations of single statements give: a sentence and its holders, or more.
Reason = tuple[str, list[int]] | Why


def _why(reason: Reason) -> Why:
    return reason if isinstance(reason, Why) else Why(reason[0], reason[1])


class WaitExplainer:
    """Explains why each thread of a state cannot move."""

    def __init__(self, engine: Engine, layout: StateLayout, sources: SourceMap) -> None:
        self.engine = engine
        self.layout = layout
        self.sources = sources
        self.sends_to = _channel_uses(engine.program, (ir.Send,))
        self.receives_from = _channel_uses(engine.program, (ir.Recv, ir.TryRecv))
        # Who may set an event, notify a condvar or arrive at a barrier: only those threads
        # are waited for (an event no thread can set is waited on for ever, from no one).
        self.sync_uses = _sync_uses(engine.program)
        self.who = WhoCould(engine, layout, sources)
        self.stacks = self.who.stacks
        self.moving: set[int] = set()  # the threads that can move in the state explained

    def _may_use(self, state: State, tid: int, uses: dict[int, set[str]], name: str) -> bool:
        th = state[S_THREADS][tid]
        if th[T_STATUS] in (ENDED, GONE) or not th[T_FRAMES]:
            return False
        return any(name in uses.get(frame[F_CODE], set()) for frame in th[T_FRAMES])

    def holds(self, state: State, tid: int) -> tuple[str, ...]:
        """What a thread holds: the GIL, stdout's lock, mutexes and rlocks."""
        held: list[str] = []
        th = state[S_THREADS][tid]
        if self.engine.gil_off:
            if th[T_STATUS] != ENDED and th[T_GILCOUNT] > 0:
                held.append("an attached thread state")
        elif state[S_GIL] == tid:
            held.append("the GIL")
        if state[S_STDOUT] == tid:
            held.append("stdout's lock")
        for lid, lock in enumerate(state[S_LOCKS]):
            key = (DECLARED, lid)
            label = self.layout.object_label(state, key)
            text = self.layout.object_prim(state, key).holds(lock, tid, label)
            if text is not None:
                held.append(text)
        for oid, entry in enumerate(heap_of(state)):
            label = self.layout.object_label(state, (HEAP, oid))
            text = registry.primitive(entry[H_KIND]).holds(entry[H_STATE], tid, label)
            if text is not None:
                held.append(self.layout.tidy(text))
        return tuple(held)

    def explain(self, state: State) -> list[Wait]:
        """One Wait per thread that has not ended; with processes, per thread of the
        deadlocked processes, each explained in its own process's view."""
        waits: list[Wait] = []
        engine = self.engine
        deadlocked = set(engine.deadlocked_processes(state)) if engine.has_processes else set()
        whole = state
        self.moving = engine.enabled_threads(whole)
        views: dict[int, State] = {}
        for tid, th in enumerate(whole[S_THREADS]):
            if th[T_STATUS] == ENDED:
                continue
            pid = engine.process_of(whole, tid)
            if deadlocked and pid not in deadlocked:
                continue  # a process that still runs
            if pid not in views:
                views[pid] = engine.view(whole, pid) if engine.has_processes else whole
                self.layout.same_objects(whole, views[pid])
            state = views[pid]
            why = self.why(state, tid)
            text, holders = why.text, why.holders
            if engine.has_processes:
                ended = [
                    self.layout.thread_name(whole, h)
                    for h in holders
                    if engine.process_of(whole, h) != pid
                    and engine.process_ended(whole, engine.process_of(whole, h))
                ]
                if ended:
                    whose = "its process has" if len(ended) == 1 else "their processes have"
                    text += f" ({', '.join(ended)}: {whose} ended; what it held stays held)"
            if pid:
                text = f"in process {self.layout.process_name(whole, pid)}: {text}"
            gone = [self.layout.thread_name(state, h) for h in holders if _gone(state, h)]
            if gone and th[T_STATUS] != GONE:
                verb = "does" if len(gone) == 1 else "do"
                text += f" ({', '.join(gone)} {verb} not exist in the child)"
                holders = [h for h in holders if not _gone(state, h)]
            text += self._interrupted(state, tid)
            location, statement = self.where(state, tid)
            waits.append(
                Wait(
                    thread=self.layout.thread_name(state, tid),
                    waits_for=text,
                    holders=tuple(self.layout.thread_name(state, h) for h in holders),
                    location=location,
                    statement=statement,
                    holds=self.holds(state, tid),
                    stack=self.stacks.stack(th) if th[T_STATUS] != GONE else (),
                    itself=why.itself if tid in holders else "",
                    any_of=why.any_of and len(holders) > 1,
                    exhausted=why.exhausted,
                )
            )
        return waits

    def around(
        self, state: State, waits: list[Wait]
    ) -> tuple[tuple[Watched, ...], tuple[Pending, ...]]:
        """What explains `waits` (of this state) besides themselves: the shared vars their
        conditions read, and every channel, queue and queue of tasks that is not empty."""
        names = {w.thread for w in waits}
        tids = [
            t for t in range(len(state[S_THREADS])) if self.layout.thread_name(state, t) in names
        ]
        final = FinalState(self.engine, self.layout)
        return final.watched(state, tids), final.pending(state)

    def _interrupted(self, state: State, tid: int) -> str:
        """`; it runs the finalizer, which started ...` for a thread inside an interrupt."""
        frames = state[S_THREADS][tid][T_FRAMES]
        for depth in range(len(frames) - 1, 0, -1):
            kind = self.engine.codes[frames[depth][F_CODE]].kind
            if kind in ("finalizer", "signal"):
                below = frames[depth - 1]
                instr = self.engine.codes[below[F_CODE]].instrs[below[F_PC]]
                what = "the finalizer" if kind == "finalizer" else "the signal handler"
                name = self.layout.thread_name(state, tid)
                return (
                    f"; it runs {what}, which started inside `python {{ }}` at "
                    f"{location_of(self.sources, instr).short} on {name}"
                )
        return ""

    def fork_note(self, state: State) -> str:
        """`in the child forked at app.gil:12` for a state of a forked child, else ``."""
        forks = fork_path(state)
        if not forks:
            return ""
        _tid, code, pc = forks[-1]
        instr = self.engine.codes[code].instrs[pc]
        return f"in the child process forked at {location_of(self.sources, instr).short}"

    def where(self, state: State, tid: int) -> tuple[Location, str]:
        th = state[S_THREADS][tid]
        if th[T_STATUS] == GONE:
            return NOWHERE, "(not in the child process)"
        if not th[T_FRAMES]:
            return NOWHERE, "(program end)"
        frame = th[T_FRAMES][-1]
        instr = self.engine.codes[frame[F_CODE]].instrs[frame[F_PC]]
        return location_of(self.sources, instr), statement_text(self.sources, instr)

    def gil_holder(self, state: State) -> list[int]:
        gil = state[S_GIL]
        return [gil] if gil != NO_THREAD else []

    def _gil_text(self, state: State, tid: int, what: str = "waits for the GIL") -> str:
        gil = state[S_GIL]
        if self.engine.gil_off:
            if gil == NO_THREAD:
                return what.replace("the GIL", "to attach")
            return (
                what.replace("waits for the GIL", "waits to attach")
                + f" until the stop-the-world pause of {self.layout.thread_name(state, gil)}"
                " ends"
            )
        if gil == NO_THREAD:
            return what
        holder = self.layout.thread_name(state, gil)
        if state[S_THREADS][gil][T_STATUS] == ENDED:
            # Only `acquire_gil` lets a thread end holding the GIL: it stays held for ever.
            return (
                f"{what}, held for ever by {holder}, which ended holding it "
                "(taken by `acquire_gil`, never released)"
            )
        return f"{what}, held by {holder}"

    def why(self, state: State, tid: int) -> Why:
        """Why `tid` cannot move: a sentence, the threads that hold what it waits for, and
        how they relate to it."""
        return _why(self._reason(state, tid))

    def _reason(self, state: State, tid: int) -> Reason:
        th = state[S_THREADS][tid]
        status = th[T_STATUS]
        name = self.layout.thread_name
        if status == GONE:
            return "does not exist in the child (what it held stays held)", []
        if status == EXIT_JOIN:
            pid = self.engine.process_of(state, tid)
            others = [
                i
                for i, t in enumerate(state[S_THREADS])
                if i != tid
                and t[T_STATUS] != ENDED
                and not t[T_DAEMON]
                and self.engine.process_of(state, i) == pid
            ]
            names = ", ".join(name(state, i) for i in others)
            return f"has returned; the exit join waits for non-daemon thread {names}", others
        if status == CHILD_JOIN:
            records = state[S_PROCS][2]
            pid = self.engine.current_process(state)
            children = [records[k][PR_MAIN] for k in self.engine.running_children(state, pid)]
            names = ", ".join(name(state, t) for t in children)
            return f"has returned; it joins its child process {names}", children
        if status == FINALIZING:
            return self._gil_text(state, tid, "has returned; finalization waits for the GIL"), (
                self.gil_holder(state)
            )
        if th[T_GILMODE] == GIL_LOST:
            return self._gil_text(state, tid, "waits to take the GIL back"), self.gil_holder(state)
        if self.engine.gil_off and state[S_GIL] != NO_THREAD:
            pause = state[S_GIL]
            if pause == tid:
                waited = self.engine.pause_waits_for(state, tid)
                names = ", ".join(name(state, i) for i in waited)
                return (
                    f"started a stop-the-world pause and waits for {names} (attached, "
                    "not at a Python statement boundary) to detach"
                ), waited
            if self.engine.in_python_code(th):
                return (
                    f"is parked at a Python statement boundary by the stop-the-world "
                    f"pause of {name(state, pause)}"
                ), [pause]
        if self.engine.idle_thread(state, tid):
            if self.engine.codes[th[T_FRAMES][0][F_CODE]].kind == "loop":
                return self._loop_thread(state, tid)
            label = self.layout.object_label(state, self.engine.worker_pool(state, tid))
            return self.layout.tidy(f"is idle: no task is queued on pool {label}"), []
        frame = th[T_FRAMES][-1]
        p = self.engine.prepared[frame[F_CODE]][frame[F_PC]]
        instr = p.instr
        try:
            why = _why(self._instr_reason(state, tid, th, frame, p, instr))
        except _STATEMENT_ERRORS:  # the statement itself fails here (reported as its step)
            return "cannot go on", []
        if getattr(instr, "timed", False) and self._may_time_out(state, tid):
            why = why._replace(text=why.text + "; a timed wait: it may still time out and go on")
        return why

    def _may_time_out(self, state: State, tid: int) -> bool:
        """Whether a thread at a timed wait has a timeout step here."""
        steps: list[Transition] = []
        self.engine.thread_transitions(state, tid, state[S_THREADS][tid], steps)
        return any(action[1] == TIMEOUT for action, _ in steps)

    def _instr_reason(self, state, tid, th, frame, p, instr) -> Reason:  # type: ignore[no-untyped-def]
        name = self.layout.thread_name
        match instr:
            case ir.GilEnter() | ir.PythonEnter() | ir.AllowExit():
                return self._gil_text(state, tid), self.gil_holder(state)
            case ir.AcquireGil():
                restore = th[T_ALLOW] and th[T_ALLOW][-1] < 0
                call = "PyEval_RestoreThread" if restore else "PyEval_AcquireThread"
                what = f"waits for the GIL in `acquire_gil` ({call})"
                return self._gil_text(state, tid, what), self.gil_holder(state)
            case ir.Print():
                if th[T_PHASE] == 1:
                    return (
                        self._gil_text(
                            state,
                            tid,
                            "holds stdout's lock and waits for the GIL to format a Python value",
                        ),
                        self.gil_holder(state),
                    )
                owner = state[S_STDOUT]
                if owner not in (NO_THREAD, tid):
                    return f"waits for stdout's lock, held by {name(state, owner)}", [owner]
                value = self.engine.evaluate(p.value, state, frame, th)
                if is_python_value(value):
                    return self._gil_text(state, tid), self.gil_holder(state)
                return "cannot print", []
            case ir.SyncOp() if p.makes_pyobj and state[S_GIL] not in (NO_THREAD, tid):
                return self._gil_text(state, tid, "waits for the GIL to make a Python object"), (
                    self.gil_holder(state)
                )
            case _ if p.verb and self._blocks(state, tid):
                return self._sync_reason(state, tid, th, frame, p)
            case ir.Recv(channel=ref):
                cid = self.engine.channel_id(ref, frame, th, state, "rx")
                return self._empty_channel(state, tid, cid)
            case ir.Send(channel=ref):
                cid = self.engine.channel_id(ref, frame, th, state, "tx")
                if p.makes_pyobj and state[S_GIL] not in (NO_THREAD, tid):
                    return self._gil_text(state, tid), self.gil_holder(state)
                return self._full_channel(state, tid, cid)
            case ir.LoopStart() | ir.SuspendEnd() if self.engine.is_task(th):
                return self._loop_turn(state, tid, th)
            case ir.Join():
                target = self.engine.join_target(state, th, frame, p)
                if target in self.engine.process_mains(state):
                    return f"waits for process {name(state, target)} to end (join)", [target]
                text = f"waits for {name(state, target)} to end (join)"
                return Why(text, [target], itself="it joins itself" if target == tid else "")
            case ir.Await():
                return f"waits until `{condition_text(self.sources, instr)}` holds", []
            case ir.AtomicBegin():
                first = self.engine.prepared[frame[F_CODE]][frame[F_PC] + 1].instr
                if isinstance(first, ir.Await):
                    cond = condition_text(self.sources, first)
                    return f"waits until its atomic block can run (`await {cond}`)", []
                return self._gil_text(
                    state, tid, "waits for the GIL: its atomic block touches a Python object"
                ), self.gil_holder(state)
            case ir.Assign() | ir.CloneHandle() | ir.CallFn() | ir.SpawnFn() | ir.Branch():
                return self._gil_text(state, tid, "waits for the GIL to touch a Python object"), (
                    self.gil_holder(state)
                )
        if th[T_GILMODE] == GIL_BLOCKING:
            return "waits (it released the GIL to block)", []
        return "cannot go on", []

    def _blocks(self, state: State, tid: int) -> bool:
        """Whether the thread's statement on an object is one that can block."""
        reached = self.engine.reached(state, tid)
        if reached is None:
            return False
        frame = state[S_THREADS][tid][T_FRAMES][-1]
        verb = self.engine.prepared[frame[F_CODE]][frame[F_PC]].verb
        found = registry.primitive(reached.kind).verbs.get(verb)
        return found is not None and found.blocks

    def _sync_reason(self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared) -> Reason:
        """What a statement on a sync object waits for: its primitive says."""
        reached = self.engine.reached(state, tid)
        assert reached is not None
        partner: object = None
        partner_label = ""
        if reached.partner_at >= 0:
            partner_key = (reached.partner_where, reached.partner_at)
            partner = self.engine.object_state(state, partner_key)
            partner_label = self.layout.object_label(state, partner_key)
        view = _View(self, state, tid, reached.obj, partner_label, reached.object_count or 1)
        if reached.kind == "future" and reached.where == HEAP:
            operand = getattr(getattr(p.instr, "resource", None), "name", "")
            submitted = self._submitted(state, tid, reached.at, operand)
            if submitted is not None:
                return submitted._replace(text=self.layout.tidy(submitted.text))
        obj = self.engine.object_state(state, reached.obj)
        # A loop task waits on a condvar, barrier, ... as its loop's thread (the engine
        # records it so); a lock's holder is better named as it is (`held by lp`).
        owned = reached.kind in ("mutex", "rlock", "rwlock", "semaphore")
        actor = tid if owned else self.engine.actor_on(reached.kind, tid, th)
        text, waits_for = registry.primitive(reached.kind).wait_reason(
            p.verb, obj, actor, reached.phase, partner, view
        )
        waits_for = [h for h in waits_for if h >= 0]
        itself = ""
        if tid in waits_for:
            itself = self.layout.tidy(held_words(reached.kind, obj, tid, view.label))
        return Why(self.layout.tidy(text), waits_for, any_of=view.alternatives, itself=itself)

    def _submitted(self, state: State, tid: int, fid: int, operand: str = "") -> Why | None:
        """Why `result f` waits on a future made by `submit`: its task runs on a worker, or is
        queued behind busy workers (None: not such a future, or already complete)."""
        done, _, by_submit = heap_of(state)[fid][H_STATE]
        if done or not by_submit:
            return None
        label = self.layout.object_label(state, (HEAP, fid))
        on_loop = self.engine.loop_of_future(state, ("obj", fid))
        if on_loop is not None:
            return _why(self._loop_future(state, tid, label, operand, *on_loop))
        task = self.engine.task_of(state, ("obj", fid))
        if task is None:
            return Why(f"waits for future {label}, whose task was dropped: it never completes", [])
        name = self.engine.codes[task.function].name
        if task.worker >= 0:
            worker = self.layout.thread_name(state, task.worker)
            return Why(f"waits for future {label}: its task {name} runs on {worker}", [task.worker])
        backlog, busy = pool_backlog(
            self.engine, self.layout, state, task.pool, lambda t: t not in self.moving
        )
        among = ", this one included" if tid in busy else ""
        return Why(
            f"waits for future {label}: its task {name} cannot start: {backlog}{among}",
            busy,
            any_of=True,
            exhausted=backlog if busy else "",
        )

    def _loop_thread(self, state: State, tid: int) -> tuple[str, list[int]]:
        """What an event loop's own thread is doing: running its tasks as coroutines (what
        they hold is held by it: the task holding the loop is the one it waits for)."""
        for slot, loop_tid in self.engine.loop_threads.items():
            if loop_tid == tid:
                label = self.layout.object_label(state, (DECLARED, slot))
                holder = state[S_LOCKS][slot][L_HOLDER]
                if holder == NO_THREAD:
                    return f"is event loop {label}'s thread: no task holds it", []
                name = self.layout.thread_name(state, holder)
                return f"is event loop {label}'s thread, running its task {name}", [holder]
        return "is idle", []

    def _no_loop_thread(self, slot: int) -> str:
        """Why a loop runs no task: a fork child lost its thread, or it is a child
        process's copy of a declared loop, which has none."""
        if self.engine.has_processes and slot >= self.engine.lock_block:
            return "which has no thread in a child process (its tasks never run)"
        return "whose thread does not exist in this child process"

    def _loop_turn(self, state: State, tid: int, th: Thread) -> tuple[str, list[int]]:
        """Why a ready task of an event loop (to start, or back from `suspend`) waits."""
        slot = self.engine.task_loop(th)
        loop = self.layout.object_label(state, (DECLARED, slot))
        if th[T_PHASE] and th[T_PHASE][0] == 2:
            return self._gil_text(
                state, tid, "has event loop " + loop + " back and waits for the GIL"
            ), self.gil_holder(state)
        if self.engine.loop_gone(state, slot):
            return f"waits for event loop {loop}, {self._no_loop_thread(slot)}", []
        obj = state[S_LOCKS][slot]
        holder = obj[L_HOLDER]
        if holder != NO_THREAD:
            name = self.layout.thread_name(state, holder)
            return f"waits for event loop {loop}, held by {name}", [holder]
        ahead = [t for t in obj[1] if t != tid][: list(obj[1]).index(tid)] if tid in obj[1] else []
        if ahead:
            names = ", ".join(self.layout.thread_name(state, t) for t in ahead)
            return f"waits for its turn on event loop {loop}, after {names}", ahead
        return f"waits for event loop {loop}", []

    def _loop_future(
        self, state: State, tid: int, label: str, operand: str, slot: int, task: int, function: int
    ) -> Reason:
        """Why `result f` waits for a future of an event loop's task."""
        loop = self.layout.object_label(state, (DECLARED, slot))
        name = self.engine.codes[function].name if function >= 0 else "its task"
        holder = state[S_LOCKS][slot][L_HOLDER]
        if task >= 0:
            task_name = self.layout.thread_name(state, task)
            return (
                f"waits for future {label}: its task {name} runs on event loop {loop} "
                f"({task_name})",
                [task],
            )
        if holder == tid:
            return Why(
                f"holds event loop {loop} while blocked in `result {operand}`: the loop's "
                f"thread waits for a task only it can run ({name}, which would complete "
                f"`{operand}`, is queued on the same loop); `{operand}` is future {label}",
                [tid],
                itself=(
                    f"it holds event loop {loop}, the only loop that can run {name}, the task "
                    f"that would complete `{operand}`"
                ),
            )
        if holder != NO_THREAD:
            return (
                f"waits for future {label}: its task {name} is queued on event loop {loop}, "
                f"held by {self.layout.thread_name(state, holder)}",
                [holder],
            )
        if self.engine.loop_gone(state, slot):
            return (
                f"waits for future {label}: its task {name} is queued on event loop {loop}, "
                f"{self._no_loop_thread(slot)}",
                [],
            )
        return f"waits for future {label}: its task {name} is queued on event loop {loop}", []

    def at_statement(self, state: State, tid: int, key: tuple[int, int], verb: str) -> bool:
        """Whether a thread is at statement `verb` on object `key`."""
        th = state[S_THREADS][tid]
        if th[T_STATUS] == ENDED or not th[T_FRAMES]:
            return False
        frame = th[T_FRAMES][-1]
        if self.engine.prepared[frame[F_CODE]][frame[F_PC]].verb != verb:
            return False
        reached = self.engine.reached(state, tid)
        return reached is not None and reached.obj == key

    def _owners(self, state: State, tid: int, tag: str, cid: int) -> tuple[str, list[int]]:
        """`tx is owned by worker, blocked at app.gil:15`: the live handles of one end of a
        channel, each with what keeps its owner from using it; and the owners."""
        handles = self.layout.handle_names(state, tag, cid)
        if not handles:
            return "", []
        parts = []
        for local, t in handles:
            owner = self.layout.thread_name(state, t)
            if t == tid:
                parts.append(f"{local} is owned by {owner}, the waiter itself")
            elif t in self.moving:
                parts.append(f"{local} is owned by {owner}, which still runs")
            else:
                where = self.stacks.where(state[S_THREADS][t])
                parts.append(f"{local} is owned by {owner}, blocked at {where}")
        return ", ".join(parts), sorted({t for _, t in handles})

    def _owned_by(
        self, state: State, tid: int, tag: str, cid: int, what: str, end: str
    ) -> Why | None:
        """A wait on a channel made at run time: for the owners of its other `end`'s handles
        (None: nobody holds one). Holding the only one itself, it waits for itself."""
        text, owners = self._owners(state, tid, tag, cid)
        if not text:
            return None
        itself = ""
        if owners == [tid]:
            locals_ = [local for local, _ in self.layout.handle_names(state, tag, cid)]
            if end == "receiver":
                itself = f"it holds {locals_[0]}, the receiver of the channel it sends on"
            elif len(locals_) == 1:
                cname = self.layout.channel_name(state, cid)
                itself = f"it holds {locals_[0]}, the only sender of {cname}"
            else:
                cname = self.layout.channel_name(state, cid)
                itself = f"it holds every sender of {cname} ({', '.join(locals_)})"
        return Why(f"{what}, whose {end} {text}", owners, any_of=True, itself=itself)

    def _global_users(
        self, state: State, tid: int, cid: int, word: str, uses: dict[int, set[str]]
    ) -> tuple[list[int], str]:
        """The other threads that may use a global channel with `word` (`send`, `recv`), and
        who could, as a clause."""
        base = self.layout.channel_name(state, cid).split("[")[0]
        act = "send on it" if word == "send" else "receive from it"
        keys = frozenset({f"{word} {base}"})
        moving = self.moving.__contains__
        ables = self.who.able(state, tid, keys, moving, (CHANNEL, cid))
        able = {a.tid for a in ables if not a.started}
        users = [
            i
            for i in range(len(state[S_THREADS]))
            if i != tid and i in able and self._may_use(state, i, uses, base)
        ]
        return users, self.who.clause(ables, act).clause

    def _empty_channel(self, state: State, tid: int, cid: int) -> Reason:
        cname = self.layout.channel_name(state, cid)
        chan = state[S_CHANS][cid]
        if cid < len(self.layout.global_channels):
            senders, could = self._global_users(state, tid, cid, "send", self.sends_to)
            kind = (
                "a queue, which never closes"
                if chan[C_KIND] == "queue"
                else ("a global channel, closed only by `close`")
            )
            return Why(f"waits on {cname}, empty ({kind}){could}", senders, any_of=True)
        owned = self._owned_by(state, tid, "tx", cid, f"waits on {cname}, empty", "sender")
        return owned if owned is not None else (f"waits on {cname}, empty", [])

    def _full_channel(self, state: State, tid: int, cid: int) -> Reason:
        cname = self.layout.channel_name(state, cid)
        chan = state[S_CHANS][cid]
        if chan[C_KIND] == "rendezvous":
            if chan[C_PENDING] == tid and not chan[C_BUF]:
                return f"waits on {cname} (rendezvous)", []
            what = f"waits on {cname}, a rendezvous channel, for a receiver"
        else:
            cap = chan[C_CAP] if chan[C_CAP] is not None else len(chan[C_BUF])
            what = f"waits on {cname}, full ({len(chan[C_BUF])} of {cap})"
        owned = self._owned_by(state, tid, "rx", cid, what, "receiver")
        if owned is not None:
            return owned
        if cid < len(self.layout.global_channels):
            receivers, could = self._global_users(state, tid, cid, "recv", self.receives_from)
            return Why(f"{what}{could}", receivers, any_of=True)
        return what, []


def _channel_uses(program: ir.Program, kinds: tuple[type, ...]) -> dict[int, set[str]]:
    """Per code unit, the global channels it (or a function it calls) uses with `kinds`."""
    return _uses(
        program,
        lambda instr: (
            getattr(instr, "channel").name  # noqa: B009 - only Send/Recv/TryRecv
            if isinstance(instr, kinds) and isinstance(getattr(instr, "channel"), ir.GlobalChannel)  # noqa: B009
            else None
        ),
    )


def _sync_uses(program: ir.Program) -> dict[int, set[str]]:
    """Per code unit, the statements on sync objects it (or a function it calls) runs, each
    as `verb name` (`set e`, `notify cv`)."""

    def used(instr: ir.Instr) -> str | None:
        verb = ir.sync_verb(instr)
        if verb is None:
            return None
        res: ir.ResourceRef = instr.resource  # type: ignore[union-attr]
        # An object reached through a value may be any object: `verb *`.
        return f"{verb} {'*' if res.value is not None else res.name}"

    return _uses(program, used)


class _View:
    """What a primitive may ask to explain a wait (sync/base.py WaitView)."""

    def __init__(
        self,
        explainer: WaitExplainer,
        state: State,
        tid: int,
        key: tuple[int, int],
        partner_label: str,
        count: int,
    ) -> None:
        self.explainer, self.state, self.tid, self.key = explainer, state, tid, key
        layout = explainer.layout
        # How code may name it: a declared object by its name (or through a value), one
        # made at run time only through a value.
        self.names = (
            ("*",)
            if key[0] == HEAP
            else (layout.lock_names[key[1] % max(1, layout.engine.lock_block)].split("[")[0], "*")
        )
        self.label = layout.object_label(state, key)
        self.partner_label = partner_label
        self.count = count
        # Set once `could` was asked (events, condvars, futures, semaphores, latches): the
        # threads `may_use` gives are alternatives, any one of which could end the wait. A
        # barrier asks only `may_use`: it waits for every party.
        self.alternatives = False

    def name(self, tid: int) -> str:
        return self.explainer.layout.thread_name(self.state, tid)

    def name_or_nobody(self, tid: int) -> str:
        return name_of(self.explainer, self.state, tid)

    def may_use(self, verbs: tuple[str, ...]) -> list[int]:
        explainer, state = self.explainer, self.state
        # Not those whose statements certainly name another object (`set r`, `r` another
        # event; `notify cv[self]` of another element).
        able = {a.tid for a in self._ables(verbs) if not a.started}
        return [
            i
            for i in range(len(state[S_THREADS]))
            if i != self.tid
            and i in able
            and any(
                explainer._may_use(state, i, explainer.sync_uses, f"{verb} {name}")
                for verb in verbs
                for name in self.names
            )
        ]

    def _ables(self, verbs: tuple[str, ...]) -> list[Able]:
        explainer = self.explainer
        keys = frozenset(f"{verb} {name}" for verb in verbs for name in self.names)
        moving = explainer.moving.__contains__
        return explainer.who.able(self.state, self.tid, keys, moving, self.key)

    def not_at(self, tids: list[int], verb: str) -> list[int]:
        return [i for i in tids if not self.explainer.at_statement(self.state, i, self.key, verb)]

    def could(self, verbs: tuple[str, ...], act: str) -> Could:
        self.alternatives = True
        return self.explainer.who.clause(self._ables(verbs), act)


def _uses(program: ir.Program, used: Callable[[ir.Instr], str | None]) -> dict[int, set[str]]:
    direct: dict[int, set[str]] = {}
    calls: dict[int, set[int]] = {}
    for index, code in enumerate(program.codes):
        direct[index] = {name for instr in code.instrs if (name := used(instr)) is not None}
        calls[index] = {i.function for i in code.instrs if isinstance(i, ir.CallFn)}
    closed: dict[int, set[str]] = {}
    for index in direct:
        seen = {index}
        todo = [index]
        names: set[str] = set()
        while todo:
            current = todo.pop()
            names |= direct[current]
            for callee in calls[current] - seen:
                seen.add(callee)
                todo.append(callee)
        closed[index] = names
    return closed


def _gone(state: State, tid: int) -> bool:
    return 0 <= tid < len(state[S_THREADS]) and state[S_THREADS][tid][T_STATUS] == GONE


def name_of(explainer: WaitExplainer, state: State, tid: int) -> str:
    return explainer.layout.thread_name(state, tid) if tid >= 0 else "nobody"
