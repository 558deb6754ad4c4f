"""What every part of the Promela export shares: its constants, the refusal it raises for
what it cannot say, the names of a channel, and small helpers over IR expressions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, assert_never

from gilcheck.semantics import describe, ir
from gilcheck.source import Span

# Values are Promela integers: x + c * VALUE_UNIT, where x is the value inside its
# ok/err wrappers (an integer, `none`, a string, a `pyobj` or a `pyerr`) and c the wrappers
# as base-3 digits, the outermost least significant (1: ok, 2: err), up to three levels.
# Integers stay within +-2**24; strings, Python objects and PyErrs are numbered above.
VALUE_UNIT = 1 << 26
NONE_VALUE = -(1 << 25)
INT_LIMIT = 1 << 24
STRING_BASE = INT_LIMIT
PYOBJ_BASE = STRING_BASE + (1 << 22)
PYERR_BASE = PYOBJ_BASE + (1 << 22)
PYTHON_END = PYERR_BASE + (1 << 22)
TX_BASE = PYTHON_END  # the sender of run-time channel k is TX_BASE + k
RX_BASE = TX_BASE + (1 << 20)  # its receiver RX_BASE + k
MOVED_VALUE = RX_BASE + (1 << 20)  # a local whose value was moved or dropped
FUTURE_BASE = MOVED_VALUE + 1  # future k is FUTURE_BASE + k
POOL_BASE = FUTURE_BASE + (1 << 16)  # a pool made at run time, in slot k: POOL_BASE + k
POOL_END = POOL_BASE + (1 << 16)
# A resource (declared or made at run time) as a value: RESOURCE_BASE + kind * KIND_SPAN +
# its slot among the objects of its kind (declared ones first, see objects.py).
RESOURCE_BASE = POOL_END
KIND_SPAN = 1 << 12
RESOURCE_END = RESOURCE_BASE + 16 * KIND_SPAN
CHANNEL_VALUE_BASE = RESOURCE_END  # a declared channel passed as a value (channel_values.py)
THREAD_BASE = CHANNEL_VALUE_BASE + (1 << 16)  # the handle of thread (or process main) t
MAX_WRAPPERS_CODE = 30  # 3**3 + ...: c stays below 31, so every value fits a Promela int
VALUE_MACROS = (
    f"#define VU {VALUE_UNIT}",
    f"#define CH(v) (((v) + {1 << 25}) / VU)  /* the ok/err wrappers of a value */",
    "#define XV(v) ((v) - CH(v) * VU)  /* the value inside them */",
    "#define IS_OK(v) (CH(v) % 3 == 1)",
    "#define IS_ERR(v) (CH(v) % 3 == 2)",
    "#define WRAP(d, v) (XV(v) + (CH(v) * 3 + (d)) * VU)  /* ok(v): d = 1; err(v): d = 2 */",
    "#define INNER(v) (XV(v) + (CH(v) / 3) * VU)  /* v without its outermost wrapper */",
    "#define CAN_WRAP(v) (CH(v) <= 9)  /* one more level still fits a Promela int */",
    f"#define IS_INT(v) ((v) > {NONE_VALUE} && (v) < {STRING_BASE})  /* an integer or bool */",
    f"#define IS_PY(v) (XV(v) >= {PYOBJ_BASE} && XV(v) < {PYTHON_END})  /* a Python value */",
    f"#define TXB {TX_BASE}",
    f"#define RXB {RX_BASE}",
    f"#define MOVED_V {MOVED_VALUE}",
    "#define IS_TX(v) (XV(v) >= TXB && XV(v) < RXB)",
    "#define IS_RX(v) (XV(v) >= RXB && XV(v) < MOVED_V)",
    "#define HCH(v) ((XV(v) - TXB) % (RXB - TXB))  /* a handle's channel */",
    f"#define FUB {FUTURE_BASE}",
    f"#define PLB {POOL_BASE}",
    "#define IS_FU(v) (XV(v) >= FUB && XV(v) < PLB)",
    "#define BARE(v) (CH(v) == 0)  /* no ok/err around it */",
    # The export's own limits (a slot or a bound it provides): a failed assertion pan
    # names as `!(limit_hit)`, so that it is told from the spec's own violations.
    "#define LIMIT_STOP limit_hit = 1; assert(!limit_hit)",
    "#define LIMIT(c) if :: !(c) -> LIMIT_STOP :: else -> skip fi",
    f"#define IS_PL(v) (XV(v) >= PLB && XV(v) < {POOL_END})",
    "#define FK(v) (XV(v) - FUB)  /* a future's slot */",
    "#define PK(v) (XV(v) - PLB)  /* a pool's slot */",
    f"#define RSB {RESOURCE_BASE}",
    f"#define IS_RS(v) ((v) >= RSB && (v) < {RESOURCE_END})  /* a resource (not wrapped) */",
    f"#define RK(v) (((v) - RSB) / {KIND_SPAN})  /* a resource's kind */",
    f"#define RS(v) (((v) - RSB) % {KIND_SPAN})  /* its slot among its kind's */",
    f"#define THB {THREAD_BASE}",
    "#define IS_TH(v) (XV(v) >= THB && XV(v) < THB + 256)  /* a thread or process handle */",
    "#define TH(v) ((v) - THB)  /* its thread */",
)
NO_ONE = 255
MAX_THREADS = 31  # thread sets are bits of a Promela int
MAX_CAPACITY = 255  # a channel's count of messages is a Promela byte
MAX_INLINED = 1000  # inlined calls in one proctype (each `call` gets a copy of its function)
NORMAL, LOST, BLOCKING = 0, 1, 2
# An index out of range panics: the run stops there (no thread goes on, none is reported
# blocked), as gilcheck stops at a violation.
OUT_OF_RANGE = (
    "assert(false); /* panic or misuse: an index out of range, a value of the wrong kind, "
    "a moved value used */ ended = 1; goto end_exit"
)

BINARY = {
    "+": "+",
    "-": "-",
    "*": "*",
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "and": "&&",
    "or": "||",
    "/": "/",
    "%": "%",
}


class Refused(Exception):
    """What the export cannot say, and where: becomes a `not-exportable` error. `yet` marks
    what the export does not know at all (a kind of object or instruction added to the
    language after it), rather than a construct it knows and declines."""

    def __init__(self, what: str, span: Span, *, yet: bool = False) -> None:
        super().__init__(what)
        self.what = what
        self.span = span
        self.yet = yet


# Every IR instruction the export knows: it translates some and refuses the others with a
# message naming them. An instruction not listed (one added to the IR since) is refused
# as soon as it is met, generically, before anything relies on what it does.
KNOWN_INSTRUCTIONS: Final[tuple[type, ...]] = (
    ir.Assign,
    ir.Recv,
    ir.TryRecv,
    ir.Send,
    ir.CloneHandle,
    ir.Unwrap,
    ir.CallFn,
    ir.SpawnFn,
    ir.AnyInt,
    ir.MakeChannel,
    ir.DropValue,
    ir.Close,
    ir.GilEnter,
    ir.GilExit,
    ir.AllowEnter,
    ir.AllowExit,
    ir.PythonEnter,
    ir.PythonExit,
    ir.Acquire,
    ir.Release,
    ir.Wait,
    ir.Notify,
    ir.OnceBegin,
    ir.OnceEnd,
    ir.SetEvent,
    ir.ClearEvent,
    ir.Join,
    ir.Return,
    ir.Jump,
    ir.Branch,
    ir.Choose,
    ir.Await,
    ir.Assert,
    ir.Panic,
    ir.Print,
    ir.AtomicBegin,
    ir.AtomicEnd,
    ir.Progress,
    ir.Skip,
    ir.ForkBegin,
    ir.ForkEnd,
    ir.EndScope,
    ir.End,
    ir.SyncOp,
    ir.AcquireGil,
    ir.ReleaseGil,
    ir.Submit,
    ir.MakeObject,
    ir.SuspendBegin,
    ir.SuspendEnd,
)


def check_known(instr: ir.Instr) -> None:
    """Refuse an instruction the export does not know (see `KNOWN_INSTRUCTIONS`)."""
    if not isinstance(instr, KNOWN_INSTRUCTIONS):
        raise Refused(describe.construct(instr), instr.span, yet=True)


ChannelKind = Literal["unbounded", "bounded", "rendezvous", "oneshot", "queue"]

_CHANNEL_KINDS: Final[Mapping[str, ChannelKind]] = {
    "unbounded": "unbounded",
    "bounded": "bounded",
    "rendezvous": "rendezvous",
    "oneshot": "oneshot",
    "queue": "queue",
}


def channel_kind(chan: ir.ChannelInfo) -> ChannelKind:
    """A declared channel's kind, as one the export knows (any other is refused)."""
    found = _CHANNEL_KINDS.get(chan.kind)
    if found is None:
        raise Refused(f"`{chan.kind}` channels", chan.span, yet=True)
    if chan.capacity is not None and chan.capacity > MAX_CAPACITY:
        raise Refused(f"a channel of capacity above {MAX_CAPACITY}", chan.span)
    return found


@dataclass(frozen=True)
class ChanText:
    """The Promela names of one global channel, or of one element of a channel array.

    A scalar channel `c` is `ch_c[cap]` (its buffer), `ch_c_n`, `ch_c_closed` and
    `ch_c_pending`; an array `c[size]` flattens the buffers into `ch_c[size * cap]` and makes
    the other three arrays, indexed by `at` (the element, as Promela text).
    """

    name: str
    capacity: int
    at: str | None = None

    def slot(self, i: str) -> str:
        """Buffer slot `i` (0 is the oldest message)."""
        if self.at is None:
            return f"{self.name}[{i}]"
        return f"{self.name}[({self.at}) * {self.capacity} + {i}]"

    def _field(self, suffix: str) -> str:
        if self.at is None:
            return f"{self.name}_{suffix}"
        return f"{self.name}_{suffix}[{self.at}]"

    @property
    def n(self) -> str:
        """The number of messages buffered."""
        return self._field("n")

    @property
    def closed(self) -> str:
        """Whether the channel is closed."""
        return self._field("closed")

    @property
    def pending(self) -> str:
        """The rendezvous sender whose offer waits (NO_ONE: none)."""
        return self._field("pending")


@dataclass
class Gil:
    """The GIL count at an instruction, and the counts saved by enclosing allow_threads."""

    count: int
    saved: tuple[int, ...] = ()


@dataclass
class Unit:
    """One code unit as the export translates it into a proctype: a thread body or spawned
    function (its own code), or a function inlined at one `call` of it, whose labels and
    locals carry a prefix of their own."""

    index: int
    name: str  # the proctype's name
    gil: dict[int, Gil] = field(default_factory=dict)
    prefix: str = ""  # "" for the proctype's own code, "c3_" for its third inlined call
    context: ir.Context = ir.Context.NATIVE  # the caller's, for statements that inherit it
    call: Call | None = None  # where an inlined function was called from
    chain: tuple[int, ...] = ()  # the functions called on the way here (recursion check)
    atexit: int = -1  # an `atexit` block of main's: its place in the order they run
    finish: str = ""  # a task's (pool or loop): the label its return goes on to
    loop: bool = False  # runs in a loop's task: only while it holds the loop (or awaits)

    def label(self, pc: int) -> str:
        """The Promela label of an instruction."""
        return f"{self.prefix}L{pc}"

    def local(self, slot: int) -> str:
        """The Promela name of a local slot."""
        return f"{self.prefix}l{slot}"

    def context_of(self, instr: ir.Instr) -> ir.Context:
        """Python or native: the innermost block decides, else the caller."""
        return self.context if instr.context == ir.Context.INHERIT else instr.context


@dataclass(frozen=True)
class Call:
    """A `call` an inlined function returns to."""

    caller: Unit
    pc: int
    instr: ir.CallFn


def all_of(*conditions: str | None) -> str | None:
    """The conjunction of the conditions given (None: true), evaluated left to right."""
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else "(" + " && ".join(present) + ")"


def parts(expr: ir.Expr) -> Iterator[ir.Expr]:
    """`expr` and every expression within it (channel indices included)."""
    yield expr
    match expr:
        case ir.GlobalVar(index=i) if i is not None:
            yield from parts(i)
        case ir.UnaryOp(operand=o):
            yield from parts(o)
        case ir.BinaryOp(left=a, right=b):
            yield from parts(a)
            yield from parts(b)
        case ir.Builtin(args=args):
            for arg in args:
                if isinstance(arg, ir.GlobalChannel):
                    if arg.index is not None:
                        yield from parts(arg.index)
                elif not isinstance(arg, ir.HandleRef):
                    yield from parts(arg)
        case ir.GlobalVar() | ir.Const() | ir.Local() | ir.SelfIndex() | ir.ParamRef():
            pass
        case _:
            assert_never(expr)


def reads_var(expr: ir.Expr, name: str) -> bool:
    """Whether `expr` reads the shared var (or array) `name`."""
    return any(isinstance(e, ir.GlobalVar) and e.name == name for e in parts(expr))


def reads_channel(expr: ir.Expr) -> bool:
    """Whether `expr` reads a channel (`len(..)`)."""
    return any(
        isinstance(e, ir.Builtin)
        and any(isinstance(a, ir.GlobalChannel | ir.HandleRef) for a in e.args)
        for e in parts(expr)
    )


class Constants:
    """The encoding of constant values as Promela integers (see VALUE_UNIT); strings and the
    tags of Python objects and PyErrs are numbered in the order they are met."""

    def __init__(self) -> None:
        self.numbers: dict[tuple[str, object], int] = {}

    def number(self, kind: str, value: object) -> int:
        """The number of a string, pyobj tag or pyerr message."""
        return self.numbers.setdefault((kind, value), len(self.numbers))

    def encode(self, value: object) -> int | None:
        """A constant's integer, or None when it has none (a handle; an integer too large;
        wrappers nested more than three levels)."""
        match value:
            case bool():
                return int(value)
            case int():
                return value if -INT_LIMIT < value < INT_LIMIT else None
            case None:
                return NONE_VALUE
            case str():
                return STRING_BASE + self.number("str", value)
            case ("pyobj", tag):
                return PYOBJ_BASE + self.number("pyobj", tag)
            case ("pyerr", message):
                return PYERR_BASE + self.number("pyerr", message)
            case ("ok" | "err" as tag, inner):
                encoded = self.encode(inner)
                if encoded is None:
                    return None
                wrappers = (encoded + (1 << 25)) // VALUE_UNIT
                inside = encoded - wrappers * VALUE_UNIT
                code = wrappers * 3 + (1 if tag == "ok" else 2)
                return inside + code * VALUE_UNIT if code <= MAX_WRAPPERS_CODE else None
        return None

    def literal(self, value: object) -> str:
        """A constant as Promela text (0 for one `encode` refuses, which its caller has
        refused already)."""
        if value is None:
            return "NONE_V"
        encoded = self.encode(value)
        return "0" if encoded is None else str(encoded)


def describe_instr(instr: ir.Instr) -> str:
    """What the export refuses, in the spec's words (the `not-exportable` message's subject)."""
    match instr:
        case ir.MakeChannel():
            return f"a channel made at run time (`{describe.statement(instr)}`)"
        case ir.Send(channel=ir.GlobalChannel(), target=t) if t is not None:
            return "a `send` whose result is kept"
        case ir.Send() | ir.Recv() | ir.TryRecv() | ir.Close():
            return f"{describe.construct(instr)} on a channel handle"
        case ir.Wait(resource=res):
            return f"`wait` on {describe.a_kind(res.kind)}"
        case ir.AnyInt(low=lo, high=hi):
            return (
                f"`any({describe.expression(lo)}..{describe.expression(hi)})`, whose range is "
                "not constant or has more than 16 values,"
            )
        case ir.Acquire(resource=res):
            return f"{describe.construct(instr)} on {describe.a_kind(res.kind)}"
    return describe.construct(instr)


def describe_expr(expr: ir.Expr) -> str:
    """An expression the export refuses, in the spec's words."""
    if isinstance(expr, ir.Builtin) and expr.name == "resource":
        return f"a resource used as a value (`{describe.expression(expr)}`)"
    if isinstance(expr, ir.Builtin) and expr.name in ("pyobj", "pyerr"):
        return f"`{expr.name}(..)` of a value computed at run time"
    if isinstance(expr, ir.Builtin):
        return f"`{expr.name}(..)`"
    if isinstance(expr, ir.BinaryOp):
        return f"the operator `{expr.op}`"
    if isinstance(expr, ir.ParamRef):
        return f"the param `{expr.name}`"
    return f"`{describe.expression(expr)}`"


MAX_PROCESSES = 8  # process slots of `spawn process`, the first included (never reused)
REAP_LABEL = "reap"  # a process's end: its child processes terminated or joined
JOIN_LABEL = "pjoin"  # a child process's end: its non-daemon threads joined
CHILD_MAIN = "P_"  # the proctype of a child process's main thread: `P_g`


def is_child_main(proctype: str) -> bool:
    """Whether a proctype runs a child process's main thread (`spawn process g()`)."""
    return proctype.startswith(CHILD_MAIN)


# The export's own limit reached: the run ends there (after `LIMIT_STOP`).
BOUND_STOP = "ended = 1; goto end_exit"


def misuse_stop(what: str) -> str:
    """A misuse (gilcheck's verdict) that ends the run: what follows is never reached."""
    return f"assert(false); /* misuse: {what} */ ended = 1;"


def sites(
    program: ir.Program, wanted: Callable[[ir.Instr], bool]
) -> Iterator[tuple[ir.Instr, bool]]:
    """The instructions `wanted` picks, each with whether it is inside a loop (between a
    backward jump and its target), where it may run any number of times."""
    for code in program.codes:
        loops = [
            (instr.target, pc)
            for pc, instr in enumerate(code.instrs)
            if isinstance(instr, ir.Jump) and instr.target <= pc
        ]
        for pc, instr in enumerate(code.instrs):
            if wanted(instr):
                yield instr, any(first <= pc <= last for first, last in loops)


def process_slots(program: ir.Program) -> int:
    """The processes a run may start, the first included: each `spawn process` once, four
    times in a loop, times the largest thread array; at most MAX_PROCESSES (1: the spec
    starts none)."""
    spawns = sum(
        4 if looped else 1
        for _, looped in sites(program, lambda i: isinstance(i, ir.SpawnFn) and i.process)
    )
    if not spawns:
        return 1
    copies = max([info.size or 1 for info in program.threads] or [1])
    return min(MAX_PROCESSES, 1 + spawns * copies)


def own_block(processes: int, block: int, slot: str) -> str:
    """A declared element's slot among its kind's: with `spawn process`, each process has
    a block of `block` slots of its own, and `px` names the thread's process."""
    if processes == 1:
        return slot
    return f"(px * {block} + {slot})"
