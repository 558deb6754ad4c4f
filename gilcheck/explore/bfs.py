"""Breadth-first search: stops at the first depth with a violation, so its trace is shortest.

The loop is the search's order and bookkeeping only. What it runs within is the budget
(explore/budget.py), where successors come from is the successor source
(explore/successors.py), what a state or step is is the visitor's (explore/visitor.py),
and with unknown values the symbolic collector (explore/collect.py) keeps every violation.
"""

from __future__ import annotations

import sys
import time

from gilcheck.explore.budget import Budget, Progress, SearchProgress, StopSearch
from gilcheck.explore.collect import SymbolicCollector
from gilcheck.explore.exploration import EdgeLog, Exploration
from gilcheck.explore.replay import replay
from gilcheck.explore.steptable import ENTRIES_AHEAD
from gilcheck.explore.store import new_store
from gilcheck.explore.strategy import Problem
from gilcheck.explore.successors import SuccessorSource
from gilcheck.explore.thread_count import ThreadCount
from gilcheck.explore.visitor import Visitor
from gilcheck.options import CheckOptions, search_threads
from gilcheck.system.model import (
    SPURIOUS_WAKEUP,
    Action,
    LimitHit,
    TransitionSystem,
    Violation,
)

__all__ = [
    "BreadthFirst",
    "Exploration",
    "Progress",
    "SearchProgress",
    "StopSearch",
    "breadth_first",
    "explore",
]


CHECK_EVERY = 1024
"""Progress, time and memory are looked at every this many states (and every half a
second)."""

NATIVE_RUN = 1 << 16
"""Where the C loop may run on several threads, it runs up to this many states between
those looks (a few hundredths of a second), so that its threads get runs long enough to
share, and runs on one thread and on several take as long to be compared."""

FILL_AHEAD = 1 << 16
"""The C loop's missing step-table entries are made for this many states at a time (of
those already stored: up to the end of the depth), so that the C loop then runs through
them, on several threads where they pay, without stopping for Python."""

AT_ONCE_AFTER = 1 << 18
"""Past this many states, the C loop's threads start at once on a run whose entries Python
has just made (ENTRIES_AHEAD); before, they wait for a run of states that needed no
Python, as in small models they cost more than they save."""

FORGET_EVERY = 1 << 16
"""Fingerprint mode: the records of expanded states are dropped this many at a time."""


class BreadthFirst:
    """The breadth-first search (the default strategy): shortest traces."""

    name = "bfs"

    def explore(self, problem: Problem, budget: Budget) -> Exploration:
        return breadth_first(problem.system, problem.options, budget)

    def sequential(self) -> BreadthFirst:
        return self


def explore(
    system: TransitionSystem,
    options: CheckOptions,
    progress: Progress | None = None,
) -> Exploration:
    """Breadth-first search from the initial state until a violation or the end of the space."""
    return breadth_first(system, options, Budget(options, progress))


def breadth_first(system: TransitionSystem, options: CheckOptions, budget: Budget) -> Exploration:
    """Breadth-first search within `budget`: until a violation, the end of the space or a limit."""
    store = new_store(options.native, options.fingerprint)
    result = Exploration(store)
    store.add(system.initial_state(), -1, None)
    # Fingerprint mode: the records of expanded states are dropped every FORGET_EVERY
    # states; one is rebuilt, when a report needs it, by replaying the path to it.
    fingerprinted = store.fingerprint
    if fingerprinted:
        result.fingerprinted = True
        store.replayer = lambda target: replay(system, store.path_to(target))[-1]
    forgotten = 0
    # States get ids in the order they are found, so the queue is the ids from `sid` on.
    sid = -1
    expanded = 0
    add, intern, state_of = store.add, store.intern, store.decode
    visitor = Visitor(system, options)
    is_progress = visitor.is_progress
    source = SuccessorSource(system, store, options)
    table = source.table
    # `source.of` inlined below: it runs for every state the C loop leaves.
    transitions_of = system.transitions
    # (Fingerprint mode keeps no edges: a known state's id is not kept.)
    edges = (
        EdgeLog(is_progress is not None) if options.graph_analysis and not fingerprinted else None
    )
    result.edges = edges
    if edges is not None:  # EdgeLog.add inlined: it runs for every transition
        edge_begin, edge_dst = edges.starts.append, edges.dst.append
        edge_progress = edges.marks.append if edges.marks is not None else None
    # The inner loop in C: it expands the states whose successors are all table patches,
    # and leaves the others (misses, violations, no step) to the loop below.
    native = source.native(edges is not None and edges.marks is not None, options)
    if native is not None:
        starts = edges.starts if edges is not None else None
        dst = edges.dst if edges is not None else None
        counter = ThreadCount(search_threads(options), adaptive=options.threads == 0)
        native_run = NATIVE_RUN if counter.most > 1 else 0
    # Progress, time and memory are looked at every CHECK_EVERY states, and also once half a
    # second has gone by (the clock is read every 16 states): slow states (many processes,
    # large heaps) still keep to a time limit.
    next_check = CHECK_EVERY
    clock_check = 16
    last_check = time.monotonic()
    max_states = options.max_states if options.max_states is not None else sys.maxsize
    spurious = visitor.spurious
    # States get ids in breadth-first order, so the states of one depth have consecutive
    # ids: `level_end` is the first id of the next depth.
    level_end = 1
    found: tuple[int, Action, Violation] | None = None
    # Unknown values: explore everything, keeping the first (shortest) violation for the
    # trace and the path condition of every one.
    collector = SymbolicCollector(system, result) if system.symbolic else None

    def _must_stop() -> str | None:
        """Why the search must stop after the states expanded so far, if it must: every
        CHECK_EVERY states progress, time and memory; after each, the state limit."""
        nonlocal next_check, clock_check, last_check, forgotten
        if fingerprinted and sid - forgotten >= FORGET_EVERY:
            forgotten = sid
            store.forget(sid)  # every state before `sid` is expanded
        if expanded >= clock_check:
            clock_check = expanded + 16
            if time.monotonic() - last_check > 0.5:
                next_check = expanded
        if expanded >= next_check:
            next_check = expanded + CHECK_EVERY
            clock_check = expanded + 16
            last_check = time.monotonic()
            reason = budget.checkpoint(len(store), result.transitions, len(store) - sid - 1)
            if reason is not None:
                return reason
        if sid + 1 < len(store):
            return budget.out_of_states(len(store))
        return None

    with budget.guarded(result):
        while sid + 1 < len(store):
            sid += 1
            if sid >= level_end:
                if collector is not None:
                    collector.depth_done()
                elif found is not None:
                    break
                level_end = len(store)
            if native is not None and found is None:
                assert table is not None
                run = next_check - expanded
                canon = table.native_canon
                stop = min(level_end, sid + max(run, native_run))
                args = (max_states, table.native_entries, table.native_flags(), starts, dst)
                edges_so_far = len(dst) if dst else 0
                threads = counter.next_run()
                try:
                    after, done, made = native(sid, stop, *args, edges_so_far, canon, threads)
                    # Its threads' entries were missing: they are made, and those of the
                    # states after it up to FILL_AHEAD, so that the loop runs on.
                    ahead = min(level_end, sid + FILL_AHEAD)
                    if not done and table.fill_ahead(sid, ahead, threads):
                        edges_so_far = len(dst) if dst else 0
                        flags = table.native_flags()
                        if expanded >= AT_ONCE_AFTER:
                            flags |= ENTRIES_AHEAD
                        args = (max_states, table.native_entries, flags, *args[3:])
                        threads = counter.next_run()
                        after, done, made = native(sid, stop, *args, edges_so_far, canon, threads)
                except BaseException as full:
                    # The states the loop expanded before the store filled, or before an
                    # interrupt in Python's reduction of a record it called, count (how far
                    # it ran between looks must not change the figures).
                    partial = getattr(full, "partial", None)
                    if isinstance(partial, tuple):
                        expanded += partial[1]
                        result.transitions += partial[2]
                    raise
                counter.ran(threads, done)
                if done:
                    expanded += done
                    result.transitions += made
                    sid = after - 1
                    result.stopped = _must_stop()
                    if result.stopped is not None:
                        break
                    continue
            if table is not None:
                state = None
                steps = table.successors(sid)
            else:
                state = state_of(sid)
                steps = transitions_of(state)
            if edges is not None:
                edge_begin(len(edges.dst))
            expanded += 1
            if (not steps or spurious) and visitor.is_deadlock(
                state_of(sid) if state is None else state,
                steps,
            ):
                # Spurious wakeups may happen but need not: a state that only they could
                # leave is a deadlock.
                if collector is None:
                    result.deadlock = sid
                    found = None  # its trace is one step shorter than a violating step's
                    break
                collector.deadlock(sid)
            if found is not None and collector is None:
                continue  # only a deadlock at this depth can still be shorter
            result.transitions += len(steps)
            for action, target in steps:
                kind = type(target)
                if kind is bytes or kind is tuple:
                    if kind is bytes:
                        known = intern(target, sid, action)
                    else:
                        known, _ = add(target, sid, action)
                    if edges is not None and not (spurious and action[1] == SPURIOUS_WAKEUP):
                        edge_dst(known)
                        if edge_progress is not None and is_progress is not None:
                            if state is None:
                                state = state_of(sid)
                            edge_progress(is_progress(state, action))
                    continue
                if isinstance(target, Violation):
                    if collector is not None:
                        collector.violation(sid, action, target)
                        continue
                    # A violating step from this depth is one step longer than a deadlock
                    # state of this depth: finish the depth before reporting it.
                    if found is None:
                        found = (sid, action, target)
                    break
                if isinstance(target, LimitHit):
                    result.hit_limit(sid, action, target)
                    continue
            result.stopped = _must_stop()
            if result.stopped is not None:
                break
    if collector is not None:
        collector.finish()
    elif found is not None and result.deadlock < 0:
        result.violating(*found)
    result.seconds = budget.seconds()
    result.memory_growth = budget.memory_growth()
    return result
