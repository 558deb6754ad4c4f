"""Top-level declarations: the symbol table of a spec and its `use`d models, constants folded."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gilcheck.diagnostics import DiagnosticSink, Label, did_you_mean
from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.values import EvalError, Value, binary, builtin, unary
from gilcheck.source import Span
from gilcheck.sync import registry
from gilcheck.sync.eventloop import ANY_ORDER, READY_ORDER
from gilcheck.syntax import ast

VERDICT_NAMES = ("ok", "deadlock", "stuck", "livelock", "assertion", "panic", "misuse", "bound")
CHANNEL_KINDS = ("unbounded", "bounded", "rendezvous", "oneshot", "queue")
VALUE_BUILTINS = {"ok": (0, 1), "err": (1, 1), "pyobj": (1, 1), "pyerr": (1, 1)}
TEST_BUILTINS = {
    "is_ok": (1, 1),
    "is_err": (1, 1),
    "is_none": (1, 1),
    "len": (1, 1),
    "is_done": (1, 1),
}
BUILTINS = {**VALUE_BUILTINS, **TEST_BUILTINS}
MAX_ARRAY = 4096


@dataclass(frozen=True, slots=True)
class ConstSym:
    """A `const`, folded."""

    name: str
    value: Value
    span: Span


@dataclass(frozen=True, slots=True)
class ParamSym:
    """A `param`."""

    info: ir.ParamInfo
    index: int


@dataclass(frozen=True, slots=True)
class VarSym:
    """A shared `var`."""

    info: ir.VarInfo


@dataclass(frozen=True, slots=True)
class ResourceSym:
    """A mutex, rlock, condvar, once, event, semaphore, barrier or rwlock."""

    info: ir.ResourceInfo


@dataclass(frozen=True, slots=True)
class ChannelSym:
    """A global channel."""

    info: ir.ChannelInfo


@dataclass(frozen=True, slots=True)
class ThreadSym:
    """A declared thread (or thread array)."""

    decl: ast.ThreadDecl
    index: int
    size: int | None


@dataclass(frozen=True, slots=True)
class FnSym:
    """A function."""

    decl: ast.FnDecl
    index: int


Symbol = ConstSym | ParamSym | VarSym | ResourceSym | ChannelSym | ThreadSym | FnSym


def symbol_kind(sym: Symbol) -> str:
    """A word for a symbol's kind, for messages."""
    match sym:
        case ConstSym():
            return "a constant"
        case ParamSym():
            return "a param"
        case VarSym():
            return "a shared variable"
        case ResourceSym(info=info):
            return a_kind(info.kind)
        case ChannelSym():
            return "a channel"
        case ThreadSym():
            return "a thread"
        case FnSym():
            return "a function"


@dataclass
class Declarations:
    """Everything declared at top level, across the spec and the models it uses."""

    symbols: dict[str, Symbol] = field(default_factory=dict)
    title: str | None = None
    expect: ast.Expect | None = None
    host: str = "rust"
    gil: str = "on"
    host_span: Span | None = None
    gil_span: Span | None = None
    vars: list[ir.VarInfo] = field(default_factory=list)
    resources: list[ir.ResourceInfo] = field(default_factory=list)
    channels: list[ir.ChannelInfo] = field(default_factory=list)
    params: list[ir.ParamInfo] = field(default_factory=list)
    threads: list[ThreadSym] = field(default_factory=list)
    functions: list[FnSym] = field(default_factory=list)
    hooks: list[ast.HookDecl] = field(default_factory=list)
    resource_counts: dict[str, int] = field(default_factory=dict)
    var_slots: int = 0
    channel_slots: int = 0
    poisoned: set[str] = field(default_factory=set)  # declared, but invalid: no follow-up errors


class ConstFolder:
    """Evaluates constant expressions, resolving `const` names lazily (any order)."""

    def __init__(self, decls: dict[str, ast.ConstDecl], sink: DiagnosticSink) -> None:
        self.decls = decls
        self.sink = sink
        self.values: dict[str, Value] = {}
        self.failed: set[str] = set()
        self._active: list[str] = []

    def const(self, name: str) -> Value | None:
        """The value of a `const` by name (None when it is invalid)."""
        if name in self.values:
            return self.values[name]
        if name in self.failed:
            return None
        decl = self.decls[name]
        if name in self._active:
            self.sink.error(
                "bad-constant",
                f"constant `{name}` is defined in terms of itself",
                decl.name.span,
                help="constants are evaluated before the program runs; break the cycle",
            )
            self.failed.add(name)
            return None
        self._active.append(name)
        value = self.fold(decl.value, "a constant")
        self._active.pop()
        if value is None:
            self.failed.add(name)
        else:
            self.values[name] = value
        return value

    def fold(self, expr: ast.Expr, purpose: str) -> Value | None:
        """The value of a constant expression, or None after reporting why it is not one."""
        try:
            return self._fold(expr, purpose)
        except _NotConstant:
            return None
        except EvalError as err:
            self.sink.error(
                "bad-constant",
                f"invalid constant expression: {err}",
                expr.span,
                help="constant expressions are evaluated before the program runs",
            )
            return None

    def fold_int(self, expr: ast.Expr, purpose: str, *, minimum: int = 0) -> int | None:
        """A constant integer of at least `minimum`, or None after reporting."""
        value = self.fold(expr, purpose)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.sink.error(
                "bad-constant",
                f"{purpose} must be an integer",
                expr.span,
                help="use an integer expression such as `3` or `N + 1`",
            )
            return None
        if value < minimum:
            self.sink.error(
                "bad-constant",
                f"{purpose} must be at least {minimum}, not {value}",
                expr.span,
                help=f"write a value of {minimum} or more",
            )
            return None
        return value

    def _fold(self, expr: ast.Expr, purpose: str) -> Value:
        match expr:
            case ast.IntLit(value=v) | ast.BoolLit(value=v) | ast.StrLit(value=v):
                return v
            case ast.NoneLit():
                return None
            case ast.Name(ident=ident):
                if ident.name in self.decls:
                    value = self.const(ident.name)
                    if value is None:
                        raise _NotConstant
                    return value
                self.sink.error(
                    "not-constant",
                    f"`{ident.name}` is not a constant",
                    ident.span,
                    help=f"{purpose} must be computed from integers and `const`s",
                )
                raise _NotConstant
            case ast.Unary(op=op, operand=operand):
                return unary(op, self._fold(operand, purpose))
            case ast.Binary(op=op, left=left, right=right):
                return binary(op, self._fold(left, purpose), self._fold(right, purpose))
            case ast.BuiltinCall(func=func, args=args) if func.name in VALUE_BUILTINS:
                return builtin(func.name, tuple(self._fold(a, purpose) for a in args))
            case _:
                self.sink.error(
                    "not-constant",
                    "this expression is not constant",
                    expr.span,
                    help=f"{purpose} must be computed from integers and `const`s",
                )
                raise _NotConstant


class _NotConstant(Exception):
    pass


def collect(modules: list[ast.Module], sink: DiagnosticSink) -> tuple[Declarations, ConstFolder]:
    """Build the symbol table of a spec (the first module) and its models."""
    decls = Declarations()
    const_decls: dict[str, ast.ConstDecl] = {}
    first_span: dict[str, Span] = {}
    setting_span: dict[str, Span] = {}
    main_module = modules[0].path if modules else ""

    def claim(name: ast.Ident) -> bool:
        if name.name in first_span:
            sink.error(
                "duplicate-definition",
                f"`{name.name}` is defined twice",
                name.span,
                labels=(Label(first_span[name.name], "first defined here"),),
                help="rename one of them",
            )
            return False
        first_span[name.name] = name.span
        return True

    def setting_once(key: str, span: Span) -> bool:
        if key in setting_span:
            sink.error(
                "duplicate-setting",
                f"`{key}` is given twice",
                span,
                labels=(Label(setting_span[key], "first given here"),),
                help=f"keep one `{key}` line",
            )
            return False
        setting_span[key] = span
        return True

    # Models first, then the spec, each in source order: a duplicate is reported at the second
    # definition, and a clash with a model in the user's own file.
    ordered = [*modules[1:], *modules[:1]]
    items = [(m.path, item) for m in ordered for item in m.items]
    winners: set[int] = set()
    for _path, item in items:
        name = _declared_name(item)
        if name is not None and claim(name):
            winners.add(id(item))
    for path, item in items:
        in_main = path == main_module
        match item:
            case ast.ConstDecl(name=name) if id(item) in winners:
                const_decls[name.name] = item
            case ast.Scenario(title=title) if in_main and setting_once("scenario", item.span):
                decls.title = title
            case ast.Expect() if in_main and setting_once("expect", item.span):
                decls.expect = item
            case ast.Setting(key=key) if in_main and setting_once(key, item.span):
                if key == "host":
                    decls.host, decls.host_span = item.value.name, item.value.span
                else:
                    decls.gil, decls.gil_span = item.value.name, item.value.span
            case ast.HookDecl():
                # Several are fine: Python registers many atexit handlers, many objects
                # have finalizers, and a program may handle several signals.
                decls.hooks.append(item)
            case _:
                pass
    folder = ConstFolder(const_decls, sink)
    for const_name in const_decls:
        folder.const(const_name)
    for _path, item in items:
        won = id(item) in winners
        _declare(item, decls, folder, sink, (lambda _name: True) if won else (lambda _name: False))
    _check_settings(decls, sink)
    for const_name, value in folder.values.items():
        decls.symbols[const_name] = ConstSym(const_name, value, const_decls[const_name].name.span)
    return decls, folder


def _declared_name(item: ast.Item) -> ast.Ident | None:
    match item:
        case (
            ast.ConstDecl(name=name)
            | ast.VarDecl(name=name)
            | ast.ResourceDecl(name=name)
            | ast.ChannelDecl(name=name)
            | ast.ParamDecl(name=name)
            | ast.ThreadDecl(name=name)
            | ast.FnDecl(name=name)
        ):
            return name
    return None


def _size(expr: ast.Expr | None, folder: ConstFolder) -> tuple[bool, int | None]:
    if expr is None:
        return True, None
    size = folder.fold_int(expr, "an array size", minimum=1)
    if size is not None and size > MAX_ARRAY:
        folder.sink.error(
            "bad-constant", f"array size {size} is larger than {MAX_ARRAY}", expr.span
        )
        return False, None
    return size is not None, size


def _declare(
    item: ast.Item,
    decls: Declarations,
    folder: ConstFolder,
    sink: DiagnosticSink,
    claim_fn: Callable[[ast.Ident], bool],
) -> None:
    match item:
        case ast.VarDecl(name=name, size=size_expr, init=init):
            ok, size = _size(size_expr, folder)
            if isinstance(init, ast.BuiltinCall) and init.func.name in registry.CONSTRUCTIBLE:
                what = init.func.name
                sink.error(
                    "not-constant",
                    f"a shared variable's initial value cannot make a {what}",
                    init.span,
                    help=f"declare `var {name.name} = none` and assign it in a thread: "
                    f"`{name.name} = {what}(..)`",
                )
                value: Value = None
            else:
                value = folder.fold(init, "a shared variable's initial value")
            if not ok:
                decls.poisoned.add(name.name)
            if claim_fn(name) and ok:
                info = ir.VarInfo(
                    name=name.name, base=decls.var_slots, size=size, init=value, span=item.span
                )
                decls.var_slots += size or 1
                decls.vars.append(info)
                decls.symbols[name.name] = VarSym(info)
        case ast.ResourceDecl(kind=kind, name=name, size=size_expr):
            ok, size = _size(size_expr, folder)
            count = _resource_count(item, folder, sink)
            if not ok:
                decls.poisoned.add(name.name)
            if claim_fn(name) and ok:
                base = decls.resource_counts.get(kind, 0)
                res_info = ir.ResourceInfo(
                    kind=kind, name=name.name, base=base, size=size, count=count, span=item.span
                )
                decls.resource_counts[kind] = base + (size or 1)
                decls.resources.append(res_info)
                decls.symbols[name.name] = ResourceSym(res_info)
        case ast.ChannelDecl(name=name, size=size_expr, kind=kind):
            ok, size = _size(size_expr, folder)
            resolved = channel_kind(kind.name, kind.arg, folder, sink, global_decl=True)
            if not ok or resolved is None:
                decls.poisoned.add(name.name)
            if claim_fn(name) and ok and resolved is not None:
                ckind, capacity = resolved
                chan_info = ir.ChannelInfo(
                    name=name.name,
                    base=decls.channel_slots,
                    size=size,
                    kind=ckind,
                    capacity=capacity,
                    span=item.span,
                )
                decls.channel_slots += size or 1
                decls.channels.append(chan_info)
                decls.symbols[name.name] = ChannelSym(chan_info)
        case ast.ParamDecl(name=name, type=type_, low=low, high=high):
            if type_.name != "int":
                guess = "int"
                sink.error(
                    "unknown-setting",
                    f"unknown param type `{type_.name}`",
                    type_.span,
                    help=f"params are integers: write `{name.name}: {guess} in LO..HI`",
                )
            lo = folder.fold_int(low, "a range bound", minimum=-(2**63))
            hi = folder.fold_int(high, "a range bound", minimum=-(2**63))
            if lo is not None and hi is not None and lo >= hi:
                sink.error(
                    "bad-constant",
                    f"the range {lo}..{hi} is empty",
                    low.span.cover(high.span),
                    help="ranges are half-open: `1..4` is 1, 2 or 3",
                )
            if lo is None or hi is None:
                decls.poisoned.add(name.name)
            if claim_fn(name) and lo is not None and hi is not None:
                param_info = ir.ParamInfo(name=name.name, low=lo, high=hi, span=item.span)
                decls.symbols[name.name] = ParamSym(param_info, len(decls.params))
                decls.params.append(param_info)
        case ast.ThreadDecl(name=name, size=size_expr):
            ok, size = _size(size_expr, folder)
            if not ok:
                decls.poisoned.add(name.name)
            if claim_fn(name) and ok:
                sym = ThreadSym(item, len(decls.threads), size)
                decls.threads.append(sym)
                decls.symbols[name.name] = sym
        case ast.FnDecl(name=name, params=params):
            seen: set[str] = set()
            for p in params:
                if p.name in seen:
                    sink.error(
                        "duplicate-definition",
                        f"parameter `{p.name}` is listed twice",
                        p.span,
                        help="give each parameter its own name",
                    )
                seen.add(p.name)
            if claim_fn(name):
                fsym = FnSym(item, len(decls.functions))
                decls.functions.append(fsym)
                decls.symbols[name.name] = fsym
        case _:
            pass


def _resource_count(
    item: ast.ResourceDecl, folder: ConstFolder, sink: DiagnosticSink
) -> int | None:
    if item.kind == "eventloop":  # no count: its count says in which order tasks run
        return ANY_ORDER if item.any_order else READY_ORDER
    minimum = registry.primitive(item.kind).count_minimum
    needs_count = minimum is not None
    if item.count is None:
        if needs_count:
            sink.error(
                "bad-constant",
                f"a {item.kind} needs a count",
                item.span,
                help=f"write `{item.kind} {item.name.name} = 2`",
            )
        return None
    if not needs_count:
        sink.error(
            "bad-constant",
            f"{a_kind(item.kind)} takes no initial value",
            item.count.span,
            help=f"write `{item.kind} {item.name.name}`",
        )
        return None
    return folder.fold_int(item.count, f"a {item.kind} count", minimum=minimum or 0)


def channel_kind(
    name: ast.Ident,
    arg: ast.Expr | None,
    folder: ConstFolder,
    sink: DiagnosticSink,
    *,
    global_decl: bool,
) -> tuple[str, int | None] | None:
    """(kind, capacity) of a channel kind as written; None after reporting an error."""
    kind = name.name
    if kind not in CHANNEL_KINDS:
        guess = did_you_mean(kind, CHANNEL_KINDS)
        sink.error(
            "unknown-channel-kind",
            f"unknown channel kind `{kind}`",
            name.span,
            help=f"did you mean `{guess}`?"
            if guess
            else "channel kinds: unbounded, bounded(N), rendezvous, oneshot, queue(N)",
        )
        return None
    takes_arg = kind in ("bounded", "queue")
    if arg is None:
        if kind == "bounded":
            sink.error(
                "unknown-channel-kind",
                "`bounded` needs a capacity",
                name.span,
                help="write `bounded(2)`",
            )
            return None
        return ("queue", None) if kind == "queue" else (kind, None)
    if not takes_arg:
        sink.error(
            "unknown-channel-kind",
            f"`{kind}` takes no capacity",
            arg.span,
            help=f"write `{kind}`" if global_decl else f"write `channel({kind})`",
        )
        return None
    capacity = folder.fold_int(arg, "a channel capacity", minimum=0)
    if capacity is None:
        return None
    if kind == "queue":
        return ("queue", capacity or None)
    if capacity == 0:
        return ("rendezvous", None)
    return ("bounded", capacity)


def _check_settings(decls: Declarations, sink: DiagnosticSink) -> None:
    if decls.host not in ("rust", "python") and decls.host_span is not None:
        guess = did_you_mean(decls.host, ("rust", "python"))
        sink.error(
            "unknown-setting",
            f"unknown host `{decls.host}`",
            decls.host_span,
            help=f"did you mean `{guess}`?" if guess else "write `host rust` or `host python`",
        )
    if decls.gil not in ("on", "off") and decls.gil_span is not None:
        sink.error(
            "unknown-setting",
            f"unknown GIL mode `{decls.gil}`",
            decls.gil_span,
            help="write `gil on` or `gil off`",
        )
    if decls.expect is not None:
        verdict = decls.expect.verdict
        if verdict.name not in VERDICT_NAMES:
            guess = did_you_mean(verdict.name, VERDICT_NAMES)
            sink.error(
                "unknown-verdict",
                f"unknown verdict `{verdict.name}`",
                verdict.span,
                help=f"did you mean `{guess}`?"
                if guess
                else "verdicts: " + ", ".join(VERDICT_NAMES),
            )
