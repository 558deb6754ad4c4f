"""Plain data for results: every output format renders these same values."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Location:
    """Where a statement is in a source file: 1-based line and column of its start, and of
    just past its end (0 when not known). Its text is `path:line`; no file: nowhere ("")."""

    file: str = ""
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    # A drafted statement's origin in the user's source (`#@ app.py:41`): "" when none.
    origin_file: str = ""
    origin_line: int = 0
    origin_column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.file else ""

    def __bool__(self) -> bool:
        return bool(self.file)

    @property
    def origin(self) -> str:
        """`app.py:41`: where in the user's source the statement was drafted from ("")."""
        return f"{self.origin_file}:{self.origin_line}" if self.origin_file else ""

    @property
    def short(self) -> str:
        """`app.gil:12`: the file's name (without its folders) and line; for a drafted
        statement, its origin beside it: `app.gil:12 (app.py:41)`."""
        spec = str(self).rsplit("/", 1)[-1]
        return f"{spec} ({self.origin.rsplit('/', 1)[-1]})" if self.origin_file else spec


NOWHERE = Location()  # a thread that ended, or is gone in a forked child


@dataclass(frozen=True, slots=True)
class Holding:
    """A lock-like object at one point of a trace: who holds it, and its state in words."""

    name: str  # `the GIL`, `stdout's lock`, or the name a spec declares (`m`, `m[1]`)
    kind: str  # `gil`, `stdout`, `mutex`, `rlock`, `semaphore`, `event`, `barrier`, ...
    holders: tuple[str, ...]
    state: str  # `held by main`, `free`, `2 permits`, `set`, ...


@dataclass(frozen=True, slots=True)
class Buffer:
    """A channel at one point of a trace: what it buffers, and whether it is closed."""

    name: str
    kind: str  # `unbounded`, `bounded`, `rendezvous`, `oneshot`, `queue`
    messages: tuple[str, ...]
    closed: bool


@dataclass(frozen=True, slots=True)
class ThreadAt:
    """Where a thread is at one point of a trace."""

    name: str
    status: str  # `runs`, `blocked` or `ended`
    location: Location  # its next statement, NOWHERE once ended
    line: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The shared state at one point of a trace, in the names a spec uses."""

    holdings: tuple[Holding, ...]
    buffers: tuple[Buffer, ...]
    threads: tuple[ThreadAt, ...]


@dataclass(frozen=True, slots=True)
class CallSite:
    """One frame of a thread's call stack: the function it runs ("" for a thread's own
    body) and the statement it is at (in a caller: the `call`)."""

    function: str
    location: Location
    statement: str


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a trace."""

    index: int
    thread: str
    location: Location
    line: int
    statement: str
    effects: tuple[str, ...]
    merged: bool = False  # a local step or release taken together with the step before
    after: Snapshot | None = None  # the state the step leads to (for a violating step: the
    # state it starts from, as the violation leaves no state)
    # A step inside a function of another file (a model's helper): the spec's own statement
    # that called it, with the helper it called (None: a step of the spec's own code).
    via: CallSite | None = None


@dataclass(frozen=True, slots=True)
class Wait:
    """What a thread waits for in the final state, and who holds it."""

    thread: str
    waits_for: str
    holders: tuple[str, ...]
    location: Location
    statement: str
    holds: tuple[str, ...] = ()
    # Blocked inside a function of another file (a model's helper): the frames from the
    # spec's own call site down to `location`, outermost first (empty otherwise).
    stack: tuple[CallSite, ...] = ()
    # It waits for itself, in words (`it holds lock m`); "" when it does not.
    itself: str = ""
    # Any one of `holders` could end the wait (the threads that may set an event); false
    # when it waits for each of them (a lock's owner, the threads a join waits for).
    any_of: bool = False
    # A future's task queued on a pool whose workers are all busy: the pool's exhaustion in
    # words (`2 tasks queued on pool p, every worker blocked (p.worker#1, p.worker#2)`).
    exhausted: str = ""


@dataclass(frozen=True, slots=True)
class Watched:
    """A shared variable a blocked thread's condition reads (`await ready == 1`), and its
    value in the final state."""

    name: str  # `ready`, `x[2]`
    value: str
    readers: tuple[str, ...]  # the threads whose conditions read it


@dataclass(frozen=True, slots=True)
class Pending:
    """A channel, queue or task queue that is not empty in the final state."""

    name: str  # `channel jobs`, `pool p`, `event loop lp`
    kind: str  # the channel's kind (`queue`, `bounded(2)`), `pool` or `eventloop`
    items: tuple[str, ...]  # its messages, or its tasks (`inner() (future #3)`), oldest first
    text: str  # the line a report prints: `channel jobs (queue): [1, 2]`


@dataclass(frozen=True, slots=True)
class Trace:
    """A counterexample: its steps, and for a deadlock the wait-for explanation."""

    steps: tuple[Step, ...]
    waits: tuple[Wait, ...] = ()
    cycle: tuple[str, ...] = ()
    final_note: str = ""
    loop_from: int | None = None  # for stuck and livelock: the index in steps where one turn
    # of the cycle the program can repeat for ever begins
    start: Snapshot | None = None  # the initial state, before the first step
    # What explains the waits of the final state: the shared vars their conditions read,
    # and every channel, queue and task queue that is not empty.
    watched: tuple[Watched, ...] = ()
    pending: tuple[Pending, ...] = ()

    @property
    def self_wait(self) -> str:
        """For a cycle of one thread, in words: `main waits for itself: it holds lock m`
        ("" for a cycle of several threads, or none)."""
        if len(self.cycle) != 2 or self.cycle[0] != self.cycle[1]:
            return ""
        why = next((w.itself for w in self.waits if w.thread == self.cycle[0] and w.itself), "")
        return f"{self.cycle[0]} waits for itself" + (f": {why}" if why else "")

    @property
    def exhausted(self) -> tuple[str, ...]:
        """Each exhausted pool's sentence once, in the order of the waits."""
        return tuple(dict.fromkeys(w.exhausted for w in self.waits if w.exhausted))


@dataclass(frozen=True, slots=True)
class Stats:
    """How much was explored."""

    states: int
    transitions: int
    seconds: float
    exhaustive: bool
    # Thread arrays explored one state per permutation orbit, e.g. ("worker[5]",); one
    # reduced by rotations alone is named "philosopher[5] (rotations)".
    symmetry: tuple[str, ...] = ()
    # Peak resident memory growth during the search per state stored (None: too few
    # states to measure).
    bytes_per_state: int | None = None
    # The store's own bytes per state stored, by part: ("records", ...), ("index", ...),
    # ("trace links", ...), ("edge log", ...); empty where they are not measured.
    storage: tuple[tuple[str, float], ...] = ()
    # Which form of the search this installation runs: "C extension" or "pure Python (why)".
    engine: str = ""


@dataclass(frozen=True, slots=True)
class Lint:
    """A warning from the constraints: a guard always or never true, code no path reaches."""

    code: str  # guard-always-true, guard-never-true, unreachable-code, assert-never-fails
    message: str
    location: Location
    line: int


@dataclass(frozen=True, slots=True)
class Assumed:
    """An assumption of a drafted spec (`#@ assume`): what was assumed, and where in the
    user's source."""

    text: str
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.text} at {self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Drift:
    """An origin of a drafted spec whose source changed since the draft."""

    file: str
    line: int
    message: str


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
    expected_line: int = 0  # the line of the spec's `expect` (0: none, or not known)
    limit: str | None = None
    notes: tuple[str, ...] = field(default=())
    shortest: bool = True  # the trace is a shortest one (breadth-first searches)
    # With unknown values (`param`, wide `any`): for which values the verdict holds, values
    # under which the trace happens, and the spec's own `expect ... when` condition.
    condition: str | None = None
    witness: tuple[tuple[str, int], ...] = ()
    expected_when: str | None = None
    when_matches: bool | None = None
    condition_complete: bool = True
    lints: tuple[Lint, ...] = ()
    proof: dict[str, object] | None = None  # the proof record (report/proof.py), once made
    # A drafted spec: what it assumes (an `ok` holds only under these), whether the user
    # accepted them (`--accept-assumptions`), and origins whose source changed since.
    assumptions: tuple[Assumed, ...] = ()
    assumptions_accepted: bool = False
    drift: tuple[Drift, ...] = ()
    # Fingerprint mode (`--fingerprint`): the bound on the probability that a state was
    # missed, and whether the user accepts an `ok` under it (`--accept-fingerprint`).
    p_miss: float | None = None
    fingerprint_accepted: bool = False

    @property
    def match_word(self) -> str:
        """How a report says whether the verdict is the one expected: `matches`,
        `MISMATCH`, or for a fingerprinted `ok` not accepted, `not accepted` (it is not
        as expected until `--accept-fingerprint`); `no expect line` without one."""
        if self.matches is None:
            return "no expect line"
        if self.matches:
            return "matches"
        if self.rests_on_fingerprints and self.expected == "ok":
            return "not accepted (--accept-fingerprint)"
        return "MISMATCH"

    @property
    def rests_on_fingerprints(self) -> bool:
        """An `ok` of a fingerprinted search that the user has not accepted."""
        return self.verdict == "ok" and self.p_miss is not None and not self.fingerprint_accepted

    @property
    def rests_on_assumptions(self) -> bool:
        """An `ok` that holds only under assumptions the user has not accepted."""
        return self.verdict == "ok" and bool(self.assumptions) and not self.assumptions_accepted

    @property
    def matches(self) -> bool | None:
        """Whether the verdict (and its condition, if the spec states one) is the one the
        spec expects (None without `expect`)."""
        if self.expected is None:
            return None
        if self.expected_when is not None and not self.condition_complete:
            return False  # a lower bound of the condition proves no `when`
        if self.rests_on_assumptions or self.rests_on_fingerprints:
            return False  # an `ok` under assumptions or fingerprints not accepted proves nothing
        return self.expected == self.verdict and self.when_matches is not False


@dataclass(frozen=True, slots=True)
class GraphNode:
    """A state of the state graph, or the end of a step that leaves it (a violation, a limit)."""

    id: int
    kind: str  # `initial`, `state`, `deadlock`, `end`, or a verdict for a step's violation
    snapshot: Snapshot | None  # None for a violation or limit node
    note: str = ""  # the violation or limit message


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """A step of the state graph."""

    source: int
    target: int
    thread: str
    location: Location
    statement: str
    on_trace: bool  # on the drawn shortest path to a violation


@dataclass(frozen=True, slots=True)
class StateGraph:
    """The whole reachable state graph of a spec, as explored (local steps merged or not)."""

    spec: str
    title: str | None
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
