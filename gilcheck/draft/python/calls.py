"""Calls: the program's own functions and classes, the standard library's threading,
queue, concurrent.futures, multiprocessing, os, atexit, signal, weakref and logging
calls, methods of the objects the draft knows, and everything else (an unknown call is
`skip` and an assumption that it does not block)."""

from __future__ import annotations

import ast
import copy

from gilcheck.draft.model import Origin
from gilcheck.draft.python import asyncs, exprs, functions, handlers, methods, resources
from gilcheck.draft.python.knowledge import (
    BLOCKING_OUTSIDE,
    CONSTRUCTORS,
    HARMLESS_BUILTINS,
    HARMLESS_CALLS,
    HARMLESS_MODULES,
    LOG_LEVELS,
    PROCESSES,
    REFUSED,
    THREADS,
    TIMERS,
)
from gilcheck.draft.python.program import FunctionInfo, canonical, dotted
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    DATA,
    OPAQUE,
    UNKNOWN,
    Const,
    DictVal,
    ForkPid,
    Func,
    Instance,
    ListVal,
    Logger,
    Marker,
    Method,
    ModuleRef,
    Res,
    ThreadObj,
    Value,
)


def call(
    st: State,
    node: ast.Call,
    *,
    hint: str | None = None,
    global_ok: bool = False,
    used: bool = True,
    awaited: bool = False,
) -> Value:
    """Draft a call (its arguments first) and return what it yields."""
    func = node.func
    name = dotted(func)
    module = st.f.module
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in st.program.classes
        and func.value.id not in st.f.env
        and func.value.id not in module.aliases
    ):
        target = exprs.class_attribute(st, func.value.id, func.attr, None)
        args, kwargs = arguments(st, node)
        if isinstance(target, Func):
            return call_func(st, target, args, kwargs, node, used=used, awaited=awaited)
        return methods.method(st, target, "__call__", node, args, kwargs, used=used, hint=hint)
    if isinstance(func, ast.Attribute) and isinstance(exprs.peek(st, func.value), ModuleRef):
        ref = exprs.peek(st, func.value)
        assert isinstance(ref, ModuleRef)
        cn = f"{ref.name}.{func.attr}"
        return library(st, cn, node, hint=hint, global_ok=global_ok, used=used, awaited=awaited)
    if isinstance(func, ast.Attribute) and not _is_module_path(st, name):
        if _is_super_init(func):
            _super_init(st, node)
            return UNKNOWN
        receiver = exprs.evaluate(st, func.value)
        args, kwargs = arguments(st, node)
        return methods.method(st, receiver, func.attr, node, args, kwargs, used=used, hint=hint)
    if name is None:
        target = exprs.evaluate(st, func)
        args, kwargs = arguments(st, node)
        if isinstance(target, Func):  # `handlers[0]()`: a function the draft knows
            return call_func(st, target, args, kwargs, node, used=used, awaited=awaited)
        return unknown_call(st, node)
    cn = canonical(module, name)
    if isinstance(func, ast.Name) and func.id in st.f.env and func.id not in module.aliases:
        target = st.lookup(func.id)
        args, kwargs = arguments(st, node)
        if isinstance(target, Func):
            return call_func(st, target, args, kwargs, node, used=used, awaited=awaited)
        return unknown_call(st, node)
    if cn in st.program.classes and cn not in module.aliases:
        args, kwargs = arguments(st, node)
        return new_instance(st, cn, args, kwargs, node, hint, global_ok)
    if cn in st.program.functions and "." not in name:
        args, kwargs = arguments(st, node)
        info = st.program.functions[cn]
        return functions.call_function(st, info, args, kwargs, node, used=used, awaited=awaited)
    sibling = _sibling_function(st, cn)
    if sibling is not None:
        args, kwargs = arguments(st, node)
        return functions.call_function(st, sibling, args, kwargs, node, used=used)
    return library(st, cn, node, hint=hint, global_ok=global_ok, used=used, awaited=awaited)


def lambda_function(st: State, node: ast.Lambda) -> Value:
    """A `lambda` as one of the program's functions (`def` returning its body)."""
    from gilcheck.draft.python.program import FunctionInfo as Info

    name = f"lambda_{node.lineno}_{node.col_offset}"
    defaults = functions.defaults_of(st, node)
    if defaults:
        # each set of objects its defaults name is a function of its own
        key = tuple((k, v if getattr(v, "__hash__", None) else id(v)) for k, v in defaults.items())
        known = st.lambda_names.setdefault(name, {})
        name = known.setdefault(key, f"{name}_{len(known) + 1}" if known else name)
    if name not in st.program.functions:
        body = ast.copy_location(ast.Return(value=node.body), node.body)
        fn = ast.FunctionDef(
            name=name,
            args=node.args,
            body=[body],
            decorator_list=[],
            returns=None,
            type_comment=None,
        )
        ast.copy_location(fn, node)
        ast.fix_missing_locations(fn)
        closure = None if st.f.is_module else st.f.env
        st.program.functions[name] = Info(
            name, fn, st.f.module, closure=closure, defaults=defaults or None
        )
    return Func(name)


def partial_function(
    st: State, node: ast.Call, fn: Value, bound: list[Value], keywords: dict[str, Value]
) -> Value:
    """`functools.partial(f, *bound, **keywords)` for a function of the program: a
    function of its own that calls `f` with what was bound and what it is given."""
    from gilcheck.draft.python.program import FunctionInfo as Info

    if not isinstance(fn, Func):
        return UNKNOWN
    info = function_info(st, fn)
    if info is None:
        return UNKNOWN
    params = info.params[1:] if info.cls is not None and fn.instance is not None else info.params
    a = info.node.args
    first_default = len(info.params) - len(a.defaults)
    open_params: list[tuple[str, ast.expr | None]] = []
    for p in params[len(bound) :]:
        if p in keywords:
            continue
        i = info.params.index(p)
        open_params.append((p, a.defaults[i - first_default] if i >= first_default else None))
    defaults: list[ast.expr] = []
    for _, d in reversed(open_params):
        if d is None:
            break
        defaults.insert(0, copy.deepcopy(d))
    closure: dict[str, object] = {"partial_f": fn}
    closure.update({f"partial_a{i}": v for i, v in enumerate(bound)})
    closure.update({f"partial_k_{k}": v for k, v in keywords.items()})
    key = tuple((k, v if getattr(v, "__hash__", None) else id(v)) for k, v in closure.items())
    base = f"partial_{node.lineno}_{node.col_offset}"
    known = st.lambda_names.setdefault(base, {})
    name = known.setdefault(key, f"{base}_{len(known) + 1}" if known else base)
    if name not in st.program.functions:
        call_node = ast.Call(
            func=ast.Name(id="partial_f", ctx=ast.Load()),
            args=[ast.Name(id=f"partial_a{i}", ctx=ast.Load()) for i in range(len(bound))],
            keywords=[
                ast.keyword(arg=k, value=ast.Name(id=f"partial_k_{k}", ctx=ast.Load()))
                for k in keywords
            ]
            + [ast.keyword(arg=p, value=ast.Name(id=p, ctx=ast.Load())) for p, _ in open_params],
        )
        body = ast.Return(value=call_node)
        signature = ast.arguments(
            posonlyargs=[],
            args=[ast.arg(arg=p) for p, _ in open_params],
            vararg=None,
            kwonlyargs=[],
            kw_defaults=[],
            kwarg=None,
            defaults=defaults,
        )
        made = ast.FunctionDef(
            name=name, args=signature, body=[body], decorator_list=[], returns=None
        )
        for n in ast.walk(made):
            ast.copy_location(n, node)
        ast.fix_missing_locations(made)
        st.program.functions[name] = Info(
            name, made, info.module, closure=closure, defaults=info.defaults
        )
    return Func(name)


def arguments(
    st: State, node: ast.Call, hint: str | None = None, global_ok: bool = False
) -> tuple[list[Value], dict[str, Value]]:
    """The values of a call's arguments, drafted left to right (an object made in an
    argument, `Condition(Lock())`, is declared with the object made, `cond_lock`)."""
    args: list[Value] = []
    for a in node.args:
        if isinstance(a, ast.Call) and hint is not None:
            args.append(call(st, a, hint=f"{hint}_lock", global_ok=global_ok))
        elif isinstance(a, ast.Starred):
            inner = exprs.evaluate(st, a.value)
            if isinstance(inner, ListVal) and inner.exact:
                args.extend(inner.items)
            else:
                args.append(UNKNOWN)
        else:
            args.append(exprs.evaluate(st, a))
    kwargs = {k.arg: exprs.evaluate(st, k.value) for k in node.keywords if k.arg}
    return args, kwargs


def library(
    st: State,
    cn: str,
    node: ast.Call,
    *,
    hint: str | None,
    global_ok: bool,
    used: bool,
    awaited: bool,
) -> Value:
    """A call of something imported (or a builtin)."""
    if cn in REFUSED:
        raise st.refuse(node, f"`{st.source(node)}`", REFUSED[cn])
    if cn in CONSTRUCTORS:
        args, kwargs = arguments(st, node, hint, global_ok)
        return resources.make(st, CONSTRUCTORS[cn], cn, node, args, kwargs, hint, global_ok)
    if cn.startswith("asyncio."):
        return asyncs.asyncio_call(st, cn, node, used=used, awaited=awaited)
    args, kwargs = arguments(st, node)
    if cn in TIMERS:
        return _timer(st, node, args, kwargs, hint, global_ok)
    if cn in THREADS or cn in PROCESSES:
        return _thread_object(st, node, args, kwargs, process=cn in PROCESSES)
    if cn == "_thread.start_new_thread" and args:
        more = args[1].items if len(args) > 1 and isinstance(args[1], ListVal) else []
        obj = ThreadObj(args[0], list(more), True, False, _origin(st, node))
        methods.start(st, obj, node, None)
        return UNKNOWN
    if cn == "multiprocessing.get_context":
        return ModuleRef("multiprocessing")
    if cn == "time.sleep":
        st.out("skip", node)
        return Const(None)
    if cn == "os.fork":
        return ForkPid()
    if cn in ("os._exit", "sys.exit", "exit", "quit"):
        return _exit(st, cn, node)
    if cn in ("atexit.register", "signal.signal", "weakref.finalize", "weakref.ref"):
        handlers.register(st, cn, node, args, kwargs)
        return args[0] if cn == "atexit.register" and args else UNKNOWN
    if cn == "logging.getLogger" or cn == "logging":
        return Logger()
    if cn.startswith("logging."):
        _, _, what = cn.rpartition(".")
        if what in LOG_LEVELS:
            log_emit(st, node)
        elif what in ("config.dictConfig", "dictConfig", "fileConfig", "basicConfig"):
            log_configure(st, node)
            given = kwargs.get("handlers")
            for h in given.items if isinstance(given, ListVal) else []:
                add_handler(st, h)
        return UNKNOWN
    if cn in ("concurrent.futures.wait", "concurrent.futures.as_completed"):
        return methods.wait_all(st, args[0] if args else UNKNOWN, node, cn)
    if cn in ("list", "tuple") and args and isinstance(args[0], ListVal):
        return ListVal(list(args[0].items), args[0].exact)
    known = [a for a in args if isinstance(a, ListVal) and a.exact]
    if cn in ("enumerate", "zip", "reversed") and args and len(known) == len(args):
        return _rearranged(cn, known, kwargs)
    if cn == "functools.partial" and args:
        return partial_function(st, node, args[0], args[1:], kwargs)
    if cn == "object" and not args and not kwargs:
        # a marker made once (`STOP = object()`) is a value of its own; one made again
        # and again is only surely not any marker
        once = global_ok and st.f.func is None and st.f.loop_depth == 0 and hint
        if once and hint:
            return Marker(st.unique_text(hint))
        if st.f.is_module and st.f.loop_depth == 0 and not hint:
            return DATA
        # a new object each time: a run-time object of the spec stands for its identity
        return Marker(st.temp(hint or "marker", "event()", node), local=True)
    if cn == "globals" and not args and not kwargs:
        # the module's objects the draft knows, by name (`globals()["lk"]`)
        names: dict[object, object] = {
            n: v for n, v in st.genv.items() if isinstance(v, Res | Func | Instance)
        }
        return DictVal(names)
    _builtin_dunders(st, cn, node, args)
    if cn == "getattr" and len(args) >= 2 and isinstance(args[1], Const):
        found = _getattr(st, args[0], args[1].value)
        if found is not None:
            return found
    if _harmless(cn):
        for value in [*args, *kwargs.values()]:
            if isinstance(value, Func):
                _called_back(st, value, node)
            elif isinstance(value, Method):
                st.assume(node, f"the method handed to `{st.source(node)}` is assumed not to block")
        if cn in _RAISING_BUILTINS or (cn == "getattr" and len(args) + len(kwargs) < 3):
            may_raise(st, node, implicit=True)
        if cn in _DATA_MAKERS:
            return DATA
        return OPAQUE if _plain_result(cn) else UNKNOWN
    return unknown_call(st, node)


def _getattr(st: State, obj: Value, name: object) -> Value | None:
    """`getattr(obj, "name")` with a constant name: the attribute, as `obj.name`."""
    if not isinstance(name, str):
        return None
    if isinstance(obj, Instance):
        if name in obj.fields:
            return obj.fields[name]
        found = exprs.class_attribute(st, obj.cls, name, obj)
        return None if found == UNKNOWN else found
    if isinstance(obj, Res):
        return Method(obj, name)
    return None


def _rearranged(cn: str, lists: list[ListVal], kwargs: dict[str, Value]) -> Value:
    """`enumerate`, `zip` or `reversed` of lists the draft knows: the list of what they
    yield."""
    if cn == "reversed" and len(lists) == 1:
        return ListVal(list(reversed(lists[0].items)))
    if cn == "enumerate" and len(lists) == 1:
        start = kwargs.get("start", Const(0))
        if not (isinstance(start, Const) and isinstance(start.value, int)):
            return DATA
        return ListVal([ListVal([Const(start.value + i), v]) for i, v in enumerate(lists[0].items)])
    if cn == "zip":
        return ListVal(
            [ListVal(list(row)) for row in zip(*(lst.items for lst in lists), strict=False)]
        )
    return DATA


# builtins that raise on bad data (`int("x")`: ValueError)
_RAISING_BUILTINS = frozenset(
    ["int", "float", "complex", "chr", "ord", "divmod", "pow", "next", "bytes", "round"]
)

_DATA_MAKERS = frozenset(
    [
        "dict",
        "list",
        "set",
        "frozenset",
        "tuple",
        "str",
        "bytes",
        "bytearray",
        "sorted",
        "repr",
        "format",
        "reversed",
        "enumerate",
        "zip",
        "range",
        "open",
        "input",
        "len",
        "int",
        "float",
        "abs",
        "bool",
        "round",
        "hash",
        "id",
        "ord",
        "chr",
        "hex",
        "bin",
        "oct",
        "divmod",
        "pow",
        "ascii",
        "isinstance",
        "issubclass",
        "callable",
        "hasattr",
    ]
)
_OBJECT_MODULES = ("weakref.", "functools.", "copy.", "operator.", "typing.", "enum.")


def _plain_result(cn: str) -> bool:
    """Whether a harmless call surely returns plain data (never a lock or a thread)."""
    if cn in _DATA_MAKERS:
        return True
    if cn in HARMLESS_CALLS:
        return cn.startswith(("time.", "os.", "sys.", "multiprocessing.cpu"))
    return not cn.startswith(_OBJECT_MODULES) and "." in cn


_EXCEPTIONS = frozenset(
    {"SystemExit", "KeyboardInterrupt", "StopIteration", "GeneratorExit", "Empty", "Full"}
)


def _called_back(st: State, fn: Func, node: ast.Call) -> None:
    """A function of the program handed to a call that calls it back (`map(f, xs)`):
    called a bounded number of times, its arguments unknown."""
    k = st.options.unroll
    st.assume(node, f"loop over unknown data bounded to {k} iterations: `{st.source(node)}`")
    counter = st.temp("rounds", "0", node)
    with st.block(f"while {counter} < {k}", node):
        st.out(f"{counter} = {counter} + 1", node)
        with st.block("choose", node) as b:
            st.out("break", node)
        with st.tail(b, "or"):
            st.out("skip", node)
        st.f.loop_depth += 1
        try:
            call_func(st, fn, [UNKNOWN] * 3, {}, node, used=False)
        finally:
            st.f.loop_depth -= 1


def _harmless(cn: str) -> bool:
    if cn in HARMLESS_BUILTINS or cn in HARMLESS_CALLS:
        return True
    last = cn.rpartition(".")[2]
    if last.endswith(("Error", "Exception", "Warning")) or last in _EXCEPTIONS:
        return True  # making an exception object
    if any(cn.startswith(p) for p in BLOCKING_OUTSIDE):
        return False
    return any(cn.startswith(p) or cn == p.rstrip(".") for p in HARMLESS_MODULES)


def dunder(
    st: State, value: Value, names: tuple[str, ...], node: ast.AST, args: tuple[Value, ...] = ()
) -> bool:
    """An implicit call of a special method (`str(k)` calls `__str__`, `a == b` calls
    `__eq__`) on an instance of one of the program's classes: the first of `names` its
    class defines is called as other methods are. Whether one was called."""
    if not isinstance(value, Instance):
        return False
    for name in names:
        info = find_method(st, value.cls, name)
        if info is not None:
            call_func(st, Func(info.name, value), list(args), {}, node, used=False)
            return True
    return False


# the special methods a builtin calls on its argument
_BUILTIN_DUNDERS: dict[str, tuple[str, ...]] = {
    "str": ("__str__", "__repr__"),
    "print": ("__str__", "__repr__"),
    "format": ("__format__", "__str__", "__repr__"),
    "repr": ("__repr__",),
    "ascii": ("__repr__",),
    "len": ("__len__",),
    "hash": ("__hash__",),
    "bool": ("__bool__", "__len__"),
    "iter": ("__iter__",),
    "next": ("__next__",),
    "abs": ("__abs__",),
    "int": ("__int__", "__index__"),
    "float": ("__float__",),
    "list": ("__iter__",),
    "tuple": ("__iter__",),
    "set": ("__iter__",),
}


def _builtin_dunders(st: State, cn: str, node: ast.Call, args: list[Value]) -> None:
    """The special methods a builtin calls on instances of the program's classes
    (`sorted`, `min` and `max` compare the items of a list they are given)."""
    names = _BUILTIN_DUNDERS.get(cn)
    if names is not None:
        for value in args if cn == "print" else args[:1]:
            dunder(st, value, names, node)
        return
    if cn in ("sorted", "min", "max") and args:
        items = args[0].items if isinstance(args[0], ListVal) else args
        if isinstance(args[0], Instance) and cn == "sorted":
            dunder(st, args[0], ("__iter__",), node)
        instances = [v for v in items if isinstance(v, Instance)]
        if len(instances) >= 2:
            dunder(st, instances[1], ("__lt__", "__gt__"), node, (instances[0],))


def unknown_call(st: State, node: ast.Call) -> Value:
    """A call the draft does not know: `skip`, assumed not to block."""
    st.assume(node, f"assumed not to block: `{st.source(node)}`")
    st.out("skip", node)
    may_raise(st, node)
    return UNKNOWN


def may_raise(st: State, node: ast.AST, *, implicit: bool = False) -> None:
    """Code that may raise (an unknown call, a failing lookup or conversion: see
    `raising`) while the code holds a lock it took with `acquire()`: then the `finally`
    blocks around it run and the function (or the main module's code) is left, the lock
    still held unless one of them releases it (`choose`: an over-approximation)."""
    from gilcheck.draft.python import raising

    f = st.f
    if f.handlers > 0 or f.inline_init:
        return
    if f.held <= 0 and not (implicit and _signal_follows(st)):
        return
    if f.last_raise_choice == (id(f.stmt), id(f.blocks[-1]), len(f.blocks[-1])):
        return  # right after this statement's choice: one is enough
    saved_held, saved_env, saved_genv = f.held, dict(f.env), dict(st.genv)
    with st.block("choose", node) as b:
        st.out("skip", node)
    with st.tail(b, "or"):
        raising.raise_here(st, node)
    f.last_raise_choice = (id(f.stmt), id(f.blocks[-1]), len(f.blocks[-1]))
    f.dead = False
    f.held = saved_held
    f.env.clear()
    f.env.update(saved_env)
    st.genv.clear()
    st.genv.update(saved_genv)


_SIGNALS = frozenset({"set", "release", "notify", "notify_all", "task_done"})


def _signal_follows(st: State) -> bool:
    """Whether the function being drafted goes on, after the current statement, to a
    `set()`, `release()`, `notify()` or `task_done()` outside a `finally` (one a raise
    here would skip)."""
    f = st.f
    if f.func is None or f.stmt is None:
        return False
    here = (f.stmt.end_lineno or f.stmt.lineno, f.stmt.end_col_offset or 0)
    guarded: set[int] = set()
    for n in ast.walk(f.func.node):
        if isinstance(n, ast.Try | ast.TryStar):
            guarded.update(id(m) for b in n.finalbody for m in ast.walk(b))
    for n in ast.walk(f.func.node):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in _SIGNALS
            and not n.args
            and id(n) not in guarded
            and (n.lineno, n.col_offset) > here
        ):
            return True
    return False


def function_info(st: State, target: Func) -> FunctionInfo | None:
    """The function a `Func` value names."""
    if "." in target.name:
        cls, _, meth = target.name.partition(".")
        return find_method(st, cls, meth)
    return st.program.functions.get(target.name)


def call_func(
    st: State,
    target: Func,
    args: list[Value],
    kwargs: dict[str, Value],
    node: ast.AST,
    *,
    used: bool,
    awaited: bool = False,
) -> Value:
    """A call of one of the program's functions or methods (a known value)."""
    if "." in target.name:
        cls, _, meth = target.name.partition(".")
        info = st.program.classes[cls].methods[meth]
    else:
        info = st.program.functions[target.name]
    return functions.call_function(
        st, info, args, kwargs, node, used=used, instance=target.instance, awaited=awaited
    )


def new_instance(
    st: State,
    cls: str,
    args: list[Value],
    kwargs: dict[str, Value],
    node: ast.Call,
    hint: str | None,
    global_ok: bool,
) -> Value:
    """`C(args)`: an instance of one of the program's classes, its `__init__` drafted in
    place (a `Thread` subclass is also a thread, whose target is its `run`)."""
    info = st.program.classes[cls]
    inst = Instance(cls, {}, hint or cls.lower(), global_ok)
    if is_thread_class(st, cls):
        target = Func(f"{cls}.run", inst) if "run" in _methods(st, cls) else UNKNOWN
        inst.fields["__thread__"] = ThreadObj(target, [], False, False, _origin(st, node))
    init = find_method(st, cls, "__init__")
    if init is not None:
        inline_init(st, init, inst, args, kwargs)
    if "__del__" in info.methods:
        handlers.finalizer_for(st, inst, info.methods["__del__"], node)
    return inst


def inline_init(
    st: State,
    init: FunctionInfo,
    inst: Instance,
    args: list[Value],
    kwargs: dict[str, Value],
) -> None:
    """Draft `__init__`'s statements where the object is made, `self` being it."""
    from gilcheck.draft.python import stmts

    f = st.f
    saved_env, saved_globals = f.env, f.globals_declared
    env = {pname: value for pname, value in functions.bind(init, args, kwargs, inst)}
    saved_module, saved_init, saved_is_module = f.module, f.inline_init, f.is_module
    f.env, f.globals_declared, f.module, f.inline_init = env, set(), init.module, True
    f.is_module = False
    try:
        stmts.block(st, init.node.body, inline=True)
    finally:
        f.env, f.globals_declared, f.module = saved_env, saved_globals, saved_module
        f.inline_init, f.is_module, f.dead = saved_init, saved_is_module, False


def find_method(st: State, cls: str, name: str) -> FunctionInfo | None:
    """A method of a class of the program, looked up through its bases."""
    seen: set[str] = set()
    while cls in st.program.classes and cls not in seen:
        seen.add(cls)
        info = st.program.classes[cls]
        if name in info.methods:
            return info.methods[name]
        bases = [b.rpartition(".")[2] for b in info.bases]
        cls = next((b for b in bases if b in st.program.classes), "")
    return None


def _methods(st: State, cls: str) -> set[str]:
    info = st.program.classes.get(cls)
    return set(info.methods) if info else set()


def is_thread_class(st: State, cls: str) -> bool:
    """Whether a class of the program derives from `threading.Thread`."""
    info = st.program.classes.get(cls)
    if info is None:
        return False
    for b in info.bases:
        if canonical(info.module, b) in THREADS:
            return True
        if b in st.program.classes and b != cls and is_thread_class(st, b):
            return True
    return False


def _thread_object(
    st: State, node: ast.Call, args: list[Value], kwargs: dict[str, Value], *, process: bool
) -> Value:
    target = kwargs.get("target", args[1] if len(args) > 1 else UNKNOWN)
    given = kwargs.get("args", args[3] if len(args) > 3 else ListVal())
    daemon = kwargs.get("daemon")
    if not isinstance(given, ListVal) or not given.exact:
        given = ListVal([UNKNOWN])
    named = kwargs.get("kwargs", args[4] if len(args) > 4 else None)
    thread = ThreadObj(
        target,
        list(given.items),
        isinstance(daemon, Const) and bool(daemon.value),
        process,
        _origin(st, node),
    )
    thread.daemon_known = daemon is None or isinstance(daemon, Const)
    if isinstance(named, DictVal) and named.exact:
        thread.kwargs = {k: v for k, v in named.items.items() if isinstance(k, str)}
    return thread


def _timer(
    st: State,
    node: ast.Call,
    args: list[Value],
    kwargs: dict[str, Value],
    hint: str | None,
    global_ok: bool,
) -> Value:
    """`threading.Timer(interval, f, args)`: a thread that waits on its `finished` event
    for the interval (any time, as timeouts have no clock) and then runs `f` unless
    `cancel()` set the event meanwhile, as `Timer.run` does."""
    function = kwargs.get("function", args[1] if len(args) > 1 else UNKNOWN)
    given = kwargs.get("args", args[2] if len(args) > 2 else ListVal())
    if not isinstance(given, ListVal) or not given.exact:
        given = ListVal([UNKNOWN])
    finished = resources.make(
        st, "event", "threading.Event", node, [], {}, f"{hint or 'timer'}_finished", global_ok
    )
    timer = ThreadObj(function, list(given.items), False, False, _origin(st, node))
    timer.finished = finished if isinstance(finished, Res) else None
    return timer


def _origin(st: State, node: ast.AST) -> Origin:
    where = st.origin(node)
    assert where is not None
    return where


def _is_module_path(st: State, name: str | None) -> bool:
    if name is None:
        return False
    head = name.split(".")[0]
    if head in st.f.env and head not in st.f.module.aliases:
        return False
    return head in st.f.module.aliases or head in ("logging",) or _sibling(st, head)


def _sibling(st: State, head: str) -> bool:
    return any(m.name == head for m in st.program.modules)


def _sibling_function(st: State, name: str) -> FunctionInfo | None:
    mod, _, fn = name.partition(".")
    if fn and "." not in fn and _sibling(st, mod) and fn in st.program.functions:
        return st.program.functions[fn]
    return None


def _is_super_init(func: ast.Attribute) -> bool:
    v = func.value
    return (
        func.attr == "__init__"
        and isinstance(v, ast.Call)
        and isinstance(v.func, ast.Name)
        and v.func.id == "super"
    ) or (func.attr == "__init__" and dotted(v) in ("threading.Thread", "Thread"))


def _super_init(st: State, node: ast.Call) -> None:
    """`super().__init__(daemon=True)` in a `Thread` subclass."""
    me = st.lookup("self")
    for k in node.keywords:
        if k.arg == "daemon" and isinstance(me, Instance):
            thread = me.fields.get("__thread__")
            value = exprs.evaluate(st, k.value)
            if isinstance(thread, ThreadObj) and isinstance(value, Const):
                thread.daemon = bool(value.value)
        elif k.arg == "target" and isinstance(me, Instance):
            thread = me.fields.get("__thread__")
            if isinstance(thread, ThreadObj):
                thread.target = exprs.evaluate(st, k.value)


def _exit(st: State, cn: str, node: ast.Call) -> Value:
    """`sys.exit()` raises SystemExit; `os._exit()` ends the process at once (in a fork
    child, the end of the child)."""
    from gilcheck.draft.python import raising

    if cn == "os._exit" and not st.f.in_fork:
        st.assume(
            node,
            f"`{st.source(node)}` ends the process without joining its threads: "
            "drafted as the end of this code only",
        )
    raising.raise_here(st, node)
    return UNKNOWN


def log_emit(st: State, node: ast.AST) -> None:
    """A log call: the `emit` of each handler the program wrote itself and attached (it
    runs on the logging thread), and `cpython_logging_emit` when the program forks
    (logging's locks then matter); else nothing."""
    if st.program.uses_fork:
        st.uses_cpython = True
        st.uses_logging = True
        st.out("call cpython_logging_emit(0)", node)
    for handler in list(st.log_handlers):
        emit = find_method(st, handler.cls, "emit")
        if emit is not None:
            call_func(st, Func(emit.name, handler), [UNKNOWN], {}, node, used=False)


def add_handler(st: State, handler: Value) -> None:
    """`logger.addHandler(h)` with `h` an instance of one of the program's classes."""
    if isinstance(handler, Instance) and handler not in st.log_handlers:
        st.log_handlers.append(handler)


def log_configure(st: State, node: ast.AST) -> None:
    """A logging configuration call (`addHandler`, `basicConfig`)."""
    if st.program.uses_fork:
        st.uses_cpython = True
        st.uses_logging = True
        st.out("call cpython_logging_configure()", node)


def constant_range(st: State, node: ast.expr) -> list[int] | None:
    """The values of `range(...)` with constant bounds, else None."""
    if not (isinstance(node, ast.Call) and dotted(node.func) == "range" and not node.keywords):
        return None
    bounds = []
    for a in node.args:
        v = exprs.evaluate(st, a)
        if not (isinstance(v, Const) and isinstance(v.value, int)):
            return None
        bounds.append(int(v.value))
    if not 1 <= len(bounds) <= 3 or (len(bounds) == 3 and bounds[2] == 0):
        return None
    return list(range(*bounds))


def await_(st: State, node: ast.Await) -> Value:
    """`await x` inside a coroutine."""
    return asyncs.await_(st, node)
