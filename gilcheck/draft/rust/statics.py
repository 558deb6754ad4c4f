"""Statics the spec declares at the top: locks, `Once`/`OnceLock`/`PyOnceLock`
(`call_once`), `GILOnceCell` (checked then set, never blocking), lazily initialised
values (`LazyLock`, `Lazy`, `lazy_static!`) whose initializer runs at first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.rust import locks, threads
from gilcheck.draft.rust.closures import closure_params
from gilcheck.draft.rust.context import Ctx, Scope, Val
from gilcheck.draft.rust.kinds import Binding, Kind
from gilcheck.draft.rust.vocabulary import HARMLESS, PASSTHROUGH

if TYPE_CHECKING:
    from gilcheck.draft.rust.calls import Calls


def static_method(c: Calls, ctx: Ctx, node: Node, name: str, method: str, args: list[Node]) -> Val:
    """A method of a static: a lock, a once-cell, a lazily initialised value."""
    d = c.d
    st = d.crate.statics[name]
    b = d.spec.statics[name]
    if st.kind == "mutex" and method in ("lock", "blocking_lock"):
        return locks.lock(c, ctx, node, b.name, "acquire", True)
    if st.kind == "mutex" and method == "lock_py_attached":
        return locks.lock_detached(c, ctx, node, b.name)
    if st.kind == "rwlock" and method in ("read", "write"):
        return locks.lock(c, ctx, node, b.name, "acquire_" + method, method == "write")
    if st.kind == "condvar":
        return locks.condvar(c, ctx, node, b.name, method, args)
    if st.kind == "once" and method in ("call_once", "call_once_force"):
        call_once(c, ctx, node, b.name, c.callable_arg(ctx, args))
        return Val.none()
    if st.kind in ("once", "oncelock") and method in (
        "call_once_py_attached",
        "call_once_force_py_attached",
        "get_or_init_py_attached",
    ):
        once_detached(c, ctx, node, b.name, c.callable_arg(ctx, args))
        return Val.none(Kind.UNKNOWN)
    if st.kind in ("oncelock", "py_once_lock") and method in (
        "get_or_init",
        "get_or_try_init",
        "get_or_init_py_attached",
    ):
        closure = c.callable_arg(ctx, args)
        if st.kind == "py_once_lock":
            once_detached(c, ctx, node, b.name, closure)
        else:
            call_once(c, ctx, node, b.name, closure)
        return Val.none(Kind.UNKNOWN)
    if st.kind == "gil_once_cell" and method in (
        "get_or_init",
        "get_or_try_init",
        "import",
        "get_or_try_init_type_ref",
    ):
        closure = c.callable_arg(ctx, args)
        ctx.body.open("with_gil", ctx.where(node))
        ctx.body.open(f"if not {b.name}", ctx.where(node))
        if method == "import" or closure is None:
            c.python(ctx, node, "import")
        else:
            closure_body(c, ctx, closure)
        ctx.body.stmt(f"{b.name} = true", ctx.where(node))
        ctx.body.close()
        ctx.body.close()
        return Val.none(Kind.PYVAL)
    if method in ("get", "set", "is_completed"):
        c.effects(ctx, args)  # `CELL.set(make())`: the value is made first
        return Val.none(Kind.UNKNOWN)
    if st.kind == "lazy" and "Runtime" in st.type_text:
        if method == "block_on" and args:
            return threads.block_on(c, ctx, node, args[-1])
        if method in ("spawn", "spawn_blocking"):
            return threads.spawn(c, ctx, node, args, "task")
    if st.kind == "lazy":
        lazy_init(c, ctx, node, name)
        rv = Val(b.name, b.kind, names=b.names)
        return method_on(c, ctx, node, rv, method, args)
    d.assume(ctx, node, "assumed not to block: {code}")
    c.effects(ctx, args)
    return Val.none(Kind.UNKNOWN)


def method_on(c: Calls, ctx: Ctx, node: Node, rv: Val, method: str, args: list[Node]) -> Val:
    """A method on the value of a lazy static (its initializer has run)."""
    if method in PASSTHROUGH or method in HARMLESS or method in ("clone", "to_string"):
        c.effects(ctx, args)
        return Val.none()
    c.d.assume(ctx, node, "assumed not to block: {code}")
    c.effects(ctx, args)
    return Val.none(Kind.UNKNOWN)


def lazy_init(c: Calls, ctx: Ctx, node: Node, name: str) -> None:
    """The first use of a lazy static runs its initializer once; others wait for it."""
    st = c.d.crate.statics[name]
    b = c.d.spec.statics[name]
    once = b.extra[0] if b.extra else b.name
    ctx.body.open(f"call_once {once}", ctx.where(node))
    if st.init is not None:
        saved = ctx.origin_at
        ctx.origin_at = ctx.where(node)  # the initializer is drafted at its first use
        if st.init.type in ("identifier", "scoped_identifier"):
            v = c.run_callable(ctx, st.init, st.init)
            if v.stmt:
                c.d.stmt(ctx, st.init, v.text)
        else:
            c.d.block(ctx, st.init)
        ctx.origin_at = saved
    ctx.body.close()


def once_detached(c: Calls, ctx: Ctx, node: Node, once: str, closure: Node | None) -> None:
    """PyO3's `PyOnceLock`, `OnceExt::call_once_py_attached`,
    `OnceLockExt::get_or_init_py_attached`: wait for the once detached from Python (the
    GIL released), run the initializer attached."""
    ctx.body.open("allow_threads", ctx.where(node))
    ctx.body.open("call_once " + once, ctx.where(node))
    ctx.body.open("with_gil", ctx.where(node))
    closure_body(c, ctx, closure)
    ctx.body.close()
    ctx.body.close()
    ctx.body.close()


def call_once(c: Calls, ctx: Ctx, node: Node, once: str, closure: Node | None) -> None:
    """`call_once o { initializer }`."""
    ctx.body.open(f"call_once {once}", ctx.where(node))
    closure_body(c, ctx, closure)
    ctx.body.close()


def closure_body(c: Calls, ctx: Ctx, closure: Node | None) -> None:
    """A closure\'s body drafted in place (an initializer)."""
    if closure is None:
        return
    if closure.type not in ("closure_expression", "async_block"):  # passed by name
        v = c.run_callable(ctx, closure, closure)
        if v.stmt:
            c.d.stmt(ctx, closure, v.text)
        return
    scope = Scope()
    for p in closure_params(closure):
        scope.vars[p] = Binding(Kind.UNKNOWN)
    body = closure.child_by_field_name("body") or closure
    c.d.inline_closure(ctx, closure, body, None, False, scope)
