"""Breadth-first search on several processes, each owning the states whose hash falls to it.

The search goes depth by depth. At each depth every worker expands the states it owns
that were new at the depth before, keeps the successors it owns and sends the others to
their owners (one batch per pair of workers and depth), then adds what it received. The
depths are the sequential search's, so the first depth with a deadlock or a violating
step is the same and its trace (walked back from owner to owner) is a shortest one.

It is also the sequential search's trace, whatever the number of workers. That search
numbers states in the order it finds them: a new state comes after the states found
before it, by its first finder's number and then by where it stands among that state's
steps, and its first finder is its parent. So each successor travels with that key (its
parent's number, its place among the parent's steps); the owner keeps, of the parents
that reach a new state at one depth, the one with the least key; and the coordinator
numbers each depth's new states by their keys across the workers. The deadlock, the
violating step and the limit reported are those with the least number, as the sequential
search finds them first.

Workers are forked from the checking process, so they share its compiled program. A state's
owner is a hash of small ints only (where each thread is, the GIL), the same in every
process. Stuck threads and livelocks need the whole graph: the workers
send their edges at the end, and when some state can reach no end, the caller judges the
cycles with a sequential search.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import signal
import time
import traceback
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

from gilcheck.explore.bfs import BreadthFirst, breadth_first
from gilcheck.explore.budget import Budget, StopSearch
from gilcheck.explore.exploration import Exploration, Graph
from gilcheck.explore.native import native_module
from gilcheck.explore.partition import EVERY_THREAD, Partition
from gilcheck.explore.store import StateStore
from gilcheck.explore.strategy import Problem
from gilcheck.explore.unavailable import ParallelUnavailable
from gilcheck.explore.visitor import Visitor
from gilcheck.memory import peak_resident_bytes, resident_bytes_of
from gilcheck.options import CheckOptions
from gilcheck.system.model import Action, LimitHit, TransitionSystem, Violation
from gilcheck.system.state import (
    F_CODE,
    F_PC,
    S_ENDED,
    S_GIL,
    S_STDOUT,
    S_THREADS,
    T_FRAMES,
    T_STATUS,
    State,
)

Gid = tuple[int, int]  # (worker, id in that worker's store)


class LimitDuringDepth(Exception):
    """A time or memory limit reached while the workers expanded a depth (`reason`): they
    are stopped without finishing it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class WorkerFailed(RuntimeError):
    """A worker of the search ended with an error (its traceback is the message); where it
    ran out of memory or threads, `resource` says which: a limit, not a bug."""

    def __init__(self, error: str) -> None:
        super().__init__(f"a worker failed:\n{error}")
        last = error.strip().splitlines()[-1] if error.strip() else ""
        self.resource: str | None = None
        if "MemoryError" in last:
            self.resource = "memory"
        elif "can't start new thread" in last or "Resource temporarily unavailable" in last:
            self.resource = "threads"


LOOK_EVERY = 0.25  # seconds: how often the time and memory limits are looked at in a depth


@dataclass
class _Level:
    """What one worker reports after a depth. The states it names are of the depth it
    expanded, each as (its number in the sequential order, its id at this worker)."""

    new: int = 0
    transitions: int = 0
    deadlock: tuple[int, int] | None = None  # the first deadlock state
    violation: tuple[int, int, Action, Violation] | None = None  # the first violating step
    limit: tuple[int, int, Action, LimitHit] | None = None  # the first step past a limit
    sent: int = 0  # states sent to other workers at this depth
    # The keys of the states new at the next depth, in the order of their ids here: the
    # number of the parent that found each first, and the place of the step among its.
    key_parent: array[int] = field(default_factory=lambda: array("q"))
    key_place: array[int] = field(default_factory=lambda: array("q"))
    keys_in_order: bool = False  # the keys are sorted (a worker on records)
    error: str | None = None
    peak: int = 0  # the worker process's peak resident bytes (0: not measured)


# (state, parent id at the sender, the parent's number, the step's place, action, mark)
StateBatch = list[tuple[State, int, int, int, Action, int]]
# What one worker sends another after a depth: a StateBatch, or records
# (explore/native_cluster.py)
Batch = Any


def owner_of(state: State, count: int) -> int:
    """The worker that owns a state: by where each thread is, its status, and the GIL.

    Equal states have one owner. Only ints are hashed, whose hashes are the same in every
    process (hash(None), in the locals, depends on where None sits in memory before 3.12).
    """
    where = tuple(thread_place(th) for th in state[S_THREADS])
    return hash((where, state[S_GIL], state[S_STDOUT], state[S_ENDED])) % count


def thread_place(thread: Any) -> tuple[Any, ...]:
    """Where a thread is, in ints (its status, and its innermost frame's code, place and
    depth): what the owner of a state hashes of each thread."""
    frames = thread[T_FRAMES]
    if not frames:
        return (thread[T_STATUS],)
    return (thread[T_STATUS], frames[-1][F_CODE], frames[-1][F_PC], len(frames))


class _Worker:
    """One process's part of the search: its states, their parents and the edges into them."""

    def __init__(
        self,
        index: int,
        count: int,
        system: TransitionSystem,
        options: CheckOptions,
    ) -> None:
        self.index = index
        self.count = count
        self.system = system
        self.options = options
        self.store = StateStore()
        self.parent_worker = bytearray()
        self.number = array("q")  # each state's number in the sequential search's order
        self.level_start = 0
        # Edges into this worker's states: source (worker, id), target id, progress mark.
        self.edge_worker = bytearray()
        self.edge_src = array("i")
        self.edge_dst = array("i")
        self.edge_marks = bytearray()
        self.graph = options.graph_analysis
        self.visitor = Visitor(system, options)

    def seed(self, state: State) -> None:
        if owner_of(state, self.count) == self.index:
            self._add(state, -1, -1, None, 0)
            self.number.append(0)

    def _add(
        self, state: State, worker: int, parent: int, via: Action | None, mark: int
    ) -> tuple[int, bool]:
        sid, new = self.store.add(state, parent, via)
        if new:
            self.parent_worker.append(worker if worker >= 0 else 255)
        if self.graph and worker >= 0:
            self.edge_worker.append(worker)
            self.edge_src.append(parent)
            self.edge_dst.append(sid)
            self.edge_marks.append(mark)
        return sid, new

    def expand(self) -> tuple[_Level, list[Batch]]:
        """Expand the states new at the last depth: a report, and a batch for each worker."""
        report = _Level()
        store = self.store
        start, end = self.level_start, len(store)
        self.level_start = end
        outgoing: list[StateBatch] = [[] for _ in range(self.count)]
        system = self.system
        visitor = self.visitor
        count = self.count
        for sid in range(start, end):
            state = store.decode(sid)
            number = self.number[sid]
            steps = system.transitions(state)
            if visitor.is_deadlock(state, steps):
                if report.deadlock is None or number < report.deadlock[0]:
                    report.deadlock = (number, sid)
                continue
            report.transitions += len(steps)
            for place, (action, target) in enumerate(steps):
                if type(target) is tuple:
                    mark = visitor.mark(state, action)  # -1: not an edge the analyses see
                    outgoing[owner_of(target, count)].append(
                        (target, sid, number, place, action, mark)
                    )
                elif isinstance(target, Violation):
                    if report.violation is None or number < report.violation[0]:
                        report.violation = (number, sid, action, target)
                elif isinstance(target, LimitHit) and (
                    report.limit is None or number < report.limit[0]
                ):
                    report.limit = (number, sid, action, target)
        report.sent = sum(len(b) for d, b in enumerate(outgoing) if d != self.index)
        return report, outgoing

    def absorb(self, report: _Level, batches: list[Batch]) -> _Level:
        """Add the successors every worker sent (in worker order: the same ids every run),
        each new state with the parent whose key is least (see the module's docstring)."""
        before = len(self.store)
        for sender, batch in enumerate(batches):
            self._receive(sender, batch, before, report)
        report.new = len(self.store) - before
        return report

    def _receive(self, sender: int, batch: StateBatch, before: int, report: _Level) -> None:
        store = self.store
        key_parent, key_place = report.key_parent, report.key_place
        for target, parent, number, place, action, mark in batch:
            if mark < 0:  # a spurious wakeup: stored, but not an edge
                sid, new = store.add(target, parent, action)
                if new:
                    self.parent_worker.append(sender)
            else:
                sid, new = self._add(target, sender, parent, action, mark)
            if new:
                key_parent.append(number)
                key_place.append(place)
            elif sid >= before:  # found again at this depth: the least key is the parent
                at = sid - before
                if (number, place) < (key_parent[at], key_place[at]):
                    key_parent[at], key_place[at] = number, place
                    self.parent_worker[sid] = sender
                    store.reparent(sid, parent, action)

    def numbered(self, numbers: array[int]) -> None:
        """The numbers of the states new at the last depth, in the order of their ids."""
        self.number.extend(numbers)

    def step_back(self, sid: int) -> tuple[int, int, Action | None, State | None]:
        """Where state `sid` came from: (worker, id) of its parent, the action, the state."""
        worker = self.parent_worker[sid]
        return (
            -1 if worker == 255 else worker,
            self.store.parent[sid],
            self.store.action(sid),
            self.store.decode(sid),
        )

    def edges(self) -> tuple[bytes, bytes, bytes, bytes]:
        return (
            bytes(self.edge_worker),
            self.edge_src.tobytes(),
            self.edge_dst.tobytes(),
            bytes(self.edge_marks),
        )


class Cluster(Protocol):
    """Workers the coordinator drives depth by depth: processes here, Ray actors elsewhere."""

    count: int

    def level(self) -> list[_Level]:
        """Every worker expands its last depth's new states and exchanges successors."""
        ...

    def number(self, numbers: list[array[int]]) -> None:
        """Give each worker the numbers of its states new at the last depth (before it
        expands them: no answer is awaited)."""
        ...

    def back(self, worker: int, sid: int) -> tuple[int, int, Action | None, State | None]:
        """A state's parent (worker, id), the action from it, and the state; (worker, id,
        None, None) where the step into it is another worker's (a copy's there)."""
        ...

    def edges(self, worker: int) -> tuple[bytes, bytes, bytes, bytes]:
        """The edges into a worker's states (see _Worker.edges)."""
        ...

    def sizes(self) -> list[tuple[int, int]]:
        """Per worker: states stored and peak resident bytes."""
        ...

    def call(self, worker: int, method: str, *args: Any) -> Any:
        """A worker's method, run where it is (workers on records: native_cluster.py)."""
        ...


def plan_partition(system: TransitionSystem, options: CheckOptions, count: int) -> Partition:
    """How `count` workers divide the states: for workers on records, chosen from a sample
    of the first depths (explore/partition.py); workers on states hash every thread and the
    GIL (owner_of). Made once and handed to every worker."""
    from gilcheck.explore import native_cluster

    if count > 1 and native_cluster.supports(system, options):
        return native_cluster.choose_partition(system, options, count)
    return EVERY_THREAD


def new_worker(
    index: int,
    count: int,
    system: TransitionSystem,
    options: CheckOptions,
    partition: Partition = EVERY_THREAD,
) -> Any:
    """A worker on records that runs the C loop where the program allows it
    (explore/native_cluster.py), else one on states. Every worker of a search must be
    given the same `partition` (plan_partition)."""
    from gilcheck.explore import native_cluster

    if native_cluster.supports(system, options):
        return native_cluster.NativeWorker(index, count, system, options, partition)
    return _Worker(index, count, system, options)


def _serve(worker: Any, control: Connection, inboxes: list[Any]) -> None:
    """A worker process: answer the coordinator's requests until told to stop. Ctrl-C is
    the coordinator's to handle (it stops the workers), and SIGTERM ends a worker quietly
    (the coordinator's own handlers, inherited by the fork, would raise in it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while True:
        request = control.recv()
        try:
            kind = request[0]
            if kind == "level":
                report, outgoing = worker.expand()
                for dest, batch in enumerate(outgoing):
                    if dest != worker.index:
                        inboxes[dest].put((worker.index, batch))
                batches: list[Batch] = [[] for _ in range(worker.count)]
                batches[worker.index] = outgoing[worker.index]
                for _ in range(worker.count - 1):
                    sender, batch = inboxes[worker.index].get()
                    batches[sender] = batch
                absorbed = worker.absorb(report, batches)
                absorbed.peak = peak_resident_bytes()
                control.send(absorbed)
            elif kind == "number":  # no answer: the next request waits for one
                worker.numbered(request[1])
            elif kind == "back":
                control.send(worker.step_back(request[1]))
            elif kind == "edges":
                control.send(worker.edges())
            elif kind == "size":
                control.send((len(worker.store), peak_resident_bytes()))
            elif kind == "call":  # a method of a worker on records (native_cluster.py)
                control.send(getattr(worker, request[1])(*request[2:]))
            else:
                control.send(None)
                return
        except Exception:  # reported to the coordinator, which stops the search
            control.send(_Level(error=traceback.format_exc()))
            return


class _Processes:
    """Workers as forked processes; successors travel between them on queues."""

    def __init__(
        self,
        system: TransitionSystem,
        options: CheckOptions,
        count: int,
        partition: Partition,
        budget: Budget | None = None,
    ) -> None:
        try:
            context = multiprocessing.get_context("fork")
        except ValueError as error:
            raise ParallelUnavailable("this platform cannot fork worker processes") from error
        self.count = count
        self.failed = False
        self.budget = budget
        inboxes = [context.Queue() for _ in range(count)]
        initial = system.initial_state()
        self.controls: list[Connection] = []
        self.processes: list[Any] = []
        for index in range(count):
            worker = new_worker(index, count, system, options, partition)
            worker.seed(initial)
            here, there = context.Pipe()
            process = context.Process(target=_serve, args=(worker, there, inboxes), daemon=True)
            process.start()
            self.controls.append(here)
            self.processes.append(process)

    def _ask(self, worker: int, *request: Any) -> Any:
        try:
            self.controls[worker].send(request)
            answer = self.controls[worker].recv()
        except (EOFError, OSError):  # the worker is gone
            self.failed = True
            raise WorkerFailed(_ended(self.processes[worker])) from None
        except KeyboardInterrupt:  # Ctrl-C or the memory watch, while a worker works
            self.failed = True
            raise
        if isinstance(answer, _Level) and answer.error is not None:
            self.failed = True
            raise WorkerFailed(answer.error)
        return answer

    def level(self) -> list[_Level]:
        try:
            return self._level()
        except (KeyboardInterrupt, LimitDuringDepth, WorkerFailed):
            self.failed = True  # stopped mid-depth: the workers are stopped, not asked
            raise

    def _level(self) -> list[_Level]:
        for w, control in enumerate(self.controls):
            try:
                control.send(("level",))
            except OSError:  # the worker is gone
                raise WorkerFailed(_ended(self.processes[w])) from None
        # Answers in any order: a worker that fails before sending its batches leaves the
        # others waiting for them, so the first failure ends the search.
        reports: dict[int, _Level] = {}
        index = {id(control): w for w, control in enumerate(self.controls)}
        while len(reports) < self.count:
            waiting = [c for w, c in enumerate(self.controls) if w not in reports]
            ready_now = multiprocessing.connection.wait(waiting, timeout=LOOK_EVERY)
            if not ready_now:
                self._within_limits()
            for ready in ready_now:
                assert isinstance(ready, Connection)
                w = index[id(ready)]
                try:
                    report = ready.recv()
                except (EOFError, OSError):
                    report = _Level(error=_ended(self.processes[w]))
                if report.error is not None:
                    raise WorkerFailed(report.error)
                reports[w] = report
        return [reports[w] for w in range(self.count)]

    def _within_limits(self) -> None:
        """Raise LimitDuringDepth when the time limit has passed or the workers together
        hold more than the memory limit (a depth can take long, and grow large)."""
        budget = self.budget
        if budget is None:
            return
        reason = budget.out_of_time(time.monotonic())
        if reason is None and budget.max_memory is not None:
            held = sum(resident_bytes_of(p.pid) for p in self.processes if p.pid is not None)
            reason = budget.out_of_memory(held, " (all workers)")
        if reason is not None:
            raise LimitDuringDepth(reason)

    def number(self, numbers: list[array[int]]) -> None:
        for w, (control, mine) in enumerate(zip(self.controls, numbers, strict=True)):
            try:
                control.send(("number", mine))
            except OSError:  # the worker is gone
                self.failed = True
                raise WorkerFailed(_ended(self.processes[w])) from None

    def back(self, worker: int, sid: int) -> tuple[int, int, Action | None, State | None]:
        answer: tuple[int, int, Action | None, State | None] = self._ask(worker, "back", sid)
        return answer

    def edges(self, worker: int) -> tuple[bytes, bytes, bytes, bytes]:
        answer: tuple[bytes, bytes, bytes, bytes] = self._ask(worker, "edges")
        return answer

    def sizes(self) -> list[tuple[int, int]]:
        return [self._ask(w, "size") for w in range(self.count)]

    def call(self, worker: int, method: str, *args: Any) -> Any:
        return self._ask(worker, "call", method, *args)

    def close(self) -> None:
        if self.failed:  # the others may wait for the failed one's batches for ever
            for process in self.processes:
                process.terminate()
        for control in self.controls:
            with contextlib.suppress(OSError):
                control.send(("stop",))
        for process in self.processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


@dataclass
class ParallelExploration:
    """The result of a parallel search: an Exploration of the trace's path, and totals."""

    found: Exploration
    states: int
    # The whole graph (breadth-first ids, edges by source), when the search ended with
    # no violation and the cycle analyses need it.
    graph: Graph | None
    # Per depth: (new states, states sent between workers), and per worker at the end:
    # (states stored, peak resident bytes): how the search scaled.
    rounds: list[tuple[int, int]] = field(default_factory=list)
    workers: list[tuple[int, int]] = field(default_factory=list)

    def whole(self) -> Exploration:
        """The trace's exploration, carrying the whole graph for the cycle analyses."""
        self.found.whole_graph = self.graph
        return self.found


class ParallelSearch:
    """The breadth-first search on `CheckOptions.workers` forked processes.

    Programs with unknown values are searched in this process (their path conditions are
    collected in breadth-first order); cycles, when some state reaches no end, are judged
    on a sequential search (`sequential`), which keeps every edge.
    """

    name = "parallel"

    def explore(self, problem: Problem, budget: Budget) -> Exploration:
        if problem.system.symbolic:
            return breadth_first(problem.system, problem.options, budget)
        options = problem.options
        parallel = explore_parallel(problem.system, options, options.workers, budget)
        return parallel.whole()

    def sequential(self) -> BreadthFirst:
        return BreadthFirst()


def explore_parallel(
    system: TransitionSystem, options: CheckOptions, workers: int, budget: Budget
) -> ParallelExploration:
    """Hash-partitioned breadth-first search on `workers` forked processes."""
    try:
        partition = plan_partition(system, options, workers)
    except KeyboardInterrupt:  # Ctrl-C, SIGTERM or the memory watch, before the search
        return stopped_before_search(budget)
    cluster = _Processes(system, options, workers, partition, budget)
    try:
        return coordinate(cluster, options, budget)
    finally:
        cluster.close()


def _ended(process: Any) -> str:
    """Why a worker process ended without answering: killed by SIGKILL, most likely by the
    system for lack of memory (read as a MemoryError), or otherwise."""
    process.join(timeout=1)
    if process.exitcode == -getattr(signal, "SIGKILL", 9):
        return (
            "MemoryError: the worker process was killed (SIGKILL), most likely by the "
            "system for lack of memory"
        )
    return f"the worker process ended (exit code {process.exitcode})"


def stopped_before_search(budget: Budget) -> ParallelExploration:
    """The result of a search interrupted while its partition was chosen: no state."""
    found = Exploration(StateStore(), transitions=0, total_states=0)
    found.stopped = budget.interrupted()
    found.seconds = budget.seconds()
    return ParallelExploration(found, 0, None)


def coordinate(cluster: Cluster, options: CheckOptions, budget: Budget) -> ParallelExploration:
    """Drive the workers depth by depth until a violation, the end of the space or a limit."""
    level_sizes: list[list[int]] = []
    total = 0
    transitions = 0
    rounds: list[tuple[int, int]] = []
    stopped: str | None = None
    chosen: tuple[str, Gid, Action | None, Any] | None = None
    # The first step past a limit: (its state's number, the state, the step, the limit).
    limit: tuple[int, Gid, Action, LimitHit] | None = None
    interrupted = False
    records = False  # workers on records (native_cluster.py)
    try:
        level_sizes.append([size for size, _ in cluster.sizes()])
        total = sum(level_sizes[0])
        while True:
            numbered = total  # the states found so far are numbered
            reports = cluster.level()
            records = all(r.keys_in_order for r in reports)
            transitions += sum(r.transitions for r in reports)
            sizes = [r.new for r in reports]
            level_sizes.append(sizes)
            total += sum(sizes)
            rounds.append((sum(sizes), sum(r.sent for r in reports)))
            for w, report in enumerate(reports):
                if report.limit is not None and (limit is None or report.limit[0] < limit[0]):
                    number, sid, action, hit = report.limit
                    limit = (number, (w, sid), action, hit)
            deadlocks = [(r.deadlock, w) for w, r in enumerate(reports) if r.deadlock is not None]
            violations = [
                (r.violation, w) for w, r in enumerate(reports) if r.violation is not None
            ]
            if deadlocks:  # a deadlock state of this depth beats a violating step from it
                (_, sid), w = min(deadlocks)
                chosen = ("deadlock", (w, sid), None, None)
                break
            if violations:
                (_, sid, action, violation), w = min(violations, key=lambda v: v[0][0])
                chosen = ("violation", (w, sid), action, violation)
                break
            now = budget.report(total, transitions, sum(sizes))
            if not any(sizes):
                break
            stopped = budget.out_of_time(now) or budget.out_of_states(total)
            if stopped is not None:
                break
            if budget.max_memory is not None:
                # Workers in processes and actors say their peak with their report; a
                # round trip to each would cost more than some depths.
                if all(r.peak for r in reports):
                    peaks = sum(r.peak for r in reports)
                else:
                    peaks = sum(peak for _, peak in cluster.sizes())
                stopped = budget.out_of_memory(peaks, " (all workers)")
                if stopped is not None:
                    break
            cluster.number(_numbers(reports, numbered))
    except (StopSearch, KeyboardInterrupt):
        stopped = budget.interrupted()
        interrupted = True
        chosen, limit = None, None
    except LimitDuringDepth as limit_hit:
        stopped = limit_hit.reason
        interrupted = True  # (its workers were stopped mid-depth)
        chosen, limit = None, None
    except WorkerFailed as failed:
        stopped = _lack(failed)
        interrupted = True  # (its workers cannot answer)
        chosen, limit = None, None
    found = Exploration(StateStore(), transitions=transitions, total_states=total)
    found.stopped = stopped
    graph: Graph | None = None
    memory: list[tuple[int, int]] = []
    try:  # the trace and the graph are asked of the workers too
        if chosen is not None:
            kind, gid, via, violation = chosen
            _path_into(found, cluster, gid)
            end = len(found.store) - 1
            if kind == "deadlock":
                found.deadlock = end
            else:
                found.violation_from, found.violation_action = end, via
                found.violation = violation
        elif limit is not None:
            _, gid, action, hit = limit
            _path_into(found, cluster, gid)
            end = len(found.store) - 1
            found.limits = [(end, action, hit)]
            found.limited = {end}
        if chosen is None and stopped is None and options.graph_analysis:
            graph = _whole_graph(cluster, level_sizes, records)
        if not interrupted:
            memory = cluster.sizes()
    except (StopSearch, KeyboardInterrupt, WorkerFailed) as late:
        # No trace, no graph: what was explored, and why it stopped.
        found = Exploration(StateStore(), transitions=transitions, total_states=total)
        found.stopped = _lack(late) if isinstance(late, WorkerFailed) else budget.interrupted()
        graph = None
    found.seconds = budget.seconds()
    return ParallelExploration(found, total, graph, rounds, memory)


def _lack(failed: WorkerFailed) -> str:
    """Why a search stopped when a worker ran out of memory or threads (raised again where
    it failed otherwise: a bug)."""
    if failed.resource is None:
        raise failed
    return f"a worker's lack of {failed.resource}"


def _whole_graph_of_records(cluster: Cluster, n: int) -> Graph:
    """The edges of workers on records (native_cluster.py): each learns the numbers of its
    copies from their owners, then names its edges by number; the C module sorts them."""
    module = native_module()
    assert module is not None
    told = [cluster.call(w, "copy_numbers") for w in range(cluster.count)]
    for w in range(cluster.count):
        cluster.call(w, "take_copy_numbers", [told[owner][w] for owner in range(cluster.count)])
    parts = [cluster.call(w, "numbered_edges") for w in range(cluster.count)]
    raw_starts, raw_targets = module.by_source(n, parts)
    starts, targets = array("I"), array("i")
    starts.frombytes(raw_starts)
    targets.frombytes(raw_targets)
    return n, starts, targets


def _numbers(reports: list[_Level], first: int) -> list[array[int]]:
    """The numbers of each worker's states new at a depth, from `first` on, in the order
    of their keys across the workers (the order the sequential search finds them in)."""
    module = native_module() if all(r.keys_in_order for r in reports) else None
    if module is not None:  # workers on records: each one's keys come in order
        numbers = []
        for raw in module.ranks(first, [(r.key_parent, r.key_place) for r in reports]):
            mine = array("q")
            mine.frombytes(raw)
            numbers.append(mine)
        return numbers
    keyed = sorted(
        (parent, place, w, i)
        for w, report in enumerate(reports)
        for i, (parent, place) in enumerate(zip(report.key_parent, report.key_place, strict=True))
    )
    numbers = [array("q", [0]) * report.new for report in reports]
    for rank, (_, _, w, i) in enumerate(keyed):
        numbers[w][i] = first + rank
    return numbers


def _path_into(found: Exploration, cluster: Cluster, gid: Gid) -> None:
    """Walk a state's parents back from worker to worker; store the path in order."""
    steps: list[tuple[Action | None, State]] = []
    worker, sid = gid
    while worker >= 0:
        parent_worker, parent, action, state = cluster.back(worker, sid)
        if state is not None:  # (else the step is the one into a copy at parent_worker)
            steps.append((action, state))
        worker, sid = parent_worker, parent
    steps.reverse()
    for depth, (action, state) in enumerate(steps):
        found.store.add(state, depth - 1, action)


def _whole_graph(cluster: Cluster, level_sizes: list[list[int]], records: bool) -> Graph:
    """Every worker's edges, with ids numbered across workers in breadth-first order."""
    if records:
        return _whole_graph_of_records(cluster, sum(map(sum, level_sizes)))
    workers = cluster.count
    dense = [array("i") for _ in range(workers)]
    next_id = 0
    for sizes in level_sizes:
        for w, size in enumerate(sizes):
            dense[w].extend(range(next_id, next_id + size))
            next_id += size
    n = next_id
    out_count = array("i", [0]) * (n + 1)
    edges: list[tuple[array[int], array[int]]] = []
    for w in range(workers):
        src_worker, src_raw, dst_raw, _ = cluster.edges(w)
        src, dst = array("i"), array("i")
        src.frombytes(src_raw)
        dst.frombytes(dst_raw)
        global_src = array("i", (dense[sw][s] for sw, s in zip(src_worker, src, strict=True)))
        global_dst = array("i", (dense[w][d] for d in dst))
        for s in global_src:
            out_count[s + 1] += 1
        edges.append((global_src, global_dst))
    for i in range(n):
        out_count[i + 1] += out_count[i]
    starts = array("I", out_count[:n])
    targets = array("i", [0]) * out_count[n]
    fill = array("i", out_count[:n])
    for global_src, global_dst in edges:
        for s, d in zip(global_src, global_dst, strict=True):
            targets[fill[s]] = d
            fill[s] += 1
    return n, starts, targets
