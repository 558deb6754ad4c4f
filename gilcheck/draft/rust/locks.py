"""Locks, condition variables and channel ends: guards held to the end of their block,
`drop`, condvar waits (with predicates over modelled data), channel constructors,
clones of senders and shared objects, the values sent."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.rust.closures import closure_params
from gilcheck.draft.rust.context import Ctx, Scope, Val
from gilcheck.draft.rust.emit import Op
from gilcheck.draft.rust.kinds import GIL, RESOURCES, Binding, Kind
from gilcheck.draft.rust.literals import escape, short
from gilcheck.draft.rust.parse import named, text, unwrap_parens
from gilcheck.draft.rust.vocabulary import CHANNEL_CTORS

if TYPE_CHECKING:
    from gilcheck.draft.rust.calls import Calls


def message(c: Calls, ctx: Ctx, node: Node, args: list[Node]) -> Val:
    """The value a send sends: a value the draft leaves out is sent as its source text
    (a `none` message would end the receiver's `for` loop, which a Rust value does
    not)."""
    v = c.d.hoist(ctx, node, c.value(ctx, args[0]) if args else Val.none())
    if v.text == "none" and args and text(args[0]) != "None":
        return Val('"' + escape(short(args[0])) + '"', Kind.PLAIN)
    return v


def channel(c: Calls, ctx: Ctx, node: Node, path: str, args: list[Node]) -> Val:
    """A channel constructor: the (sender, receiver) pair."""
    last = path.rsplit("::", 1)[-1]
    if "oneshot" in path:
        return Val("oneshot()", Kind.UNKNOWN, stmt=True, names=("tx", "rx"))
    if last == "channel" and args:  # tokio::sync::mpsc::channel(n)
        last = "bounded"
    kind = CHANNEL_CTORS[last]
    if kind == "bounded":
        n = text(args[0]).replace("_", "") if args else "1"
        if not n.isdigit():
            c.d.assume(ctx, node, "assumed a capacity of 1: {code}")
            n = "1"
        spec = "rendezvous" if n == "0" else n
        return Val(f"channel({spec})", Kind.UNKNOWN, stmt=True, names=("tx", "rx"))
    return Val("channel(unbounded)", Kind.UNKNOWN, stmt=True, names=("tx", "rx"))


def cloned(c: Calls, ctx: Ctx, node: Node, rv: Val) -> Val:
    """`x.clone()` / `Arc::clone(&x)`: a sender is cloned, a shared object aliased."""
    if rv.kind == Kind.SENDER:
        return Val(f"clone {rv.text}", Kind.SENDER, stmt=True)
    if rv.kind in (*RESOURCES, Kind.PAIR):
        return rv
    return rv if not rv.stmt else Val.none()


def drop(c: Calls, ctx: Ctx, node: Node, args: list[Node]) -> Val:
    """`drop(x)`: a guard releases its lock; a handle is dropped."""
    if not args:
        return Val.none()
    arg = unwrap_parens(args[0])
    if arg.type == "identifier":
        b = ctx.lookup(text(arg))
        if b is not None and b.kind == Kind.GUARD and b.target == GIL:
            if not b.released and ctx.body.depth == int(b.extra[0]) + 1:
                hoist_lets(c, ctx, int(b.extra[1]))
                ctx.body.close()
                b.released = True
            elif not b.released:
                raise c.d.refuse(
                    ctx,
                    node,
                    "a GILGuard dropped inside a block opened after it cannot be drafted",
                    "drop the GILGuard in the block where it was taken, or use with_gil",
                )
            return Val.none()
        if b is not None and b.kind == Kind.GUARD:
            if not b.released:
                c.d.stmt(ctx, node, f"release {b.target}")
                b.released = True
            return Val.none()
        if b is not None and b.holds:  # a collection or value holding guards
            for g in reversed(b.holds):
                if not g.released:
                    c.d.stmt(ctx, node, f"release {g.target}")
                    g.released = True
        if b is not None and b.kind in (Kind.SENDER, Kind.RECEIVER, Kind.HANDLE):
            return Val(f"drop {b.name}", Kind.PLAIN, stmt=True)
    return Val.none()


def hoist_lets(c: Calls, ctx: Ctx, opened: int) -> None:
    """Before a `with_gil {` opened for a GILGuard closes early (`drop(gil)`): its own
    `let x = ..` become `x = ..` after a `let x = none` before the block, so that the
    Rust variables stay visible after it."""
    ops = ctx.body.ops
    depth = 0
    hoisted: list[Op] = []
    for i in range(opened + 1, len(ops)):
        op = ops[i]
        if op.kind == "open":
            depth += 1
        elif op.kind == "close" and not op.text:
            depth -= 1
        elif op.kind == "stmt" and depth == 0 and re.match(r"let \w+ = ", op.text):
            name, rest = op.text[4:].split(" = ", 1)
            ops[i] = Op("stmt", f"{name} = {rest}", op.origin)
            hoisted.append(Op("stmt", f"let {name} = none", op.origin))
    ops[opened:opened] = hoisted


def lock(c: Calls, ctx: Ctx, node: Node, lockname: str, word: str, write: bool) -> Val:
    """`m.lock()`: take the lock now; the guard is held to the end of the statement
    unless a `let` keeps it (then to the end of its block, or `drop`)."""
    c.d.stmt(ctx, node, f"{word} {lockname}")
    g = Binding(Kind.GUARD, (), target=lockname, write=write)
    ctx.temps.append(g)
    return Val("none", Kind.GUARD, guard=g)


def lock_detached(c: Calls, ctx: Ctx, node: Node, lockname: str) -> Val:
    """PyO3's `MutexExt::lock_py_attached(py)`: wait for the mutex detached from Python
    (the GIL released while waiting), then hold it as `lock()` does."""
    ctx.body.open("allow_threads", ctx.where(node))
    c.d.stmt(ctx, node, f"acquire {lockname}")
    ctx.body.close()
    g = Binding(Kind.GUARD, (), target=lockname, write=True)
    ctx.temps.append(g)
    return Val("none", Kind.GUARD, guard=g)


def condvar(c: Calls, ctx: Ctx, node: Node, cv: str, name: str, args: list[Node]) -> Val:
    """`cv.wait(guard)`, `wait_while`, `wait_timeout`, `notify_one`, `notify_all`."""
    d = c.d
    if name in ("notify_one", "notify"):
        return Val(f"notify {cv}", Kind.PLAIN, stmt=True)
    if name in ("notify_all", "notify_waiters"):
        return Val(f"notify_all {cv}", Kind.PLAIN, stmt=True)
    if name.startswith("wait") and args:
        gv = c.value(ctx, args[0])
        g = gv.guard
        if g is None:
            d.assume(ctx, node, "assumed not to block: {code}")
            return Val.none()
        if name in ("wait_while", "wait_timeout_while") and len(args) > 1:
            cond = predicate(c, ctx, g, args[-1])
            if cond is not None:
                timed = " timeout" if "timeout" in name else ""
                ctx.body.open(f"while {cond}", ctx.where(node))
                ctx.body.stmt(f"wait {cv}, {g.target}{timed}", ctx.where(node))
                ctx.body.close()
                return Val("none", Kind.GUARD, guard=g)
            d.assume(
                ctx,
                node,
                "the condition of {code} is assumed true when the wait starts "
                "(it waits at least once)",
            )
        timed = " timeout" if "timeout" in name else ""
        d.stmt(ctx, node, f"wait {cv}, {g.target}{timed}")
        return Val("none", Kind.GUARD, guard=g)
    d.assume(ctx, node, "assumed not to block: {code}")
    return Val.none()


def predicate(c: Calls, ctx: Ctx, g: Binding, closure: Node) -> str | None:
    """The condition of `wait_while(guard, |v| cond)` over the mutex's modelled data."""
    closure = unwrap_parens(closure)
    if closure.type != "closure_expression":
        return None
    scope = Scope()
    for p in closure_params(closure):
        scope.vars[p] = Binding(Kind.GUARD, (), target=g.target)
    ctx.scopes.append(scope)
    try:
        body = closure.child_by_field_name("body") or closure
        if body.type == "block" and len(named(body)) == 1:
            body = named(body)[0]
        return c.d.pure_condition(ctx, body)
    finally:
        ctx.scopes.pop()
