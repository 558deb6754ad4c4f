"""Exhaustive breadth-first search: stops at the first violation, so its trace is shortest."""

from __future__ import annotations

import gc
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field

from gilcheck.explore.steptable import StepTable
from gilcheck.explore.store import NativeStateStore, StateStore, StoreFull, new_store
from gilcheck.memory import memory_limit_reason, peak_resident_bytes, resident_bytes
from gilcheck.options import CheckOptions
from gilcheck.system.model import (
    SPURIOUS_WAKEUP,
    Action,
    LimitHit,
    Transition,
    TransitionSystem,
    Violation,
)
from gilcheck.system.state import State


class EdgeLog:
    """Every state-to-state transition as compact arrays, marking those that run `progress`.

    States are expanded in id order, so the edges are kept by source (compressed sparse
    rows): `starts[s]` is where state s's targets begin in `dst`; 4 bytes per edge and per
    expanded state. `progress` (a byte per edge) is kept only in programs with a
    `progress` statement. The search appends to these arrays itself (its inner loop).
    """

    def __init__(self, system: TransitionSystem) -> None:
        self.starts = array("I")
        self.dst = array("i")
        self.is_progress = progress_marker(system)
        self.marks: bytearray | None = bytearray() if self.is_progress is not None else None

    def end(self, src: int) -> int:
        """Where state `src`'s targets end in `dst`."""
        return self.starts[src + 1] if src + 1 < len(self.starts) else len(self.dst)

    @property
    def src(self) -> array[int]:
        """The source of every edge (built on demand: the graph analyses' input)."""
        out = array("i")
        for s in range(len(self.starts)):
            out.extend([s] * (self.end(s) - self.starts[s]))
        return out

    @property
    def progress(self) -> bytes | bytearray:
        """A byte per edge, 1 where the step runs `progress`."""
        return self.marks if self.marks is not None else bytes(len(self.dst))

    def __len__(self) -> int:
        return len(self.dst)


def progress_marker(system: TransitionSystem) -> Callable[[State, Action], bool] | None:
    """The system's test for steps that run `progress`; None when none can."""
    if not getattr(system, "has_progress", True):
        return None  # no `progress` statement: no step can run one
    marker: Callable[[State, Action], bool] | None = getattr(system, "is_progress", None)
    return marker


def stuck_here(
    system: TransitionSystem, state: State, steps: list[Transition], spurious: bool
) -> bool:
    """Whether a state is a deadlock: no step (or, with `--spurious-wakeups`, only wakeups
    no notify caused, which may never come) and the program has not ended."""
    return (
        not steps or (spurious and all(a[1] == SPURIOUS_WAKEUP for a, _ in steps))
    ) and not system.has_ended(state)


class StopSearch(Exception):
    """Raised by a progress callback to end the search early (Ctrl-C, SIGTERM)."""


@dataclass
class Exploration:
    """What a search found and how much it explored."""

    store: StateStore
    transitions: int = 0
    seconds: float = 0.0
    violation: Violation | None = None
    violation_from: int = -1  # the state whose step violates
    violation_action: Action | None = None
    deadlock: int = -1  # a state id with no step and no program end
    limits: list[tuple[int, Action, LimitHit]] = field(default_factory=list)
    limited: set[int] = field(default_factory=set)  # every state with a step past a limit
    stopped: str | None = None  # why the search ended before the whole space was explored
    edges: EdgeLog | None = None  # every transition between states, for the graph analyses
    # With unknown values the search goes on past violations, to say for which values each
    # kind happens: (verdict, the path condition under which it happens).
    collected: list[tuple[str, tuple[object, ...]]] | None = None
    memory_growth: int = 0  # peak resident bytes during the search minus those before it
    # States found in all (set when `store` holds only the trace's path: a parallel search)
    total_states: int | None = None

    @property
    def states(self) -> int:
        """How many states the search found."""
        return self.total_states if self.total_states is not None else len(self.store)

    @property
    def exhaustive(self) -> bool:
        """Whether every reachable state was explored (no stop at a violation or a limit)."""
        if self.collected is not None:
            return self.stopped is None and not self.limits
        return (
            self.stopped is None
            and not self.limits
            and self.violation is None
            and self.deadlock < 0
        )


@dataclass(frozen=True, slots=True)
class SearchProgress:
    """How far a search has come: what a progress display shows."""

    states: int  # states found so far
    transitions: int  # transitions of the states expanded so far
    frontier: int  # states found but not expanded yet
    seconds: float  # since the search started


Progress = Callable[[SearchProgress], None]


def explore(
    system: TransitionSystem,
    options: CheckOptions,
    progress: Progress | None = None,
) -> Exploration:
    """Breadth-first search from the initial state until a violation or the end of the space."""
    started = time.monotonic()
    resident_before, peak_before = resident_bytes(), peak_resident_bytes()
    store = new_store(options.native)
    result = Exploration(store)
    store.add(system.initial_state(), -1, None)
    # States get ids in the order they are found, so the queue is the ids from `sid` on.
    sid = -1
    deadline = started + options.timeout if options.timeout else None
    expanded = 0
    add, intern, state_of = store.add, store.intern, store.decode
    # Successors as patched records where the program allows (explore/steptable.py).
    table = StepTable(system, store) if options.step_table and StepTable.supports(system) else None
    edges = EdgeLog(system) if options.graph_analysis else None
    result.edges = edges
    if edges is not None:  # EdgeLog.add inlined: it runs for every transition
        edge_begin, edge_dst = edges.starts.append, edges.dst.append
        is_progress = edges.is_progress
        edge_progress = edges.marks.append if edges.marks is not None else None
    transitions_of = system.transitions
    # The inner loop in C: it expands the states whose successors are all table patches,
    # and leaves the others (misses, violations, no step) to the loop below.
    native: Callable[..., tuple[int, int, int]] | None = None
    if (
        table is not None
        and isinstance(store, NativeStateStore)
        and not options.spurious_wakeups
        and (edges is None or edges.marks is None)
        and not getattr(system, "symbolic", False)
    ):
        native = store.records.expand
        starts = edges.starts if edges is not None else None
        dst = edges.dst if edges is not None else None
    next_check = 1024  # progress, time and memory are looked at every 1024 states
    max_states = options.max_states
    max_memory = options.max_memory_mb * 1024 * 1024 if options.max_memory_mb else None
    spurious = options.spurious_wakeups
    # States get ids in breadth-first order, so the states of one depth have consecutive
    # ids: `level_end` is the first id of the next depth.
    level_end = 1
    found: tuple[int, Action, Violation] | None = None
    # Unknown values: explore everything, keeping the first (shortest) violation for the
    # trace and the path condition of every one.
    path_of = getattr(system, "path_of", None) if getattr(system, "symbolic", False) else None
    collect = path_of is not None
    if collect:
        result.collected = []
    reported = False  # collecting: the shortest violation is settled

    def _checkpoint() -> str | None:
        """Show progress; why the search must stop now (time, memory), if it must."""
        now = time.monotonic()
        if progress is not None:
            progress(
                SearchProgress(len(store), result.transitions, len(store) - sid - 1, now - started)
            )
        if deadline is not None and now > deadline:
            return f"the time limit of {options.timeout:g} s"
        if max_memory is not None and resident_bytes() > max_memory:
            return f"the memory limit of {options.max_memory_mb:,} MB"
        return None

    def _must_stop() -> str | None:
        """Why the search must stop after the states expanded so far, if it must: every
        1024 states progress, time and memory; after each, the state limit."""
        nonlocal next_check
        if expanded >= next_check:
            next_check = expanded + 1024
            reason = _checkpoint()
            if reason is not None:
                return reason
        if len(store) >= max_states and sid + 1 < len(store):
            return f"the state limit of {options.max_states:,} states"
        return None

    # The search makes no reference cycles, but millions of long-lived objects (the store's
    # pools, the step table) that the collector would walk again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        while sid + 1 < len(store):
            sid += 1
            if sid >= level_end:
                if found is not None:
                    if not collect:
                        break
                    reported = True
                level_end = len(store)
            if native is not None and found is None:
                assert table is not None
                stop = min(level_end, sid + next_check - expanded)
                args = (max_states, table.contexts, table.ample, starts, dst)
                after, done, made = native(sid, stop, *args, len(dst) if dst else 0)
                if not done and table.fill(sid):  # its threads' entries were missing
                    after, done, made = native(sid, stop, *args, len(dst) if dst else 0)
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
            if (not steps or spurious) and stuck_here(
                system, state_of(sid) if state is None else state, steps, spurious
            ):
                # Spurious wakeups may happen but need not: a state that only they could
                # leave is a deadlock.
                if not collect:
                    result.deadlock = sid
                    found = None  # its trace is one step shorter than a violating step's
                    break
                assert result.collected is not None and path_of is not None
                result.collected.append(("deadlock", path_of(state_of(sid))))
                if not reported and result.deadlock < 0:
                    result.deadlock = sid
                    found = None
                    reported = True
            if found is not None and not collect:
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
                    if collect:
                        assert result.collected is not None
                        result.collected.append((target.verdict.value, target.path))
                        if not reported and found is None and result.deadlock < 0:
                            found = (sid, action, target)
                        continue
                    # A violating step from this depth is one step longer than a deadlock
                    # state of this depth: finish the depth before reporting it.
                    if found is None:
                        found = (sid, action, target)
                    break
                if isinstance(target, LimitHit):
                    result.limited.add(sid)
                    if len(result.limits) < 16:
                        result.limits.append((sid, action, target))
                    continue
            result.stopped = _must_stop()
            if result.stopped is not None:
                break
    except (StopSearch, KeyboardInterrupt):
        result.stopped = memory_limit_reason() or "an interruption (Ctrl-C or SIGTERM)"
    except MemoryError:
        result.stopped = "the memory limit"
    except StoreFull as full:
        result.stopped = f"the state store's capacity: {full}"
    finally:
        if collecting:
            gc.enable()
    if found is not None and result.deadlock < 0:
        result.violation_from, result.violation_action, result.violation = found
    result.seconds = time.monotonic() - started
    result.memory_growth = memory_growth(resident_before, peak_before)
    return result


def memory_growth(resident_before: int, peak_before: int) -> int:
    """How much the resident memory grew since `resident_before`: to the process's peak when
    this run raised it, else (an earlier run in this process peaked higher) to now."""
    peak = peak_resident_bytes()
    grown = peak if peak > peak_before else resident_bytes()
    return max(0, grown - resident_before)
