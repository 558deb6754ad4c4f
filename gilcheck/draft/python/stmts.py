"""Python statements as spec statements: the walk over a block, assignments (data
to spec locals and shared variables, objects kept by the draft), `return` and `raise`,
class attributes and nested functions. Branches, loops, `with` and `try` have modules of
their own."""

from __future__ import annotations

import ast
import re

from gilcheck.draft.python import branches, calls, contexts, exprs, functions, loops, raising
from gilcheck.draft.python.program import FunctionInfo, dotted
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    UNKNOWN,
    Const,
    Data,
    DictVal,
    Func,
    Instance,
    ListVal,
    Res,
    ThreadObj,
    Value,
)


def block(st: State, body: list[ast.stmt], *, inline: bool = False) -> None:
    """Draft a list of statements into the current block (stopping after one that
    leaves it)."""
    f = st.f
    for i, s in enumerate(body):
        if f.dead:
            break
        if branches.split(st, s, body[i + 1 :]):
            break
        before = f.raise_epoch
        statement(st, s)
        rest = body[i + 1 :]
        if f.raise_epoch != before and not f.dead and rest and f.func is None:
            # top-level code that may have raised: the rest runs only if it did not
            with st.block(f"if {raising.guard_rest(st)}", None):
                block(st, rest, inline=True)
            break
    if not inline:
        f.dead = False


def statement(st: State, s: ast.stmt) -> None:
    """Draft one statement."""
    f = st.f
    saved = f.stmt
    f.stmt = s
    try:
        _statement(st, s)
    finally:
        f.stmt = saved


def _statement(st: State, s: ast.stmt) -> None:
    f = st.f
    if isinstance(s, ast.Expr) and isinstance(s.value, ast.Yield | ast.YieldFrom):
        if f.yield_hooks:
            f.yield_hooks[-1]()
        elif s.value.value is not None:
            exprs.evaluate(st, s.value.value)
    elif isinstance(s, ast.Expr):
        if isinstance(s.value, ast.Call):
            calls.call(st, s.value, used=False)
        else:
            exprs.evaluate(st, s.value)
    elif isinstance(s, ast.Assign):
        _assign(st, s.targets, s.value, s)
    elif isinstance(s, ast.AnnAssign) and s.value is not None:
        _assign(st, [s.target], s.value, s)
    elif isinstance(s, ast.AugAssign):
        value = ast.BinOp(left=_load(s.target), op=s.op, right=s.value)
        ast.copy_location(value, s)
        ast.fix_missing_locations(value)
        _assign(st, [s.target], value, s)
    elif isinstance(s, ast.If):
        branches.if_statement(st, s)
    elif isinstance(s, ast.While):
        loops.while_statement(st, s)
    elif isinstance(s, ast.For | ast.AsyncFor):
        loops.for_statement(st, s)
    elif isinstance(s, ast.With | ast.AsyncWith):
        contexts.with_statement(st, s, list(s.items))
    elif isinstance(s, ast.Try | ast.TryStar):
        contexts.try_statement(st, s)
    elif isinstance(s, ast.Return):
        _return(st, s)
    elif isinstance(s, ast.Raise):
        if s.exc is not None:
            exprs.evaluate(st, s.exc)
        raising.raise_here(st, s)
    elif isinstance(s, ast.Break | ast.Continue):
        if f.loop_marks:
            run_finally_blocks(st, f.loop_marks[-1])
        st.out("break" if isinstance(s, ast.Break) else "continue", s)
        f.dead = True
    elif isinstance(s, ast.Delete):
        for t in s.targets:
            if isinstance(t, ast.Subscript):
                base = exprs.evaluate(st, t.value)
                if isinstance(base, ListVal | DictVal):
                    base.exact = False
    elif isinstance(s, ast.Global):
        f.globals_declared.update(s.names)
    elif isinstance(s, ast.Assert):
        _assert(st, s)
    elif isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
        _nested_def(st, s)
    elif isinstance(s, ast.Match):
        branches.match_statement(st, s)
    elif isinstance(s, ast.ClassDef):
        _class_attributes(st, s)


def _assert(st: State, s: ast.Assert) -> None:
    """`assert c` raises AssertionError when `c` is false: a `try` may catch it, a
    thread it leaves ends, the main module's code it leaves ends the program. When the
    draft cannot compute `c` it is drafted as code that may raise (`calls.may_raise`)."""
    cond = exprs.condition(st, s.test)
    if s.msg is not None:
        exprs.evaluate(st, s.msg)
    if cond == "true":
        return
    if cond is None:
        calls.may_raise(st, s)
        return
    if cond == "false":
        raising.raise_here(st, s)
        return
    with st.block(f"if {exprs.negation(cond)}", s):
        raising.raise_here(st, s)
    st.f.dead = False


def _load(target: ast.expr) -> ast.expr:
    copy = ast.parse(ast.unparse(target), mode="eval").body
    return ast.copy_location(copy, target)


def _assign(st: State, targets: list[ast.expr], value_node: ast.expr, s: ast.stmt) -> None:
    f = st.f
    pair = targets[0] if len(targets) == 1 else None
    if (
        isinstance(pair, ast.Tuple | ast.List)
        and isinstance(value_node, ast.Tuple | ast.List)
        and len(pair.elts) == len(value_node.elts)
        and all(isinstance(t, ast.Name) for t in pair.elts)
        and not {t.id for t in pair.elts if isinstance(t, ast.Name)}
        & {n.id for n in ast.walk(value_node) if isinstance(n, ast.Name)}
    ):
        for t, v in zip(pair.elts, value_node.elts, strict=True):
            _assign(st, [t], v, s)
        return
    first = targets[0]
    hint, global_ok = None, False
    if isinstance(first, ast.Name):
        hint = first.id
        global_ok = f.is_module and f.loop_depth == 0 and not f.in_fork
    elif isinstance(first, ast.Attribute):
        base = exprs.evaluate(st, first.value)
        if isinstance(base, Instance):
            hint = f"{base.prefix}_{first.attr}"
            global_ok = base.is_global and f.loop_depth == 0
    if id(s) in st.skip_nodes:
        return
    saved_target = f.target
    f.target = first.id if isinstance(first, ast.Name) and len(targets) == 1 else None
    try:
        if isinstance(value_node, ast.Call):
            value = calls.call(st, value_node, hint=hint, global_ok=global_ok)
        else:
            value = exprs.evaluate(st, value_node)
    finally:
        f.target = saved_target
    for target in targets:
        if isinstance(target, ast.Tuple | ast.List) and isinstance(value, ListVal):
            value = _snapshot(st, target, value, s)
        store(st, target, value, s)


def _snapshot(st: State, target: ast.Tuple | ast.List, value: ListVal, s: ast.stmt) -> ListVal:
    """`a, b = b, a`: data read on the right that a target on the left rebinds is copied
    to a local of its own first, so that every item is the value before the assignment."""
    bound = {st.f.spec_of.get(n.id) for n in ast.walk(target) if isinstance(n, ast.Name)}
    bound |= {st.shared.get(n.id) for n in ast.walk(target) if isinstance(n, ast.Name)}
    bound.discard(None)
    if not bound:
        return value
    items: list[Value] = []
    for item in value.items:
        if isinstance(item, Data) and set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", item.spec)) & bound:
            copy = st.temp("was", item.spec, s)
            item = Data(copy, item.plain, item.vague)
        items.append(item)
    return ListVal(items, value.exact)


def store(st: State, target: ast.expr, value: Value, s: ast.stmt) -> None:
    if isinstance(target, ast.Name):
        assign_name(st, target.id, value, s)
    elif isinstance(target, ast.Attribute):
        base = exprs.evaluate(st, target.value)
        if isinstance(base, Instance):
            _store_field(st, base, target.attr, value, s)
        elif isinstance(base, ThreadObj) and target.attr == "daemon":
            base.daemon = isinstance(value, Const) and bool(value.value)
            base.daemon_known = isinstance(value, Const)
    elif isinstance(target, ast.Tuple | ast.List):
        items = value.items if isinstance(value, ListVal) and value.exact else None
        for i, t in enumerate(target.elts):
            item = items[i] if items is not None and i < len(items) else UNKNOWN
            store(st, t, item, s)
    elif isinstance(target, ast.Subscript):
        base = exprs.evaluate(st, target.value)
        index = exprs.evaluate(st, target.slice)
        kept = UNKNOWN if isinstance(value, Const | Data) else value
        if (
            isinstance(base, ListVal)
            and isinstance(index, Const)
            and isinstance(index.value, int)
            and 0 <= index.value < len(base.items)
        ):
            base.items[index.value] = kept
            return
        if isinstance(base, DictVal) and isinstance(index, Const) and st.f.loop_depth == 0:
            base.items[index.value] = kept
        elif isinstance(base, ListVal | DictVal):
            base.exact = False  # an item the draft cannot place


def _store_field(st: State, inst: Instance, attr: str, value: Value, s: ast.stmt) -> None:
    thread = inst.fields.get("__thread__")
    if attr == "daemon" and isinstance(thread, ThreadObj):
        thread.daemon = isinstance(value, Const) and bool(value.value)
        thread.daemon_known = isinstance(value, Const)
        return
    if isinstance(value, Const | Data):
        old = inst.fields.get(attr)
        text = exprs.text(value)
        plain = isinstance(value, Const) or (isinstance(value, Data) and value.plain)
        if inst.is_global and text is not None and plain:
            if isinstance(old, Data) and old.spec in st.global_specs:
                st.out(f"{old.spec} = {text}", s)
                return
            if old is None and isinstance(value, Const):
                name = st.global_name(f"{inst.prefix}_{attr}")
                st.declare(f"var {name} = {text}", s, name)
                inst.fields[attr] = Data(name)
                return
        inst.fields[attr] = UNKNOWN
        return
    inst.fields[attr] = value


def assign_name(st: State, name: str, value: Value, s: ast.AST) -> None:
    """Python name `name` now holds `value`: a spec assignment for data, a binding the
    draft keeps for objects."""
    f = st.f
    shared = f.is_module or name in f.globals_declared
    if shared and name in st.shared:
        var = st.shared[name]
        text = exprs.text(value)
        if text is not None and (not isinstance(value, Data) or value.plain):
            st.out(f"{var} = {text}", s)
            st.genv[name] = Data(var)
        else:
            st.out(f"{var} = none", s)
            st.genv[name] = UNKNOWN
        return
    if name in f.globals_declared and isinstance(value, Data) and not f.is_module:
        st.bind(name, UNKNOWN)  # a global the spec does not share: unknown to all
        return
    if f.is_module and name in st.read_in_functions and name not in f.globals_declared:
        value = _visible_to_functions(st, name, value, s)
    if (
        isinstance(value, Const | Data)
        and f.is_module
        and name in st.read_in_functions
        and not (isinstance(value, Const) and name in st.constants)
    ):
        st.bind(name, UNKNOWN)
        return
    if isinstance(value, Const | Data):
        text = exprs.text(value) if not isinstance(value, Data) else value.spec
        if text is None:
            st.bind(name, UNKNOWN)
            return
        if isinstance(value, Const) and f.is_module and name in st.constants:
            st.bind(name, value)
            return
        spec = st.local(name)
        if isinstance(value, Data) and value.spec == spec:
            st.bind(name, value)
            return
        st.assign_spec(spec, text, s)
        plain = isinstance(value, Const) or (isinstance(value, Data) and value.plain)
        st.bind(name, Data(spec, plain, isinstance(value, Data) and value.vague))
        return
    st.bind(name, value)


def _visible_to_functions(st: State, name: str, value: Value, s: ast.AST) -> Value:
    """A module-level name that functions read must hold something they can see: an
    object made at run time is stored in a shared `var`."""
    if isinstance(value, ListVal) and value.exact:
        value.items = [
            _visible_to_functions(st, f"{name}_{i}", item, s) for i, item in enumerate(value.items)
        ]
        return value
    if isinstance(value, DictVal) and value.exact:
        value.items = {
            k: _visible_to_functions(st, f"{name}_{exprs.legal_key(k)}", item, s)
            for k, item in value.items.items()
        }
        return value
    if isinstance(value, Res) and not value.is_global and not value.lock and not value.unfinished:
        var = st.global_name(f"{name}_shared")
        st.declare(f"var {var} = none", s, var)
        st.out(f"{var} = {value.spec}", s)
        return Res(value.kind, var, is_global=True)
    return value


def _return(st: State, s: ast.Return) -> None:
    f = st.f
    value = exprs.evaluate(st, s.value) if s.value is not None else Const(None)
    f.returns.append(value)
    if f.func is not None and not f.inline_init:
        run_finally_blocks(st)
        text = "none" if value == Const(None) else exprs.message(st, value)
        if isinstance(value, Res):
            text = value.spec
        st.out(f"return {text}" if text != "none" else "return", s)
    f.dead = True


def run_finally_blocks(st: State, since: int = 0) -> None:
    """Leaving the function (or, from `since` on, a loop) from inside `try:` blocks: their
    `finally` blocks run first, innermost first."""
    f = st.f
    pending = list(f.finally_stack)
    if not any(pending[since:]):
        return
    f.finally_stack = []
    dead = f.dead
    try:
        for body in reversed(pending[since:]):
            f.dead = False
            block(st, body, inline=True)
    finally:
        f.finally_stack = pending
        f.dead = dead


def _class_attributes(st: State, s: ast.ClassDef) -> None:
    """A class's own attributes (`_lock = threading.Lock()` in its body): objects made
    once, when the class is defined."""
    f = st.f
    attrs = st.class_attrs.setdefault(s.name, {})
    saved_target = f.target
    for item in s.body:
        if (
            isinstance(item, ast.Assign)
            and len(item.targets) == 1
            and isinstance(item.targets[0], ast.Name)
        ):
            name = item.targets[0].id
            f.stmt, f.target = item, None
            if isinstance(item.value, ast.Call):
                value = calls.call(
                    st, item.value, hint=f"{s.name}_{name}", global_ok=f.loop_depth == 0
                )
            else:
                value = exprs.evaluate(st, item.value)
            attrs[name] = UNKNOWN if isinstance(value, Const | Data) else value
        elif isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
            info = st.program.classes.get(s.name)
            method = info.methods.get(item.name) if info is not None else None
            if method is not None and method.node is item:
                method.defaults = functions.defaults_of(st, item)
    f.target = saved_target


def _nested_def(st: State, s: ast.FunctionDef | ast.AsyncFunctionDef) -> None:

    f = st.f
    top = st.program.functions.get(s.name)
    if f.is_module and top is not None and top.node is s:
        top.defaults = functions.defaults_of(st, s)
        for d in s.decorator_list:
            if dotted(d) in ("atexit.register", "register"):
                from gilcheck.draft.python import handlers

                handlers.register(st, "atexit.register", _fake_call(s), [Func(s.name)], {})
        return
    name = f"{s.name}__in_{f.func.name if f.func else 'main'}".replace(".", "_")
    if f.is_module and top is None:
        name = s.name
    closure = None if f.is_module else f.env
    st.program.functions[name] = FunctionInfo(
        name, s, f.module, closure=closure, defaults=functions.defaults_of(st, s)
    )
    st.bind(s.name, Func(name))


def _fake_call(s: ast.stmt) -> ast.Call:
    call = ast.Call(func=ast.Name(id="atexit.register"), args=[], keywords=[])
    return ast.copy_location(call, s)
