"""Breadth-first search on several processes, each owning the states whose hash falls to it.

The search goes depth by depth. At each depth every worker expands the states it owns
that were new at the depth before, keeps the successors it owns and sends the others to
their owners (one batch per pair of workers and depth), then adds what it received. The
depths are the sequential search's, so the first depth with a deadlock or a violating
step is the same and its trace (walked back from owner to owner) is a shortest one.

Workers are forked from the checking process, so they share its compiled program; hashes
of states (and of the strings in them) agree between them because a forked process keeps
its parent's hash secret. Stuck threads and livelocks need the whole graph: the workers
send their edges at the end, and when some state can reach no end, the caller judges the
cycles with a sequential search.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
import traceback
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from gilcheck.explore.bfs import EdgeLog, Exploration, Progress, SearchProgress, peak_resident_bytes
from gilcheck.explore.store import StateStore
from gilcheck.options import CheckOptions
from gilcheck.system.model import SPURIOUS_WAKEUP, Action, LimitHit, TransitionSystem, Violation
from gilcheck.system.state import State

Gid = tuple[int, int]  # (worker, id in that worker's store)


class ParallelUnavailable(Exception):
    """This platform cannot fork worker processes."""


@dataclass
class _Level:
    """What one worker reports after a depth."""

    new: int = 0
    transitions: int = 0
    deadlock: int = -1
    violation: tuple[int, Action, Violation] | None = None
    limits: list[tuple[int, Action, LimitHit]] = field(default_factory=list)
    error: str | None = None


class _Worker:
    """One process's part of the search: its states, their parents and the edges into them."""

    def __init__(
        self,
        index: int,
        count: int,
        system: TransitionSystem,
        options: CheckOptions,
        inboxes: list[Any],
    ) -> None:
        self.index = index
        self.count = count
        self.system = system
        self.options = options
        self.inboxes = inboxes
        self.store = StateStore()
        self.parent_worker = bytearray()
        self.level_start = 0
        # Edges into this worker's states: source (worker, id), target id, progress mark.
        self.edge_worker = bytearray()
        self.edge_src = array("i")
        self.edge_dst = array("i")
        self.edge_marks = bytearray()
        self.graph = options.graph_analysis
        log = EdgeLog(system)
        self.is_progress = log.is_progress
        self.spurious = options.spurious_wakeups

    def owner(self, state: State) -> int:
        return hash(state) % self.count

    def seed(self, state: State) -> None:
        if self.owner(state) == self.index:
            self._add(state, -1, -1, None, 0)

    def _add(self, state: State, worker: int, parent: int, via: Action | None, mark: int) -> None:
        sid, new = self.store.add(state, parent, via)
        if new:
            self.parent_worker.append(worker if worker >= 0 else 255)
        if self.graph and worker >= 0:
            self.edge_worker.append(worker)
            self.edge_src.append(parent)
            self.edge_dst.append(sid)
            self.edge_marks.append(mark)

    def level(self) -> _Level:
        """Expand the states new at the last depth; exchange successors with the others."""
        report = _Level()
        store = self.store
        start, end = self.level_start, len(store)
        self.level_start = end
        outgoing: list[list[tuple[State, int, Action, int]]] = [[] for _ in range(self.count)]
        mine: list[tuple[State, int, Action, int]] = []
        system = self.system
        spurious = self.spurious
        for sid in range(start, end):
            state = store.decode(sid)
            steps = system.transitions(state)
            if (
                not steps or (spurious and all(a[1] == SPURIOUS_WAKEUP for a, _ in steps))
            ) and not system.has_ended(state):
                if report.deadlock < 0:
                    report.deadlock = sid
                continue
            report.transitions += len(steps)
            for action, target in steps:
                if type(target) is tuple:
                    if spurious and action[1] == SPURIOUS_WAKEUP:
                        mark = -1  # not an edge of the graph the analyses judge
                    elif self.is_progress is not None:
                        mark = 1 if self.is_progress(state, action) else 0
                    else:
                        mark = 0
                    dest = hash(target) % self.count
                    item = (target, sid, action, mark)
                    (mine if dest == self.index else outgoing[dest]).append(item)
                elif isinstance(target, Violation):
                    if report.violation is None:
                        report.violation = (sid, action, target)
                elif isinstance(target, LimitHit) and len(report.limits) < 16:
                    report.limits.append((sid, action, target))
        for dest, batch in enumerate(outgoing):
            if dest != self.index:
                self.inboxes[dest].put((self.index, batch))
        before = len(store)
        batches = {self.index: mine}
        for _ in range(self.count - 1):
            sender, batch = self.inboxes[self.index].get()
            batches[sender] = batch
        for sender in sorted(batches):  # in worker order, whenever they arrived: the same ids
            self._receive(sender, batches[sender])
        report.new = len(store) - before
        return report

    def _receive(self, sender: int, batch: list[tuple[State, int, Action, int]]) -> None:
        for target, parent, action, mark in batch:
            if mark < 0:  # a spurious wakeup: stored, but not an edge
                _, new = self.store.add(target, parent, action)
                if new:
                    self.parent_worker.append(sender)
                continue
            self._add(target, sender, parent, action, mark)

    def step_back(self, sid: int) -> tuple[int, int, Action | None, State]:
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


def _serve(worker: _Worker, control: Connection) -> None:
    """A worker process: answer the coordinator's requests until told to stop."""
    while True:
        request = control.recv()
        try:
            kind = request[0]
            if kind == "level":
                control.send(worker.level())
            elif kind == "back":
                control.send(worker.step_back(request[1]))
            elif kind == "edges":
                control.send(worker.edges())
            elif kind == "size":
                control.send(len(worker.store))
            else:
                control.send(None)
                return
        except Exception:  # reported to the coordinator, which stops the search
            control.send(_Level(error=traceback.format_exc()))
            return


Graph = tuple[int, "array[int]", "array[int]"]  # states, where each one's targets start, targets


@dataclass
class ParallelExploration:
    """The result of a parallel search: an Exploration of the trace's path, and totals."""

    found: Exploration
    states: int
    # The whole graph (breadth-first ids, edges by source), when the search ended with
    # no violation and the cycle analyses need it.
    graph: Graph | None


def explore_parallel(
    system: TransitionSystem,
    options: CheckOptions,
    workers: int,
    progress: Progress | None = None,
) -> ParallelExploration:
    """Hash-partitioned breadth-first search on `workers` forked processes."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError as error:
        raise ParallelUnavailable("this platform cannot fork worker processes") from error
    started = time.monotonic()
    inboxes = [context.Queue() for _ in range(workers)]
    initial = system.initial_state()
    controls: list[Connection] = []
    processes = []
    for index in range(workers):
        worker = _Worker(index, workers, system, options, inboxes)
        worker.seed(initial)
        here, there = context.Pipe()
        process = context.Process(target=_serve, args=(worker, there), daemon=True)
        process.start()
        controls.append(here)
        processes.append(process)
    try:
        return _coordinate(controls, system, options, initial, workers, started, progress)
    finally:
        for control in controls:
            with contextlib.suppress(OSError):
                control.send(("stop",))
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.terminate()


def _coordinate(
    controls: list[Connection],
    system: TransitionSystem,
    options: CheckOptions,
    initial: State,
    workers: int,
    started: float,
    progress: Progress | None,
) -> ParallelExploration:
    total = 1
    transitions = 0
    level_sizes: list[list[int]] = [[0] * workers]  # per depth, new states per worker
    level_sizes[0][hash(initial) % workers] = 1
    deadline = started + options.timeout if options.timeout else None
    stopped: str | None = None
    chosen: tuple[str, Gid, Action | None, Any] | None = None
    limits: list[tuple[Gid, Action, LimitHit]] = []
    while True:
        for control in controls:
            control.send(("level",))
        reports: list[_Level] = [control.recv() for control in controls]
        for report in reports:
            if report.error is not None:
                raise RuntimeError(f"a worker failed:\n{report.error}")
        transitions += sum(r.transitions for r in reports)
        sizes = [r.new for r in reports]
        level_sizes.append(sizes)
        total += sum(sizes)
        for w, report in enumerate(reports):
            limits.extend(((w, sid), action, hit) for sid, action, hit in report.limits)
        deadlocks = [(w, r.deadlock) for w, r in enumerate(reports) if r.deadlock >= 0]
        violations = [(w, r.violation) for w, r in enumerate(reports) if r.violation]
        if deadlocks:
            chosen = ("deadlock", deadlocks[0], None, None)
            break
        if violations:
            w, (sid, action, violation) = violations[0]
            chosen = ("violation", (w, sid), action, violation)
            break
        now = time.monotonic()
        if progress is not None:
            progress(SearchProgress(total, transitions, sum(sizes), now - started))
        if not any(sizes):
            break
        if deadline is not None and now > deadline:
            stopped = f"the time limit of {options.timeout:g} s"
            break
        if total >= options.max_states:
            stopped = f"the state limit of {options.max_states:,} states"
            break
    found = Exploration(StateStore(), transitions=transitions, total_states=total)
    found.stopped = stopped
    found.memory_growth = peak_resident_bytes()
    graph: Graph | None = None
    if chosen is not None:
        kind, gid, via, violation = chosen
        _path_into(found, controls, gid)
        end = len(found.store) - 1
        if kind == "deadlock":
            found.deadlock = end
        else:
            found.violation_from, found.violation_action, found.violation = end, via, violation
    elif limits:
        gid, action, hit = limits[0]
        _path_into(found, controls, gid)
        end = len(found.store) - 1
        found.limits = [(end, action, hit)]
        found.limited = {end}
    if chosen is None and stopped is None and options.graph_analysis:
        graph = _whole_graph(controls, level_sizes, workers)
    found.seconds = time.monotonic() - started
    return ParallelExploration(found, total, graph)


def _path_into(found: Exploration, controls: list[Connection], gid: Gid) -> None:
    """Walk a state's parents back from worker to worker; store the path in order."""
    steps: list[tuple[Action | None, State]] = []
    worker, sid = gid
    while worker >= 0:
        controls[worker].send(("back", sid))
        parent_worker, parent, action, state = controls[worker].recv()
        steps.append((action, state))
        worker, sid = parent_worker, parent
    steps.reverse()
    for depth, (action, state) in enumerate(steps):
        found.store.add(state, depth - 1, action)


def _whole_graph(controls: list[Connection], level_sizes: list[list[int]], workers: int) -> Graph:
    """Every worker's edges, with ids numbered across workers in breadth-first order."""
    # Global ids in breadth-first order: depth by depth, worker by worker.
    dense = [array("i") for _ in range(workers)]
    next_id = 0
    for sizes in level_sizes:
        for w, size in enumerate(sizes):
            dense[w].extend(range(next_id, next_id + size))
            next_id += size
    n = next_id
    out_count = array("i", [0]) * (n + 1)
    edges: list[tuple[array[int], array[int]]] = []
    for w, control in enumerate(controls):
        control.send(("edges",))
        src_worker, src_raw, dst_raw, _ = control.recv()
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
