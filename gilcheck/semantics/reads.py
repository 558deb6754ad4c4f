"""What an IR expression reads: whether other threads can change it while its thread waits
(a statement that names its object through shared state keeps the object it read), and
which locals it reads."""

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
