"""What a search found and how much it explored: the result every strategy returns."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field

from gilcheck.explore.store import StateStore
from gilcheck.system.model import Action, LimitHit, Violation

# The states of a whole graph, where each one's targets start (by source), and the targets.
Graph = tuple[int, "array[int]", "array[int]"]

# Limits kept with their step and state (the first is reported; the rest are a sample).
KEPT_LIMITS = 16


class EdgeLog:
    """Every state-to-state transition as compact arrays, marking those that run `progress`.

    The edges are kept by source (compressed sparse rows): `starts[s]` is where state s's
    targets begin in `dst`; 4 bytes per edge and per expanded state. `progress` (a byte
    per edge) is kept only in programs with a `progress` statement. The breadth-first
    search expands states in id order and appends to these arrays itself (its inner loop);
    other orders build the log at the end (`from_edges`).
    """

    def nbytes(self) -> int:
        """Bytes in use by the log."""
        marks = len(self.marks) if self.marks is not None else 0
        return self.starts.itemsize * len(self.starts) + self.dst.itemsize * len(self.dst) + marks

    def __init__(self, marks: bool) -> None:
        self.starts = array("I")
        self.dst = array("i")
        self.marks: bytearray | None = bytearray() if marks else None

    @classmethod
    def from_edges(
        cls, states: int, src: array[int], dst: array[int], marks: bytearray | None
    ) -> EdgeLog:
        """The log of edges listed in any order (by a counting sort on their sources)."""
        log = cls(marks is not None)
        count = array("I", [0]) * (states + 1)
        for s in src:
            count[s + 1] += 1
        for i in range(states):
            count[i + 1] += count[i]
        log.starts = array("I", count[:states])
        fill = array("I", count[:states])
        log.dst = array("i", [0]) * len(dst)
        if marks is not None and log.marks is not None:
            log.marks.extend(bytes(len(dst)))
        for i, (s, d) in enumerate(zip(src, dst, strict=True)):
            at = fill[s]
            log.dst[at] = d
            if marks is not None and log.marks is not None:
                log.marks[at] = marks[i]
            fill[s] = at + 1
        return log

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
    # Each state's path from the initial state is a shortest one (breadth-first searches);
    # false for depth-first search and random walks.
    shortest_paths: bool = True
    edges: EdgeLog | None = None  # every transition between states, for the graph analyses
    # With unknown values the search goes on past violations, to say for which values each
    # kind happens: (verdict, the path condition under which it happens).
    collected: list[tuple[str, tuple[object, ...]]] | None = None
    memory_growth: int = 0  # peak resident bytes during the search minus those before it
    # States found in all (set when `store` holds only the trace's path: a parallel search)
    total_states: int | None = None
    # Fingerprint mode (hash compaction): states were kept as 64-bit fingerprints, so two
    # states with the same fingerprint count as one (see `p_miss`).
    fingerprinted: bool = False
    # A parallel search's whole graph (breadth-first ids), when it ended with no violation:
    # the caller judges its cycles on a sequential search when some state reaches no end.
    whole_graph: Graph | None = None

    @property
    def states(self) -> int:
        """How many states the search found."""
        return self.total_states if self.total_states is not None else len(self.store)

    def p_miss(self) -> float:
        """Fingerprint mode: a bound on the probability that a state was missed, because
        its 64-bit fingerprint was that of another state found before (the birthday
        bound over the states stored: n(n-1)/2 pairs, each equal with probability 2^-64)."""
        n = self.states
        return min(1.0, n * (n - 1) / 2 / 2.0**64)

    def storage(self) -> tuple[tuple[str, float], ...]:
        """The store's own bytes per state, by part (empty for a parallel search, whose
        store holds only the trace's path)."""
        if self.total_states is not None or not len(self.store):
            return ()
        count = len(self.store)
        records, index, links = self.store.sizes()
        if self.fingerprinted:  # the records kept are those not expanded when it ended
            parts = [("fingerprints", index), ("records kept", records), ("trace links", links)]
        else:
            parts = [("records", records), ("index", index), ("trace links", links)]
        if self.edges is not None:
            parts.append(("edge log", self.edges.nbytes()))
        return tuple((name, round(size / count, 1)) for name, size in parts)

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
            and not self.fingerprinted  # states with a known fingerprint were not explored
        )

    def hit_limit(self, sid: int, action: Action, hit: LimitHit) -> None:
        """Note a step from state `sid` that leaves what is explored (a channel bound)."""
        self.limited.add(sid)
        if len(self.limits) < KEPT_LIMITS:
            self.limits.append((sid, action, hit))

    def violating(self, sid: int, action: Action, violation: Violation) -> None:
        """Note the violating step reported: `action` from state `sid`."""
        self.violation_from, self.violation_action, self.violation = sid, action, violation
