"""What an IR expression reads: whether other threads can change it while its thread waits
(a statement that names its object through shared state keeps the object it read), and
which locals it reads, and whether it reads only plain data (no channel or object)."""

from __future__ import annotations

from gilcheck.semantics import ir


def reads_shared(expr: object) -> bool:
    """Whether an expression reads state other threads can change (params, constants,
    `self` and locals are fixed while its thread waits)."""
    match expr:
        case ir.Const() | ir.Local() | ir.SelfIndex() | ir.ParamRef():
            return False
        case ir.UnaryOp(operand=o):
            return reads_shared(o)
        case ir.BinaryOp(left=a, right=b):
            return reads_shared(a) or reads_shared(b)
        case ir.Builtin(name=name, args=args) if name not in ("len", "is_done"):
            return any(reads_shared(a) for a in args)
    return True


def plain_expression(expr: object) -> bool:
    """Whether an expression reads only constants, locals, vars and `self` (no channel, no
    builtin that could look at one)."""
    match expr:
        case None:
            return True
        case ir.Const(value=value):
            return isinstance(value, bool | int | str | None)
        case ir.Local() | ir.SelfIndex() | ir.ParamRef():
            return True
        case ir.GlobalVar(index=index):
            return plain_expression(index)
        case ir.UnaryOp(operand=operand):
            return plain_expression(operand)
        case ir.BinaryOp(left=left, right=right):
            return plain_expression(left) and plain_expression(right)
    return False


def locals_read(expr: object) -> set[str]:
    """The names of the locals an expression reads."""
    match expr:
        case ir.Local(name=name):
            return {name}
        case ir.UnaryOp(operand=o):
            return locals_read(o)
        case ir.BinaryOp(left=a, right=b):
            return locals_read(a) | locals_read(b)
        case ir.Builtin(args=args):
            return set().union(*(locals_read(a) for a in args))
    return set()


def makes_python_object(expr: ir.Expr | None) -> bool:
    """Whether evaluating the expression creates a `pyobj` (which needs the GIL)."""
    match expr:
        case ir.Builtin(name="pyobj"):
            return True
        case ir.Builtin(args=args):
            return any(
                not isinstance(a, ir.GlobalChannel | ir.HandleRef) and makes_python_object(a)
                for a in args
            )
        case ir.UnaryOp(operand=o):
            return makes_python_object(o)
        case ir.BinaryOp(left=a, right=b):
            return makes_python_object(a) or makes_python_object(b)
    return False


def copied_vars(expr: ir.Expr | None) -> bool:
    """Whether an expression used as a value hands over what a shared var holds (a var or
    an element, bare or in ok/err): a copy of a handle it holds, where `moved_locals`
    tells a move out of a local."""
    match expr:
        case ir.GlobalVar():
            return True
        case ir.Builtin(name="ok" | "err", args=args):
            return any(copied_vars(a) for a in args)  # type: ignore[arg-type]
    return False


def moved_locals(expr: ir.Expr | None) -> tuple[int, ...]:
    """Local slots an expression moves from when used as a value (bare names, in ok/err)."""
    match expr:
        case ir.Local(slot=slot):
            return (slot,)
        case ir.Builtin(name="ok" | "err", args=args):
            return tuple(s for a in args for s in moved_locals(a))  # type: ignore[arg-type]
    return ()
