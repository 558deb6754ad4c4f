"""Expressions and the references statements resolve: values, names, array elements,
channels and handles, assignment targets and functions."""

from __future__ import annotations

from typing import assert_never

from gilcheck.diagnostics import Label, did_you_mean
from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.lower.core import (
    RECEIVER,
    SENDER,
    THREAD,
    UNKNOWN,
    VALUE,
    LowererCore,
    one_of,
)
from gilcheck.semantics.resolve import (
    BUILTINS,
    ChannelSym,
    ConstSym,
    FnSym,
    ParamSym,
    ResourceSym,
    VarSym,
    symbol_kind,
)
from gilcheck.semantics.retired import RETIRED_HELPERS
from gilcheck.semantics.values import EvalError, binary, unary
from gilcheck.source import Span
from gilcheck.sync.registry import CONSTRUCTIBLE
from gilcheck.syntax import ast


class ExprLowerer(LowererCore):
    """Lowers expressions and resolves references; the base of every statement family."""

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
            case _:
                assert_never(e)

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
            case ResourceSym(info=info):
                if info.size is not None:
                    self.sink.error(
                        "missing-index",
                        f"`{ident.name}` is an array of {info.size}",
                        ident.span,
                        help=f"pass one element, such as `{ident.name}[0]`",
                    )
                return resource_value(info, None)
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
            case ResourceSym(info=info) if info.size is not None:
                return resource_value(info, idx)
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
            elif name in CONSTRUCTIBLE:
                help = (
                    f"`{name}(..)` makes a {name} at run time: it is the whole right-hand side "
                    f"of a `let` or an assignment (`let x = {name}(..)`), not part of an "
                    "expression or a `var` initialiser"
                )
            elif name in _UNREADABLE_STATE:
                help = _UNREADABLE_STATE[name]
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
            ref = expr_as_ref(arg)
            if ref is None:
                self.wrong_kind(arg.span, "`len` needs a channel", "write `len(c)` or `len(rx)`")
                return ir.Const(value=0)
            chan = self.channel(ref, "len", allow={RECEIVER, SENDER})
            return ir.Builtin(name="len", args=(chan,) if chan is not None else ())
        return ir.Builtin(name=name, args=tuple(self.expr(a) for a in call.args))

    # ------------------------------------------------------------ references

    # ------------------------------------------------------------ references

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
            # A local bound to a value read from a var, an element, a message or a
            # parameter shows no kind in the text: checked at run time.
            if local.kind not in (UNKNOWN, VALUE) and local.kind not in allow:
                self.wrong_kind(
                    ident.span,
                    f"`{op}` needs {one_of(tuple(sorted(allow)))}, "
                    f"and `{ident.name}` is {a_kind(local.kind)}",
                    _handle_help(op, local.kind),
                )
                return None
            kind = UNKNOWN if local.kind == VALUE else local.kind
            return ir.HandleRef(slot=local.slot, name=ident.name, kind=kind)
        sym = self.decls.symbols.get(ident.name)
        if sym is None:
            self.undefined(ident)
            return None
        if isinstance(sym, VarSym):
            self.wrong_kind(
                ident.span,
                f"`{op}` needs a channel, and `{ident.name}` is a shared variable",
                f"read it into a local first (`let c = {ident.name}`), whose value is "
                "checked when the statement runs",
            )
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
            if sym is None and ident.name in RETIRED_HELPERS:
                self.sink.error(
                    "undefined-function",
                    f"`{ident.name}` is no longer in the models: they take objects as values",
                    ident.span,
                    help=RETIRED_HELPERS[ident.name],
                )
            elif sym is None:
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


# Queries real code makes of an object whose state no expression can read -> the way to
# model them.
_UNREADABLE_STATE = (
    {
        name: "an event's flag cannot be read in an expression: keep a shared var set with it "
        "(`atomic { ready = true; set e }`, then test `ready`), or wait with a timeout "
        "(`let was_set = wait e timeout`)"
        for name in ("is_set", "isSet")
    }
    | {
        name: "whether a thread has ended is what `join h timeout` yields (`true`: ended); it "
        "may wait, so keep a shared var the thread sets last for a test that never waits"
        for name in ("is_alive", "is_finished")
    }
    | {
        name: "a lock's state cannot be read in an expression: `let took = try_acquire m` "
        "tries to take it without waiting"
        for name in ("locked", "is_locked")
    }
    | {
        name: "a queue's size is `len(q)`; it is empty when `len(q) == 0`"
        for name in ("qsize", "empty", "full")
    }
)


def resource_value(info: ir.ResourceInfo, index: ir.Expr | None) -> ir.Expr:
    """A declared resource used as a value (`call f(m)`): a reference to it, the value
    `("res", kind, n)` with `n` its number among the objects of its kind."""
    return ir.Builtin(
        name="resource",
        args=(
            ir.Const(value=info.kind),
            ir.Const(value=info.base),
            ir.Const(value=info.size),
            index if index is not None else ir.Const(value=0),
            ir.Const(value=info.name),
        ),
    )


def _handle_help(op: str, kind: str) -> str:
    if op == "send" and kind == RECEIVER:
        return "send on the sender end (`tx` of `let (tx, rx) = ...`)"
    if op in ("recv", "try_recv", "for") and kind == SENDER:
        return "receive on the receiver end (`rx` of `let (tx, rx) = ...`)"
    if kind == THREAD:
        return "a thread handle can only be joined: `join h`"
    return "channel operations need a channel handle or a global channel"


def expr_as_ref(e: ast.Expr) -> ast.Ref | None:
    if isinstance(e, ast.Name):
        return ast.Ref(name=e.ident, span=e.span)
    if isinstance(e, ast.Index):
        return ast.Ref(name=e.base, index=e.index, span=e.span)
    return None


def ref_as_expr(ref: ast.Ref) -> ast.Expr:
    if ref.index is None:
        return ast.Name(ident=ref.name, span=ref.span)
    return ast.Index(base=ref.name, index=ref.index, span=ref.span)


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
