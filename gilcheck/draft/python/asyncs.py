"""asyncio: event loops run in a thread (`eventloop`), coroutines submitted to them
(`run_coroutine_threadsafe`, `call_soon_threadsafe`, `asyncio.run`), and `await` points
inside coroutines (`suspend { }`)."""

from __future__ import annotations

import ast

from gilcheck.draft.python import calls, exprs, methods, resources
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    UNKNOWN,
    Const,
    Coro,
    Data,
    Func,
    ListVal,
    Method,
    Res,
    Unknown,
    Value,
)


def asyncio_call(st: State, cn: str, node: ast.Call, *, used: bool, awaited: bool) -> Value:
    """A call of a function of `asyncio`."""
    what = cn.removeprefix("asyncio.")
    if what == "new_event_loop":
        return resources.make(st, "loop", cn, node, [], {}, None, True)
    args, kwargs = calls.arguments(st, node)
    if what in ("get_event_loop", "get_running_loop"):
        if st.f.loop:
            return Res("loop", st.f.loop, is_global=True)
        if what == "get_event_loop":  # outside a coroutine: the thread's loop, made once
            if st.default_loop is None:
                made = resources.make(st, "loop", cn, node, [], {}, "loop", True)
                st.default_loop = made if isinstance(made, Res) else None
            return st.default_loop or UNKNOWN
        return UNKNOWN
    if what == "run" and args and st.f.in_fork:
        coro = args[0]
        if isinstance(coro, Coro):
            return calls.call_func(
                st, coro.func, list(coro.args), {}, node, used=True, awaited=True
            )
        return UNKNOWN
    if what == "run" and args:
        name = st.global_name("asyncio_loop")
        st.declare(f"eventloop {name}", node, name)
        st.loops_started.add(name)
        fut = _schedule(st, args[0], name, node)
        if isinstance(fut, Res):
            return Data(st.temp("value", f"result {fut.spec}", node), plain=False, vague=True)
        return UNKNOWN
    if what == "run_coroutine_threadsafe" and len(args) >= 2:
        loop = args[1]
        if isinstance(loop, Res) and loop.kind == "loop":
            return _schedule(st, args[0], loop.spec, node)
        st.assume(node, f"`{st.source(node)}`: the loop is unknown, assumed not to block")
        return UNKNOWN
    if what in ("create_task", "ensure_future") and args and st.f.loop:
        return _schedule(st, args[0], st.f.loop, node)
    if what == "sleep":
        _suspend(st, node)
        return Const(None)
    if what == "gather" and awaited:
        futures = [_schedule(st, a, st.f.loop, node) if st.f.loop else a for a in args]
        results: list[Value] = []
        for f in futures:
            if isinstance(f, Res) and f.kind == "future":
                results.append(_await_future(st, f, node))
        return ListVal(results)
    if what in ("to_thread",) and awaited and args:
        pool = _default_executor(st, node)
        fut = methods.submit(st, pool, args[0], args[1:], kwargs, node, "fut")
        return _wrap(st, fut, node)
    if what == "wrap_future" and awaited and args:
        return _wrap(st, args[0], node)
    if what == "wait_for" and awaited and args:
        return await_value(st, args[0], node)
    if what in ("set_event_loop", "get_event_loop_policy", "iscoroutine"):
        return UNKNOWN
    return calls.unknown_call(st, node)


def loop_method(st: State, r: Res, call: methods.MethodCall) -> Value:
    """A method of an event loop."""
    name, node, args, _, hint = call
    if name in ("call_soon_threadsafe", "call_soon") and args:
        cb = args[0]
        if isinstance(cb, Func):
            methods.submit(st, r.spec, cb, args[1:], {}, node, hint, loop=r.spec, used=False)
        elif isinstance(cb, Method) and cb.name == "stop" and isinstance(cb.receiver, Res):
            methods.loop_stopped(st, cb.receiver.spec, node)
        else:
            st.assume(node, f"the callback of `{st.source(node)}` is not drafted")
        return UNKNOWN
    if name in ("create_task",) and args:
        return _schedule(st, args[0], r.spec, node)
    if name == "run_until_complete" and args:
        st.loops_started.add(r.spec)
        fut = _schedule(st, args[0], r.spec, node)
        if isinstance(fut, Res):
            return Data(
                st.temp(hint or "value", f"result {fut.spec}", node), plain=False, vague=True
            )
        return UNKNOWN
    if name == "run_in_executor" and len(args) >= 2:
        pool = args[0]
        spec = pool.spec if isinstance(pool, Res) and pool.kind == "pool" else None
        fut = methods.submit(
            st, spec or _default_executor(st, node), args[1], args[2:], {}, node, "fut"
        )
        return fut
    if name == "stop":
        methods.loop_stopped(st, r.spec, node)
        return UNKNOWN
    if name in ("close", "is_running", "is_closed", "time", "set_debug"):
        return UNKNOWN
    if name == "run_forever":
        raise st.refuse(
            node,
            f"`{st.source(node)}` outside a thread of its own",
            "run the loop in a thread (`threading.Thread(target=loop.run_forever)`), or "
            "write the spec by hand",
        )
    return calls.unknown_call(st, node)


def primitive_method(
    st: State, r: Res, name: str, node: ast.Call, args: list[Value], hint: str | None
) -> Value:
    """Methods of asyncio's own queue, event, lock and semaphore, used by the loop's
    tasks: the awaited ones wait without holding the loop (`suspend { }`)."""
    k, spec = r.kind, r.spec
    if k == "aqueue" and name == "put" and args:
        st.uses_cpython = True
        st.out(f"call cpython_asyncio_queue_put({spec}, {_item(st, args[0])})", node)
        return Const(None)
    if k == "aqueue" and name == "put_nowait" and args:
        st.out(f"send {spec}, {_item(st, args[0])}", node)
        return UNKNOWN
    if k == "aqueue" and name == "get":
        st.uses_cpython = True
        return Data(st.temp(hint or "item", f"call cpython_asyncio_queue_get({spec})", node), False)
    if k == "aqueue" and name == "get_nowait":
        st.temp(hint or "item", f"try_recv {spec}", node)
        return UNKNOWN
    if k == "aqueue" and name in ("qsize", "empty"):
        return Data(f"len({spec})" if name == "qsize" else f"len({spec}) == 0")
    if k == "aevent" and name in ("set", "clear"):
        st.out(f"{name} {spec}", node)
        return UNKNOWN
    if k == "aevent" and name == "wait":
        _waiting(st, f"wait {spec}", node)
        return Const(True)
    if k == "aevent" and name == "is_set":
        return Data(st.temp(hint or "is_set", f"wait {spec} timeout", node))
    if k in ("alock", "asemaphore") and name == "acquire":
        _waiting(st, f"acquire {spec}", node)
        return Const(True)
    if k in ("alock", "asemaphore") and name == "release":
        st.out(f"release {spec}", node)
        return Const(None)
    if name in ("locked", "full", "maxsize"):
        return UNKNOWN
    return calls.unknown_call(st, node)


def _item(st: State, value: Value) -> str:
    return exprs.message(st, value)


def _waiting(st: State, statement: str, node: ast.AST) -> None:
    """A statement a task waits in without holding the loop (outside a coroutine: as is)."""
    if not st.f.coroutine:
        st.out(statement, node)
        return
    with st.block("suspend", node):
        st.out(statement, node)


def await_(st: State, node: ast.Await) -> Value:
    """`await x`."""
    inner = node.value
    if isinstance(inner, ast.Call):
        value = calls.call(st, inner, awaited=True)
    else:
        value = exprs.evaluate(st, inner)
    return await_value(st, value, node)


def await_value(st: State, value: Value, node: ast.AST) -> Value:
    """Await a value already drafted: a coroutine runs in place, a future is waited for
    without holding the loop."""
    if isinstance(value, Coro):
        return calls.call_func(st, value.func, list(value.args), {}, node, used=True, awaited=True)
    if isinstance(value, Res) and value.kind == "future":
        if _from_loop(st, value):
            return _await_future(st, value, node)
        return _wrap(st, value, node)
    if isinstance(value, Unknown) and st.f.coroutine and isinstance(node, ast.Await):
        if not isinstance(node.value, ast.Call):
            st.assume(
                node,
                f"`{st.source(node)}` awaits something the draft does not know: "
                "assumed to complete",
            )
        _suspend(st, node)
    return value


def _from_loop(st: State, f: Res) -> bool:
    return f.spec in st.f.loop_futures


def _await_future(st: State, f: Res, node: ast.AST) -> Value:
    if not st.f.coroutine:
        return Data(st.temp("value", f"result {f.spec}", node), plain=False, vague=True)
    spec = st.temp("value", "none", node)
    with st.block("suspend", node):
        st.out(f"{spec} = result {f.spec}", node)
    return Data(spec, plain=False, vague=True)


def _wrap(st: State, f: Value, node: ast.AST) -> Value:
    if not isinstance(f, Res) or f.kind != "future":
        return UNKNOWN
    if not st.f.coroutine:
        return Data(st.temp("value", f"result {f.spec}", node), plain=False, vague=True)
    st.uses_cpython = True
    return Data(st.temp("value", f"call cpython_asyncio_wrap_future({f.spec})", node), False)


def _suspend(st: State, node: ast.AST) -> None:
    if not st.f.coroutine:
        return
    with st.block("suspend", node):
        st.out("skip", node)


def _schedule(st: State, coro: Value, loop: str, node: ast.AST) -> Value:
    if not isinstance(coro, Coro):
        st.assume(node, f"`{st.source(node)}` schedules something the draft does not know")
        return UNKNOWN
    fut = methods.submit(st, loop, coro.func, list(coro.args), {}, node, "fut", loop=loop)
    if isinstance(fut, Res):
        st.f.loop_futures.add(fut.spec)
    return fut


def _default_executor(st: State, node: ast.AST) -> str:
    for name in st.global_specs:
        if name.startswith("default_executor"):
            return name
    name = st.global_name("default_executor")
    st.declare(f"pool {name} = 5", node, name)
    return name
