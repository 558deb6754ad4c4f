"""Bodies to flat IR: scopes, name resolution, static checks and jump targets, in one walk."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

from gilcheck.diagnostics import DiagnosticSink, Label, did_you_mean
from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.resolve import (
    BUILTINS,
    ChannelSym,
    ConstFolder,
    ConstSym,
    Declarations,
    FnSym,
    ParamSym,
    ResourceSym,
    ThreadSym,
    VarSym,
    channel_kind,
    symbol_kind,
)
from gilcheck.semantics.values import EvalError, binary, unary
from gilcheck.source import Span
from gilcheck.syntax import ast, unparse

# Static kinds of locals, as far as the text shows them.
SENDER, RECEIVER, THREAD, VALUE, UNKNOWN = "sender", "receiver", "thread", "value", "unknown"


@dataclass
class LocalInfo:
    """A local binding: its slot, its static kind and where it was declared."""

    slot: int
    kind: str
    span: Span


@dataclass
class _Scope:
    names: dict[str, LocalInfo] = field(default_factory=dict)
    slots: list[int] = field(default_factory=list)


@dataclass
class _Loop:
    continue_target: int
    break_jumps: list[int] = field(default_factory=list)


@dataclass
class _Exit:
    """A block whose exit runs an instruction (lock release, GIL exit, ...)."""

    make: Callable[[], ir.Instr]


_Frame = _Scope | _Loop | _Exit


class BodyLowerer:
    """Lowers one code unit (thread body, function or hook)."""

    def __init__(
        self,
        decls: Declarations,
        folder: ConstFolder,
        sink: DiagnosticSink,
        *,
        name: str,
        kind: str,
        params: tuple[ast.Ident, ...] = (),
    ) -> None:
        self.decls = decls
        self.folder = folder
        self.sink = sink
        self.name = name
        self.kind = kind
        self.params = params
        self.code: list[ir.Instr] = []
        self.frames: list[_Frame] = []
        self.contexts: list[ir.Context] = [
            ir.Context.PYTHON if kind in ("finalizer", "signal") else ir.Context.INHERIT
        ]
        self.local_names: list[str] = []
        self.atomic_depth = 0
        self.atomic_frame_index = 0
        self.atomic_calls: list[tuple[int, Span]] = []

    # ------------------------------------------------------------ emission

    @property
    def context(self) -> ir.Context:
        return self.contexts[-1]

    def emit(self, instr: ir.Instr) -> int:
        if instr.context is not self.context:
            instr = dataclasses.replace(instr, context=self.context)
        self.code.append(instr)
        return len(self.code) - 1

    def patch(self, index: int, **changes: object) -> None:
        self.code[index] = dataclasses.replace(self.code[index], **changes)  # type: ignore[arg-type]

    def here(self) -> int:
        return len(self.code)

    # ------------------------------------------------------------ entry

    def lower_unit(self, body: ast.Block, span: Span) -> ir.CodeUnit:
        params = _Scope()
        self.frames.append(params)
        for p in self.params:
            if p.name not in params.names:  # a repeated parameter is reported by resolve
                self.declare(p, UNKNOWN)
        top = _Scope()
        self.frames.append(top)
        if self.kind == "atexit" and self.decls.host == "python":
            # Python's atexit handlers: Python code, run by `main` taking the GIL.
            self.emit(ir.PythonEnter(span=_head_span(span, "atexit")))
            self.contexts.append(ir.Context.PYTHON)
            self.block_body(body)
            self.emit(ir.PythonExit(span=_end_span(body.span)))
            self.contexts.pop()
        else:
            self.block_body(body)
        self.frames.pop()
        self.frames.pop()
        self.emit(ir.End(span=_end_span(body.span)))
        return ir.CodeUnit(
            name=self.name,
            kind=self.kind,
            params=tuple(p.name for p in self.params),
            local_names=tuple(self.local_names),
            instrs=tuple(self.code),
            span=span,
        )

    # ------------------------------------------------------------ scopes

    def declare(self, ident: ast.Ident, kind: str) -> LocalInfo:
        scope = next(f for f in reversed(self.frames) if isinstance(f, _Scope))
        previous = scope.names.get(ident.name)
        if previous is not None:
            self.sink.error(
                "duplicate-local",
                f"`{ident.name}` is already declared in this block",
                ident.span,
                labels=(Label(previous.span, "declared here"),),
                help=f"assign it with `{ident.name} = ...`, or declare it in an inner block",
            )
        slot = len(self.local_names)
        self.local_names.append(ident.name)
        info = LocalInfo(slot, kind, ident.span)
        scope.names[ident.name] = info
        scope.slots.append(slot)
        return info

    def lookup_local(self, name: str) -> LocalInfo | None:
        for frame in reversed(self.frames):
            if isinstance(frame, _Scope) and name in frame.names:
                return frame.names[name]
        return None

    def visible_names(self, values_only: bool = False) -> list[str]:
        names = [n for f in self.frames if isinstance(f, _Scope) for n in f.names]
        symbols = [
            name
            for name, sym in self.decls.symbols.items()
            if not values_only or isinstance(sym, ConstSym | ParamSym | VarSym)
        ]
        return names + symbols

    def block(self, block: ast.Block) -> None:
        scope = _Scope()
        self.frames.append(scope)
        self.block_body(block)
        self.frames.pop()
        if scope.slots:
            self.emit(ir.EndScope(slots=tuple(scope.slots), span=_end_span(block.span)))

    def block_body(self, block: ast.Block) -> None:
        for stmt in block.body:
            self.stmt(stmt)

    def unwind(self, until: type, span: Span) -> _Frame | None:
        """Emit the exits of every frame above the innermost `until` frame; return that frame."""
        for frame in reversed(self.frames):
            if isinstance(frame, until):
                return frame
            if isinstance(frame, _Scope) and frame.slots and until is _Loop:
                self.emit(ir.EndScope(slots=tuple(frame.slots), span=span))
            elif isinstance(frame, _Exit):
                self.emit(dataclasses.replace(frame.make(), span=span))
        return None

    # ------------------------------------------------------------ errors

    def undefined(self, ident: ast.Ident, values_only: bool = False) -> None:
        if ident.name in self.decls.poisoned or ident.name in self.folder.failed:
            return  # its declaration already has an error
        guess = did_you_mean(ident.name, self.visible_names(values_only))
        self.sink.error(
            "undefined-name",
            f"`{ident.name}` is not defined",
            ident.span,
            help=f"did you mean `{guess}`?" if guess else "declare it with `let`, `var` or `const`",
        )

    def wrong_kind(self, span: Span, message: str, help: str) -> None:
        self.sink.error("wrong-kind", message, span, help=help)

    # ------------------------------------------------------------ expressions

    def expr(self, e: ast.Expr) -> ir.Expr:
        match e:
            case ast.IntLit(value=v) | ast.BoolLit(value=v) | ast.StrLit(value=v):
                return ir.Const(value=v)
            case ast.NoneLit():
                return ir.Const(value=None)
            case ast.SelfExpr():
                return ir.SelfIndex()
            case ast.Name(ident=ident):
                return self.name_expr(ident)
            case ast.Index(base=base, index=index):
                return self.index_expr(base, index)
            case ast.Unary(op=op, operand=operand):
                return _folded(ir.UnaryOp(op=op, operand=self.expr(operand)))
            case ast.Binary(op=op, left=left, right=right):
                return _folded(ir.BinaryOp(op=op, left=self.expr(left), right=self.expr(right)))
            case ast.BuiltinCall():
                return self.builtin_expr(e)

    def name_expr(self, ident: ast.Ident) -> ir.Expr:
        local = self.lookup_local(ident.name)
        if local is not None:
            return ir.Local(slot=local.slot, name=ident.name)
        sym = self.decls.symbols.get(ident.name)
        match sym:
            case None:
                if ident.name not in self.folder.failed:
                    self.undefined(ident, values_only=True)
                return ir.Const(value=None)
            case ConstSym(value=value):
                return ir.Const(value=value)
            case ParamSym(index=index):
                return ir.ParamRef(index=index, name=ident.name)
            case VarSym(info=info):
                if info.size is not None:
                    self.sink.error(
                        "missing-index",
                        f"`{ident.name}` is an array of {info.size}",
                        ident.span,
                        help=f"use one element, such as `{ident.name}[0]`",
                    )
                return ir.GlobalVar(base=info.base, size=info.size, name=ident.name)
            case _:
                self.wrong_kind(
                    ident.span,
                    f"`{ident.name}` is {symbol_kind(sym)}, not a value",
                    "only locals, params, constants and shared variables have values",
                )
                return ir.Const(value=None)

    def index_expr(self, base: ast.Ident, index: ast.Expr) -> ir.Expr:
        idx = self.expr(index)
        if self.lookup_local(base.name) is not None:
            self.sink.error(
                "not-an-array",
                f"`{base.name}` is a local, not an array",
                base.span,
                help="only shared `var` arrays can be indexed in expressions",
            )
            return ir.Const(value=None)
        sym = self.decls.symbols.get(base.name)
        match sym:
            case None:
                self.undefined(base)
            case VarSym(info=info) if info.size is not None:
                return ir.GlobalVar(base=info.base, size=info.size, name=base.name, index=idx)
            case VarSym():
                self.sink.error(
                    "not-an-array",
                    f"`{base.name}` is not an array",
                    base.span,
                    help=f"declare it as an array: `var {base.name}[N] = 0`",
                )
            case _:
                self.wrong_kind(
                    base.span,
                    f"`{base.name}` is {symbol_kind(sym)}, not a value",
                    "only shared `var` arrays can be indexed in expressions",
                )
        return ir.Const(value=None)

    def builtin_expr(self, call: ast.BuiltinCall) -> ir.Expr:
        name = call.func.name
        if name not in BUILTINS:
            sym = self.decls.symbols.get(name)
            if isinstance(sym, FnSym):
                help = f"functions run as statements: `let v = call {name}(..)`"
            elif name in ("channel", "oneshot", "queue", "any", "recv", "send"):
                help = f"`{name}` is a statement: bind it first with `let`"
            else:
                guess = did_you_mean(name, list(BUILTINS))
                help = (
                    f"did you mean `{guess}`?"
                    if guess
                    else ("builtins: " + ", ".join(sorted(BUILTINS)))
                )
            self.sink.error(
                "undefined-function",
                f"`{name}` is not a builtin function",
                call.func.span,
                help=help,
            )
            return ir.Const(value=None)
        low, high = BUILTINS[name]
        if not low <= len(call.args) <= high:
            self.sink.error(
                "wrong-arity",
                f"`{name}` takes {low if low == high else f'{low} or {high}'} "
                f"argument{'s' if high != 1 else ''}, not {len(call.args)}",
                call.span,
                help=f"write `{name}(value)`",
            )
            return ir.Const(value=None)
        if name == "len":
            arg = call.args[0]
            ref = _expr_as_ref(arg)
            if ref is None:
                self.wrong_kind(arg.span, "`len` needs a channel", "write `len(c)` or `len(rx)`")
                return ir.Const(value=0)
            chan = self.channel(ref, "len", allow={RECEIVER, SENDER})
            return ir.Builtin(name="len", args=(chan,) if chan is not None else ())
        return ir.Builtin(name=name, args=tuple(self.expr(a) for a in call.args))

    # ------------------------------------------------------------ references

    def resource(self, ref: ast.Ref, kinds: tuple[str, ...], op: str) -> ir.ResourceRef | None:
        """A declared resource of one of `kinds`, or None after reporting."""
        ident = ref.name
        local = self.lookup_local(ident.name)
        sym = self.decls.symbols.get(ident.name)
        wanted = _one_of(kinds)
        if local is not None:
            self.wrong_kind(
                ident.span,
                f"`{op}` needs {wanted}, and `{ident.name}` is a local",
                "resources are declared at top level, such as `mutex m`",
            )
            return None
        if sym is None:
            self.undefined(ident)
            return None
        if not isinstance(sym, ResourceSym) or sym.info.kind not in kinds:
            self.wrong_kind(
                ident.span,
                f"`{op}` needs {wanted}, and `{ident.name}` is {symbol_kind(sym)}",
                _kind_help(op, sym),
            )
            return None
        index = self.element(ident, ref.index, sym.info.size)
        return ir.ResourceRef(
            kind=sym.info.kind,
            base=sym.info.base,
            size=sym.info.size,
            name=ident.name,
            index=index,
        )

    def element(self, ident: ast.Ident, index: ast.Expr | None, size: int | None) -> ir.Expr | None:
        if index is None:
            if size is not None:
                self.sink.error(
                    "missing-index",
                    f"`{ident.name}` is an array of {size}",
                    ident.span,
                    help=f"use one element, such as `{ident.name}[self]`",
                )
            return None
        if size is None:
            self.sink.error(
                "not-an-array",
                f"`{ident.name}` is not an array",
                index.span,
                help=f"remove the index: `{ident.name}`",
            )
            return None
        return self.expr(index)

    def channel(self, ref: ast.Ref, op: str, allow: set[str]) -> ir.ChannelRef | None:
        """A global channel or a handle local of an allowed static kind."""
        ident = ref.name
        local = self.lookup_local(ident.name)
        if local is not None:
            if ref.index is not None:
                self.sink.error(
                    "not-an-array",
                    f"`{ident.name}` is a local, not an array",
                    ref.index.span,
                    help=f"remove the index: `{ident.name}`",
                )
            if local.kind != UNKNOWN and local.kind not in allow:
                self.wrong_kind(
                    ident.span,
                    f"`{op}` needs {_one_of(tuple(sorted(allow)))}, "
                    f"and `{ident.name}` is {a_kind(local.kind)}",
                    _handle_help(op, local.kind),
                )
                return None
            return ir.HandleRef(slot=local.slot, name=ident.name, kind=local.kind)
        sym = self.decls.symbols.get(ident.name)
        if sym is None:
            self.undefined(ident)
            return None
        if not isinstance(sym, ChannelSym):
            self.wrong_kind(
                ident.span,
                f"`{op}` needs a channel, and `{ident.name}` is {symbol_kind(sym)}",
                "declare `channel c: unbounded` or make one with `let (tx, rx) = channel(..)`",
            )
            return None
        index = self.element(ident, ref.index, sym.info.size)
        return ir.GlobalChannel(
            base=sym.info.base, size=sym.info.size, name=ident.name, index=index
        )

    def target(self, ref: ast.Ref) -> ir.Target | None:
        ident = ref.name
        local = self.lookup_local(ident.name)
        if local is not None:
            if ref.index is not None:
                self.sink.error(
                    "not-an-array",
                    f"`{ident.name}` is a local, not an array",
                    ref.index.span,
                    help="only shared `var` arrays have elements",
                )
                return None
            return ir.LocalTarget(slot=local.slot, name=ident.name)
        sym = self.decls.symbols.get(ident.name)
        if sym is None:
            self.undefined(ident)
            return None
        if not isinstance(sym, VarSym):
            self.sink.error(
                "invalid-assignment",
                f"cannot assign to `{ident.name}`: it is {symbol_kind(sym)}",
                ident.span,
                help=f"declare a local with `let {ident.name} = ...` or a shared `var`",
            )
            return None
        index = self.element(ident, ref.index, sym.info.size)
        return ir.GlobalTarget(base=sym.info.base, size=sym.info.size, name=ident.name, index=index)

    def function(self, ident: ast.Ident, args: tuple[ast.Expr, ...], span: Span) -> int | None:
        sym = self.decls.symbols.get(ident.name)
        if not isinstance(sym, FnSym):
            if sym is None:
                guess = did_you_mean(ident.name, [f.decl.name.name for f in self.decls.functions])
                self.sink.error(
                    "undefined-function",
                    f"no function named `{ident.name}`",
                    ident.span,
                    help=f"did you mean `{guess}`?" if guess else "declare it with `fn`",
                )
            else:
                self.wrong_kind(
                    ident.span,
                    f"`{ident.name}` is {symbol_kind(sym)}, not a function",
                    "`call` and `spawn` run functions declared with `fn`",
                )
            return None
        wanted = len(sym.decl.params)
        if len(args) != wanted:
            self.sink.error(
                "wrong-arity",
                f"`{ident.name}` takes {wanted} argument{'s' if wanted != 1 else ''}, "
                f"but {len(args)} {'were' if len(args) != 1 else 'was'} given",
                span,
                labels=(Label(sym.decl.name.span, "defined here"),),
                help=f"`fn {ident.name}({', '.join(p.name for p in sym.decl.params)})`",
            )
            return None
        return sym.index

    # ------------------------------------------------------------ operations

    def operation(self, op: ast.Operation, target: ir.Target | None, span: Span) -> str:
        """Lower a value-yielding operation; return the static kind of its value."""
        match op:
            case ast.Recv(channel=ref):
                self.check_blocking(span, "recv")
                chan = self.channel(ref, "recv", {RECEIVER})
                if chan is not None:
                    self.emit(ir.Recv(channel=chan, target=target, span=span))
                return UNKNOWN
            case ast.TryRecv(channel=ref):
                chan = self.channel(ref, "try_recv", {RECEIVER})
                if chan is not None:
                    self.emit(ir.TryRecv(channel=chan, target=target, span=span))
                return UNKNOWN
            case ast.Send(channel=ref, value=value):
                self.check_blocking(span, "send")
                chan = self.channel(ref, "send", {SENDER})
                val = self.expr(value)
                if chan is not None:
                    self.emit(ir.Send(channel=chan, value=val, target=target, span=span))
                return VALUE
            case ast.Clone(source=ref):
                return self.clone(ref, target, span)
            case ast.Unwrap(value=value):
                self.emit(ir.Unwrap(value=self.expr(value), target=target, span=span))
                return UNKNOWN
            case ast.Call(func=func, args=args):
                values = tuple(self.expr(a) for a in args)
                index = self.function(func, args, span)
                if index is not None:
                    at = self.emit(ir.CallFn(function=index, args=values, target=target, span=span))
                    if self.atomic_depth:
                        self.atomic_calls.append((index, span))
                    del at
                return UNKNOWN
            case ast.Spawn(func=func, args=args, daemon=daemon):
                values = tuple(self.expr(a) for a in args)
                index = self.function(func, args, span)
                if index is not None:
                    self.emit(
                        ir.SpawnFn(
                            function=index, args=values, daemon=daemon, target=target, span=span
                        )
                    )
                return THREAD
            case ast.AnyValue(low=low, high=high):
                self.check_any_range(low, high)
                self.emit(
                    ir.AnyInt(low=self.expr(low), high=self.expr(high), target=target, span=span)
                )
                return VALUE
            case ast.MakeChannel():
                self.sink.error(
                    "invalid-statement",
                    "a channel has two ends: bind both",
                    span,
                    help="write `let (tx, rx) = " + _maker_text(op) + "`",
                )
                return UNKNOWN

    def clone(self, ref: ast.Ref, target: ir.Target | None, span: Span) -> str:
        local = self.lookup_local(ref.name.name) if ref.index is None else None
        if local is not None:
            if local.kind in (RECEIVER, THREAD):
                self.wrong_kind(
                    ref.name.span,
                    f"`clone` needs a sender or a value, and `{ref.name.name}` is "
                    f"{a_kind(local.kind)}",
                    "only senders can be cloned: a channel has one receiver",
                )
                return UNKNOWN
            self.emit(
                ir.CloneHandle(
                    source=ir.HandleRef(slot=local.slot, name=ref.name.name, kind=local.kind),
                    target=target,
                    span=span,
                )
            )
            return local.kind
        sym = self.decls.symbols.get(ref.name.name)
        if isinstance(sym, ChannelSym):
            self.wrong_kind(
                ref.name.span,
                f"`{ref.name.name}` is a global channel",
                "a global channel is used by its name from any thread: no clone needed",
            )
            return UNKNOWN
        source = self.expr(_ref_as_expr(ref))
        self.emit(ir.CloneHandle(source=source, target=target, span=span))
        return VALUE

    # ------------------------------------------------------------ statements

    def stmt(self, s: ast.Stmt) -> None:
        handler = getattr(self, "stmt_" + type(s).__name__.lower())
        handler(s)

    def stmt_let(self, s: ast.Let) -> None:
        if isinstance(s.value, ast.MakeChannel):
            self.let_channel(s, s.value)
            return
        if len(s.names) != 1:
            self.sink.error(
                "invalid-statement",
                "only `channel(..)`, `oneshot()` and `queue(..)` give a pair",
                s.span,
                help=f"write `let {s.names[0].name} = ...`",
            )
            return
        kind, emit_value = self.rhs_kind(s.value)
        info_slot = len(self.local_names)
        target = ir.LocalTarget(slot=info_slot, name=s.names[0].name)
        kind = emit_value(target)
        info = self.declare(s.names[0], kind)
        assert info.slot == info_slot

    def rhs_kind(self, value: ast.Rhs) -> tuple[str, Callable[[ir.Target | None], str]]:
        if isinstance(
            value,
            ast.Recv
            | ast.TryRecv
            | ast.Send
            | ast.Clone
            | ast.Unwrap
            | ast.Call
            | ast.Spawn
            | ast.AnyValue
            | ast.MakeChannel,
        ):
            op = value
            return UNKNOWN, lambda target: self.operation(op, target, op.span)

        expr = value

        def emit_expr(target: ir.Target | None) -> str:
            lowered = self.expr(expr)
            assert target is not None
            self.emit(ir.Assign(target=target, value=lowered, span=expr.span))
            return self.static_kind(expr)

        return VALUE, emit_expr

    def static_kind(self, e: ast.Expr) -> str:
        if isinstance(e, ast.Name):
            local = self.lookup_local(e.ident.name)
            return local.kind if local is not None else VALUE
        return VALUE

    def let_channel(self, s: ast.Let, make: ast.MakeChannel) -> None:
        if len(s.names) != 2:
            self.sink.error(
                "invalid-statement",
                "a channel has two ends: bind both",
                s.span,
                help=f"write `let ({s.names[0].name}_tx, {s.names[0].name}_rx) = "
                f"{_maker_text(make)}`",
            )
            return
        resolved = self.channel_maker(make)
        base = len(self.local_names)
        tx = ir.LocalTarget(slot=base, name=s.names[0].name)
        rx = ir.LocalTarget(slot=base + 1, name=s.names[1].name)
        if resolved is not None:
            kind, capacity = resolved
            self.emit(
                ir.MakeChannel(
                    kind=kind,
                    capacity=None if capacity is None else ir.Const(value=capacity),
                    sender=tx,
                    receiver=rx,
                    span=s.span,
                )
            )
        self.declare(s.names[0], SENDER)
        self.declare(s.names[1], RECEIVER)

    def channel_maker(self, make: ast.MakeChannel) -> tuple[str, int | None] | None:
        if make.maker == "oneshot":
            if make.arg is not None:
                self.sink.error(
                    "wrong-arity",
                    "`oneshot()` takes no argument",
                    make.arg.span,
                    help="write `oneshot()`",
                )
                return None
            return ("oneshot", None)
        if make.maker == "queue":
            if make.arg is None:
                return ("queue", None)
            cap = self.folder.fold_int(make.arg, "a queue's maxsize", minimum=0)
            return None if cap is None else ("queue", cap or None)
        arg = make.arg
        if arg is None:
            self.sink.error(
                "unknown-channel-kind",
                "`channel()` needs a kind",
                make.span,
                help="write `channel(unbounded)`, `channel(2)` or `channel(rendezvous)`",
            )
            return None
        if (
            isinstance(arg, ast.Name)
            and arg.ident.name not in self.decls.symbols
            and (self.lookup_local(arg.ident.name) is None)
        ):
            return channel_kind(arg.ident, None, self.folder, self.sink, global_decl=False)
        if isinstance(arg, ast.BuiltinCall) and arg.func.name in ("bounded", "queue"):
            inner = arg.args[0] if len(arg.args) == 1 else None
            return channel_kind(arg.func, inner, self.folder, self.sink, global_decl=False)
        cap = self.folder.fold_int(arg, "a channel capacity", minimum=0)
        if cap is None:
            return None
        return ("rendezvous", None) if cap == 0 else ("bounded", cap)

    def stmt_assign(self, s: ast.Assign) -> None:
        if isinstance(s.value, ast.MakeChannel):
            self.sink.error(
                "invalid-statement",
                "a new channel must be bound with `let (tx, rx) = ...`",
                s.span,
                help=f"write `let (tx, rx) = {_maker_text(s.value)}`",
            )
            return
        _, emit_value = self.rhs_kind(s.value)
        target = self.target(s.target)
        # With no valid target an error is already recorded and this IR is never used.
        kind = emit_value(target if target is not None else ir.LocalTarget(slot=-1, name="?"))
        if isinstance(target, ir.LocalTarget):
            local = self.lookup_local(target.name)
            if local is not None and local.kind != kind:
                local.kind = UNKNOWN

    def stmt_opstmt(self, s: ast.OpStmt) -> None:
        if isinstance(s.op, ast.MakeChannel):
            self.operation(s.op, None, s.span)
            return
        self.operation(s.op, None, s.span)

    def stmt_drop(self, s: ast.Drop) -> None:
        local = self.lookup_local(s.target.name.name)
        if local is None or s.target.index is not None:
            sym = self.decls.symbols.get(s.target.name.name)
            if sym is None and local is None:
                self.undefined(s.target.name)
                return
            self.wrong_kind(
                s.target.span,
                f"`drop` needs a local, and `{s.target.name.name}` is "
                + ("an element" if local is not None else symbol_kind(sym)),  # type: ignore[arg-type]
                "only values and handles held in locals can be dropped; use `close c` for a "
                "global channel",
            )
            return
        self.emit(ir.DropValue(slot=local.slot, name=s.target.name.name, span=s.span))

    def stmt_close(self, s: ast.Close) -> None:
        sym = self.decls.symbols.get(s.channel.name.name)
        if (
            self.lookup_local(s.channel.name.name) is None
            and isinstance(sym, ChannelSym)
            and sym.info.kind == "queue"
        ):
            self.wrong_kind(
                s.channel.name.span,
                f"`{s.channel.name.name}` is a queue, which never closes",
                "queue.Queue has no close: send a sentinel value the consumer stops on",
            )
            return
        chan = self.channel(s.channel, "close", {RECEIVER})
        if chan is not None:
            self.emit(ir.Close(channel=chan, span=s.span))

    def stmt_withgil(self, s: ast.WithGil) -> None:
        self.check_blocking(s.span, "with_gil { }")
        self.emit(ir.GilEnter(span=_head_span(s.span, "with_gil")))
        self.contexts.append(ir.Context.NATIVE)
        self.frames.append(_Exit(lambda: ir.GilExit(context=ir.Context.NATIVE)))
        self.block(s.body)
        self.frames.pop()
        self.emit(ir.GilExit(span=_end_span(s.body.span)))
        self.contexts.pop()

    def stmt_allowthreads(self, s: ast.AllowThreads) -> None:
        self.check_blocking(s.span, "allow_threads { }")
        self.emit(ir.AllowEnter(span=_head_span(s.span, "allow_threads")))
        self.contexts.append(ir.Context.NATIVE)
        self.frames.append(_Exit(lambda: ir.AllowExit(context=ir.Context.NATIVE)))
        self.block(s.body)
        self.frames.pop()
        self.emit(ir.AllowExit(span=_end_span(s.body.span)))
        self.contexts.pop()

    def stmt_python(self, s: ast.Python) -> None:
        self.check_blocking(s.span, "python { }")
        self.emit(ir.PythonEnter(span=_head_span(s.span, "python")))
        self.contexts.append(ir.Context.PYTHON)
        self.frames.append(_Exit(lambda: ir.PythonExit(context=ir.Context.PYTHON)))
        self.block(s.body)
        self.frames.pop()
        self.emit(ir.PythonExit(span=_end_span(s.body.span)))
        self.contexts.pop()

    def stmt_acquire(self, s: ast.Acquire) -> None:
        kinds = ("rwlock",) if s.mode else ("mutex", "rlock", "semaphore")
        op = {"": "acquire", "read": "acquire_read", "write": "acquire_write"}[s.mode]
        self.check_blocking(s.span, op)
        res = self.resource(s.target, kinds, op)
        if res is not None:
            self.emit(ir.Acquire(resource=res, mode=s.mode, span=s.span))

    def stmt_release(self, s: ast.Release) -> None:
        res = self.resource(s.target, ("mutex", "rlock", "semaphore", "rwlock"), "release")
        if res is not None:
            self.emit(ir.Release(resource=res, span=s.span))

    def stmt_lock(self, s: ast.Lock) -> None:
        kinds = ("rwlock",) if s.mode else ("mutex", "rlock", "semaphore")
        op = {"": "lock", "read": "read", "write": "write"}[s.mode]
        self.check_blocking(s.span, f"{op} {unparse.ref(s.target)} {{ }}")
        res = self.resource(s.target, kinds, op)
        head = _head_span(s.span, op)
        if res is not None:
            self.emit(ir.Acquire(resource=res, mode=s.mode, span=s.span.cover(s.target.span)))
            resource = res
            self.frames.append(_Exit(lambda: ir.Release(resource=resource)))
        else:
            self.frames.append(_Exit(lambda: ir.Skip()))
        del head
        self.block(s.body)
        self.frames.pop()
        if res is not None:
            self.emit(ir.Release(resource=res, span=_end_span(s.body.span)))

    def stmt_wait(self, s: ast.Wait) -> None:
        self.check_blocking(s.span, "wait")
        res = self.resource(s.target, ("condvar", "event", "barrier"), "wait")
        if res is None:
            return
        mutex: ir.ResourceRef | None = None
        if res.kind == "condvar":
            if s.mutex is None:
                self.sink.error(
                    "wrong-arity",
                    "`wait` on a condvar needs its mutex",
                    s.span,
                    help=f"write `wait {s.target.name.name}, m`",
                )
                return
            mutex = self.resource(s.mutex, ("mutex", "rlock"), "wait cv, m")
            if mutex is None:
                return
        elif s.mutex is not None:
            self.sink.error(
                "wrong-arity",
                f"`wait` on {a_kind(res.kind)} takes no mutex",
                s.mutex.span,
                help=f"write `wait {s.target.name.name}`",
            )
            return
        self.emit(ir.Wait(resource=res, mutex=mutex, span=s.span))

    def stmt_notify(self, s: ast.Notify) -> None:
        res = self.resource(s.target, ("condvar",), "notify_all" if s.all else "notify")
        if res is not None:
            self.emit(ir.Notify(resource=res, all=s.all, span=s.span))

    def stmt_callonce(self, s: ast.CallOnce) -> None:
        self.check_blocking(s.span, f"call_once {unparse.ref(s.target)} {{ }}")
        res = self.resource(s.target, ("once",), "call_once")
        begin = self.emit(
            ir.OnceBegin(resource=res or _NO_RESOURCE, done=-1, span=s.span.cover(s.target.span))
        )
        resource = res or _NO_RESOURCE
        self.frames.append(_Exit(lambda: ir.OnceEnd(resource=resource)))
        self.block(s.body)
        self.frames.pop()
        self.emit(ir.OnceEnd(resource=resource, span=_end_span(s.body.span)))
        self.patch(begin, done=self.here())

    def stmt_setevent(self, s: ast.SetEvent) -> None:
        res = self.resource(s.target, ("event",), "set")
        if res is not None:
            self.emit(ir.SetEvent(resource=res, span=s.span))

    def stmt_clearevent(self, s: ast.ClearEvent) -> None:
        res = self.resource(s.target, ("event",), "clear")
        if res is not None:
            self.emit(ir.ClearEvent(resource=res, span=s.span))

    def stmt_join(self, s: ast.Join) -> None:
        self.check_blocking(s.span, "join")
        ident = s.handle.name
        local = self.lookup_local(ident.name)
        if local is not None:
            if local.kind not in (THREAD, UNKNOWN):
                self.wrong_kind(
                    ident.span,
                    f"`join` needs a thread handle, and `{ident.name}` is {a_kind(local.kind)}",
                    "bind the handle with `let h = spawn f()`",
                )
                return
            if s.handle.index is not None:
                self.sink.error(
                    "not-an-array",
                    f"`{ident.name}` is a local, not an array",
                    s.handle.index.span,
                    help=f"write `join {ident.name}`",
                )
                return
            self.emit(ir.Join(handle=ir.Local(slot=local.slot, name=ident.name), span=s.span))
            return
        sym = self.decls.symbols.get(ident.name)
        if isinstance(sym, ThreadSym):
            index = self.element(ident, s.handle.index, sym.size)
            self.emit(
                ir.Join(
                    handle=ir.ThreadRef(
                        thread=sym.index, size=sym.size, name=ident.name, index=index
                    ),
                    span=s.span,
                )
            )
            return
        if sym is None:
            self.undefined(ident)
            return
        self.wrong_kind(
            ident.span,
            f"`join` needs a thread handle, and `{ident.name}` is {symbol_kind(sym)}",
            "bind the handle with `let h = spawn f()`",
        )

    def stmt_return(self, s: ast.Return) -> None:
        if self.kind != "fn":
            self.sink.error(
                "return-outside-function",
                "`return` outside a function",
                s.span,
                help="a thread ends at the end of its body; `return` is for `fn`s",
            )
            return
        if self.leaves_atomic(s.span, "return"):
            return
        value = self.expr(s.value) if s.value is not None else None
        self.unwind(_NoFrame, s.span)
        self.emit(ir.Return(value=value, span=s.span))

    def stmt_if(self, s: ast.If) -> None:
        branch = self.emit(ir.Branch(cond=self.expr(s.cond), if_false=-1, span=s.cond.span))
        self.block(s.then)
        if s.orelse is None:
            self.patch(branch, if_false=self.here())
            return
        jump = self.emit(ir.Jump(target=-1, span=s.then.span))
        self.patch(branch, if_false=self.here())
        if isinstance(s.orelse, ast.If):
            self.stmt_if(s.orelse)
        else:
            self.block(s.orelse)
        self.patch(jump, target=self.here())

    def loop_frame(self, start: int, body: Callable[[], None]) -> list[int]:
        loop = _Loop(continue_target=start)
        self.frames.append(loop)
        body()
        self.frames.pop()
        return loop.break_jumps

    def stmt_while(self, s: ast.While) -> None:
        self.check_loop(s.span, "while")
        start = self.here()
        branch = self.emit(ir.Branch(cond=self.expr(s.cond), if_false=-1, span=s.cond.span))
        breaks = self.loop_frame(start, lambda: self.block(s.body))
        self.emit(ir.Jump(target=start, span=s.span))
        self.patch(branch, if_false=self.here())
        for b in breaks:
            self.patch(b, target=self.here())

    def stmt_loop(self, s: ast.Loop) -> None:
        self.check_loop(s.span, "loop")
        start = self.here()
        breaks = self.loop_frame(start, lambda: self.block(s.body))
        if self.here() == start or all(isinstance(i, ir.Jump) for i in self.code[start:]):
            self.emit(ir.Skip(span=_head_span(s.span, "loop")))  # an empty loop spins
        self.emit(ir.Jump(target=start, span=s.span))
        for b in breaks:
            self.patch(b, target=self.here())

    def stmt_for(self, s: ast.For) -> None:
        self.check_loop(s.span, "for")
        chan = self.channel(s.channel, "for", {RECEIVER})
        start = self.here()
        scope = _Scope()
        recv_at = -1

        def body() -> None:
            nonlocal recv_at
            self.frames.append(scope)
            slot = len(self.local_names)
            if chan is not None:
                recv_at = self.emit(
                    ir.Recv(
                        channel=chan,
                        target=ir.LocalTarget(slot=slot, name=s.var.name),
                        exit_target=-1,
                        span=s.span.cover(s.channel.span),
                    )
                )
            self.declare(s.var, UNKNOWN)
            self.block(s.body)
            self.frames.pop()
            if scope.slots:
                self.emit(ir.EndScope(slots=tuple(scope.slots), span=_end_span(s.body.span)))

        breaks = self.loop_frame(start, body)
        self.emit(ir.Jump(target=start, span=s.span))
        if recv_at >= 0:
            self.patch(recv_at, exit_target=self.here())
        for b in breaks:
            self.patch(b, target=self.here())

    def leaves_atomic(self, span: Span, what: str) -> bool:
        loops = [i for i, f in enumerate(self.frames) if isinstance(f, _Loop)]
        inner_loop = loops[-1] if loops and what != "return" else -1
        if self.atomic_depth and inner_loop < self.atomic_frame_index:
            self.sink.error(
                "invalid-statement",
                f"`{what}` cannot leave an `atomic` block",
                span,
                help="an `atomic` block runs to its end as one step",
            )
            return True
        return False

    def stmt_break(self, s: ast.Break) -> None:
        if self.leaves_atomic(s.span, "break"):
            return
        loop = self.unwind(_Loop, s.span)
        if not isinstance(loop, _Loop):
            self.sink.error(
                "break-outside-loop",
                "`break` outside a loop",
                s.span,
                help="`break` leaves the innermost `while`, `loop` or `for`",
            )
            return
        loop.break_jumps.append(self.emit(ir.Jump(target=-1, span=s.span)))

    def stmt_continue(self, s: ast.Continue) -> None:
        if self.leaves_atomic(s.span, "continue"):
            return
        loop = self.unwind(_Loop, s.span)
        if not isinstance(loop, _Loop):
            self.sink.error(
                "continue-outside-loop",
                "`continue` outside a loop",
                s.span,
                help="`continue` goes back to the start of the innermost loop",
            )
            return
        self.emit(ir.Jump(target=loop.continue_target, span=s.span))

    def stmt_choose(self, s: ast.Choose) -> None:
        choose = self.emit(ir.Choose(targets=(), span=_head_span(s.span, "choose")))
        targets: list[int] = []
        ends: list[int] = []
        for branch in s.branches:
            targets.append(self.here())
            self.block(branch)
            ends.append(self.emit(ir.Jump(target=-1, span=branch.span)))
        self.patch(choose, targets=tuple(targets))
        for e in ends:
            self.patch(e, target=self.here())

    def stmt_await(self, s: ast.Await) -> None:
        if self.atomic_depth and not self._atomic_leading_await:
            self.sink.error(
                "blocking-in-atomic",
                "`await` inside `atomic` must be its first statement",
                s.span,
                help="move the `await` to the start of the block",
            )
        self.emit(ir.Await(cond=self.expr(s.cond), span=s.span))

    def stmt_assert(self, s: ast.Assert) -> None:
        message = self.expr(s.message) if s.message is not None else None
        self.emit(ir.Assert(cond=self.expr(s.cond), message=message, span=s.span))

    def stmt_panic(self, s: ast.Panic) -> None:
        message = self.expr(s.message) if s.message is not None else None
        self.emit(ir.Panic(message=message, span=s.span))

    def stmt_print(self, s: ast.Print) -> None:
        self.check_blocking(s.span, "print")
        self.emit(ir.Print(value=self.expr(s.value), span=s.span))

    _atomic_leading_await = False

    def stmt_atomic(self, s: ast.Atomic) -> None:
        begin = self.emit(ir.AtomicBegin(end=-1, span=_head_span(s.span, "atomic")))
        self.atomic_depth += 1
        saved_index = self.atomic_frame_index
        if self.atomic_depth == 1:
            self.atomic_frame_index = len(self.frames)
        scope = _Scope()
        self.frames.append(scope)
        for i, stmt in enumerate(s.body.body):
            self._atomic_leading_await = i == 0 and self.atomic_depth == 1
            self.stmt(stmt)
        self._atomic_leading_await = False
        self.frames.pop()
        self.atomic_depth -= 1
        self.atomic_frame_index = saved_index
        if scope.slots:
            self.emit(ir.EndScope(slots=tuple(scope.slots), span=_end_span(s.body.span)))
        end = self.emit(ir.AtomicEnd(span=_end_span(s.body.span)))
        self.patch(begin, end=end)

    def stmt_progress(self, s: ast.Progress) -> None:
        self.emit(ir.Progress(span=s.span))

    def stmt_skip(self, s: ast.Skip) -> None:
        self.emit(ir.Skip(span=s.span))

    def stmt_fork(self, s: ast.Fork) -> None:
        self.check_blocking(s.span, "fork { }")
        begin = self.emit(ir.ForkBegin(end=-1, span=_head_span(s.span, "fork")))
        saved = self.frames
        self.frames = [f for f in saved if isinstance(f, _Scope)]  # no break out of a child
        self.block(s.body)
        self.frames = saved
        end = self.emit(ir.ForkEnd(span=_end_span(s.body.span)))
        self.patch(begin, end=end + 1)

    def check_any_range(self, low: ast.Expr, high: ast.Expr) -> None:
        lo, hi = self.expr(low), self.expr(high)
        if (
            isinstance(lo, ir.Const)
            and isinstance(hi, ir.Const)
            and isinstance(lo.value, int)
            and isinstance(hi.value, int)
            and lo.value >= hi.value
        ):
            self.sink.error(
                "bad-constant",
                f"the range {lo.value}..{hi.value} is empty",
                low.span.cover(high.span),
                help="ranges are half-open: `any(0..3)` is 0, 1 or 2",
            )

    # ------------------------------------------------------------ atomic checks

    def check_blocking(self, span: Span, what: str) -> None:
        if self.atomic_depth:
            self.sink.error(
                "blocking-in-atomic",
                f"`{what}` can block, so it cannot be inside `atomic`",
                span,
                help="an `atomic` block runs as one step; only a leading `await` may wait",
            )

    def check_loop(self, span: Span, what: str) -> None:
        if self.atomic_depth:
            self.sink.error(
                "loop-in-atomic",
                f"`{what}` loops are not allowed inside `atomic`",
                span,
                help="an `atomic` block runs as one finite step",
            )


class _NoFrame:
    """A frame type that never matches: unwinding to it unwinds everything."""


_NO_RESOURCE = ir.ResourceRef(kind="once", base=0, size=None, name="?")


def _one_of(kinds: tuple[str, ...]) -> str:
    words = [a_kind(k) for k in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _kind_help(op: str, sym: object) -> str:
    table = {
        "acquire_read": "`acquire_read` and `acquire_write` take an rwlock",
        "acquire_write": "`acquire_read` and `acquire_write` take an rwlock",
        "read": "`read l { }` and `write l { }` take an rwlock",
        "write": "`read l { }` and `write l { }` take an rwlock",
        "wait cv, m": "`wait cv, m` needs the mutex that guards the condvar",
        "wait": "`wait cv, m` waits on a condvar, `wait e` on an event, `wait b` at a barrier",
        "acquire": "`acquire` takes a mutex, rlock or semaphore",
        "release": "`release` frees a mutex, rlock, semaphore or rwlock",
        "lock": "`lock m { }` takes a mutex, rlock or semaphore for the block",
        "notify": "`notify` wakes a waiter of a condvar",
        "notify_all": "`notify_all` wakes every waiter of a condvar",
        "set": "`set` and `clear` act on an event",
        "clear": "`set` and `clear` act on an event",
        "call_once": "`call_once` needs a `once`",
    }
    if isinstance(sym, ChannelSym):
        return "channels are used with `send`, `recv`, `try_recv`, `for` and `close`"
    return table.get(op, "see `gilcheck explain wrong-kind`")


def _handle_help(op: str, kind: str) -> str:
    if op == "send" and kind == RECEIVER:
        return "send on the sender end (`tx` of `let (tx, rx) = ...`)"
    if op in ("recv", "try_recv", "for") and kind == SENDER:
        return "receive on the receiver end (`rx` of `let (tx, rx) = ...`)"
    if kind == THREAD:
        return "a thread handle can only be joined: `join h`"
    return "channel operations need a channel handle or a global channel"


def _maker_text(make: ast.MakeChannel) -> str:
    return {"oneshot": "oneshot()", "queue": "queue(0)"}.get(make.maker, "channel(unbounded)")


def _expr_as_ref(e: ast.Expr) -> ast.Ref | None:
    if isinstance(e, ast.Name):
        return ast.Ref(name=e.ident, span=e.span)
    if isinstance(e, ast.Index):
        return ast.Ref(name=e.base, index=e.index, span=e.span)
    return None


def _ref_as_expr(ref: ast.Ref) -> ast.Expr:
    if ref.index is None:
        return ast.Name(ident=ref.name, span=ref.span)
    return ast.Index(base=ref.name, index=ref.index, span=ref.span)


def _end_span(span: Span) -> Span:
    return Span(span.path, max(span.start, span.end - 1), span.end)


def _head_span(span: Span, keyword: str) -> Span:
    return Span(span.path, span.start, min(span.end, span.start + len(keyword)))


_FOLDABLE = (int, bool)


def _folded(expr: ir.UnaryOp | ir.BinaryOp) -> ir.Expr:
    """Integer and boolean operations on constants, computed now (LANGUAGE.md: constant
    expressions are folded at compile time). One that fails (a division by zero) is left
    for the run, where it is a `panic` at its statement."""
    try:
        if isinstance(expr, ir.UnaryOp):
            if isinstance(expr.operand, ir.Const) and isinstance(expr.operand.value, _FOLDABLE):
                return ir.Const(value=unary(expr.op, expr.operand.value))
        elif (
            isinstance(expr.left, ir.Const)
            and isinstance(expr.right, ir.Const)
            and isinstance(expr.left.value, _FOLDABLE)
            and isinstance(expr.right.value, _FOLDABLE)
        ):
            return ir.Const(value=binary(expr.op, expr.left.value, expr.right.value))
    except (EvalError, OverflowError, MemoryError, ValueError):
        pass
    return expr
