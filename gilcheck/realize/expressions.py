"""IR expressions, targets and references as Python expression text of a realized program.

In the realized program a frame's locals are the list `L`, shared variables the list `G`,
declared resources the lists `R_<kind>`, declared channels the list `CH`, the running
thread `me` and its context `C`.
"""

from __future__ import annotations

from typing import Final

from gilcheck.realize.refusal import Refused
from gilcheck.semantics import describe, ir
from gilcheck.source import Span

_BINARY: Final[dict[str, str]] = {
    "+": "+",
    "-": "-",
    "*": "*",
    "**": "**",
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "and": "and",
    "or": "or",
}


def _index(base: int, size: int | None, index: ir.Expr | None, span: Span) -> str:
    if size is None or index is None:
        return str(base)
    return f"{base} + index({expr(index, span)}, {size}, {_where_text(span)})"


def _where_text(span: Span) -> str:
    return repr(f"{span.path}@{span.start}")


def expr(e: ir.Expr | ir.ChannelRef, span: Span) -> str:
    """A value expression (or a channel reference used as one, in `len`)."""
    match e:
        case ir.Const(value=v):
            return repr(v)
        case ir.Local(slot=slot):
            return f"L[{slot}]"
        case ir.GlobalVar(base=base, size=size, index=index):
            return f"G[{_index(base, size, index, span)}]"
        case ir.SelfIndex():
            return "me.self_index"
        case ir.ParamRef():
            raise Refused(f"the `param` `{describe.expression(e)}`", span)
        case ir.UnaryOp(op="not", operand=o):
            return f"(not {expr(o, span)})"
        case ir.UnaryOp(op=op, operand=o):
            return f"({op}{expr(o, span)})"
        case ir.BinaryOp(op="/", left=left, right=right):
            return f"div({expr(left, span)}, {expr(right, span)})"
        case ir.BinaryOp(op="%", left=left, right=right):
            return f"rem({expr(left, span)}, {expr(right, span)})"
        case ir.BinaryOp(op=op, left=left, right=right) if op in _BINARY:
            return f"({expr(left, span)} {_BINARY[op]} {expr(right, span)})"
        case ir.Builtin():
            return _builtin(e, span)
        case ir.GlobalChannel() | ir.HandleRef():
            return channel(e, span)
    raise Refused(f"the expression `{describe.expression(e)}`", span)


def _builtin(e: ir.Builtin, span: Span) -> str:
    args = e.args
    match e.name:
        case "ok" | "err" | "pyobj" | "pyerr":
            return f"({e.name!r}, {expr(args[0], span)})"
        case "is_ok" | "is_err":
            return f"{e.name}({expr(args[0], span)})"
        case "is_done":
            return f"is_done({expr(args[0], span)})"
        case "is_none":
            return f"({expr(args[0], span)} is None)"
        case "len" if args:
            return f"length({expr(args[0], span)}, {_where_text(span)})"
        case "channel_value":  # a declared channel passed as a value: the channel itself
            assert isinstance(args[0], ir.GlobalChannel)
            return channel(args[0], span)
        case "resource":
            kind, base, size, index, _name = args
            assert isinstance(kind, ir.Const) and isinstance(base, ir.Const)
            assert isinstance(size, ir.Const)
            sized = size.value if isinstance(size.value, int) else None
            at = _index(int(str(base.value)), sized, index if sized else None, span)  # type: ignore[arg-type]
            return f"R_{kind.value}[{at}]"
    raise Refused(f"`{e.name}(..)`", span)


def uses_pyobj(e: ir.Expr | ir.ChannelRef) -> bool:
    """Whether evaluating the expression makes a Python object (which needs the GIL)."""
    match e:
        case ir.Builtin(name="pyobj"):
            return True
        case ir.Builtin(args=args):
            return any(uses_pyobj(a) for a in args)
        case ir.UnaryOp(operand=o):
            return uses_pyobj(o)
        case ir.BinaryOp(left=left, right=right):
            return uses_pyobj(left) or uses_pyobj(right)
    return False


def channel(ref: ir.ChannelRef, span: Span) -> str:
    """A channel reference: a declared channel, or the handle in a local."""
    match ref:
        case ir.GlobalChannel(base=base, size=size, index=index):
            return f"CH[{_index(base, size, index, span)}]"
        case ir.HandleRef(slot=slot):
            return f"L[{slot}]"


def resource(ref: ir.ResourceRef, span: Span) -> str:
    """A resource reference: a declared one, or the object a value refers to."""
    if ref.value is not None:
        return expr(ref.value, span)
    return f"R_{ref.kind}[{_index(ref.base, ref.size, ref.index, span)}]"


def target(t: ir.Target, span: Span) -> str:
    """An assignable place."""
    match t:
        case ir.LocalTarget(slot=slot):
            return f"L[{slot}]"
        case ir.GlobalTarget(base=base, size=size, index=index):
            return f"G[{_index(base, size, index, span)}]"


def thread(ref: ir.ThreadRef, span: Span) -> str:
    """A declared thread's handle."""
    if ref.size is None or ref.index is None:
        return f"TH[{ref.thread}][0]"
    return f"TH[{ref.thread}][index({expr(ref.index, span)}, {ref.size}, {_where_text(span)})]"
