"""Guards and scopes: a lock taken by a guard is released at the end of its block, at
`drop`, before an early exit; a temporary guard at the end of its statement; writes
through a guard of a mutex whose data is modelled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.model import Origin
from gilcheck.draft.rust.context import Ctx, Val
from gilcheck.draft.rust.emit import Op
from gilcheck.draft.rust.kinds import GIL, Binding, Kind
from gilcheck.draft.rust.parse import named, text

if TYPE_CHECKING:
    from gilcheck.draft.rust.translate import Drafter


def held(ctx: Ctx) -> list[Binding]:
    """Every guard of the scopes open now, outermost first."""
    return [g for s in ctx.scopes for g in s.guards]


def end_scope(d: Drafter, ctx: Ctx, node: Node) -> None:
    """Leave a scope: a `thread::scope` joins its threads; guards are released."""
    scope = ctx.scopes.pop()
    for h in scope.handles:
        ctx.body.stmt(f"join {h}", end_of(d, ctx, node))
    release_all(d, ctx, scope.guards, end_of(d, ctx, node))


def end_of(d: Drafter, ctx: Ctx, node: Node) -> Origin:
    """The origin of what happens where a block ends (its `}`)."""
    if ctx.origin_at is not None:
        return ctx.origin_at
    row, column = node.end_point.row, node.end_point.column
    return ctx.src.origin(row + 1, max(column, 1))


def release_all(d: Drafter, ctx: Ctx, guards: list[Binding], where: Origin | None) -> None:
    """Release guards still held, the last taken first."""
    for g in reversed(guards):
        if not g.released:
            release(d, ctx, g, where)
            g.released = True


def release(d: Drafter, ctx: Ctx, g: Binding, where: Origin | None) -> None:
    """Release one guard's lock. When only plain statements were written since its
    `acquire` (a temporary guard, a short block), they become `lock m { .. }`."""
    if g.target == GIL:  # a GILGuard: the `with_gil {` opened where it was taken ends
        ctx.body.close()
        return
    ops = ctx.body.ops
    words = {"acquire": "lock", "acquire_write": "write", "acquire_read": "read"}
    takes = {f"{w} {g.target}" for w in words}
    i = len(ops) - 1
    while i >= 0 and ops[i].kind == "stmt" and ops[i].text not in takes:
        i -= 1
    handed = tuple(f"call {f}(" for f in d.spec.returned)  # calls that take a lock
    flat = all(  # no scope change, and the `acquire` found is this guard's
        not op.text.startswith(("let ", "release ")) and not any(h in op.text for h in handed)
        for op in ops[i + 1 :]
    )
    if i >= 0 and ops[i].kind == "stmt" and len(ops) - i <= 4 and flat:
        taken = ops[i]
        inner = ops[i + 1 :] or [Op("stmt", "skip", taken.origin)]
        del ops[i:]
        ctx.body.open(f"{words[taken.text.split()[0]]} {g.target}", taken.origin)
        ops.extend(inner)
        ctx.body.close()
        return
    ctx.body.stmt(f"release {g.target}", where)


def flush_temps(d: Drafter, ctx: Ctx, node: Node | None = None) -> None:
    """Release the temporary guards of the statement just drafted (`node`)."""
    temps, ctx.temps = ctx.temps, []
    for g in reversed(temps):
        if not g.released:
            release(d, ctx, g, ctx.where(node) if node is not None else None)
            g.released = True


def write_through_guard(d: Drafter, ctx: Ctx, node: Node, left: Node, rv: Val) -> bool:
    """`*guard = v` / `*guard += v` on a mutex whose data is modelled: the data var is
    written (one step, under the lock)."""
    if left.type != "unary_expression" or not text(left).startswith("*"):
        return False
    inner = named(left)
    gv = d.value(ctx, inner[-1]) if inner else Val.none()
    if gv.guard is None:
        return False
    var = d.spec.data_var(gv.guard.target)
    if var is None:
        return False
    if rv.stmt or rv.kind != Kind.PLAIN or rv.text == "none":
        d.assume(ctx, node, "the value written by {code} is not modelled")
        return True
    op = text(node.child_by_field_name("operator")) if node.type != "assignment_expression" else "="
    if op == "=":
        d.stmt(ctx, node, f"{var} = {rv.text}")
    elif op in ("+=", "-=", "*=", "/=", "%="):
        d.stmt(ctx, node, f"{var} = {var} {op[0]} ({rv.text})")
    else:
        d.assume(ctx, node, "the value written by {code} is not modelled")
    return True


def release_on_exit(
    d: Drafter, ctx: Ctx, guards: list[Binding], node: Node, keep: Binding | None = None
) -> None:
    """Before an early exit (`return`, `break`): release the guards still held, without
    marking them released (the path that does not exit still holds them); `keep` is a
    guard returned to the caller."""
    for g in reversed(guards):
        if (
            not g.released and g.target != GIL and g is not keep
        ):  # leaving the block leaves `with_gil`
            ctx.body.stmt(f"release {g.target}", ctx.where(node))


def leave_loop(d: Drafter, ctx: Ctx, node: Node) -> None:
    """Before `break`/`continue`: release the guards of the scopes inside the loop."""
    guards: list[Binding] = []
    for scope in reversed(ctx.scopes):
        guards = scope.guards + guards
        if scope.loop:
            break
    for g in reversed(guards):
        if not g.released and g.target != GIL:
            ctx.body.stmt(f"release {g.target}", ctx.where(node))


def hand_back(d: Drafter, ctx: Ctx, node: Node, g: Binding) -> bool:
    """A guard returned by a crate fn (`fn take() -> MutexGuard<..> { M.lock().unwrap() }`)
    is held by its caller: the fn returns without releasing it (marked released here),
    and the lock is noted for the caller, which holds it as its own guard. A lock the
    caller cannot name (a local one) is released at the return, an assumption."""
    if not ctx.returns_guard or g.target == GIL or g.released:
        return False
    global_locks = {b.name for b in d.spec.statics.values()} | set(d.spec.unknown_locks.values())
    if g.target in global_locks:
        where = g.target
    elif g.target in ctx.params:
        where = f"#{ctx.params.index(g.target)}"
    else:
        d.assume(ctx, node, "the guard returned by {code} is assumed released when it returns")
        return False
    known = d.spec.returned.setdefault(ctx.fn_name, where)
    if known != where:
        d.assume(ctx, node, "the guard returned by {code} is assumed to be of one lock")
    g.released = True  # not released here (an early `return` puts this back)
    return True


class Branches:
    """The guards released along alternative branches (`choose`, the arms of a `match`):
    each branch starts from the state before them; after them a guard counts as
    released only when every branch released it (one that returned, released it)."""

    def __init__(self, ctx: Ctx) -> None:
        self.start = [(g, g.released) for g in held(ctx) + ctx.temps]
        self.ends: list[list[bool]] = []

    def next(self) -> None:
        """Between two branches."""
        self.ends.append([g.released for g, _ in self.start])
        for g, released in self.start:
            g.released = released

    def done(self) -> None:
        """After the last branch."""
        self.next()
        for i, (g, _) in enumerate(self.start):
            g.released = all(end[i] for end in self.ends)
