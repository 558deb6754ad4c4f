"""With unknown values, a search goes on past violations: the collector keeps them all.

A program with `param`s or wide `any`s is explored in full, so that the report can say
for which values of the unknowns each kind of violation happens (analysis/conditions.py).
The collector records the path condition of every deadlock and violating step met, and
settles the one reported with a trace as a breadth-first search meets them: the first
deadlock or violating step of the first depth that has one, a deadlock state winning over
a violating step from the same depth (its trace is one step shorter).
"""

from __future__ import annotations

from gilcheck.explore.exploration import Exploration
from gilcheck.system.model import Action, TransitionSystem, Violation


class SymbolicCollector:
    """Every violation's path condition, and the shortest one for the trace."""

    def __init__(self, system: TransitionSystem, found: Exploration) -> None:
        self.path_of = system.path_of
        self.found = found
        self.collected: list[tuple[str, tuple[object, ...]]] = []
        found.collected = self.collected
        self.first: tuple[int, Action, Violation] | None = None  # the first violating step
        self.reported = False  # the trace's violation is settled

    def depth_done(self) -> None:
        """A depth of the search is finished: a violating step met in it is the one reported."""
        if self.first is not None:
            self.reported = True

    def deadlock(self, sid: int) -> None:
        """State `sid` is a deadlock."""
        found = self.found
        self.collected.append(("deadlock", self.path_of(found.store.decode(sid))))
        if not self.reported and found.deadlock < 0:
            found.deadlock = sid
            self.first = None
            self.reported = True

    def violation(self, sid: int, action: Action, target: Violation) -> None:
        """The step `action` from state `sid` violates."""
        self.collected.append((target.verdict.value, target.path))
        if not self.reported and self.first is None and self.found.deadlock < 0:
            self.first = (sid, action, target)

    def finish(self) -> None:
        """Report the violating step settled on (when no deadlock was)."""
        if self.first is not None and self.found.deadlock < 0:
            self.found.violating(*self.first)
