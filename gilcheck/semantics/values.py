"""Runtime values shared by constant folding and the explorer: encodings and pure operations.

Values are plain hashable Python data: ints, bools (equal to 0/1, as in Python), strings,
``None``, and tagged tuples ``("ok", v)``, ``("err", v)``, ``("pyobj", tag)``,
``("pyerr", msg)``; handles are ``("tx", chan)``, ``("rx", chan)`` and ``("thread", tid)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gilcheck.syntax.unparse import PRECEDENCE

Value = object


@dataclass(frozen=True, slots=True)
class Term:
    """A symbolic integer or boolean: a `param`, a wide `any`, or an operation on them.

    ``Term("param", (index, name))``, ``Term("any", (id, name))``; otherwise ``op`` is an
    operator (``+``, ``<``, ``and``, ``not``, ``neg``, ...) over values and terms.
    """

    op: str
    args: tuple[object, ...]

    def __str__(self) -> str:
        return render(self)


BOOL_OPS = frozenset({"==", "!=", "<", "<=", ">", ">=", "and", "or", "not", "true"})


class Undecided(Exception):
    """A condition over symbolic values that the explorer must decide by cases."""

    def __init__(self, condition: Term) -> None:
        super().__init__(str(condition))
        self.condition = condition


class SplitNeeded(Exception):
    """An operation whose meaning depends on which of `alternatives` (conditions over
    unknowns, together covering every case) holds: the explorer splits the state on them
    and runs the step again on each side, where the path condition names one."""

    def __init__(self, alternatives: tuple[Term, ...]) -> None:
        super().__init__(" / ".join(render(a) for a in alternatives))
        self.alternatives = alternatives


# The path condition of the state whose step is being evaluated (set by the explorer): an
# operation that must split (a division by an unknown, an unknown index) reads here which
# side of the split it is on.
CURRENT_PATH: tuple[Term, ...] = ()


def path_has(condition: Term) -> bool:
    """Whether the current path condition contains this condition."""
    return condition in CURRENT_PATH


class SymbolicLimit(Exception):
    """An operation on a symbolic value that gilcheck does not decide (an array index, a
    channel capacity, a power): the path ends `inconclusive`."""


def as_condition(value: Value) -> Value:
    """A boolean, or a boolean term (an integer term stands for `term != 0`)."""
    if isinstance(value, Term):
        return value if value.op in BOOL_OPS else Term("!=", (value, 0))
    return truthy(value)


def _symbolic_binary(op: str, left: Value, right: Value) -> Value:
    if op in ("and", "or"):
        return Term(op, (as_condition(left), as_condition(right)))
    for side in (left, right):
        if not isinstance(side, Term | int):  # a string, none, a handle: never equal
            if op in ("==", "!="):
                return op == "!="
            raise EvalError(f"`{op}` needs integers, not {describe_value(side)}")
    if op == "**":
        if isinstance(right, int) and 0 <= right <= 8:  # a boolean is 0 or 1
            result: Value = 1
            for _ in range(right):
                result = binary("*", result, left)
            return result
        raise SymbolicLimit("a power with an unknown exponent")
    if op in ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">="):
        left = int(left) if isinstance(left, bool) else left
        right = int(right) if isinstance(right, bool) else right
        if op in ("/", "%") and isinstance(right, Term):
            nonzero, zero = Term("!=", (right, 0)), Term("==", (right, 0))
            if path_has(zero):
                raise EvalError("division by zero")
            if not path_has(nonzero):
                raise SplitNeeded((nonzero, zero))
        if op in ("/", "%") and right == 0:
            raise EvalError("division by zero")
        return Term(op, (left, right))
    raise EvalError(f"unknown operator {op}")


PY_TAGS = ("pyobj", "pyerr")
WRAP_TAGS = ("ok", "err")
HANDLE_TAGS = ("tx", "rx", "thread")


class EvalError(Exception):
    """An operation that has no value (division by zero, a type mismatch)."""


def is_python_value(value: Value) -> bool:
    """Whether a value holds a Python object or a PyErr anywhere inside it."""
    if isinstance(value, tuple) and value:
        tag = value[0]
        if tag in PY_TAGS:
            return True
        if tag in WRAP_TAGS:
            return is_python_value(value[1])
    return False


def is_handle(value: Value) -> bool:
    """Whether a value is a channel or thread handle."""
    return isinstance(value, tuple) and len(value) == 2 and value[0] in HANDLE_TAGS


def truthy(value: Value) -> bool:
    """The truth of a condition: bools and ints as in Python; other values are an error."""
    if isinstance(value, bool | int):
        return bool(value)
    if isinstance(value, Term):
        raise Undecided(as_condition(value))  # type: ignore[arg-type]
    raise EvalError(f"a condition must be a boolean, not {describe_value(value)}")


# Integers are exact, as in Python, up to this many bits (about 1,200 digits); beyond it an
# operation is an integer overflow, as it is in Rust, so values never grow without bound.
MAX_INT_BITS = 4096


def _bounded(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise EvalError(f"integer overflow: the result exceeds {MAX_INT_BITS} bits")
    return value


class _UnknownOperand(Exception):
    """An operand is a term: the operation builds a term (kept off the concrete path)."""


def _int(value: Value, op: str) -> int:
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, Term):
        raise _UnknownOperand
    raise EvalError(f"`{op}` needs integers, not {describe_value(value)}")


def binary(op: str, left: Value, right: Value) -> Value:
    """Evaluate a binary operator (``/`` truncates toward zero, as in Rust)."""
    if op == "==" or op == "!=":
        if left.__class__ is Term or right.__class__ is Term:
            return _symbolic_binary(op, left, right)
        return (left == right) if op == "==" else (left != right)
    if op in ("and", "or"):
        if left.__class__ is Term or right.__class__ is Term:
            return _symbolic_binary(op, left, right)
        lt, rt = truthy(left), truthy(right)
        return (lt and rt) if op == "and" else (lt or rt)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    try:
        a, b = _int(left, op), _int(right, op)
    except _UnknownOperand:
        return _symbolic_binary(op, left, right)
    if op == "+":
        return _bounded(a + b)
    if op == "-":
        return _bounded(a - b)
    if op == "*":
        if a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
            raise EvalError(f"integer overflow: the product exceeds {MAX_INT_BITS} bits")
        return _bounded(a * b)
    if op in ("/", "%"):
        if b == 0:
            raise EvalError("division by zero")
        q = abs(a) // abs(b)
        q = q if (a >= 0) == (b >= 0) else -q
        return q if op == "/" else a - q * b
    if op == "**":
        if b < 0:
            raise EvalError("negative exponent")
        if b > MAX_INT_BITS or (abs(a) > 1 and b * abs(a).bit_length() > MAX_INT_BITS):
            raise EvalError(f"integer overflow: the power exceeds {MAX_INT_BITS} bits")
        return a**b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    raise EvalError(f"unknown operator {op}")


def unary(op: str, operand: Value) -> Value:
    """Evaluate ``-e`` or ``not e``."""
    if isinstance(operand, Term):
        return Term(
            "not" if op == "not" else "neg", (as_condition(operand) if op == "not" else operand,)
        )
    if op == "not":
        return not truthy(operand)
    return -_int(operand, op)


def builtin(name: str, args: tuple[Value, ...]) -> Value:
    """Evaluate a value-building or value-testing builtin (``len`` is the explorer's)."""
    arg = args[0] if args else None
    if name in ("ok", "err"):
        return (name, arg)
    if name == "pyobj":
        return ("pyobj", arg)
    if name == "pyerr":
        return ("pyerr", arg)
    if name == "is_ok":
        return isinstance(arg, tuple) and arg[:1] == ("ok",)
    if name == "is_err":
        return isinstance(arg, tuple) and arg[:1] == ("err",)
    if name == "is_none":
        return arg is None
    raise EvalError(f"unknown builtin {name}")


def _render_term(term: Term, outer: int = 0) -> str:
    op, args = term.op, term.args
    if op in ("param", "any"):
        return str(args[1])
    level = PRECEDENCE.get(op, 8)

    def part(value: object, at: int) -> str:
        return _render_term(value, at) if isinstance(value, Term) else render(value)

    if level == 4 and isinstance(args[1], Term) and not isinstance(args[0], Term):
        # `n > 2`, not `2 < n`: the unknown first
        mirrored = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        return _render_term(Term(mirrored, (args[1], args[0])), outer)
    if op == "not":
        text = f"not {part(args[0], level)}"
    elif op == "neg":
        text = f"-{part(args[0], level)}"
    else:
        text = f"{part(args[0], level)} {op} {part(args[1], level + 1)}"
    return f"({text})" if level < outer else text


def render(value: Value) -> str:
    """A value as a spec would write it: ``err(pyerr("foo"))``, ``none``, ``true``."""
    if isinstance(value, Term):
        return _render_term(value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, tuple) and len(value) == 2:
        tag, inner = value
        if tag in ("tx", "rx"):
            return f"{'sender' if tag == 'tx' else 'receiver'} of channel #{inner}"
        if tag == "chan":
            return f"channel #{inner}"
        if tag == "thread":
            return f"thread #{inner}"
        return f"{tag}({render(inner)})"
    return repr(value)


def describe_value(value: Value) -> str:
    """A value for a message: as `render` writes it, except that a handle is named by what
    it is (`a thread handle`, `the sender of a channel`): the numbers `render` gives
    handles are the checker's own, never written in a spec."""
    if isinstance(value, tuple) and len(value) == 2:
        tag, inner = value
        if tag == "thread":
            return "a thread handle"
        if tag in ("tx", "rx"):
            return f"the {'sender' if tag == 'tx' else 'receiver'} of a channel"
        if tag == "chan":
            return "a global channel"
        if tag in WRAP_TAGS:
            return f"{tag}({describe_value(inner)})"
    return render(value)
