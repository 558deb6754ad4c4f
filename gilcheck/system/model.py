"""The seam between compile and explore: a transition system every search strategy works on."""

from __future__ import annotations

from typing import NamedTuple, Protocol

from gilcheck.semantics.ir import Verdict
from gilcheck.source import Span
from gilcheck.system.state import State

# What a thread does in a step: (thread id, kind, argument).
Action = tuple[int, int, object]

STEP, GIL_BACK, GIL_YIELD, GIL_RELEASE_TO_BLOCK, EXIT_JOIN_DONE, FINALIZE = range(6)
PAUSE_START, PAUSE_END = 6, 7  # `gil off`: a stop-the-world pause begins / ends
# `--spurious-wakeups`: a condvar waiter wakes with no notify. The real program may take
# such a step but need not: a state whose only steps are these is still a deadlock, and the
# `stuck` and `livelock` analyses leave them out.
SPURIOUS_WAKEUP = 8
# `fork { }`: the step into the child process (the parent's own step is a plain STEP).
FORK_CHILD = 9
# A `finalizer` or `signal` block starts on a thread (the argument: its index in hooks).
INTERRUPT = 10
# Symbolic data: the explorer splits a state on a condition over unknown values that decides
# whether a thread can go on (an `await`): two steps that only narrow the path condition.
DECIDE = 11


class Violation(NamedTuple):
    """A step that ends in a violation (assertion, panic, misuse)."""

    verdict: Verdict
    message: str
    tid: int
    span: Span
    path: tuple[object, ...] = ()  # the path condition under which it happens


class LimitHit(NamedTuple):
    """A step that leaves what is explored: a channel past its bound, `any` too wide, ..."""

    verdict: Verdict  # BOUND or INCONCLUSIVE
    message: str
    tid: int
    span: Span


Target = State | Violation | LimitHit


# One enabled step and where it leads: (action, target). A plain tuple: it is made millions
# of times.
Transition = tuple[Action, Target]


class TransitionSystem(Protocol):
    """What every strategy (BFS, replay, later reductions) explores."""

    def initial_state(self) -> State:
        """The state the program starts in."""
        ...

    def transitions(self, state: State) -> list[Transition]:
        """The enabled steps of a state, in a deterministic order (by thread)."""
        ...

    def has_ended(self, state: State) -> bool:
        """Whether the program has ended in this state (not a deadlock)."""
        ...
