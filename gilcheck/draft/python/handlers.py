"""Code that runs outside the normal flow: `atexit.register(f)` (`atexit { }`),
`signal.signal(sig, h)` (`signal { }`), `__del__` and `weakref.finalize` / weakref
callbacks (`finalizer { }`). Their bodies are top-level blocks that see only globals,
so a run-time object handed to them is first stored in a shared `var`."""

from __future__ import annotations

import ast

from gilcheck.draft.python import functions
from gilcheck.draft.python.ir import Line, Node
from gilcheck.draft.python.program import FunctionInfo
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import UNKNOWN, Func, Instance, Value


def register(
    st: State, cn: str, node: ast.Call, args: list[Value], kwargs: dict[str, Value]
) -> None:
    """`atexit.register(f, *args)`, `signal.signal(sig, h)`, `weakref.finalize(obj, f,
    *args)`, `weakref.ref(obj, callback)`."""
    if cn == "atexit.register":
        target, rest = (args[0], args[1:]) if args else (UNKNOWN, [])
        lines = _call_lines(st, target, rest, kwargs, node, "atexit")
        st.atexit[:0] = lines  # handlers run last registered, first
    elif cn == "signal.signal":
        target = args[1] if len(args) > 1 else kwargs.get("handler", UNKNOWN)
        if isinstance(target, Func) or (len(args) > 1 and not _is_default(node)):
            st.signals.append(_call_lines(st, target, [], {}, node, "signal"))
    elif cn == "weakref.finalize":
        target, rest = (args[1], args[2:]) if len(args) > 1 else (UNKNOWN, [])
        st.finalizers.append(_call_lines(st, target, rest, kwargs, node, "finalizer"))
    elif cn == "weakref.ref" and len(args) > 1:
        st.finalizers.append(_call_lines(st, args[1], [UNKNOWN], {}, node, "finalizer"))


def _is_default(node: ast.Call) -> bool:
    h = node.args[1] if len(node.args) > 1 else None
    text = ast.unparse(h) if h is not None else ""
    return text.endswith(("SIG_IGN", "SIG_DFL", "default_int_handler"))


def finalizer_for(st: State, inst: Instance, info: FunctionInfo, node: ast.AST) -> None:
    """`__del__` of an object the program makes: a `finalizer { }` calling it (once per
    class: the garbage collector may run it at any statement boundary)."""
    key = ("__del__", info.name)
    if key in st.fn_keys:
        return
    st.fn_keys[key] = ""
    st.finalizers.append(_call_lines(st, Func(info.name, inst), [], {}, node, "finalizer"))


def _call_lines(
    st: State,
    target: Value,
    args: list[Value],
    kwargs: dict[str, Value],
    node: ast.AST,
    what: str,
) -> list[Node]:
    info = _info(st, target)
    if info is None:
        st.assume(
            node, f"the {what} handler of `{st.source(node)}` is not drafted: assumed not to block"
        )
        return [Line("skip", st.origin(node))]
    instance = target.instance if isinstance(target, Func) else None
    params = info.params[1:] if info.cls is not None else info.params
    args = list(args) + [UNKNOWN] * max(0, len(params) - len(args))
    made = functions.instantiate(st, info, args, kwargs, node, instance=instance)
    if made is None:
        return [Line("skip", st.origin(node))]
    name, passed = made
    shared = [_promote(st, a, node) for a in passed]
    return [Line(f"call {name}({', '.join(shared)})", st.origin(node))]


def _promote(st: State, expr: str, node: ast.AST) -> str:
    """An argument a top-level block can use: a global or literal as it is, a local
    stored first in a new shared `var`."""
    if expr in st.global_specs or not expr[:1].isalpha() or expr in ("none", "true", "false"):
        return expr
    name = st.global_name(f"{expr}_shared")
    st.declare(f"var {name} = none", node, name)
    st.out(f"{name} = {expr}", node)
    return name


def _info(st: State, target: Value) -> FunctionInfo | None:
    if not isinstance(target, Func):
        return None
    if "." in target.name:
        cls, _, meth = target.name.partition(".")
        info = st.program.classes.get(cls)
        return info.methods.get(meth) if info else None
    return st.program.functions.get(target.name)
