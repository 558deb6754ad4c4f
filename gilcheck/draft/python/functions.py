"""The program's own functions as spec `fn`s: one per function and per way it is called
(what its arguments are known to be: a global lock is used by name, a lock made at run
time is passed as a parameter), with recursion and call depth bounded by the options."""

from __future__ import annotations

import ast

from gilcheck.draft.python import raising, stmts
from gilcheck.draft.python.ir import Block, Node
from gilcheck.draft.python.knowledge import HARMLESS_DECORATORS
from gilcheck.draft.python.program import FunctionInfo, canonical, dotted
from gilcheck.draft.python.state import Frame, SpecFn, State
from gilcheck.draft.python.values import (
    UNKNOWN,
    Const,
    Coro,
    Data,
    DictVal,
    ForkPid,
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


def pass_value(
    value: Value,
    pname: str,
    process: bool = False,
    shared: frozenset[str] = frozenset(),
    seen: frozenset[int] = frozenset(),
) -> tuple[list[str], list[str], Value, object]:
    """How a value is handed to a drafted function's parameter `pname`: the argument
    expressions, the parameter names, what the parameter holds inside, and the part of
    the function's key it makes. A new process (`process`) gets fresh copies of every
    global, so what it shares with its parent is passed, globals included."""
    args: list[str]
    params: list[str]
    if isinstance(value, Res):
        if value.is_global and not process:
            return [], [], value, ("g", value.kind, value.spec)
        args, params = [value.spec], [pname]
        lock = unf = None
        if value.lock:
            args.append(value.lock)
            lock = f"{pname}_lock"
            params.append(lock)
        if value.unfinished:
            args.append(value.unfinished)
            unf = f"{pname}_unfinished"
            params.append(unf)
        return args, params, Res(value.kind, pname, lock, unf), ("r", value.kind, bool(lock))
    if isinstance(value, Const) and isinstance(value.value, str):
        return [_lit(value)], [pname], Data(pname, plain=False), ("d", False)
    if isinstance(value, Const) and value.value is not None:
        return [_lit(value)], [pname], Data(pname), "d"
    if isinstance(value, Const):
        return [], [], value, ("c", value.value)
    if isinstance(value, Data) and value.spec in shared:
        return [], [], value, ("v", value.spec)
    if isinstance(value, Data):
        kept = Data(pname, value.plain, value.vague)
        return [value.spec], [pname], kept, ("d", value.plain, value.vague)
    if isinstance(value, Marker) and value.local:
        return [value.text], [pname], Marker(pname, local=True), ("m",)
    if isinstance(value, Marker):
        return [], [], value, ("m", value.text)
    if isinstance(value, Opaque):
        return [], [], value, ("o", value.not_none)
    if isinstance(value, ThreadObj) and value.handle:
        inner = ThreadObj(value.target, value.args, value.daemon, value.process, value.origin)
        inner.handle = pname
        return [value.handle], [pname], inner, "t"
    if isinstance(value, Instance | ListVal | DictVal) and id(value) in seen:
        return [], [], UNKNOWN, "u"
    seen = seen | {id(value)}
    if isinstance(value, Instance):
        args, params = [], []
        fields: dict[str, Value] = {}
        key: list[object] = []
        for name, field_value in value.fields.items():
            a, p, inner_value, k = pass_value(field_value, f"{pname}_{name}", process, shared, seen)
            args += a
            params += p
            fields[name] = inner_value
            key.append((name, k))
        inner_inst = Instance(value.cls, fields, pname, value.is_global)
        static = any(isinstance(v, Func | Method | Coro) for v in value.fields.values())
        return args, params, inner_inst, ("i", value.cls, tuple(key), id(value) if static else 0)
    if isinstance(value, ListVal) and value.exact:
        args, params, items = [], [], []
        key = []
        for i, item in enumerate(value.items):
            a, p, inner_value, k = pass_value(item, f"{pname}_{i}", process, shared, seen)
            args += a
            params += p
            items.append(inner_value)
            key.append(k)
        return args, params, ListVal(items, origin=value), ("l", tuple(key))
    if isinstance(value, DictVal) and value.exact:
        args, params = [], []
        entries: dict[object, Value] = {}
        key = []
        for i, (k, item) in enumerate(value.items.items()):
            a, p, inner_value, part = pass_value(item, f"{pname}_{i}", process, shared, seen)
            args += a
            params += p
            entries[k] = inner_value
            key.append((repr(k), part))
        return args, params, DictVal(entries), ("dict", tuple(key))
    if isinstance(value, Func | Method | Coro | ForkPid | Logger):
        return [], [], value, ("s", repr(value))
    return [], [], UNKNOWN, "u"


def _lit(value: Const) -> str:
    from gilcheck.draft.python.exprs import literal

    return literal(value.value) or "none"


def instantiate(
    st: State,
    info: FunctionInfo,
    args: list[Value],
    kwargs: dict[str, Value],
    node: ast.AST,
    *,
    instance: Value = None,
    loop: str | None = None,
    process: bool = False,
    sync: bool = False,
) -> tuple[str, list[str]] | None:
    """The spec `fn` for a call of `info` with these arguments (drafted on first use),
    and the argument expressions to write; None when the call is past the depth bound
    (an assumption is recorded)."""
    bound = bind(info, args, kwargs, instance)
    if info.closure is not None:  # a nested function: what it reads of its definer's locals
        bound += [(n, info.closure[n]) for n in info.free_names if n in info.closure]
    passed: list[str] = []
    params: list[str] = []
    env: dict[str, Value] = {}
    key_parts: list[object] = [info.name, loop or process or ("sync" if sync else None)]
    for pname, value in bound:
        a, p, inner, k = pass_value(value, _param_name(pname), process, frozenset(st.global_specs))
        passed += a
        params += p
        env[pname] = inner
        key_parts.append(k)
    key = tuple(key_parts)
    same = [k for k in st.stack if k[:2] == key[:2]]
    if len(st.stack) >= st.options.inline_depth + 8 or len(same) >= st.options.inline_depth:
        st.assume(
            node,
            f"calls past depth {st.options.inline_depth} not followed, assumed not to "
            f"block: `{st.source(node)}`",
        )
        return None
    if same:
        key = (*key, len(same))
    name = st.fn_keys.get(key)
    if name is not None:
        return name, passed
    name = st.global_name(info.name.replace(".", "_"))
    st.fn_keys[key] = name
    spec_fn = SpecFn(name, params, [], st.origin(info.node) if st.frame else None)
    st.fns.append(spec_fn)
    frame = Frame(
        module=info.module,
        namer=st.gnames.child(),
        env=env,
        func=info,
        coroutine=info.is_async and not sync,
        loop=loop,
    )
    frame.namer.reserve(params)
    frame.declared.update(params)
    st.stack.append(key)
    saved = st.frame
    st.frame = frame
    try:
        _decorators(st, info)
        spec_fn.body = body_of(st, frame, info.node.body)
    finally:
        st.frame = saved
        st.stack.pop()
    spec_fn.returns = _summary(frame.returns)
    spec_fn.raises = frame.raises
    return name, passed


def _summary(returns: list[Value]) -> Value:
    """What a function returns, as far as every caller can use it: a global object (or
    a tuple of them) the same on every `return`."""

    def shared(v: Value) -> Value:
        if isinstance(v, Res) and v.is_global:
            return v
        if isinstance(v, ListVal) and v.exact:
            return ListVal([shared(i) for i in v.items])
        if isinstance(v, ThreadObj) and v.loop_runner is not None:
            return v
        return UNKNOWN

    if not returns:
        return UNKNOWN
    first = shared(returns[0])
    if all(_same(shared(r), first) for r in returns[1:]):
        return first
    return UNKNOWN


def _same(a: Value, b: Value) -> bool:
    if isinstance(a, ListVal) and isinstance(b, ListVal):
        return len(a.items) == len(b.items) and all(
            _same(x, y) for x, y in zip(a.items, b.items, strict=True)
        )
    return a == b


def _decorators(st: State, info: FunctionInfo) -> None:
    """A decorator the draft does not know may wrap the function in anything (a lock, a
    retry loop): the function is drafted as written, and that is an assumption."""
    for d in info.node.decorator_list:
        name = dotted(d.func if isinstance(d, ast.Call) else d) or ""
        full = canonical(info.module, name)
        if full in HARMLESS_DECORATORS or name.endswith((".setter", ".getter", ".deleter")):
            continue
        if full.startswith(("pytest.", "unittest.", "typing.", "abc.")):
            continue
        st.assume(d, f"the decorator `@{st.source(d)}` is assumed to call the function as it is")


def body_of(st: State, frame: Frame, body: list[ast.stmt]) -> list[Node]:
    """A function's statements as `python { ... }`, with locals first bound in nested
    blocks declared at its top."""
    frame.blocks = [[]]
    stmts.block(st, body)
    nodes = frame.blocks[0]
    lets = st.hoisted_lets(frame)
    return [Block("python", None, lets + nodes)]


def _param_name(name: str) -> str:
    from gilcheck.draft.python.names import legal

    return legal(name)


def bind(
    info: FunctionInfo, args: list[Value], kwargs: dict[str, Value], instance: Value
) -> list[tuple[str, Value]]:
    """The arguments of a call matched to the function's parameters (`self` first for a
    method; defaults that are constants; `UNKNOWN` for the rest)."""
    names = info.params
    values: list[Value] = []
    args = list(args)
    if info.cls is not None and names and not _is_static(info):
        # called on the class (`Cls.method(obj, x)`): the first argument is `self`
        values.append(instance if instance is not None else (args.pop(0) if args else UNKNOWN))
    values += args
    defaults = info.node.args.defaults
    first_default = len(names) - len(defaults)
    out = []
    for i, pname in enumerate(names):
        if i < len(values):
            out.append((pname, values[i]))
        elif pname in kwargs:
            out.append((pname, kwargs[pname]))
        elif i >= first_default:
            out.append((pname, _default(info, pname, defaults[i - first_default])))
        else:
            out.append((pname, UNKNOWN))
    a = info.node.args
    for kw, d in zip(a.kwonlyargs, a.kw_defaults, strict=True):
        if kw.arg in kwargs:
            out.append((kw.arg, kwargs[kw.arg]))
        else:
            out.append((kw.arg, UNKNOWN if d is None else _default(info, kw.arg, d)))
    return out


def _default(info: FunctionInfo, pname: str, d: ast.expr) -> Value:
    """A parameter's default: a constant, or the object it named when the function was
    defined (`def work(lock=LOCK)`, `lambda l=lock: ...`); else unknown."""
    if isinstance(d, ast.Constant):
        return Const(d.value)  # type: ignore[arg-type]
    if info.defaults is not None and pname in info.defaults:
        return info.defaults[pname]
    return UNKNOWN


def defaults_of(
    st: State, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
) -> dict[str, Value]:
    """The objects a definition's parameter defaults name, evaluated where it is defined
    (data is left out: its value may change)."""
    from gilcheck.draft.python import exprs

    a = node.args
    positional = [*a.posonlyargs, *a.args]
    pairs = list(zip(positional[len(positional) - len(a.defaults) :], a.defaults, strict=True))
    pairs += [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d is not None]
    out: dict[str, Value] = {}
    for param, d in pairs:
        if isinstance(d, ast.Constant):
            continue
        value = exprs.peek(st, d)
        if not isinstance(value, Const | Data | Unknown):
            out[param.arg] = value
    return out


def _is_static(info: FunctionInfo) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in info.node.decorator_list)


def call_function(
    st: State,
    info: FunctionInfo,
    args: list[Value],
    kwargs: dict[str, Value],
    node: ast.AST,
    *,
    used: bool,
    instance: Value = None,
    awaited: bool = False,
    sync: bool = False,
) -> Value:
    """`call f(args)` in the current block (`let v = call f(args)` when the result is
    used); an `async def` called without `await` makes a coroutine object."""
    if info.is_async and not awaited:
        return Coro(Func(info.name, instance), tuple(args), node)
    sync = sync or (info.is_async and not st.f.coroutine)
    made = instantiate(st, info, args, kwargs, node, instance=instance, loop=st.f.loop, sync=sync)
    if made is None:
        st.out("skip", node)
        return UNKNOWN
    name, passed = made
    call = f"call {name}({', '.join(passed)})"
    spec_fn = next((fn for fn in st.fns if fn.name == name), None)
    summary = spec_fn.returns if spec_fn is not None else None
    if spec_fn is not None and spec_fn.raises and st.f.handlers == 0:
        result = st.temp("r", call, node)
        raising.after_call(st, result, node)
        if used and summary is not None and not isinstance(summary, type(UNKNOWN)):
            return summary
        return Data(result, plain=False, vague=True) if used else UNKNOWN
    if used and summary is not None and not isinstance(summary, type(UNKNOWN)):
        st.out(call, node)
        return summary
    if used:
        return Data(st.temp("r", call, node), plain=False, vague=True)
    st.out(call, node)
    return UNKNOWN
