"""The per-state properties every search strategy checks the same way.

A strategy decides which states to expand and in what order; what a state or a step *is*
(a deadlock, the program's end, a violation, a step past a limit, a step that runs
`progress`, an edge the cycle analyses see) is decided here, once. The breadth-first
search reads the visitor's fields into locals before its inner loop (it runs for every
transition); the other strategies call its methods.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from gilcheck.options import CheckOptions
from gilcheck.system.model import (
    SPURIOUS_WAKEUP,
    Action,
    LimitHit,
    Target,
    Transition,
    TransitionSystem,
    Violation,
)
from gilcheck.system.state import State


class Outcome(enum.Enum):
    """Where a step leads (`Visitor.outcome`)."""

    STATE = "state"  # a state of the program, or its record in the store
    VIOLATION = "violation"  # an assertion, panic or misuse: a Violation
    LIMIT = "limit"  # out of what is explored (a channel past its bound): a LimitHit


class Visitor:
    """Deadlock, end, violation, limit and progress, judged alike by every strategy."""

    def __init__(self, system: TransitionSystem, options: CheckOptions) -> None:
        self.system = system
        # `--spurious-wakeups`: wakeups no notify caused may happen but need not.
        self.spurious = options.spurious_wakeups
        # The test for steps that run `progress`; None when no step can.
        self.is_progress: Callable[[State, Action], bool] | None = (
            system.is_progress if system.has_progress else None
        )

    def is_deadlock(self, state: State, steps: list[Transition]) -> bool:
        """Whether a state is a deadlock: no step (or, with `--spurious-wakeups`, only
        wakeups no notify caused, which may never come) and the program has not ended."""
        return (
            not steps or (self.spurious and all(a[1] == SPURIOUS_WAKEUP for a, _ in steps))
        ) and not self.system.has_ended(state)

    def mark(self, state: State, action: Action) -> int:
        """The step as an edge of the graph the cycle analyses judge: -1 when it is none
        (a spurious wakeup), 1 when it runs `progress`, else 0."""
        if self.spurious and action[1] == SPURIOUS_WAKEUP:
            return -1
        if self.is_progress is not None and self.is_progress(state, action):
            return 1
        return 0

    @staticmethod
    def outcome(target: Target | bytes) -> Outcome:
        """What a step leads to: a state (or its record), a violation, or past a limit."""
        if isinstance(target, Violation):
            return Outcome.VIOLATION
        if isinstance(target, LimitHit):
            return Outcome.LIMIT
        return Outcome.STATE
