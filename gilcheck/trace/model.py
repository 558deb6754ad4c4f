"""Plain data for results: every output format renders these same values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a trace."""

    index: int
    thread: str
    location: str  # path:line
    line: int
    statement: str
    effects: tuple[str, ...]
    merged: bool = False  # a local step or release taken together with the step before


@dataclass(frozen=True, slots=True)
class Wait:
    """What a thread waits for in the final state, and who holds it."""

    thread: str
    waits_for: str
    holders: tuple[str, ...]
    location: str
    statement: str
    holds: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Trace:
    """A counterexample: its steps, and for a deadlock the wait-for explanation."""

    steps: tuple[Step, ...]
    waits: tuple[Wait, ...] = ()
    cycle: tuple[str, ...] = ()
    final_note: str = ""
    loop_from: int | None = None  # for stuck and livelock: the index in steps where one turn
    # of the cycle the program can repeat for ever begins


@dataclass(frozen=True, slots=True)
class Stats:
    """How much was explored."""

    states: int
    transitions: int
    seconds: float
    exhaustive: bool


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of checking one spec."""

    spec: str
    title: str | None
    verdict: str
    expected: str | None
    message: str
    stats: Stats
    trace: Trace | None = None
    limit: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def matches(self) -> bool | None:
        """Whether the verdict is the one the spec expects (None without `expect`)."""
        return None if self.expected is None else self.expected == self.verdict
