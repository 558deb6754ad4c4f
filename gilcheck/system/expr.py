"""IR expressions compiled once into closures `(locals, vars, self_index, channels) -> value`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gilcheck.semantics import describe, ir
from gilcheck.semantics.values import (
    EvalError,
    SplitNeeded,
    Term,
    Value,
    as_condition,
    binary,
    builtin,
    describe_value,
    path_has,
    render,
    truthy,
    unary,
)

Evaluator = Callable[[tuple[Value, ...], tuple[Value, ...], int, tuple[Value, ...]], Value]

MOVED = ("moved",)

# The run-time objects of the state being evaluated (set by the engine before it evaluates
# in a program that makes objects): `is_done(f)` reads a future's state here.
CURRENT_HEAP: list[tuple[object, ...]] = [()]
# In a program with processes, what expressions read of the process whose thread is
# evaluating: where its block of declared sync objects starts (`m` as a value is
# ("res", kind, start + n)) and its copies of the declared channels (() in the first).
PROCESS: list[Any] = [0, ()]


class IndexOutOfRange(Exception):
    """An array index outside the array: a `panic` at that statement."""


class UseAfterMove(Exception):
    """Reading a local whose handle was moved or dropped: a `misuse`."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def element(base: int, size: int | None, index_value: Value, name: str) -> int:
    """The slot of `name[index]`, checking the range."""
    if size is None:
        return base
    # A boolean is the integer 0 or 1, as in Python (`a[True]`): states that differ only in
    # holding `true` or `1` are one state, so nothing may tell them apart.
    if not isinstance(index_value, int):
        if isinstance(index_value, Term):
            return base + _unknown_index(index_value, size, name)
        raise EvalError(f"index of `{name}` must be an integer")
    if not 0 <= index_value < size:
        raise IndexOutOfRange(f"index {int(index_value)} out of range for `{name}` of size {size}")
    return base + int(index_value)


def _unknown_index(index: Term, size: int, name: str) -> int:
    """The element an unknown index denotes on this side of its split (SplitNeeded when the
    path condition does not say yet; IndexOutOfRange on the side where it is out of range)."""
    cases = tuple(Term("==", (index, i)) for i in range(size))
    outside = Term("or", (Term("<", (index, 0)), Term(">=", (index, size))))
    for i, case in enumerate(cases):
        if path_has(case):
            return i
    if path_has(outside):
        raise IndexOutOfRange(f"index {render(index)} out of range for `{name}` of size {size}")
    raise SplitNeeded((*cases, outside))


def compile_expr(expr: ir.Expr, params: tuple[Value, ...] = ()) -> Evaluator:
    """A closure evaluating `expr`; raises EvalError, IndexOutOfRange or UseAfterMove."""
    match expr:
        case ir.Const(value=v):
            return lambda loc, gv, me, ch: v
        case ir.Local(slot=slot, name=name):

            def local(
                loc: tuple[Value, ...], gv: tuple[Value, ...], me: int, ch: tuple[Value, ...]
            ) -> Value:
                value = loc[slot]
                if value is MOVED or value == MOVED:
                    raise UseAfterMove(name)
                return value

            return local
        case ir.GlobalVar(base=base, size=None):
            return lambda loc, gv, me, ch: gv[base]
        case ir.GlobalVar(base=base, size=size, name=name, index=index):
            assert index is not None
            idx = compile_expr(index, params)
            return lambda loc, gv, me, ch: gv[element(base, size, idx(loc, gv, me, ch), name)]
        case ir.SelfIndex():
            return lambda loc, gv, me, ch: me
        case ir.ParamRef(index=i):
            if i < len(params):
                value = params[i]
                return lambda loc, gv, me, ch: value
            raise EvalError("params are not supported by this engine")
        case ir.UnaryOp(op=op, operand=operand):
            inner = compile_expr(operand, params)
            if op == "not":
                return lambda loc, gv, me, ch: not truthy(inner(loc, gv, me, ch))
            return lambda loc, gv, me, ch: unary(op, inner(loc, gv, me, ch))
        case ir.BinaryOp(op="and" | "or" as op, left=left, right=right):
            a, b = compile_expr(left, params), compile_expr(right, params)
            conjunction = op == "and"

            def logical(
                loc: tuple[Value, ...], gv: tuple[Value, ...], me: int, ch: tuple[Value, ...]
            ) -> Value:
                first = a(loc, gv, me, ch)
                if isinstance(first, Term):  # unknown: both sides, as a term
                    return Term(op, (as_condition(first), as_condition(b(loc, gv, me, ch))))
                if truthy(first) != conjunction:  # short circuit
                    return not conjunction
                second = b(loc, gv, me, ch)
                return as_condition(second) if isinstance(second, Term) else truthy(second)

            return logical
        case ir.BinaryOp(op=op, left=left, right=right):
            a, b = compile_expr(left, params), compile_expr(right, params)
            return lambda loc, gv, me, ch: binary(op, a(loc, gv, me, ch), b(loc, gv, me, ch))
        case ir.Builtin(name="len", args=(ir.GlobalChannel() as chan,)):
            cbase, csize, cname = chan.base, chan.size, chan.name
            cidx = compile_expr(chan.index, params) if chan.index is not None else None

            def global_len(
                loc: tuple[Value, ...], gv: tuple[Value, ...], me: int, ch: tuple[Value, ...]
            ) -> Value:
                at = cbase if cidx is None else element(cbase, csize, cidx(loc, gv, me, ch), cname)
                return len(ch[_in_process(at)][0])  # type: ignore[index]

            return global_len
        case ir.Builtin(name="channel_value", args=(ir.GlobalChannel() as shared,)):
            # A global channel passed as an argument: a shared reference (in a child process
            # too).
            sbase, ssize, sname = shared.base, shared.size, shared.name
            sidx = compile_expr(shared.index, params) if shared.index is not None else None

            def channel_value(
                loc: tuple[Value, ...], gv: tuple[Value, ...], me: int, ch: tuple[Value, ...]
            ) -> Value:
                at = sbase if sidx is None else element(sbase, ssize, sidx(loc, gv, me, ch), sname)
                return ("chan", _in_process(at))

            return channel_value
        case ir.Builtin(name="len", args=(ir.HandleRef(slot=slot, name=hname),)):

            def handle_len(
                loc: tuple[Value, ...], gv: tuple[Value, ...], me: int, ch: tuple[Value, ...]
            ) -> Value:
                handle = loc[slot]
                if not (isinstance(handle, tuple) and handle[:1] in (("tx",), ("rx",), ("chan",))):
                    raise EvalError(f"`len` needs a channel handle, and `{hname}` is not one")
                return len(ch[handle[1]][0])  # type: ignore[index]

            return handle_len
        case ir.Builtin(name="resource", args=(kind, rbase, rsize, rindex, rname)):
            # A declared resource used as a value: ("res", kind, its number in its kind).
            assert isinstance(kind, ir.Const) and isinstance(rbase, ir.Const)
            assert isinstance(rsize, ir.Const) and isinstance(rname, ir.Const)
            tag, rb, rs, rn = kind.value, rbase.value, rsize.value, rname.value
            ridx = compile_expr(rindex, params)  # type: ignore[arg-type]

            def resource(
                loc: tuple[Value, ...], gv: tuple[Value, ...], me: int, ch: tuple[Value, ...]
            ) -> Value:
                n = element(rb, rs, ridx(loc, gv, me, ch), rn)  # type: ignore[arg-type]
                return ("res", tag, PROCESS[0] + n)

            return resource
        case ir.Builtin(name="is_done", args=(fut,)):
            future = compile_expr(fut, params)  # type: ignore[arg-type]

            def is_done(
                loc: tuple[Value, ...], gv: tuple[Value, ...], me: int, ch: tuple[Value, ...]
            ) -> Value:
                ref = future(loc, gv, me, ch)
                if not (type(ref) is tuple and len(ref) == 2 and ref[0] == "obj"):
                    raise EvalError(f"`is_done` needs a future, not {describe_value(ref)}")
                entry = CURRENT_HEAP[0][ref[1]]
                if entry[0] != "future":  # type: ignore[index]
                    raise EvalError(f"`is_done` needs a future, not a {entry[0]}")  # type: ignore[index]
                return entry[2][0]  # type: ignore[index]

            return is_done
        case ir.Builtin(name=name, args=args):
            parts = [
                compile_expr(a, params)
                for a in args
                if not isinstance(a, ir.GlobalChannel | ir.HandleRef)
            ]
            return lambda loc, gv, me, ch: builtin(name, tuple(p(loc, gv, me, ch) for p in parts))
    raise EvalError(f"cannot evaluate `{describe.expression(expr)}`")


def _in_process(cid: int) -> int:
    """A declared channel as the evaluating thread's process has it (its own copy in a
    child process)."""
    copies = PROCESS[1]
    return int(copies[cid]) if copies else cid
