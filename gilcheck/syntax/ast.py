"""The syntax tree of a spec. Every node carries a span; spans do not take part in equality."""

from __future__ import annotations

from dataclasses import dataclass, field

from gilcheck.source import NO_SPAN, Span
from gilcheck.syntax.annotations import NO_ANNOTATIONS, Annotations
from gilcheck.syntax.keywords import RESOURCE_KINDS as RESOURCE_KINDS


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Ident:
    """A name as written, with its span."""

    name: str
    span: Span = _span()


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True, kw_only=True)
class IntLit:
    """An integer literal (``1_000_000``)."""

    value: int
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class BoolLit:
    """``true`` or ``false``."""

    value: bool
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class NoneLit:
    """``none``."""

    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class StrLit:
    """A string literal, unescaped."""

    value: str
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class SelfExpr:
    """``self``: the thread's index in its array."""

    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Name:
    """A reference to a local, const, param, shared var or resource."""

    ident: Ident
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Index:
    """``base[index]``."""

    base: Ident
    index: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unary:
    """``-e`` or ``not e``."""

    op: str
    operand: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Binary:
    """An arithmetic, comparison or boolean operation."""

    op: str
    left: Expr
    right: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltinCall:
    """``ok(e)``, ``err(e)``, ``pyobj("t")``, ``pyerr("m")``, ``is_ok(e)``, ``len(c)``, ..."""

    func: Ident
    args: tuple[Expr, ...]
    span: Span = _span()


Expr = IntLit | BoolLit | NoneLit | StrLit | SelfExpr | Name | Index | Unary | Binary | BuiltinCall


@dataclass(frozen=True, slots=True, kw_only=True)
class Ref:
    """A named object, optionally indexed: ``m``, ``m[self]``, ``c[(self + 1) % N]``."""

    name: Ident
    index: Expr | None = None
    span: Span = _span()


# ------------------------------------------------- value-yielding operations


@dataclass(frozen=True, slots=True, kw_only=True)
class Recv:
    """``recv rx``."""

    channel: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class TryRecv:
    """``try_recv rx``."""

    channel: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Send:
    """``send tx, e`` (its value is ``ok(none)`` or ``err(e)``)."""

    channel: Ref
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Clone:
    """``clone tx``."""

    source: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Unwrap:
    """``unwrap e``."""

    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Call:
    """``call f(a, b)``."""

    func: Ident
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Spawn:
    """``spawn f(a)``, ``spawn daemon f(a)`` or ``spawn [daemon] process f(a)``; its value is
    a join handle."""

    func: Ident
    args: tuple[Expr, ...]
    daemon: bool = False
    process: bool = False  # a child process
    process_span: Span = _span()  # where `process` is written
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Submit:
    """``submit p, g(a)``: queue a call of ``g`` on a pool; its value is a future."""

    executor: Ref
    func: Ident
    args: tuple[Expr, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class AnyValue:
    """``any(lo..hi)``: a nondeterministic integer in the half-open range."""

    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class MakeChannel:
    """A new channel: ``channel(unbounded)``, ``channel(N)``, ``oneshot()``, ``queue(N)``.

    ``maker`` is ``channel``, ``oneshot`` or ``queue``.
    """

    maker: str
    arg: Expr | None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncOp:
    """``verb r`` / ``verb r, e``: a statement of an object's primitive (``countdown l``,
    ``complete f, v``, ``result f``); it may yield a value (``let v = result f``)."""

    verb: str
    target: Ref
    operand: Expr | None = None
    timed: bool = False  # `result f timeout`
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Timed:
    """``acquire m timeout``, ``wait e timeout``, ``wait cv, m timeout``, ``join h timeout``,
    ``recv rx timeout``: the form, waiting at most until a timeout; yields true/false
    (``recv``: ok(v) or err("timeout"))."""

    form: Acquire | Wait | Join | Recv
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class TryAcquire:
    """``try_acquire m``: never blocks; yields whether it took the lock."""

    target: Ref
    span: Span = _span()


Operation = (
    Recv
    | TryRecv
    | Send
    | Clone
    | Unwrap
    | Call
    | Spawn
    | Submit
    | AnyValue
    | MakeChannel
    | Timed
    | TryAcquire
    | SyncOp
)
Rhs = Expr | Operation


# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """``{ statements }``."""

    body: tuple[Stmt, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Let:
    """``let x = rhs`` or ``let (tx, rx) = channel(..)``."""

    names: tuple[Ident, ...]
    value: Rhs
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Assign:
    """``x = rhs`` or ``x[i] = rhs``."""

    target: Ref
    value: Rhs
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class OpStmt:
    """A value-yielding operation used as a statement (``send tx, e``, ``call f()``)."""

    op: Operation
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Drop:
    """``drop x``."""

    target: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Close:
    """``close c``."""

    channel: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class WithGil:
    """``with_gil { }``."""

    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class AllowThreads:
    """``allow_threads { }``."""

    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Python:
    """``python { }``."""

    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Acquire:
    """``acquire m``, ``acquire_read l``, ``acquire_write l`` (mode ``""``, ``read``, ``write``)."""

    target: Ref
    mode: str = ""
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """``release m``."""

    target: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """``lock m { }``, ``read l { }``, ``write l { }`` (mode ``""``, ``read``, ``write``)."""

    target: Ref
    body: Block
    mode: str = ""
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Wait:
    """``wait cv, m`` (condvar), ``wait e`` (event) or ``wait b`` (barrier)."""

    target: Ref
    mutex: Ref | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Notify:
    """``notify cv`` / ``notify_all cv``."""

    target: Ref
    all: bool = False
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class CallOnce:
    """``call_once o { }``."""

    target: Ref
    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class SetEvent:
    """``set e``."""

    target: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClearEvent:
    """``clear e``."""

    target: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Join:
    """``join h``."""

    handle: Ref
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Return:
    """``return`` or ``return e``."""

    value: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class If:
    """``if c { } else { }`` (``else if`` nests an If)."""

    cond: Expr
    then: Block
    orelse: Block | If | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class While:
    """``while c { }``."""

    cond: Expr
    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Loop:
    """``loop { }``."""

    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class For:
    """``for v in rx { }``."""

    var: Ident
    channel: Ref
    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Break:
    """``break``."""

    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Continue:
    """``continue``."""

    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Choose:
    """``choose { } or { } ...``."""

    branches: tuple[Block, ...]
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Await:
    """``await c``."""

    cond: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Assert:
    """``assert c, "why"``."""

    cond: Expr
    message: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Panic:
    """``panic "why"``."""

    message: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Print:
    """``print e``."""

    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Atomic:
    """``atomic { }``."""

    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Progress:
    """``progress``."""

    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Skip:
    """``skip``."""

    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Fork:
    """``fork { }``."""

    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Suspend:
    """``suspend { }``: an ``await`` inside an event loop's task."""

    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class AcquireGil:
    """``acquire_gil`` (C ``PyEval_RestoreThread``/``PyEval_AcquireThread``; v1.2)."""

    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseGil:
    """``release_gil`` (C ``PyEval_SaveThread``; v1.2)."""

    span: Span = _span()


Stmt = (
    Let
    | Assign
    | OpStmt
    | Drop
    | Close
    | WithGil
    | AllowThreads
    | Python
    | Acquire
    | Release
    | Lock
    | Wait
    | Notify
    | CallOnce
    | SetEvent
    | ClearEvent
    | Join
    | Return
    | If
    | While
    | Loop
    | For
    | Break
    | Continue
    | Choose
    | Await
    | Assert
    | Panic
    | Print
    | Atomic
    | Progress
    | Skip
    | Fork
    | Suspend
    | AcquireGil
    | ReleaseGil
)


# ------------------------------------------------------------ top-level items


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """``scenario "title"``."""

    title: str
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Expect:
    """``expect deadlock`` or ``expect deadlock when n == 7``."""

    verdict: Ident
    when: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting:
    """``host rust|python`` or ``gil on|off`` (key ``host`` or ``gil``)."""

    key: str
    value: Ident
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class Use:
    """``use "pyo3"``."""

    path: str
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ConstDecl:
    """``const N = 3``."""

    name: Ident
    value: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamDecl:
    """``param n: int in lo..hi``."""

    name: Ident
    type: Ident
    low: Expr
    high: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class VarDecl:
    """``var x = 0`` or ``var x[N] = 0``."""

    name: Ident
    size: Expr | None
    init: Expr
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceDecl:
    """``mutex m``, ``rlock l[N]``, ``semaphore s = 2``, ``barrier b = 3``, ``rwlock l``,
    ``eventloop lp: any_order``, ..."""

    kind: str
    name: Ident
    size: Expr | None = None
    count: Expr | None = None
    any_order: bool = False  # `eventloop lp: any_order`
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelKind:
    """``unbounded``, ``bounded(N)``, ``rendezvous``, ``oneshot``, ``queue(N)`` (as written)."""

    name: Ident
    arg: Expr | None = None
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDecl:
    """``channel c: bounded(2)`` or ``channel c[N]: unbounded``."""

    name: Ident
    size: Expr | None
    kind: ChannelKind
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadDecl:
    """``thread main { }`` or ``thread worker[3] { }``."""

    name: Ident
    size: Expr | None
    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class FnDecl:
    """``fn f(a, b) { }``."""

    name: Ident
    params: tuple[Ident, ...]
    body: Block
    span: Span = _span()


@dataclass(frozen=True, slots=True, kw_only=True)
class HookDecl:
    """``atexit { }``, ``finalizer { }`` or ``signal { }`` (kind names which)."""

    kind: str
    body: Block
    span: Span = _span()


Item = (
    Scenario
    | Expect
    | Setting
    | Use
    | ConstDecl
    | ParamDecl
    | VarDecl
    | ResourceDecl
    | ChannelDecl
    | ThreadDecl
    | FnDecl
    | HookDecl
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Module:
    """One parsed file."""

    path: str
    items: tuple[Item, ...]
    span: Span = _span()
    # The file's `#@` annotations: origins of drafted statements, assumptions.
    annotations: Annotations = field(default=NO_ANNOTATIONS, compare=False, repr=False)
