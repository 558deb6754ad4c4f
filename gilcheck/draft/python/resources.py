"""Making synchronisation objects: a `threading.Lock()` becomes a declared `mutex` when
it is made once at module level (or as an attribute of an object made once there), a
run-time `mutex()` otherwise; queues are always declared channels, as CPython's models
share them."""

from __future__ import annotations

import ast

from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import Const, Res, Value

_COUNT_HINT = "give it a constant count, or write this part of the spec by hand"

_SPEC_KIND = {
    "alock": "mutex",
    "aevent": "event",
    "mutex": "mutex",
    "rlock": "rlock",
    "event": "event",
    "condvar": "condvar",
    "semaphore": "semaphore",
    "barrier": "barrier",
}


def make(
    st: State,
    kind: str,
    canonical: str,
    node: ast.Call,
    args: list[Value],
    kwargs: dict[str, Value],
    hint: str | None,
    global_ok: bool,
) -> Value:
    """The resource a constructor call makes (declared or made at run time)."""
    base = hint or (kind[1:] if kind.startswith("a") else kind)  # `alock` -> `lock`
    if kind in ("queue", "mpqueue", "loop", "aqueue"):
        global_ok = True
    if kind == "condvar":
        return _condition(st, node, args, kwargs, base, global_ok)
    count = _count(st, kind, canonical, node, args, kwargs)
    if count < 0:
        return _pool_of_unknown_size(st, node, base, global_ok)
    if global_ok:
        name = st.global_name(base)
        st.declare(_declaration(st, kind, name, count, node), node, name)
        res = Res(kind, name, is_global=True)
        if kind == "queue" and st.program.uses_task_done and canonical != "queue.SimpleQueue":
            unf = st.global_name(f"{name}_unfinished")
            st.declare(f"channel {unf}: queue(0)", node, unf)
            res = Res(kind, name, unfinished=unf, is_global=True)
        if kind == "loop":
            st.loops_declared.append((name, node))
        if kind == "future":
            st.out(f"{name} = future()", node)
        return res
    spec = st.f.namer.fresh(base)
    ctor = {
        "semaphore": f"semaphore({count})",
        "asemaphore": f"semaphore({count})",
        "barrier": f"barrier({count})",
        "alock": "mutex()",
        "aevent": "event()",
    }.get(kind)
    if kind == "pool":
        ctor = f"pool({count})"
    if kind == "future":
        ctor = "future()"
    st.assign_spec(spec, ctor or f"{kind}()", node)
    return Res(kind, spec)


def _declaration(st: State, kind: str, name: str, count: int, node: ast.Call) -> str:
    if kind in ("queue", "aqueue"):
        return f"channel {name}: queue({count})"
    if kind == "asemaphore":
        return f"semaphore {name} = {count}"
    if kind == "mpqueue":
        return f"channel {name}: rendezvous"
    if kind == "pool":
        return f"pool {name} = {count}"
    if kind == "loop":
        return f"eventloop {name}"
    if kind == "future":
        return f"var {name} = none"
    if kind in ("semaphore", "barrier"):
        return f"{kind} {name} = {count}"
    return f"{_SPEC_KIND[kind]} {name}"


def _count(
    st: State,
    kind: str,
    canonical: str,
    node: ast.Call,
    args: list[Value],
    kwargs: dict[str, Value],
) -> int:
    keyword = {
        "asemaphore": "value",
        "aqueue": "maxsize",
        "semaphore": "value",
        "barrier": "parties",
        "queue": "maxsize",
        "mpqueue": "maxsize",
        "pool": "max_workers",
    }.get(kind)
    if keyword is None:
        return 0
    value = args[0] if args else kwargs.get(keyword)
    default = {
        "semaphore": 1,
        "asemaphore": 1,
        "queue": 0,
        "aqueue": 0,
        "mpqueue": 0,
        "pool": 5,
    }.get(kind)
    if value is None or (isinstance(value, Const) and value.value is None):
        if kind == "barrier":
            raise st.refuse(node, "a Barrier without a number of parties", _COUNT_HINT)
        if kind == "pool":
            st.assume(
                node,
                "ThreadPoolExecutor() with the default number of workers assumed to have 5 "
                "(min(32, cpu_count + 4) on a 1-CPU machine)",
            )
        return default or 0
    if isinstance(value, Const) and isinstance(value.value, int) and value.value >= 0:
        if kind in ("barrier", "pool") and value.value < 1:
            raise st.refuse(
                node, f"`{st.source(node)}` with fewer than one party or worker", _COUNT_HINT
            )
        return int(value.value)
    if kind in ("barrier", "semaphore", "asemaphore"):
        raise st.refuse(node, f"the count of `{st.source(node)}` is not a constant", _COUNT_HINT)
    if kind == "pool":
        return -1
    fallback = 1 if kind in ("queue", "mpqueue") and canonical != "queue.SimpleQueue" else 2
    st.assume(node, f"`{st.source(node)}`: its size is not a constant, assumed {fallback}")
    return fallback


def _pool_of_unknown_size(st: State, node: ast.Call, base: str, global_ok: bool) -> Value:
    """`ThreadPoolExecutor(max_workers=n)` with `n` unknown: one worker (where a task
    waiting for another starves) or four."""
    st.assume(
        node,
        f"`{st.source(node)}`: its size is not a constant, drafted as 1 or 4 workers",
    )
    if global_ok:
        name = st.global_name(base)
        st.declare(f"var {name} = none", node, name)
    else:
        name = st.f.namer.fresh(base)
        st.assign_spec(name, "none", node)
    with st.block("choose", node) as b:
        st.out(f"{name} = pool(1)", node)
    with st.tail(b, "or"):
        st.out(f"{name} = pool(4)", node)
    return Res("pool", name, is_global=global_ok)


def _condition(
    st: State,
    node: ast.Call,
    args: list[Value],
    kwargs: dict[str, Value],
    base: str,
    global_ok: bool,
) -> Value:
    given = args[0] if args else kwargs.get("lock")
    if isinstance(given, Res) and given.kind in ("mutex", "rlock"):
        lock = given.spec
        lock_global = given.is_global
    else:
        if global_ok:
            lock = st.global_name(f"{base}_lock")
            st.declare(f"rlock {lock}", node, lock)
        else:
            lock = st.f.namer.fresh(f"{base}_lock")
            st.assign_spec(lock, "rlock()", node)
        lock_global = global_ok
    if global_ok and lock_global:
        name = st.global_name(base)
        st.declare(f"condvar {name}", node, name)
        return Res("condvar", name, lock=lock, is_global=True)
    spec = st.f.namer.fresh(base)
    st.assign_spec(spec, "condvar()", node)
    return Res("condvar", spec, lock=lock)
