"""Bounded depth-first search: the first violation it meets, on a path of at most `max_depth`
steps.

Sound about what it reports: a deadlock or violating step it finds is real and its path is
in the store, so its trace replays (it need not be the shortest one, as the breadth-first
search's is). A state at the depth bound that can still move is not expanded, and then
the search, having seen only part of the space, says so (`stopped`: inconclusive, never a
pass). When no state reaches the bound, every state was expanded: the verdict is the
breadth-first search's, up to which of several violations is met first, and the edges are
kept for the cycle analyses (`stuck`, `livelock`) as that search keeps them.

Programs with unknown values are searched breadth-first: their report says for which
values each violation happens, which needs every violation collected in that order.
"""

from __future__ import annotations

import time
from array import array
from typing import assert_never

from gilcheck.explore.bfs import breadth_first
from gilcheck.explore.budget import Budget
from gilcheck.explore.exploration import EdgeLog, Exploration
from gilcheck.explore.store import new_store
from gilcheck.explore.strategy import Problem
from gilcheck.explore.successors import SuccessorSource
from gilcheck.explore.visitor import Outcome, Visitor
from gilcheck.system.model import LimitHit, Violation

CHECK_EVERY = 1024  # progress, time and memory are looked at every 1024 states


class DepthFirst:
    """Depth-first search, bounded by `CheckOptions.max_depth` (None: unbounded)."""

    name = "dfs"

    def explore(self, problem: Problem, budget: Budget) -> Exploration:
        if problem.system.symbolic:
            return breadth_first(problem.system, problem.options, budget)
        return depth_first(problem, budget)

    def sequential(self) -> DepthFirst:
        return self


def depth_first(problem: Problem, budget: Budget) -> Exploration:
    """Depth-first search within `budget` and the depth bound, until a violation."""
    system, options = problem.system, problem.options
    bound = options.max_depth
    store = new_store(options.native)
    found = Exploration(store, shortest_paths=False)
    store.add(system.initial_state(), -1, None)
    visitor = Visitor(system, options)
    source = SuccessorSource(system, store, options)
    keep_edges = options.graph_analysis
    src, dst = array("i"), array("i")
    marks: bytearray | None = bytearray() if visitor.is_progress is not None else None
    depth = array("i", [0])  # each state's depth on the path that found it
    stack = [0]  # states found and not expanded yet, the last found on top
    expanded = 0
    next_check, last_check = CHECK_EVERY, time.monotonic()
    cut = False  # some state at the bound could still move
    with budget.guarded(found):
        while stack:
            sid = stack.pop()
            expanded += 1
            if expanded % 16 == 0 and time.monotonic() - last_check > 0.5:
                next_check = expanded  # slow states: the clock decides (see bfs.py)
            if expanded >= next_check:
                next_check = expanded + CHECK_EVERY
                last_check = time.monotonic()
                found.stopped = budget.checkpoint(len(store), found.transitions, len(stack))
                if found.stopped is not None:
                    break
            state, steps = source.of(sid)
            if state is None and (visitor.spurious or marks is not None):
                state = store.decode(sid)  # its steps' edge marks read it
            if (not steps or visitor.spurious) and visitor.is_deadlock(
                store.decode(sid) if state is None else state, steps
            ):
                found.deadlock = sid
                break
            at_bound = bound is not None and depth[sid] >= bound
            if at_bound:
                # Its successors are not stored; steps that leave the space still count.
                cut = cut or any(visitor.outcome(t) is Outcome.STATE for _, t in steps)
            found.transitions += len(steps)
            fresh: list[int] = []
            violated = False
            for action, target in steps:
                outcome = visitor.outcome(target)
                if outcome is Outcome.STATE:
                    if at_bound:
                        continue
                    if type(target) is bytes:
                        known, new = store.add_record(target, sid, action)
                    else:
                        known, new = store.add(target, sid, action)
                    if new:
                        depth.append(depth[sid] + 1)
                        fresh.append(known)
                    if keep_edges:
                        mark = visitor.mark(state, action) if state is not None else 0
                        if mark >= 0:
                            src.append(sid)
                            dst.append(known)
                            if marks is not None:
                                marks.append(mark)
                elif outcome is Outcome.VIOLATION:
                    assert isinstance(target, Violation)
                    found.violating(sid, action, target)
                    violated = True
                    break
                elif outcome is Outcome.LIMIT:
                    assert isinstance(target, LimitHit)
                    found.hit_limit(sid, action, target)
                else:
                    assert_never(outcome)
            if violated:
                break
            # The first step's successor is expanded first (on top of the stack).
            stack.extend(reversed(fresh))
            if stack and found.stopped is None:
                found.stopped = budget.out_of_states(len(store))
                if found.stopped is not None:
                    break
    if cut and found.stopped is None and found.violation is None and found.deadlock < 0:
        found.stopped = f"the depth bound of {bound:,} steps"
    if keep_edges and found.stopped is None:
        found.edges = EdgeLog.from_edges(len(store), src, dst, marks)
    found.seconds = budget.seconds()
    found.memory_growth = budget.memory_growth()
    return found
