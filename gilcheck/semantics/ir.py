"""The flat intermediate representation: a resolved program whose code units are instruction tuples.

Each thread body, function and hook compiles to a `CodeUnit`: a tuple of instructions with
integer jump targets, so a thread's position is one integer. Names are resolved to slots:
locals to per-frame slots, shared vars to global slots, resources and channels to ids.
Every instruction keeps the span of the statement it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import assert_never

from gilcheck.source import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


class Verdict(StrEnum):
    """The verdicts of LANGUAGE.md."""

    OK = "ok"
    DEADLOCK = "deadlock"
    STUCK = "stuck"
    LIVELOCK = "livelock"
    ASSERTION = "assertion"
    PANIC = "panic"
    MISUSE = "misuse"
    BOUND = "bound"
    INCONCLUSIVE = "inconclusive"


class Context(StrEnum):
    """Whether an instruction runs as Python code or native code (innermost block decides)."""

    PYTHON = "python"
    NATIVE = "native"
    INHERIT = "inherit"  # no deciding block in this code unit: the caller's context applies


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True, kw_only=True)
class Const:
    """A constant value (ints, bools, strings, none, and tuples for ok/err/pyobj/pyerr)."""

    value: object


@dataclass(frozen=True, slots=True, kw_only=True)
class Local:
    """A local slot of the current frame."""

    slot: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalVar:
    """A shared variable (or an element of a shared array: base + index)."""

    base: int
    size: int | None
    name: str
    index: Expr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfIndex:
    """``self``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamRef:
    """A ``param``: an unknown fixed for the whole run."""

    index: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UnaryOp:
    """``-e`` or ``not e``."""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class BinaryOp:
    """Arithmetic, comparison and boolean operators."""

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True, kw_only=True)
class Builtin:
    """ok, err, pyobj, pyerr, is_ok, is_err, is_none, len."""

    name: str
    args: tuple[Expr | ChannelRef, ...]


Expr = Const | Local | GlobalVar | SelfIndex | ParamRef | UnaryOp | BinaryOp | Builtin


# ---------------------------------------------------------------- references


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceRef:
    """A declared resource (mutex, rlock, condvar, ...), possibly an array element; or, with
    `value` set, the object an expression's value refers to (made at run time, or a declared
    one passed as a value): then `kind` is the kind the text shows, or "" when only the run
    time knows it, and `base` and `size` mean nothing."""

    kind: str
    base: int
    size: int | None
    name: str
    index: Expr | None = None
    value: Expr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalChannel:
    """A declared channel, possibly an array element."""

    base: int
    size: int | None
    name: str
    index: Expr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class HandleRef:
    """A channel handle or join handle held in a local (its kind known statically or not)."""

    slot: int
    name: str
    kind: str = "unknown"  # sender, receiver, thread, unknown


ChannelRef = GlobalChannel | HandleRef


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadRef:
    """A declared thread (``join worker`` or ``join worker[i]``)."""

    thread: int
    size: int | None
    name: str
    index: Expr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalTarget:
    """Assign to a local slot."""

    slot: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class GlobalTarget:
    """Assign to a shared variable or an element of one."""

    base: int
    size: int | None
    name: str
    index: Expr | None = None


Target = LocalTarget | GlobalTarget


# ---------------------------------------------------------------- instructions


@dataclass(frozen=True, slots=True, kw_only=True)
class Assign:
    """``x = e`` / ``let x = e`` (pure expression)."""

    target: Target
    value: Expr
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Recv:
    """``recv``; ``exit_target`` set for a ``for`` loop (jump there when it yields none).
    ``recv rx timeout`` (``timed``) yields ok(v) or err("timeout")."""

    channel: ChannelRef
    target: Target | None
    exit_target: int | None = None
    timed: bool = False
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class TryRecv:
    """``try_recv``: never blocks."""

    channel: ChannelRef
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """``send``; the result (ok(none) or err(v)) goes to ``target`` if bound."""

    channel: ChannelRef
    value: Expr
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class CloneHandle:
    """``clone tx`` (or a Python value: cloning a pyobj takes the GIL)."""

    source: Expr | ChannelRef
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Unwrap:
    """``unwrap e``: panics on err(..) and none."""

    value: Expr
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class CallFn:
    """``call f(a)``: pushes a frame; the return value goes to ``target``."""

    function: int
    args: tuple[Expr, ...]
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class SpawnFn:
    """``spawn f(a)``, or with ``process`` ``spawn process f(a)`` (a new OS process whose
    main thread runs ``f``); the join handle goes to ``target``."""

    function: int
    args: tuple[Expr, ...]
    daemon: bool
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT
    process: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit:
    """``submit p, g(a)``: queue a call of ``function`` on the pool ``executor`` names; the
    future it completes goes to ``target``."""

    executor: ResourceRef
    function: int
    args: tuple[Expr, ...]
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class TakeTask:
    """A pool worker's wait for a task (its code unit's first instruction): it takes the
    oldest queued task and runs it as a call whose value goes to ``target``; idle while the
    queue is empty."""

    target: Target
    span: Span = _span()
    context: Context = Context.NATIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class FinishTask:
    """A pool worker's task has returned: its future completes with the value, and the worker
    is idle again."""

    span: Span = _span()
    context: Context = Context.NATIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopStart:
    """An event loop's task waits for the loop (its code unit's first instruction), then
    takes it and runs its function as a call whose value goes to ``target``."""

    target: Target
    span: Span = _span()
    context: Context = Context.NATIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopFinish:
    """An event loop's task has returned: its future completes with the value, it gives the
    loop back and ends."""

    span: Span = _span()
    context: Context = Context.NATIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class LoopIdle:
    """An event loop's own thread: its tasks run as its coroutines (each in a thread entry
    of its own); the thread itself never runs a statement."""

    span: Span = _span()
    context: Context = Context.NATIVE


@dataclass(frozen=True, slots=True, kw_only=True)
class SuspendBegin:
    """``suspend {``: the task awaits; with ``force`` (``suspend { skip }``) it gives the
    loop back at once."""

    force: bool = False
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class SuspendEnd:
    """``}`` of ``suspend``: a task that gave the loop back becomes ready and takes it back."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class AnyInt:
    """``any(lo..hi)``: a nondeterministic integer in [lo, hi)."""

    low: Expr
    high: Expr
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeChannel:
    """``let (tx, rx) = channel(..)``: kind and capacity (None for unbounded)."""

    kind: str
    capacity: Expr | None
    sender: Target | None
    receiver: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeObject:
    """``let m = mutex()``, ``latch(3)``, ``future()``: a new object made at run time, its
    reference stored in ``target``."""

    kind: str
    count: int | None
    target: Target | None
    span: Span = _span()
    context: Context = Context.INHERIT


def made_pool_workers(instr: MakeObject, declared: set[str]) -> str:
    """The name of the worker loop of pools made by `instr` (`let ex = pool(2)`: `ex.worker`,
    `pool.worker` when the pool is bound to nothing or to a declared pool's name)."""
    name = instr.target.name if instr.target is not None else "pool"
    return f"{'pool' if name in declared else name}.worker"


@dataclass(frozen=True, slots=True, kw_only=True)
class DropValue:
    """``drop x``."""

    slot: int
    name: str
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Close:
    """``close c``."""

    channel: ChannelRef
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class GilEnter:
    """Entering ``with_gil``."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class GilExit:
    """Leaving ``with_gil``."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowEnter:
    """Entering ``allow_threads``: releases the GIL."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowExit:
    """Leaving ``allow_threads``: takes the GIL back."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class AcquireGil:
    """``acquire_gil``: takes the GIL, restoring what ``release_gil`` saved (not reentrant)."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseGil:
    """``release_gil``: gives up all of the GIL the thread holds, saving its count."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonEnter:
    """Entering ``python { }``: takes the GIL if not held."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonExit:
    """Leaving ``python { }``: gives back a GIL taken on entry."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Acquire:
    """``acquire`` (mode ``""``), ``acquire_read``, ``acquire_write``; semaphores too.
    ``timed`` (``acquire m timeout``): yields true or false into ``target``, if bound."""

    resource: ResourceRef
    mode: str = ""
    timed: bool = False
    target: Target | None = None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """``release`` (also the end of a ``lock``/``read``/``write`` block)."""

    resource: ResourceRef
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    """``wait cv, m`` / ``wait e`` / ``wait b``; ``timed`` (``wait e timeout``): yields true
    or false into ``target``, if bound."""

    resource: ResourceRef
    mutex: ResourceRef | None = None
    timed: bool = False
    target: Target | None = None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOp:
    """``verb r`` / ``verb r, p`` / ``verb r, e``: a statement of an object's primitive, by
    name; ``operand`` is a value operand (``complete f, e``), ``target`` where the value it
    yields goes (``let v = result f``)."""

    verb: str
    resource: ResourceRef
    partner: ResourceRef | None = None
    operand: Expr | None = None
    target: Target | None = None
    timed: bool = False  # `result f timeout`
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Notify:
    """``notify`` / ``notify_all``."""

    resource: ResourceRef
    all: bool = False
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class OnceBegin:
    """``call_once o {``: the first caller runs the block; later ones jump to ``done``."""

    resource: ResourceRef
    done: int
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class OnceEnd:
    """End of a ``call_once`` block: wakes the waiters."""

    resource: ResourceRef
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class SetEvent:
    """``set e``."""

    resource: ResourceRef
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearEvent:
    """``clear e``."""

    resource: ResourceRef
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Join:
    """``join h``; ``timed`` (``join h timeout``): yields whether the thread has ended into
    ``target``, if bound."""

    handle: Expr | ThreadRef
    timed: bool = False
    target: Target | None = None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Return:
    """``return e``: pops the frame (dropping its locals)."""

    value: Expr | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Jump:
    """Unconditional jump (not a step of its own)."""

    target: int
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Branch:
    """Evaluate a condition (a step): go on if true, jump to ``if_false`` otherwise."""

    cond: Expr
    if_false: int
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Choose:
    """Commit to one of the branches (a step)."""

    targets: tuple[int, ...]
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Await:
    """Block until the condition holds."""

    cond: Expr
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Assert:
    """``assert c, msg``."""

    cond: Expr
    message: Expr | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Panic:
    """``panic msg``."""

    message: Expr | None
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Print:
    """``print e``: the stdout lock, then the GIL for a Python value."""

    value: Expr
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class AtomicBegin:
    """``atomic {``: run up to the matching AtomicEnd as one step (``end`` is its index)."""

    end: int
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class AtomicEnd:
    """End of an atomic block."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """``progress``."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class Skip:
    """``skip``."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class ForkBegin:
    """``fork {``: the child runs the block up to ``end``; the parent jumps past it."""

    end: int
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class ForkEnd:
    """End of the child's block: the child process ends."""

    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class EndScope:
    """End of a block that declared locals: they are dropped (a channel may close)."""

    slots: tuple[int, ...]
    span: Span = _span()
    context: Context = Context.INHERIT


@dataclass(frozen=True, slots=True, kw_only=True)
class End:
    """End of a code unit: a thread ends or a function returns none."""

    span: Span = _span()
    context: Context = Context.INHERIT


Instr = (
    Assign
    | Recv
    | TryRecv
    | Send
    | CloneHandle
    | Unwrap
    | CallFn
    | SpawnFn
    | Submit
    | TakeTask
    | FinishTask
    | LoopStart
    | LoopFinish
    | LoopIdle
    | SuspendBegin
    | SuspendEnd
    | AnyInt
    | MakeChannel
    | MakeObject
    | DropValue
    | Close
    | GilEnter
    | GilExit
    | AllowEnter
    | AllowExit
    | PythonEnter
    | PythonExit
    | AcquireGil
    | ReleaseGil
    | Acquire
    | Release
    | Wait
    | SyncOp
    | Notify
    | OnceBegin
    | OnceEnd
    | SetEvent
    | ClearEvent
    | Join
    | Return
    | Jump
    | Branch
    | Choose
    | Await
    | Assert
    | Panic
    | Print
    | AtomicBegin
    | AtomicEnd
    | Progress
    | Skip
    | ForkBegin
    | ForkEnd
    | EndScope
    | End
)


# ---------------------------------------------------------------- program


def sync_verb(instr: Instr) -> str | None:
    """The primitive statement an instruction runs (None: not a statement on a sync object);
    the engine's and the Promela export's one reading of it."""
    match instr:
        case Acquire(mode=mode):
            return "acquire_" + mode if mode else "acquire"
        case Release():
            return "release"
        case Wait():
            return "wait"
        case Notify(all=every):
            return "notify_all" if every else "notify"
        case OnceBegin():
            return "call_once"
        case OnceEnd():
            return "call_once_end"
        case SetEvent():
            return "set"
        case ClearEvent():
            return "clear"
        case SyncOp(verb=verb):
            return verb
        case (
            Assign()
            | Recv()
            | TryRecv()
            | Send()
            | CloneHandle()
            | Unwrap()
            | CallFn()
            | SpawnFn()
            | Submit()
            | TakeTask()
            | FinishTask()
            | LoopStart()
            | LoopFinish()
            | LoopIdle()
            | SuspendBegin()
            | SuspendEnd()
            | AnyInt()
            | MakeChannel()
            | MakeObject()
            | DropValue()
            | Close()
            | GilEnter()
            | GilExit()
            | AllowEnter()
            | AllowExit()
            | PythonEnter()
            | PythonExit()
            | AcquireGil()
            | ReleaseGil()
            | Join()
            | Return()
            | Jump()
            | Branch()
            | Choose()
            | Await()
            | Assert()
            | Panic()
            | Print()
            | AtomicBegin()
            | AtomicEnd()
            | Progress()
            | Skip()
            | ForkBegin()
            | ForkEnd()
            | EndScope()
            | End()
        ):
            return None
        case _:
            assert_never(instr)


# Statements that may wait: in Python code holding the GIL, CPython gives the GIL up while
# they wait (the engine offers that step when the statement cannot go on; a `SyncOp` that
# never waits, `countdown` or `try_acquire`, always can).
# The statements that enter or leave a GIL block (`with_gil`, `allow_threads`, `python`).
GIL_BLOCK_EDGES: tuple[type, ...] = (
    GilEnter,
    GilExit,
    AllowEnter,
    AllowExit,
    PythonEnter,
    PythonExit,
)

BLOCKING_INSTRUCTIONS: tuple[type, ...] = (
    Recv,
    Send,
    Acquire,
    Join,
    Await,
    Wait,
    SyncOp,
    OnceBegin,
    Print,
)


# Instructions that are no statement of Python code, or that check a GIL given up by
# `release_gil` themselves: the others, run as Python code after `release_gil` and before
# `acquire_gil`, are a misuse.
NOT_PYTHON_CODE: tuple[type, ...] = (
    AcquireGil,
    GilExit,
    PythonExit,
    PythonEnter,
    Jump,
    EndScope,
    End,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CodeUnit:
    """One thread body, function or hook, lowered to instructions."""

    name: str
    # thread, fn, atexit, finalizer, signal, worker (a pool's worker loop), loop (an event
    # loop's thread), task (a task of an event loop)
    kind: str
    params: tuple[str, ...]
    local_names: tuple[str, ...]
    instrs: tuple[Instr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class VarInfo:
    """A shared variable: its slots are ``base .. base + (size or 1)``."""

    name: str
    base: int
    size: int | None
    init: object
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceInfo:
    """A declared resource: ids ``base .. base + (size or 1)`` within its kind."""

    kind: str
    name: str
    base: int
    size: int | None
    count: int | None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelInfo:
    """A declared channel: kind, capacity (None: unbounded), ids ``base ..``."""

    name: str
    base: int
    size: int | None
    kind: str
    capacity: int | None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadInfo:
    """A declared thread or thread array, and its code unit."""

    name: str
    size: int | None
    code: int
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamInfo:
    """A ``param``: name and half-open range."""

    name: str
    low: int
    high: int
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectation:
    """The ``expect`` line: a verdict and an optional condition."""

    verdict: Verdict
    when: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Program:
    """A checked spec: settings, declarations and code units."""

    path: str
    title: str | None
    expect: Expectation | None
    host: str
    gil: str
    consts: tuple[tuple[str, int], ...]
    params: tuple[ParamInfo, ...]
    vars: tuple[VarInfo, ...]
    resources: tuple[ResourceInfo, ...]
    channels: tuple[ChannelInfo, ...]
    threads: tuple[ThreadInfo, ...]
    codes: tuple[CodeUnit, ...]
    functions: tuple[tuple[str, int], ...]  # function name -> code index
    hooks: tuple[tuple[str, int], ...]  # atexit / finalizer / signal -> code index
    uses: tuple[str, ...] = ()
    gil_span: Span = _span()
    host_span: Span = _span()

    def code_of_function(self, name: str) -> CodeUnit:
        """The code unit of a function by name."""
        return self.codes[dict(self.functions)[name]]
