"""The contract every kind of sync object implements, and the plain values its steps return.

A primitive is stateless: the state of one object is a plain hashable value stored in the
engine's state (its `locks` part), and every question about it (its initial value, what a
statement does to it, how a permutation of thread ids maps it, who holds it, why a thread
waits on it, how a step or a snapshot shows it) is answered by the primitive of its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

NO_THREAD = -1

# Where a thread goes after a step: its next statement, the same statement (a statement in
# several steps: `phase` says how far it got), or past the statement's block (a `call_once`
# whose block has run).
NEXT, STAY, SKIP = range(3)

# A partner's state that the step leaves as it was.
SAME: Any = object()

Obj = Any  # an object's state: a plain hashable value
Phase = Any  # a thread's phase inside a statement of several steps: 0, or a tuple
TidMap = Callable[[int], int]
Namer = Callable[[int], str]


class Moved(NamedTuple):
    """The statement can go on: the object's new state and where the thread goes."""

    obj: Obj
    phase: Phase = 0
    advance: int = NEXT
    choice: int = 0  # the action's index: which of several outcomes, or which step
    partner: Obj = SAME  # the partner's new state (`wait cv, m`: the mutex)
    spurious: bool = False  # a spurious wakeup (may never happen: the thread counts as blocked)
    # What the statement yields when this step completes it (`try_acquire`, a timed wait's
    # `true`/`false`); None: nothing of its own (a timed wait that completes yields true).
    value: Any = None


class Misuse(NamedTuple):
    """The statement is a misuse here; `{label}` in the message stands for the object's name
    (with its index in an array)."""

    message: str


# No outcome: the thread is blocked. Several: the scheduler picks one.
Step = tuple[Moved, ...] | Misuse
BLOCKED: tuple[Moved, ...] = ()


class Lockable(Protocol):
    """A lock another primitive's statement releases and retakes (`wait cv, m`)."""

    def owner(self, obj: Obj) -> int:
        """The thread holding it, or NO_THREAD."""
        ...

    def release_all(self, obj: Obj) -> tuple[Obj, int]:
        """The state once freed entirely, and the count to take back later."""
        ...

    def retake(self, tid: int, saved: int) -> Obj:
        """The state once `tid` has taken it back `saved` times."""
        ...


@dataclass(frozen=True, slots=True)
class Site:
    """One statement on one object, resolved once when the engine prepares the statement."""

    verb: Verb
    name: str  # the object's name as written
    count: int | None = None  # the declared count (a barrier's parties)
    partner: Lockable | None = None
    partner_name: str = ""
    spurious_wakeups: bool = False

    def step(self, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
        """What the statement does to an object in state `obj` for thread `tid`."""
        return self.verb.run(self, obj, tid, phase, partner)


StepFn = Callable[[Site, Obj, int, Phase, Obj], Step]
# A timed wait's timeout step while its operation cannot complete (None: it cannot time out
# now); the last argument says whether the thread runs Python code.
TimeoutFn = Callable[[Site, Obj, int, Phase, Obj, bool], Moved | None]


@dataclass(frozen=True, slots=True)
class Verb:
    """A statement a primitive accepts: `acquire m`, `wait cv, m`, `countdown l`."""

    name: str
    run: StepFn = field(compare=False)
    partner: tuple[str, ...] = ()  # the kinds its second operand may be (none: no operand)
    operand: bool = False  # its second operand is a value (`complete f, e`), passed as partner
    blocks: bool = False  # whether it can block (not inside `atomic`, GIL released in Python)
    left_mover: bool = False  # a release: commutes to the left past other threads' steps
    usage: str = ""  # how it is written, for a spec error's help
    timeout: TimeoutFn | None = field(default=None, compare=False)  # None: no timed form
    # whether the statement yields a value (`let r = try_acquire m`, `let v = result f`)
    yields: bool = False


class Could(NamedTuple):
    """Who could do what would end a wait (`set e`), and why none of them does, as a clause
    a wait's sentence ends with: `: only worker could set it (at app.gil:20: set e), and it
    is blocked at app.gil:15`; "" when no thread or task runs such a statement."""

    clause: str
    itself_only: bool = False  # the waiter is the only thread whose code runs it


class WaitView(Protocol):
    """What a primitive may ask about the rest of the program to explain a wait."""

    label: str  # the object's name (with its index)
    partner_label: str
    count: int  # its declared count (a barrier's parties), at least 1

    def name(self, tid: int) -> str:
        """A thread's name as the report shows it."""
        ...

    def name_or_nobody(self, tid: int) -> str:
        """A thread's name, or `nobody` for NO_THREAD."""
        ...

    def may_use(self, verbs: tuple[str, ...]) -> list[int]:
        """Other threads whose code may still use this object with one of `verbs`."""
        ...

    def not_at(self, tids: list[int], verb: str) -> list[int]:
        """Of `tids`, those not blocked at `verb` on this object."""
        ...

    def could(self, verbs: tuple[str, ...], act: str) -> Could:
        """Who could run one of `verbs` on this object (`act` says it in words: `set it`),
        this thread included, and why they do not."""
        ...


class Primitive(Protocol):
    """One kind of sync object."""

    kind: str
    count_minimum: int | None  # the least count it is declared with; None: it takes no count

    @property
    def verbs(self) -> Mapping[str, Verb]:
        """The statements it accepts, by name."""
        ...

    def initial(self, count: int | None) -> Obj:
        """The state of a new object, declared with `count`."""
        ...

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """The state with every thread id in it mapped by `f` (for symmetry)."""
        ...

    def holders(self, obj: Obj) -> tuple[int, ...]:
        """The threads holding it."""
        ...

    def holds(self, obj: Obj, tid: int, label: str) -> str | None:
        """What `tid` holds of it, as a wait-for report lists it (None: nothing)."""
        ...

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Its holders' names and its state in words, for a snapshot."""
        ...

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """What thread `tid`'s step did to it, for narration."""
        ...

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """What a step of `verb` that left the object as it was did (None: nothing to say)."""
        ...

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Why `tid` cannot go on at `verb`, and the threads it waits for."""
        ...


def remove(tids: tuple[int, ...], tid: int) -> tuple[int, ...]:
    """The ids without `tid` (every occurrence)."""
    return tuple(t for t in tids if t != tid)


def added(tids: tuple[int, ...], *more: int) -> tuple[int, ...]:
    """The ids with `more` added, sorted (a canonical form: order carries no meaning)."""
    return tuple(sorted((*tids, *more)))


def remap_id(tid: int, f: TidMap) -> int:
    """A thread id mapped by `f`; NO_THREAD stays."""
    return f(tid) if tid >= 0 else tid


def remap_ids(tids: tuple[int, ...], f: TidMap) -> tuple[int, ...]:
    """Thread ids mapped by `f`, sorted."""
    return tuple(sorted(map(f, tids)))


def timed_out(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj, python: bool) -> Moved:
    """The timeout step of a wait that changed nothing while it waited: the object stays as
    it is and the statement yields false."""
    return Moved(obj, value=False)
