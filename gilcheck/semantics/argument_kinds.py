"""What a function does with its parameters, as far as its text shows, so that a call
passing a number where the function takes a lock (`call cpython_lock_acquire(0)`, the slot
numbers of older models) is a spec error with the way to pass the object itself, and a
call of a model helper that was retired names its replacement."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from gilcheck.source import Span
from gilcheck.syntax import ast

# Statement -> what its operand is, and the constructor that makes one.
_OPERAND_USES: dict[type, tuple[str, str]] = {
    ast.Acquire: ("a lock", "mutex()"),
    ast.Release: ("a lock", "mutex()"),
    ast.Lock: ("a lock", "mutex()"),
    ast.TryAcquire: ("a lock", "mutex()"),
    ast.Wait: ("an event, condvar, latch or barrier", "event()"),
    ast.Notify: ("a condvar", "condvar()"),
    ast.CallOnce: ("a once", "once()"),
    ast.SetEvent: ("an event", "event()"),
    ast.ClearEvent: ("an event", "event()"),
    ast.Join: ("a thread handle", "spawn f()"),
    ast.Recv: ("a channel", "channel(..)"),
    ast.TryRecv: ("a channel", "channel(..)"),
    ast.Send: ("a channel", "channel(..)"),
}

_SYNC_VERBS: dict[str, tuple[str, str]] = {
    "result": ("a future", "future()"),
    "complete": ("a future", "future()"),
    "countdown": ("a latch", "latch(n)"),
    "shutdown": ("a pool", "pool(n)"),
}


@dataclasses.dataclass(frozen=True)
class ParameterUse:
    """A parameter used as the operand of a statement: what it must be, where."""

    what: str
    constructor: str
    span: Span


def _nodes(node: object) -> Iterator[object]:
    yield node
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if isinstance(value, tuple):
                for item in value:
                    yield from _nodes(item)
            elif dataclasses.is_dataclass(value):
                yield from _nodes(value)


def _operand(node: object) -> tuple[ast.Ref, tuple[str, str]] | None:
    use = _OPERAND_USES.get(type(node))
    if use is not None:
        ref = getattr(node, "target", None) or getattr(node, "channel", None)
        ref = ref or getattr(node, "handle", None)
        return (ref, use) if isinstance(ref, ast.Ref) else None
    if isinstance(node, ast.SyncOp) and node.verb in _SYNC_VERBS:
        return node.target, _SYNC_VERBS[node.verb]
    return None


def parameter_uses(decl: ast.FnDecl) -> dict[str, ParameterUse]:
    """The parameters of `decl` its own body uses as the operand of a statement (the first
    such use of each), unless the body assigns the name first."""
    params = {p.name for p in decl.params}
    found: dict[str, ParameterUse] = {}
    for node in _nodes(decl.body):
        operand = _operand(node)
        if operand is None:
            continue
        ref, (what, constructor) = operand
        name = ref.name.name
        if name in params and ref.index is None and name not in found:
            found[name] = ParameterUse(what, constructor, ref.span)
    return found


def integer_argument(arg: ast.Expr) -> bool:
    """An argument that is plainly a number (`0`, `-1`)."""
    if isinstance(arg, ast.IntLit):
        return True
    return isinstance(arg, ast.Unary) and isinstance(arg.operand, ast.IntLit)


# Helpers of the bundled models that no longer exist -> what to write instead.
RETIRED_HELPERS: dict[str, str] = {
    "cpython_semaphore_init": "make the semaphore with its count: `let s = semaphore(2)` "
    "(or `semaphore s = 2` at the top), then `call cpython_semaphore_acquire(s)`",
    "cpython_barrier_init": "make the barrier with its parties: `let b = barrier(3)` "
    "(or `barrier b = 3` at the top), then `call cpython_barrier_wait(b)`",
    "cpython_condition_acquire": "a Condition is a condvar and its lock: "
    "`call cpython_rlock_acquire(lock)` (or `acquire lock` inside `python { }`)",
    "cpython_condition_release": "a Condition is a condvar and its lock: "
    "`call cpython_rlock_release(lock)`",
    "cpython_shared_queue_put": "declare the queue (`channel jobs: queue(0)`) and pass it: "
    "`call cpython_queue_put(jobs, v)`",
    "cpython_shared_queue_get": "declare the queue (`channel jobs: queue(0)`) and pass it: "
    "`let v = call cpython_queue_get(jobs)`",
}
