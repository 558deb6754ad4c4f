"""`with` (locks, executors, objects with `__enter__`/`__exit__`, `@contextmanager`
generators) and `try` (handlers as choices, `else`, `finally`)."""

from __future__ import annotations

import ast

from gilcheck.draft.python import branches, calls, exprs, functions, stmts
from gilcheck.draft.python.ir import Block, Line
from gilcheck.draft.python.program import FunctionInfo, dotted
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    UNKNOWN,
    Const,
    Func,
    Instance,
    Res,
    Unknown,
    Value,
)


def with_statement(st: State, s: ast.With | ast.AsyncWith, items: list[ast.withitem]) -> None:
    if not items:
        stmts.block(st, s.body, inline=True)
        return
    item, rest = items[0], items[1:]
    hint = item.optional_vars.id if isinstance(item.optional_vars, ast.Name) else None
    ctx = item.context_expr
    generator = _context_generator(st, ctx)
    if generator is not None and isinstance(ctx, ast.Call):
        _with_generator(st, s, item, rest, generator, ctx)
        return
    if isinstance(ctx, ast.Call):
        value = calls.call(st, ctx, hint=hint, global_ok=st.f.is_module and st.f.loop_depth == 0)
    else:
        value = exprs.evaluate(st, ctx)
    if value == Const(None):
        from gilcheck.draft.python import raising

        raising.raise_here(st, s)  # `with None:` raises (no `__enter__`)
        return
    if item.optional_vars is not None and not (
        isinstance(value, Res) and value.kind in ("mutex", "rlock", "semaphore", "condvar")
    ):
        stmts.store(st, item.optional_vars, value, s)
    if isinstance(value, Res) and value.kind in ("mutex", "rlock", "semaphore", "condvar"):
        if isinstance(s, ast.AsyncWith):
            st.assume(s, f"`async with` on a threading lock: `{st.source(ctx)}`")
        lock = value.lock if value.kind == "condvar" else value.spec
        with st.block(f"lock {lock}", s):
            with_statement(st, s, rest)
        return
    if isinstance(value, Res) and value.kind in ("alock", "asemaphore"):
        _async_lock(st, s, rest, value, ctx)
        return
    if isinstance(value, Res) and value.kind == "pool":
        with_statement(st, s, rest)
        st.out(f"shutdown {value.spec}", s)
        return
    if isinstance(value, Instance):
        enter = calls.find_method(st, value.cls, "__enter__")
        leave = calls.find_method(st, value.cls, "__exit__")
        if enter is not None:
            calls.call_func(st, Func(enter.name, value), [], {}, s, used=False)
        with_statement(st, s, rest)
        if leave is not None:
            calls.call_func(st, Func(leave.name, value), [UNKNOWN] * 3, {}, s, used=False)
        return
    if isinstance(s, ast.AsyncWith) or not isinstance(ctx, ast.Call) or isinstance(value, Unknown):
        # an object the draft does not follow (it may be a lock): never dropped silently
        st.assume(s, f"the context manager `{st.source(ctx)}` is assumed not to block")
    with_statement(st, s, rest)


def _async_lock(
    st: State, s: ast.With | ast.AsyncWith, rest: list[ast.withitem], lock: Res, ctx: ast.expr
) -> None:
    """`async with lock:` on an `asyncio.Lock`: the task waits for it without holding
    the loop, and releases it when the block ends (also through a `return`)."""
    from gilcheck.draft.python import asyncs

    f = st.f
    asyncs.primitive_method(st, lock, "acquire", _call_on(ctx, "acquire", s), [], None)
    release = ast.copy_location(ast.Expr(value=_call_on(ctx, "release", s)), s)
    f.finally_stack.append([release])
    try:
        with_statement(st, s, rest)
    finally:
        f.finally_stack.pop()
    if not f.dead:
        st.out(f"release {lock.spec}", s)


def _call_on(receiver: ast.expr, method: str, where: ast.AST) -> ast.Call:
    call = ast.Call(
        func=ast.Attribute(value=receiver, attr=method, ctx=ast.Load()), args=[], keywords=[]
    )
    ast.copy_location(call, where)
    ast.fix_missing_locations(call)
    return call


def _context_generator(st: State, ctx: ast.expr) -> FunctionInfo | None:
    """The program's `@contextmanager` generator a `with` calls, if any."""
    if not isinstance(ctx, ast.Call):
        return None
    target = exprs.peek(st, ctx.func)
    if not isinstance(target, Func):
        return None
    info = calls.function_info(st, target)
    if info is None or not any(
        (dotted(d) or "").endswith("contextmanager") for d in info.node.decorator_list
    ):
        return None
    return info


def _with_generator(
    st: State,
    s: ast.With | ast.AsyncWith,
    item: ast.withitem,
    rest: list[ast.withitem],
    info: FunctionInfo,
    ctx: ast.Call,
) -> None:
    """`with cm():` on a `@contextmanager` generator: its code in place, the `with`
    body where it yields (so what it holds around the `yield` is held by the body)."""
    f = st.f
    args, kwargs = calls.arguments(st, ctx)
    target = exprs.peek(st, ctx.func)
    instance = target.instance if isinstance(target, Func) else None
    caller = (f.env, f.globals_declared, f.module, f.inline_init)
    gen_env: dict[str, Value] = dict(functions.bind(info, args, kwargs, instance))
    used = [False]

    def at_yield() -> None:
        if used[0]:
            return
        used[0] = True
        inside = (f.env, f.globals_declared, f.module, f.inline_init)
        f.env, f.globals_declared, f.module, f.inline_init = caller
        try:
            if item.optional_vars is not None:
                stmts.store(st, item.optional_vars, UNKNOWN, s)
            with_statement(st, s, rest)
        finally:
            f.env, f.globals_declared, f.module, f.inline_init = inside

    f.yield_hooks.append(at_yield)
    f.env, f.globals_declared, f.module, f.inline_init = gen_env, set(), info.module, True
    try:
        stmts.block(st, info.node.body, inline=True)
    finally:
        f.yield_hooks.pop()
        f.env, f.globals_declared, f.module, f.inline_init = caller
    if not used[0]:
        st.assume(
            s,
            f"`{st.source(ctx)}` does not yield where the draft sees it: its "
            "`with` body is not drafted",
        )


def try_statement(st: State, s: ast.Try | ast.TryStar) -> None:
    f = st.f
    f.finally_stack.append(s.finalbody)
    f.handlers += 1 if s.handlers else 0
    try:
        stmts.block(st, s.body, inline=True)
    finally:
        f.finally_stack.pop()
        f.handlers -= 1 if s.handlers else 0
    dead = st.f.dead
    st.f.dead = False
    for handler in s.handlers:
        # an exception may or may not have happened: the handler is a choice (written only
        # when it drafts to something)
        start = branches.copy_env(st)
        with st.capture() as drafted:
            stmts.block(st, handler.body)
        if drafted:
            choice = Block("choose", st.origin(handler), [Line("skip")])
            choice.tails.append(("or", drafted))
            st.f.blocks[-1].append(choice)
            end = branches.copy_env(st)
            env, genv = branches.merge(start[0], end[0]), branches.merge(start[1], end[1])
        else:
            env, genv = start
        if st.f.env is not st.genv:
            st.f.env.clear()
            st.f.env.update(env)
        st.genv.clear()
        st.genv.update(genv)
    st.f.dead = dead
    if not dead:
        stmts.block(st, s.orelse, inline=True)
    saved_dead = st.f.dead
    st.f.dead = False
    stmts.block(st, s.finalbody, inline=True)
    st.f.dead = saved_dead or st.f.dead
