"""Methods of the objects the draft knows: locks, conditions, events, semaphores,
barriers, queues, pools, futures, event loops, threads and processes, lists of them,
loggers, and instances of the program's classes."""

from __future__ import annotations

import ast
from typing import NamedTuple

from gilcheck.draft.python import calls, exprs, functions
from gilcheck.draft.python.ir import Line, Node
from gilcheck.draft.python.knowledge import HARMLESS_METHODS, LOG_LEVELS, RISKY_METHODS
from gilcheck.draft.python.program import FunctionInfo, canonical
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    OPAQUE,
    UNKNOWN,
    Const,
    Data,
    DictVal,
    Func,
    Instance,
    ListVal,
    Logger,
    Marker,
    Method,
    Opaque,
    Res,
    ThreadObj,
    Unknown,
    Value,
)

_LOCKS = ("mutex", "rlock", "semaphore")


class MethodCall(NamedTuple):
    """A call of a method of an object the draft knows: the method's name, the call, the
    values of its arguments, and the name its result is to be given (if any)."""

    name: str
    node: ast.Call
    args: list[Value]
    kwargs: dict[str, Value]
    hint: str | None


def method(
    st: State,
    receiver: Value,
    name: str,
    node: ast.Call,
    args: list[Value],
    kwargs: dict[str, Value],
    *,
    used: bool,
    hint: str | None,
) -> Value:
    """`receiver.name(args)`."""
    call = MethodCall(name, node, args, kwargs, hint)
    if isinstance(receiver, Instance):
        return _instance(st, receiver, call, used=used)
    if isinstance(receiver, ThreadObj):
        return _thread(st, receiver, call)
    if isinstance(receiver, Res):
        return _resource(st, receiver, call)
    if isinstance(receiver, ListVal):
        _list_method(st, receiver, name, args)
        return UNKNOWN
    if isinstance(receiver, DictVal):
        return _dict(st, receiver, name, args)
    if isinstance(receiver, Logger):
        if name in LOG_LEVELS:
            calls.log_emit(st, node)
        elif name in ("addHandler", "removeHandler", "setLevel"):
            calls.log_configure(st, node)
            if name == "addHandler" and args:
                calls.add_handler(st, args[0])
        return UNKNOWN
    if isinstance(receiver, Opaque | Const):
        # a container's method never blocks, but what it returns may be anything
        return OPAQUE if isinstance(receiver, Const) else UNKNOWN
    if isinstance(receiver, Unknown | Data) and name in HARMLESS_METHODS - RISKY_METHODS:
        return UNKNOWN
    if isinstance(receiver, Const) and isinstance(receiver.value, str):
        return UNKNOWN
    return calls.unknown_call(st, node)


def _dict(st: State, d: DictVal, name: str, args: list[Value]) -> Value:
    """A method of a dict of known keys: lookups give what the draft knows; a change it
    cannot follow makes the dict unknown. Never blocks."""
    key = args[0] if args else None
    if not d.exact:
        return UNKNOWN
    if name == "get" and isinstance(key, Const):
        return exprs.item_of(d, key)  # a key not there may be added elsewhere: unknown
    if name == "values":
        return ListVal([exprs.item_of(d, Const(k)) for k in d.items])  # type: ignore[arg-type]
    if name == "keys":
        return ListVal([Const(k) for k in d.items])  # type: ignore[arg-type]
    if name == "items":
        return ListVal(
            [ListVal([Const(k), exprs.item_of(d, Const(k))]) for k in d.items]  # type: ignore[arg-type]
        )
    if name == "setdefault" and isinstance(key, Const) and st.f.loop_depth == 0:
        if key.value not in d.items:
            d.items[key.value] = args[1] if len(args) > 1 else Const(None)
        return exprs.item_of(d, key)
    if name in ("copy",):
        return DictVal(dict(d.items))
    if name in ("pop", "popitem", "update", "clear", "setdefault", "__setitem__", "__delitem__"):
        d.exact = False
    return UNKNOWN


def _list_method(st: State, receiver: ListVal, name: str, args: list[Value]) -> None:
    """A method that changes a list the draft knows. A drafted function's copy of a
    caller's list (`self.subs.append(cb)` in a method) changes the caller's list too:
    with the same item when it means the same there (a function, a global object, a
    constant), else the caller's list is no longer known."""
    if name == "append" and args:
        if st.f.loop_depth > 0:
            receiver.exact = False
        receiver.items.append(args[0])
    elif name == "extend" and args and isinstance(args[0], ListVal):
        if st.f.loop_depth > 0 or not args[0].exact:
            receiver.exact = False
        receiver.items.extend(args[0].items)
    elif name in ("pop", "remove", "insert", "clear", "sort", "reverse", "__setitem__"):
        receiver.exact = False  # the draft no longer knows which item is where
    else:
        return
    origin = receiver.origin
    if origin is None or origin is receiver:
        return
    above: ListVal | None = origin
    while above is not None and st.f.stmt is not None:
        if above.read_by_copy:
            st.assume(
                st.f.stmt,
                f"`{st.source(st.f.stmt)}` changes a list that code drafted before it "
                "loops over: assumed not to matter there",
            )
            break
        above = above.origin
    if name == "append" and args and _same_everywhere(args[0]):
        _list_method(st, origin, name, args)
    else:
        origin.exact = False
        while origin.origin is not None and origin.origin is not origin:
            origin = origin.origin
            origin.exact = False


def _same_everywhere(value: Value) -> bool:
    """Whether a value means the same in every drafted function."""
    if isinstance(value, Res):
        return value.is_global
    if isinstance(value, Marker):
        return not value.local
    return isinstance(value, Func | Const) and (
        not isinstance(value, Func) or value.instance is None
    )


def _instance(st: State, inst: Instance, call: MethodCall, *, used: bool) -> Value:
    name, node, args, kwargs, _ = call
    info = calls.find_method(st, inst.cls, name)
    if info is not None:
        return calls.call_func(st, Func(info.name, inst), args, kwargs, node, used=used)
    thread = inst.fields.get("__thread__")
    if isinstance(thread, ThreadObj):
        return _thread(st, thread, call._replace(hint=inst.prefix))
    field = inst.fields.get(name)
    if isinstance(field, Func):
        return calls.call_func(st, field, args, kwargs, node, used=used)
    if name in _HANDLER_METHODS and _derives_from(st, inst.cls, "logging."):
        return UNKNOWN
    return calls.unknown_call(st, node)


# Methods a `logging.Handler` subclass inherits that only format or configure.
_HANDLER_METHODS = frozenset({"format", "setFormatter", "setLevel", "addFilter", "filter"})


def _derives_from(st: State, cls: str, prefix: str) -> bool:
    """Whether a class of the program has a base from a library module (`logging.`)."""
    seen: set[str] = set()
    while cls in st.program.classes and cls not in seen:
        seen.add(cls)
        info = st.program.classes[cls]
        if any(canonical(info.module, b).startswith(prefix) for b in info.bases):
            return True
        bases = [b.rpartition(".")[2] for b in info.bases]
        cls = next((b for b in bases if b in st.program.classes), "")
    return False


def _timeout(args: list[Value], kwargs: dict[str, Value], position: int) -> Value | None:
    value = kwargs.get("timeout", args[position] if len(args) > position else None)
    if isinstance(value, Const) and (value.value is None or value.value == -1):
        return None
    return value


def _resource(st: State, r: Res, call: MethodCall) -> Value:
    name, node, args, kwargs, hint = call
    k = r.kind
    lock = r.lock if k == "condvar" else r.spec
    if k in (*_LOCKS, "condvar") and name in ("acquire", "__enter__"):
        blocking = kwargs.get("blocking", args[0] if args else Const(True))
        if isinstance(blocking, Const) and not blocking.value:
            return Data(st.temp(hint or "took", f"try_acquire {lock}", node))
        if not isinstance(blocking, Const):
            st.assume(node, f"`{st.source(node)}` assumed to block (blocking=True)")
        if _timeout(args, kwargs, 1) is not None:
            return Data(st.temp(hint or "took", f"acquire {lock} timeout", node))
        st.out(f"acquire {lock}", node)
        st.f.held += 1
        return Const(True)
    if k in (*_LOCKS, "condvar") and name in ("release", "__exit__"):
        st.out(f"release {lock}", node)
        st.f.held = max(0, st.f.held - 1)
        return UNKNOWN
    if k == "condvar" and name in ("wait", "wait_for"):
        return _condition_wait(st, r, call)
    if k == "condvar" and name in ("notify", "notify_all", "notifyAll"):
        n = args[0] if args else Const(1)
        word = "notify" if name == "notify" and n == Const(1) else "notify_all"
        st.out(f"{word} {r.spec}", node)
        return UNKNOWN
    if k == "event":
        if name in ("set", "clear"):
            st.out(f"{name} {r.spec}", node)
            return UNKNOWN
        if name == "wait":
            if _timeout(args, kwargs, 0) is not None:
                return Data(st.temp(hint or "was_set", f"wait {r.spec} timeout", node))
            st.out(f"wait {r.spec}", node)
            return Const(True)
        if name == "is_set":
            return Data(st.temp(hint or "is_set", f"wait {r.spec} timeout", node))
    if k == "barrier" and name == "wait":
        if _timeout(args, kwargs, 0) is not None:
            st.assume(node, f"`{st.source(node)}`: the barrier wait assumed not to time out")
        st.out(f"wait {r.spec}", node)
        return UNKNOWN
    if k in ("queue", "mpqueue"):
        return _queue(st, r, call)
    if k == "pool":
        return _pool(st, r, call)
    if k == "future":
        return _future(st, r, call)
    if k == "loop":
        from gilcheck.draft.python import asyncs

        return asyncs.loop_method(st, r, call)
    if k in ("aqueue", "aevent", "alock", "asemaphore"):
        from gilcheck.draft.python import asyncs

        return asyncs.primitive_method(st, r, name, node, args, hint)
    if name in ("locked", "qsize", "empty", "full", "done", "is_set", "n_waiting", "broken"):
        return UNKNOWN
    return calls.unknown_call(st, node)


def _condition_wait(st: State, r: Res, call: MethodCall) -> Value:
    name, node, args, kwargs, hint = call
    timed = _timeout(args, kwargs, 1 if name == "wait_for" else 0) is not None
    suffix = " timeout" if timed else ""
    if name == "wait":
        if timed:
            return Data(st.temp(hint or "notified", f"wait {r.spec}, {r.lock}{suffix}", node))
        st.out(f"wait {r.spec}, {r.lock}", node)
        return Const(True)
    pred_node = node.args[0] if node.args else None
    cond = None
    if isinstance(pred_node, ast.Lambda):
        cond = exprs.condition(st, pred_node.body)
    if cond is not None and not timed:
        with st.block(f"while not ({cond})", node):
            st.out(f"wait {r.spec}, {r.lock}", node)
        return Const(True)
    # a predicate the draft cannot compute may hold at any check
    with st.block("loop", node):
        with st.block("choose", node) as choice:
            st.out("break", node)
        with st.tail(choice, "or"):
            st.out(f"wait {r.spec}, {r.lock}{suffix}", node)
    return UNKNOWN


def _queue(st: State, r: Res, call: MethodCall) -> Value:
    name, node, args, kwargs, hint = call
    if name in ("put", "put_nowait"):
        value = exprs.message(st, args[0]) if args else "none"
        block = kwargs.get("block")
        nowait = name == "put_nowait" or (isinstance(block, Const) and not block.value)
        if r.unfinished:
            st.uses_cpython = True
            st.out(f"call cpython_queue_put_task({r.spec}, {r.unfinished}, {value})", node)
        elif nowait or _timeout(args, kwargs, 2) is not None:
            st.out(f"send {r.spec}, {value}", node)
            st.assume(node, f"`{st.source(node)}` assumed to find room in the queue")
        else:
            st.out(f"send {r.spec}, {value}", node)
        return UNKNOWN
    if name in ("get", "get_nowait"):
        block = kwargs.get("block", args[0] if args else Const(True))
        if name == "get_nowait" or (isinstance(block, Const) and not block.value):
            st.temp(hint or "item", f"try_recv {r.spec}", node)
            return UNKNOWN
        if _timeout(args, kwargs, 1) is not None:
            st.temp(hint or "item", f"recv {r.spec} timeout", node)
            return UNKNOWN
        return Data(st.temp(hint or "item", f"recv {r.spec}", node), plain=False, vague=True)
    if name == "task_done" and r.unfinished:
        st.uses_cpython = True
        st.out(f"call cpython_queue_task_done({r.unfinished})", node)
        return UNKNOWN
    if name == "join" and r.kind == "queue":
        if r.unfinished:
            st.uses_cpython = True
            st.out(f"call cpython_queue_join({r.unfinished})", node)
        else:
            st.out(f"await len({r.spec}) == 0", node)
        return UNKNOWN
    if name == "qsize":
        return Data(f"len({r.spec})")
    if name == "empty":
        return Data(f"len({r.spec}) == 0")
    if name in ("close", "join_thread", "cancel_join_thread", "full"):
        return UNKNOWN
    return calls.unknown_call(st, node)


def _pool(st: State, r: Res, call: MethodCall) -> Value:
    name, node, args, kwargs, hint = call
    if name == "submit" and args:
        return submit(st, r.spec, args[0], args[1:], kwargs, node, hint)
    if name == "map" and len(args) >= 2:
        return _map(st, r, node, args, hint)
    if name == "shutdown":
        wait = kwargs.get("wait", args[0] if args else Const(True))
        if isinstance(wait, Const) and not wait.value:
            return UNKNOWN
        st.out(f"shutdown {r.spec}", node)
        return UNKNOWN
    return calls.unknown_call(st, node)


def submit(
    st: State,
    target_spec: str,
    fn: Value,
    args: list[Value],
    kwargs: dict[str, Value],
    node: ast.AST,
    hint: str | None,
    *,
    loop: str | None = None,
    used: bool = True,
) -> Value:
    """`let f = submit p, g(args)` for a function of the program; a future."""
    info = _function_info(st, fn)
    if info is None:
        st.assume(
            node, f"the task of `{st.source(node)}` is not drafted: assumed to end without blocking"
        )
        spec = st.temp(hint or "fut", "future()", node)
        st.out(f"complete {spec}, {st.placeholder('unknown')}", node)
        return Res("future", spec)
    bound_instance = fn.instance if isinstance(fn, Func) else None
    made = functions.instantiate(st, info, args, kwargs, node, instance=bound_instance, loop=loop)
    if made is None:
        spec = st.temp(hint or "fut", "future()", node)
        st.out(f"complete {spec}, {st.placeholder('unknown')}", node)
        return Res("future", spec)
    fname, passed = made
    text = f"submit {target_spec}, {fname}({', '.join(passed)})"
    if not used:
        st.out(text, node)
        return UNKNOWN
    future = st.temp(hint or "fut", text, node)
    if any(fn.name == fname and fn.raises for fn in st.fns):
        st.raising_futures.add(future)  # its result() re-raises what the task raised
    return Res("future", future)


def _function_info(st: State, fn: Value) -> FunctionInfo | None:
    if not isinstance(fn, Func):
        return None
    if "." in fn.name:
        cls, _, meth = fn.name.partition(".")
        return calls.find_method(st, cls, meth)
    return st.program.functions.get(fn.name)


def _map(st: State, r: Res, node: ast.Call, args: list[Value], hint: str | None) -> Value:
    items = _items(st, node.args[1], args[1], node)
    futures = [submit(st, r.spec, args[0], [item], {}, node, "fut") for item in items]
    results: list[Value] = []
    for f in futures:
        if isinstance(f, Res):
            results.append(Data(st.temp(hint or "value", f"result {f.spec}", node), False))
    return ListVal(results)


def _items(st: State, source: ast.expr, value: Value, node: ast.AST) -> list[Value]:
    if isinstance(value, ListVal) and value.exact:
        return list(value.items)
    count = calls.constant_range(st, source)
    if count is not None and len(count) <= 16:
        return [Const(i) for i in count]
    k = st.options.unroll
    st.assume(node, f"loop over unknown data bounded to {k} iterations: `{st.source(source)}`")
    return [UNKNOWN] * k


def _future(st: State, r: Res, call: MethodCall) -> Value:
    name, node, args, kwargs, hint = call
    if name == "result":
        if _timeout(args, kwargs, 0) is not None:
            st.temp(hint or "value", f"result {r.spec} timeout", node)
            return UNKNOWN
        value = st.temp(hint or "value", f"result {r.spec}", node)
        if r.spec in st.raising_futures:
            from gilcheck.draft.python import raising

            raising.after_call(st, value, node)
        return Data(value, plain=False, vague=True)
    if name == "exception":
        st.temp(hint or "value", f"result {r.spec}", node)
        return UNKNOWN
    if name == "done":
        return Data(f"is_done({r.spec})")
    if name == "set_result":
        given = exprs.message(st, args[0]) if args else "none"
        st.out(f"complete {r.spec}, {given}", node)
        return UNKNOWN
    if name == "set_exception":
        st.out(f'complete {r.spec}, err("exception")', node)
        return UNKNOWN
    if name == "add_done_callback":
        st.assume(
            node, f"the done callback of `{st.source(node)}` is not drafted: assumed not to block"
        )
        return UNKNOWN
    if name in ("cancel", "cancelled", "running"):
        return UNKNOWN
    return calls.unknown_call(st, node)


def _thread(st: State, t: ThreadObj, call: MethodCall) -> Value:
    name, node, args, kwargs, hint = call
    if name == "start" and t.finished is not None:
        _start_timer(st, t, node, _receiver_name(node) or hint)
        return UNKNOWN
    if name == "start":
        start(st, t, node, _receiver_name(node) or hint)
        return UNKNOWN
    if name == "cancel" and t.finished is not None:
        st.out(f"set {t.finished.spec}", node)
        return UNKNOWN
    if name == "join":
        if t.handle is None:
            if t.loop_runner is None:
                st.assume(node, f"`{st.source(node)}` joins a thread the draft did not start")
            elif t.loop_runner in st.loop_stop_events and _timeout(args, kwargs, 0) is None:
                # the loop's thread ends once the loop is stopped
                st.out(f"wait {st.loop_stop_events[t.loop_runner]}", node)
            return UNKNOWN
        if _timeout(args, kwargs, 0) is not None:
            return Data(st.temp(hint or "ended", f"join {t.handle} timeout", node))
        st.out(f"join {t.handle}", node)
        return UNKNOWN
    if name in ("is_alive", "isAlive") and t.handle is not None:
        ended = st.temp("ended", f"join {t.handle} timeout", node)
        return Data(f"not {ended}")
    if name in ("is_alive", "isAlive", "getName", "setName", "name", "ident"):
        return UNKNOWN
    if name == "setDaemon" and args and isinstance(args[0], Const):
        t.daemon = bool(args[0].value)
        return UNKNOWN
    if name in ("terminate", "kill"):
        st.assume(node, f"`{st.source(node)}` is not drafted (the process runs on)")
        return UNKNOWN
    return calls.unknown_call(st, node)


def _keep_alive_until_stopped(st: State, loop: str, node: ast.AST) -> None:
    """A non-daemon thread running `loop.run_forever()` keeps the program from ending
    until the loop is stopped. The spec's loop thread is a daemon, so a non-daemon thread
    is spawned that waits for an event `loop.stop()` sets."""
    from gilcheck.draft.python.ir import Block, Line
    from gilcheck.draft.python.state import SpecFn

    if loop in st.loops_stopped or loop in st.loop_stop_events:
        return
    ev = st.global_name(f"{loop}_stopped")
    st.declare(f"event {ev}", node, ev)
    st.loop_stop_events[loop] = ev
    name = st.global_name(f"{loop}_run_forever")
    st.fns.append(SpecFn(name, [], [Block("python", None, [Line(f"wait {ev}")])], None))
    st.out(f"spawn {name}()", node)


def loop_stopped(st: State, loop: str, node: ast.AST) -> None:
    """`loop.stop()`: a non-daemon thread running the loop may end."""
    ev = st.loop_stop_events.get(loop)
    if ev is None:
        st.loops_stopped.add(loop)
    else:
        st.out(f"set {ev}", node)


def _receiver_name(node: ast.Call) -> str | None:
    f = node.func
    if isinstance(f, ast.Attribute):
        if isinstance(f.value, ast.Name):
            return f.value.id
        if isinstance(f.value, ast.Attribute):
            return f.value.attr
    return None


def start(st: State, t: ThreadObj, node: ast.AST, name: str | None) -> None:
    """`t.start()`: `let t = spawn [daemon] [process] f(args)`; a thread that only runs an
    event loop (`loop.run_forever`) starts the declared loop instead."""
    target = t.target
    loop = _runs_loop(st, target, t.args)
    if loop is not None:
        st.loops_started.add(loop)
        t.loop_runner = loop
        if not t.daemon and not t.process and t.daemon_known:
            _keep_alive_until_stopped(st, loop, node)
        elif not t.daemon_known and loop not in st.loops_stopped:
            st.assume(node, f"the thread running the loop (`{st.source(node)}`) is a daemon")
        return
    info = _function_info(st, target)
    if info is None and isinstance(target, Method) and isinstance(target.receiver, Res):
        fname, passed = _method_fn(st, target, t.args, node, t.process)
        words = "spawn " + ("daemon " if t.daemon else "") + ("process " if t.process else "")
        t.handle = st.temp(name or "t", f"{words}{fname}({', '.join(passed)})", node)
        return
    if info is None:
        st.assume(
            node,
            f"the thread started at `{st.source(node)}` runs code the draft "
            "does not know: assumed not to block",
        )
        return
    instance = target.instance if isinstance(target, Func) else None
    made = functions.instantiate(
        st, info, list(t.args), dict(t.kwargs), node, instance=instance, process=t.process
    )
    if made is None:
        return
    fname, passed = made
    words = "spawn " + ("daemon " if t.daemon else "") + ("process " if t.process else "")
    text = f"{words}{fname}({', '.join(passed)})"
    _bind_handle(st, t, text, node, name, "t")


def _start_timer(st: State, t: ThreadObj, node: ast.AST, name: str | None) -> None:
    """A `threading.Timer` started: a `fn` doing what `Timer.run` does, spawned with the
    timer's `finished` event and the function's arguments."""
    from gilcheck.draft.python.ir import Block
    from gilcheck.draft.python.state import SpecFn

    assert t.finished is not None
    info = _function_info(st, t.target)
    if info is None:
        st.assume(
            node,
            f"the function of the timer started at `{st.source(node)}` is not "
            "drafted: assumed not to block",
        )
        return
    instance = t.target.instance if isinstance(t.target, Func) else None
    made = functions.instantiate(st, info, list(t.args), {}, node, instance=instance)
    if made is None:
        return
    fname, passed = made
    ev_args, ev_params, _, _ = functions.pass_value(
        t.finished, "finished", False, frozenset(st.global_specs)
    )
    ev = ev_params[0] if ev_params else t.finished.spec
    params = [f"a{i}" for i in range(len(passed))]
    wrapper = st.global_name(f"timer_{fname}")
    body: list[Node] = [
        Line(f"let cancelled = wait {ev} timeout"),
        Block(
            "if not cancelled",
            None,
            [
                Line(f"let now_set = wait {ev} timeout"),
                Block("if not now_set", None, [Line(f"call {fname}({', '.join(params)})")]),
            ],
        ),
        Line(f"set {ev}"),
    ]
    st.fns.append(SpecFn(wrapper, ev_params + params, [Block("python", None, body)], None))
    text = f"spawn {'daemon ' if t.daemon else ''}{wrapper}({', '.join(ev_args + passed)})"
    _bind_handle(st, t, text, node, name, "timer")


def _bind_handle(
    st: State, t: ThreadObj, text: str, node: ast.AST, name: str | None, default: str
) -> None:
    """Keep what a `spawn` returns as the thread's handle: a global variable when the
    module binds it to a name its functions read, else a local `let`."""
    if st.f.is_module and name is not None and name in st.read_in_functions:
        handle = st.global_name(name)
        st.declare(f"var {handle} = none", node, handle)
        st.out(f"{handle} = {text}", node)
        t.handle = handle
        return
    t.handle = st.temp(name or default, text, node)


def _method_fn(
    st: State, target: Method, args: list[Value], node: ast.AST, process: bool
) -> tuple[str, list[str]]:
    """A `fn` for a thread whose target is a method of a known object
    (`Thread(target=event.wait)`)."""
    from gilcheck.draft.python.ir import Block
    from gilcheck.draft.python.state import Frame, SpecFn

    receiver = target.receiver
    assert isinstance(receiver, Res)
    passed, params, inner, _ = functions.pass_value(
        receiver, "obj", process, frozenset(st.global_specs)
    )
    name = st.global_name(f"{receiver.spec}_{target.name}")
    spec_fn = SpecFn(name, params, [], None)
    st.fns.append(spec_fn)
    frame = Frame(module=st.f.module, namer=st.gnames.child(), env={}, func=None)
    frame.namer.reserve(params)
    frame.declared.update(params)
    frame.blocks = [[]]
    frame.stmt = st.f.stmt
    saved = st.frame
    st.frame = frame
    try:
        call = ast.Call(func=ast.Name(id="_"), args=[], keywords=[])
        ast.copy_location(call, node)
        method(st, inner, target.name, call, list(args), {}, used=False, hint=None)
    finally:
        st.frame = saved
    lets = st.hoisted_lets(frame)
    spec_fn.body = [Block("python", None, lets + frame.blocks[0])]
    return name, passed


def _runs_loop(st: State, target: Value, args: list[Value]) -> str | None:
    if isinstance(target, Method) and target.name == "run_forever":
        r = target.receiver
        return r.spec if isinstance(r, Res) and r.kind == "loop" else None
    info = _function_info(st, target)
    if info is None or "run_forever" not in ast.unparse(info.node):
        return None
    for a in args:
        if isinstance(a, Res) and a.kind == "loop":
            return a.spec
    for name, _ in st.loops_declared:
        return name
    return None


def wait_all(st: State, fs: Value, node: ast.Call, cn: str) -> Value:
    """`concurrent.futures.wait(fs)` (every future waited for) and `as_completed(fs)`
    (the futures, whose results the loop over them takes)."""
    if not isinstance(fs, ListVal) or not fs.exact:
        st.assume(node, f"`{st.source(node)}` waits for futures the draft does not know")
        return UNKNOWN
    if cn.endswith("as_completed"):
        return ListVal(list(fs.items))
    for f in fs.items:
        if isinstance(f, Res) and f.kind == "future":
            st.out(f"result {f.spec}", node)
    return UNKNOWN
