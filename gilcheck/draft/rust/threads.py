"""Threads and pools: `thread::spawn`, tokio tasks and `spawn_blocking` (closures drafted
as spec functions of their captured variables), `block_on`, rayon's `join`, `install`
and parallel iterators (jobs on `rayon_global_pool`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.rust.context import Ctx, Val
from gilcheck.draft.rust.emit import Body
from gilcheck.draft.rust.kinds import Kind
from gilcheck.draft.rust.parse import named, text, unwrap_parens

if TYPE_CHECKING:
    from gilcheck.draft.rust.calls import Calls


def block_on(c: Calls, ctx: Ctx, node: Node, fut: Node) -> Val:
    """`rt.block_on(fut)`: the future runs on the calling thread (an async block or an
    async fn: drafted inline); a JoinHandle is waited for (`join`)."""
    f = unwrap_parens(fut)
    while f.type == "reference_expression" and named(f):  # `block_on(&mut rx)`
        f = unwrap_parens(named(f)[-1])
    v = c.value(ctx, f)
    if v.stmt and v.kind == Kind.HANDLE:  # `block_on(rt.spawn(..))`: wait for the task
        v = c.d.hoist(ctx, node, v, "handle")
    if v.stmt or f.type == "async_block":
        return v  # a receive, a crate async fn or an async block: run on this thread
    if v.kind == Kind.HANDLE:
        return Val(f"join {v.text}", Kind.PLAIN, stmt=True)
    if v.kind == Kind.RECEIVER:  # a oneshot receiver is a future of its message
        return Val(f"recv {v.text}", Kind.UNKNOWN, stmt=True)
    if f.type in ("call_expression", "macro_invocation"):
        return v  # drafted (or assumed) as the call
    c.d.assume(
        ctx,
        node,
        "the future given to {code} is not followed: assumed to complete without blocking",
    )
    return Val.none(Kind.UNKNOWN)


def chain_rayon(c: Calls, node: Node) -> Node | None:
    """The `par_iter()` call at the start of a method chain, if any."""
    cur: Node | None = node
    while cur is not None and cur.type == "call_expression":
        name, recv, _ = c.callee(cur)
        if name in (
            ".par_iter",
            ".into_par_iter",
            ".par_iter_mut",
            ".par_bridge",
            ".par_chunks",
        ):
            return cur
        cur = unwrap_parens(recv) if recv is not None else None
    return None


def spawn(c: Calls, ctx: Ctx, node: Node, args: list[Node], stem: str) -> Val:
    """`thread::spawn(move || ..)`, `tokio::spawn(async move { .. })`,
    `spawn_blocking(..)`: a new thread running the closure's spec `fn`."""
    call = closure_call(c, ctx, args, stem)
    return Val(f"{c.d.spec.spawn} {call}", Kind.HANDLE, stmt=True)


def closure_call(c: Calls, ctx: Ctx, args: list[Node], stem: str, params: bool = False) -> str:
    """The spec call `f(captured..)` of a closure argument (a crate fn passed by name:
    that fn)."""
    d = c.d
    closure = c.closure_arg(args, ctx)
    if not args:
        return "none()"
    if closure is None:
        arg = unwrap_parens(args[0])
        if arg.type == "call_expression":  # tokio::spawn(async_fn(a))
            fname = text(arg.child_by_field_name("function"))
            fn = d.crate.fns.get(fname)
            if fn is not None:
                spec = c.crate_fn(ctx, fn, arg)
                argv = c.arguments(ctx, arg, fn, named(arg.child_by_field_name("arguments") or arg))
                if spec is not None:
                    return f"{spec}({', '.join(argv)})"
        fn = c.fn_ref(ctx, arg)
        if fn is not None:  # thread::spawn(worker): the function, called with no data
            v = c.call_ref(ctx, arg, fn)
            if v.stmt:
                return v.text.removeprefix("call ")
            return _empty(c, ctx)  # beyond the inlining depth (an assumption)
    if closure is None:
        raise d.refuse(
            ctx,
            args[0],
            "the code a thread or task runs is not a closure or a function of the crate",
            "pass a closure (`move || ..`) or a function of the crate",
        )
    return d.closure_fn(ctx, closure, stem, pass_params=params)


def rayon_join(c: Calls, ctx: Ctx, node: Node, args: list[Node]) -> Val:
    """`rayon::join(|| a, || b)`: two jobs on rayon's pool; the caller waits for both."""
    d = c.d
    d.spec.use("rayon")
    futs = []
    for a in args[:2]:
        call = closure_call(c, ctx, [a], "rayon_job")
        f = d.spec.names.fresh("job")
        d.stmt(ctx, node, f"let {f} = submit rayon_global_pool, {call}")
        futs.append(f)
    return Val(f"call rayon_join({', '.join(futs)})", Kind.PLAIN, stmt=True)


def par_iter(c: Calls, ctx: Ctx, node: Node, start: Node, args: list[Node]) -> Val:
    """`xs.par_iter().map(|x| ..).collect()`: two jobs (two chunks) on rayon's pool
    running the closure; the caller waits for both."""
    d = c.d
    closures: list[Node] = []
    cur: Node | None = node
    while cur is not None and cur.type == "call_expression":
        _, recv, cargs = c.callee(cur)
        found = c.callable_arg(ctx, cargs) if cur != start else None
        if found is not None:
            closures.insert(0, found)
        if cur == start:
            break
        cur = unwrap_parens(recv) if recv is not None else None
    d.spec.use("rayon")
    if not closures:
        return Val.none()  # `xs.par_iter().sum()`: no code of the crate runs on the pool
    d.spec.writer.assume(ctx.where(node), "the parallel iterator is assumed split into 2 jobs")
    call = d.closure_fn(
        ctx, closures[-1] if len(closures) == 1 else closures[0], "par_job", pass_params=True
    )
    futs = []
    for _ in range(2):
        f = d.spec.names.fresh("job")
        d.stmt(ctx, node, f"let {f} = submit rayon_global_pool, {call}")
        futs.append(f)
    return Val(f"call rayon_join({', '.join(futs)})", Kind.PLAIN, stmt=True)


def _empty(c: Calls, ctx: Ctx) -> str:
    """A spec fn that does nothing (for code the draft does not follow, an assumption)."""
    name = c.d.spec.names.claim(f"{ctx.fn_name}_unfollowed")
    body = Body(f"fn {name}()", None)
    c.d.spec.fns.append(body)
    return f"{name}()"
