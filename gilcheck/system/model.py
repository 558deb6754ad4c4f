"""The seam between compile and explore: a transition system every search strategy works on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, Protocol

from gilcheck.semantics import ir
from gilcheck.semantics.ir import Verdict
from gilcheck.source import Span
from gilcheck.symbolic.paths import PathCondition as PathCondition
from gilcheck.system.state import State, Thread

if TYPE_CHECKING:
    from gilcheck.system.engine.stubborn import StubbornSets

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
# A timed wait times out (`acquire m timeout`, `recv rx timeout`): a real step, taken only
# while its operation cannot complete; the statement then yields false (or err("timeout")).
TIMEOUT = 12
# An event loop's task cannot go on inside `suspend { }`: it gives the loop back (a step).
LOOP_GIVE_BACK = 13


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
    """What every search strategy (BFS, DFS, random walks, the parallel searches) explores.

    This is everything a strategy may ask of a system; no strategy probes for more.
    `transitions` must list a state's steps in the same order every time it is asked:
    traces are stored as the actions from each state to the next and rebuilt by replaying
    them (explore/replay.py), and the parallel searches number states by where a step
    stands among its state's steps.
    """

    @property
    def symbolic(self) -> bool:
        """Whether states carry a path condition over unknown values (`param`, wide `any`):
        the search then goes on past violations, to say for which values each happens."""
        ...

    @property
    def has_progress(self) -> bool:
        """Whether any step can run a `progress` statement (else `is_progress` is never
        asked, and the livelock analysis sees no progress anywhere)."""
        ...

    def initial_state(self) -> State:
        """The state the program starts in."""
        ...

    def transitions(self, state: State) -> list[Transition]:
        """The enabled steps of a state, in a deterministic order (by thread)."""
        ...

    def has_ended(self, state: State) -> bool:
        """Whether the program has ended in this state (not a deadlock)."""
        ...

    def is_progress(self, state: State, action: Action) -> bool:
        """Whether the step `action` from `state` runs a `progress` statement."""
        ...

    def path_of(self, state: State) -> PathCondition:
        """The path condition under which a state is reached (empty unless `symbolic`)."""
        ...

    def threadwise(self) -> ThreadwiseSystem | None:
        """The system as each thread's own steps, which explore/steptable.py computes once
        per context and patches into stored records; None when its steps cannot be
        patched so (states reduced by symmetry, unknown values, forks, interrupts, `gil
        off`)."""
        ...


class ThreadwiseSystem(TransitionSystem, Protocol):
    """A system whose steps are each thread's own, for the step table (explore/steptable.py)."""

    @property
    def ample(self) -> bool:
        """Whether a thread's local steps form an ample set (a partial-order reduction)."""
        ...

    @property
    def merge_local_steps(self) -> bool:
        """Whether steps no other thread can see are merged into the step before."""
        ...

    @property
    def prepared(self) -> Sequence[Sequence[PreparedInstr]]:
        """Each code's instructions as prepared for the engine: `[code][pc].instr`."""
        ...

    merge_reads: list[tuple[State, int]] | None
    """While a list: each state and thread whose next statement merging looked at is
    appended to it (what merged steps read, beyond the statement before them)."""

    stubborn: StubbornSets | None
    """Persistent sets (`--stubborn-sets`, engine/stubborn.py) where they apply: the table
    chooses among its steps as the engine does."""

    def thread_transitions(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """Append thread `tid`'s steps from `state` to `out` (unmerged); whether it waits
        for the GIL."""
        ...

    def join_watch(self, state: State, tid: int) -> int | None:
        """The thread whose end thread `tid`'s next statement, a `join`, waits for (all its
        steps read of other threads), or None."""
        ...

    def join_ended(self, th: Thread) -> bool:
        """Whether a `join` of this thread returns (it has ended)."""
        ...

    def reads_other_threads(self, state: State, tid: int) -> bool:
        """Whether thread `tid`'s steps in `state` read other threads than itself."""
        ...

    def ample_step(self, state: State, tid: int, th: Thread) -> Transition | None:
        """Thread `tid`'s step when it alone forms an ample set, else None."""
        ...

    def handover_step(self, state: State, owner: int) -> Transition | None:
        """The step by which the GIL's owner hands it to a thread that waits for it."""
        ...

    def merge(self, out: list[Transition]) -> list[Transition]:
        """Steps with the local steps after each merged into it (when merging is on)."""
        ...

    def footprints_apply(self) -> bool:
        """Whether `footprint` gives footprints in this program at all."""
        ...

    def footprint(self, state: State, tid: int) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
        """The locks and channels (indices in the state's parts) thread `tid`'s steps in
        `state` read or change, besides the GIL, vars, stdout and the thread itself; None
        when not known (engine/footprints.py)."""
        ...


class PreparedInstr(Protocol):
    """An instruction as the engine prepared it (only the instruction itself is read)."""

    @property
    def instr(self) -> ir.Instr:
        """The IR instruction."""
        ...
