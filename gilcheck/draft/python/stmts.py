"""Python statements as spec statements: assignments, `if` (a `choose` when the
condition is data the draft cannot compute), loops (unrolled, counted, or bounded with
an assumption), `with` on locks and executors, `try`, `return`, and `os.fork()`."""

from __future__ import annotations

import ast

from gilcheck.draft.python import calls, exprs, functions
from gilcheck.draft.python.ir import Block
from gilcheck.draft.python.program import FunctionInfo, dotted, is_main_guard
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    UNKNOWN,
    Const,
    Data,
    ForkPid,
    Func,
    Instance,
    ListVal,
    Res,
    ThreadObj,
    Value,
)

_UNROLL_LIMIT = 16


def block(st: State, body: list[ast.stmt], *, inline: bool = False) -> None:
    """Draft a list of statements into the current block (stopping after one that
    leaves it)."""
    f = st.f
    for i, s in enumerate(body):
        if f.dead:
            break
        if _split(st, s, body[i + 1 :]):
            break
        statement(st, s)
    if not inline:
        f.dead = False


_MAX_SPLITS = 2


def _split(st: State, s: ast.stmt, rest: list[ast.stmt]) -> bool:
    """A branch that picks one of two objects (`target = a if mode else b`, or an `if`
    whose arms bind a name to different objects used later): the rest of the block is
    drafted in each arm, so that each arm knows its object. At most two levels deep."""
    f = st.f
    if f.splits >= _MAX_SPLITS or not rest:
        return False
    if (
        isinstance(s, ast.Assign)
        and len(s.targets) == 1
        and isinstance(s.targets[0], ast.Name)
        and isinstance(s.value, ast.IfExp)
        and _object_like(s.value.body)
        and _object_like(s.value.orelse)
    ):
        test, arms = s.value.test, (s.value.body, s.value.orelse)
        target = s.targets[0]
        parts: list[list[ast.stmt]] = [
            [ast.copy_location(ast.Assign(targets=[target], value=arm), s)] for arm in arms
        ]
    elif isinstance(s, ast.If) and not (f.is_module and is_main_guard(s)):
        if _is_fork_test(st, s.test):
            return False
        bound = _bound_objects(s.body) | _bound_objects(s.orelse)
        used = {n.id for r in rest for n in ast.walk(r) if isinstance(n, ast.Name)}
        if not bound & used:
            return False
        test, parts = s.test, [list[ast.stmt](s.body), list[ast.stmt](s.orelse)]
    else:
        return False
    with st.capture() as pre:
        cond = exprs.condition(st, test)
    if pre or cond in ("true", "false"):
        return False
    f.stmt = s
    f.splits += 1
    try:
        head, word = ("choose", "or") if cond is None else (f"if {cond}", "else")
        branches(st, head, s, [("", parts[0] + rest), (word, parts[1] + rest)])
    finally:
        f.splits -= 1
    return True


def _object_like(node: ast.expr) -> bool:
    return isinstance(node, ast.Name | ast.Call | ast.Attribute)


def _bound_objects(body: list[ast.stmt]) -> set[str]:
    out: set[str] = set()
    for s in body:
        if isinstance(s, ast.Assign) and _object_like(s.value):
            out.update(t.id for t in s.targets if isinstance(t, ast.Name))
    return out


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
        _if(st, s)
    elif isinstance(s, ast.While):
        _while(st, s)
    elif isinstance(s, ast.For | ast.AsyncFor):
        _for(st, s)
    elif isinstance(s, ast.With | ast.AsyncWith):
        _with(st, s, list(s.items))
    elif isinstance(s, ast.Try | ast.TryStar):
        _try(st, s)
    elif isinstance(s, ast.Return):
        _return(st, s)
    elif isinstance(s, ast.Raise):
        if s.exc is not None:
            exprs.evaluate(st, s.exc)
        if f.func is not None and not f.inline_init:
            st.out("return", s)
        f.dead = True
    elif isinstance(s, ast.Break | ast.Continue):
        st.out("break" if isinstance(s, ast.Break) else "continue", s)
        f.dead = True
    elif isinstance(s, ast.Global):
        f.globals_declared.update(s.names)
    elif isinstance(s, ast.Assert):
        cond = exprs.condition(st, s.test)
        if cond is not None:
            msg = s.msg.value if isinstance(s.msg, ast.Constant) else "assertion failed"
            st.out(f"assert {cond}, {exprs.literal(str(msg)) or chr(34) * 2}", s)
    elif isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
        _nested_def(st, s)
    elif isinstance(s, ast.Match):
        _match(st, s)
    elif isinstance(s, ast.ClassDef):
        _class_attributes(st, s)
    # pass, import, del, class definitions, nonlocal: nothing to draft


def _load(target: ast.expr) -> ast.expr:
    copy = ast.parse(ast.unparse(target), mode="eval").body
    return ast.copy_location(copy, target)


# ---------------------------------------------------------------- assignments


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
        _store(st, target, value, s)


def _store(st: State, target: ast.expr, value: Value, s: ast.stmt) -> None:
    if isinstance(target, ast.Name):
        assign_name(st, target.id, value, s)
    elif isinstance(target, ast.Attribute):
        base = exprs.evaluate(st, target.value)
        if isinstance(base, Instance):
            _store_field(st, base, target.attr, value, s)
        elif isinstance(base, ThreadObj) and target.attr == "daemon":
            base.daemon = isinstance(value, Const) and bool(value.value)
    elif isinstance(target, ast.Tuple | ast.List):
        items = value.items if isinstance(value, ListVal) and value.exact else None
        for i, t in enumerate(target.elts):
            item = items[i] if items is not None and i < len(items) else UNKNOWN
            _store(st, t, item, s)
    elif isinstance(target, ast.Subscript):
        base = exprs.evaluate(st, target.value)
        index = exprs.evaluate(st, target.slice)
        if (
            isinstance(base, ListVal)
            and isinstance(index, Const)
            and isinstance(index.value, int)
            and 0 <= index.value < len(base.items)
        ):
            base.items[index.value] = UNKNOWN if isinstance(value, Const | Data) else value


def _store_field(st: State, inst: Instance, attr: str, value: Value, s: ast.stmt) -> None:
    thread = inst.fields.get("__thread__")
    if attr == "daemon" and isinstance(thread, ThreadObj):
        thread.daemon = isinstance(value, Const) and bool(value.value)
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
        st.bind(name, Data(spec, plain))
        return
    st.bind(name, value)


def _visible_to_functions(st: State, name: str, value: Value, s: ast.AST) -> Value:
    """A module-level name that functions read must hold something they can see: an
    object made at run time is stored in a shared `var`."""
    if isinstance(value, Res) and not value.is_global and not value.lock and not value.unfinished:
        var = st.global_name(f"{name}_shared")
        st.declare(f"var {var} = none", s, var)
        st.out(f"{var} = {value.spec}", s)
        return Res(value.kind, var, is_global=True)
    return value


# ---------------------------------------------------------------- branches


def _copy_env(st: State) -> tuple[dict[str, Value], dict[str, Value]]:
    return dict(st.f.env), dict(st.genv)


def _merge(a: dict[str, Value], b: dict[str, Value]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for k in a.keys() | b.keys():
        x, y = a.get(k, UNKNOWN), b.get(k, UNKNOWN)
        if x is y or x == y:
            out[k] = x
        elif isinstance(x, Data) and isinstance(y, Data) and x.spec == y.spec:
            out[k] = Data(x.spec, x.plain and y.plain)
        else:
            out[k] = UNKNOWN
    return out


def branches(st: State, head: str, node: ast.AST, parts: list[tuple[str, list[ast.stmt]]]) -> None:
    """`head { part } word { part } ...` with the draft's knowledge merged after."""
    f = st.f
    start = _copy_env(st)
    ends: list[tuple[dict[str, Value], dict[str, Value]]] = []
    b: Block | None = None
    for i, (word, body) in enumerate(parts):
        f.env.clear()
        f.env.update(start[0])
        st.genv.clear()
        st.genv.update(start[1])
        if i == 0:
            with st.block(head, node) as b:
                block(st, body)
        else:
            assert b is not None
            with st.tail(b, word):
                block(st, body)
        ends.append((dict(f.env), dict(st.genv)))
    env, genv = ends[0]
    for e, g in ends[1:]:
        env, genv = _merge(env, e), _merge(genv, g)
    if f.env is not st.genv:
        f.env.clear()
        f.env.update(env)
    st.genv.clear()
    st.genv.update(genv)


def _if(st: State, s: ast.If) -> None:
    f = st.f
    if f.is_module and is_main_guard(s):
        if not st.options.entries:
            block(st, s.body, inline=True)
        return
    if _is_fork_test(st, s.test):
        _fork(st, s)
        return
    cond = exprs.condition(st, s.test)
    if cond == "true":
        block(st, s.body, inline=True)
    elif cond == "false":
        block(st, s.orelse, inline=True)
    elif cond is None:
        branches(st, "choose", s, [("", s.body), ("or", s.orelse)])
    else:
        parts = [("", s.body)] + ([("else", s.orelse)] if s.orelse else [])
        branches(st, f"if {cond}", s, parts)


def _match(st: State, s: ast.Match) -> None:
    exprs.evaluate(st, s.subject)
    parts = [("" if i == 0 else "or", c.body) for i, c in enumerate(s.cases)]
    if not any(isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None for c in s.cases):
        parts.append(("or", []))
    if len(parts) == 1:
        parts.append(("or", []))
    branches(st, "choose", s, parts)


# ---------------------------------------------------------------- os.fork()


def _is_fork_test(st: State, test: ast.expr) -> bool:
    for n in ast.walk(test):
        if isinstance(n, ast.Name) and isinstance(st.lookup(n.id), ForkPid):
            return True
        if isinstance(n, ast.Call) and dotted(n.func) in ("os.fork", "fork"):
            return True
    return False


def _child_is_body(test: ast.expr) -> bool:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        zero = isinstance(right, ast.Constant) and right.value == 0
        return zero and isinstance(op, ast.Eq | ast.LtE | ast.Is)
    return False


def _fork(st: State, s: ast.If) -> None:
    f = st.f
    child, parent = (s.body, s.orelse) if _child_is_body(s.test) else (s.orelse, s.body)
    helpers = st.uses_logging_module
    if helpers:
        st.uses_cpython = True
        st.out("call cpython_fork_prepare()", s)
    start = _copy_env(st)
    with st.block("fork", s):
        if helpers:
            st.out("call cpython_fork_child()", s)
        saved = f.in_fork
        f.in_fork = True
        block(st, child)
        f.in_fork = saved
    f.env.clear()
    f.env.update(start[0])
    st.genv.clear()
    st.genv.update(start[1])
    if helpers:
        st.out("call cpython_fork_parent()", s)
    if not _ends_process(child):
        st.assume(s, "the fork child is assumed to end at the end of its branch (as with os._exit)")
    block(st, parent, inline=True)


def _ends_process(body: list[ast.stmt]) -> bool:
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, ast.Call) and (dotted(n.func) or "").endswith(
                ("_exit", "sys.exit", "execv", "execvp", "execve")
            ):
                return True
    return False


# ---------------------------------------------------------------- loops


def _has_jump(body: list[ast.stmt]) -> bool:
    def walk(nodes: list[ast.stmt]) -> bool:
        for s in nodes:
            if isinstance(s, ast.Break | ast.Continue):
                return True
            if isinstance(s, ast.For | ast.While | ast.AsyncFor | ast.FunctionDef):
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and walk(
                    [x for x in inner if isinstance(x, ast.stmt)]
                    + [y for h in inner if isinstance(h, ast.ExceptHandler) for y in h.body]
                ):
                    return True
            if isinstance(s, ast.Match) and any(walk(c.body) for c in s.cases):
                return True
        return False

    return walk(body)


def _simple_value(node: ast.expr) -> bool:
    return all(
        isinstance(
            n,
            ast.Constant
            | ast.Name
            | ast.BinOp
            | ast.UnaryOp
            | ast.BoolOp
            | ast.Compare
            | ast.operator
            | ast.unaryop
            | ast.boolop
            | ast.cmpop
            | ast.expr_context,
        )
        for n in ast.walk(node)
    )


def _forget_changed(st: State, body: list[ast.stmt]) -> None:
    """Before a loop: a name the body binds to something the draft cannot compute is
    unknown from the start of every iteration (its value from the last one is)."""
    names: set[str] = set()
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, ast.Assign) and not _simple_value(n.value):
                names.update(t.id for t in n.targets if isinstance(t, ast.Name))
            elif isinstance(n, ast.AugAssign | ast.AnnAssign) and isinstance(n.target, ast.Name):
                if n.value is not None and not _simple_value(n.value):
                    names.add(n.target.id)
            elif isinstance(n, ast.For | ast.AsyncFor) and isinstance(n.target, ast.Name):
                names.add(n.target.id)
    for name in names:
        if isinstance(st.lookup(name), Data) and name not in st.shared:
            st.bind(name, UNKNOWN)


def _loop_body(
    st: State,
    head: str,
    node: ast.AST,
    prelude: list[str],
    body: list[ast.stmt],
    after_prelude: object = None,
) -> None:
    f = st.f
    _forget_changed(st, body)
    start = _copy_env(st)
    f.loop_depth += 1
    with st.block(head, node):
        for line in prelude:
            st.out(line, node)
        if callable(after_prelude):
            after_prelude()
        block(st, body)
    f.loop_depth -= 1
    if f.env is not st.genv:
        merged = _merge(start[0], f.env)
        f.env.clear()
        f.env.update(merged)
    g = _merge(start[1], st.genv)
    st.genv.clear()
    st.genv.update(g)


def _bounded(
    st: State,
    node: ast.AST,
    source: ast.AST,
    body: list[ast.stmt],
    bind_target: ast.expr | None = None,
) -> None:
    k = st.options.unroll
    st.assume(node, f"loop over unknown data bounded to {k} iterations: `{st.source(source)}`")
    counter = st.temp("rounds", "0", node)

    def start_iteration() -> None:
        with st.block("choose", node) as b:
            st.out("break", node)
        with st.tail(b, "or"):
            st.out("skip", node)
        if bind_target is not None:
            _store(st, bind_target, UNKNOWN, node)  # type: ignore[arg-type]

    _loop_body(
        st, f"while {counter} < {k}", node, [f"{counter} = {counter} + 1"], body, start_iteration
    )


def _while(st: State, s: ast.While) -> None:
    _forget_changed(st, s.body)
    with st.capture() as pre:
        cond = exprs.condition(st, s.test)
    if cond == "true" and not pre:
        _loop_body(st, "loop", s, [], s.body)
    elif cond == "false" and not pre:
        return
    elif cond is not None and not pre:
        _loop_body(st, f"while {cond}", s, [], s.body)
    elif cond is not None:

        def test() -> None:
            st.f.blocks[-1].extend(pre)
            with st.block(f"if {negate(cond)}", s):
                st.out("break", s)

        _loop_body(st, "loop", s, [], s.body, test)
    else:
        _bounded(st, s, s.test, s.body)


def negate(cond: str) -> str:
    """`not c`, without a double negation."""
    if cond.startswith("not ") and " " not in cond[4:]:
        return cond[4:]
    return f"not {cond}" if " " not in cond else f"not ({cond})"


def _for(st: State, s: ast.For | ast.AsyncFor) -> None:
    it = s.iter
    if (
        isinstance(it, ast.Call)
        and isinstance(it.func, ast.Name)
        and it.func.id == "iter"
        and len(it.args) == 2
    ):
        _for_sentinel(st, s, it.args[0], it.args[1])
        return
    values = calls.constant_range(st, s.iter)
    items: list[Value] | None = [Const(v) for v in values] if values is not None else None
    if items is None:
        source = exprs.evaluate(st, s.iter)
        if isinstance(source, ListVal) and source.exact:
            items = list(source.items)
    jump = _has_jump(s.body)
    if items is not None and len(items) <= _UNROLL_LIMIT and not jump:
        for item in items:
            if isinstance(s.target, ast.Name) and (
                not st.f.is_module or s.target.id not in st.shared
            ):
                st.bind(s.target.id, item)
            else:
                _store(st, s.target, item, s)
            block(st, s.body)
        return
    if values is not None and isinstance(s.target, ast.Name):
        step = _range_step(s.iter)
        first = values[0] if values else 0
        last = values[-1] if values else -1
        if not values:
            return
        spec = st.local(s.target.id)
        st.assign_spec(spec, str(first - step) if first - step >= 0 else f"(-{step - first})", s)
        st.bind(s.target.id, Data(spec))
        cmp = "<" if step > 0 else ">"
        bound = last + step
        bound_text = str(bound) if bound >= 0 else f"(-{-bound})"
        step_text = f"+ {step}" if step > 0 else f"- {-step}"
        _loop_body(
            st,
            f"while {spec} {step_text} {cmp} {bound_text}",
            s,
            [f"{spec} = {spec} {step_text}"],
            s.body,
        )
        return
    _bounded(st, s, s.iter, s.body, s.target)


def _for_sentinel(st: State, s: ast.For | ast.AsyncFor, fn: ast.expr, stop: ast.expr) -> None:
    """`for item in iter(q.get, None):` is `while True: item = q.get()`, leaving the
    loop when the item is the sentinel."""
    call = ast.copy_location(ast.Call(func=fn, args=[], keywords=[]), s.iter)
    test = ast.copy_location(ast.Compare(left=s.target, ops=[ast.Eq()], comparators=[stop]), s.iter)
    if isinstance(stop, ast.Constant) and stop.value is None:
        test = ast.copy_location(
            ast.Compare(left=s.target, ops=[ast.Is()], comparators=[stop]), s.iter
        )
    get = ast.copy_location(ast.Assign(targets=[s.target], value=call), s)
    leave = ast.copy_location(ast.If(test=test, body=[ast.Break()], orelse=[]), s)
    loop = ast.copy_location(
        ast.While(test=ast.Constant(value=True), body=[get, leave, *s.body], orelse=[]), s
    )
    ast.fix_missing_locations(loop)
    _while(st, loop)


def _range_step(node: ast.expr) -> int:
    if isinstance(node, ast.Call) and len(node.args) == 3:
        step = node.args[2]
        if isinstance(step, ast.Constant) and isinstance(step.value, int):
            return step.value
        if isinstance(step, ast.UnaryOp) and isinstance(step.operand, ast.Constant):
            return -int(step.operand.value)  # type: ignore[arg-type]
    return 1


# ---------------------------------------------------------------- with, try, return


def _with(st: State, s: ast.With | ast.AsyncWith, items: list[ast.withitem]) -> None:
    if not items:
        block(st, s.body, inline=True)
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
    if item.optional_vars is not None and not (
        isinstance(value, Res) and value.kind in ("mutex", "rlock", "semaphore", "condvar")
    ):
        _store(st, item.optional_vars, value, s)
    if isinstance(value, Res) and value.kind in ("mutex", "rlock", "semaphore", "condvar"):
        if isinstance(s, ast.AsyncWith):
            st.assume(s, f"`async with` on a threading lock: `{st.source(ctx)}`")
        lock = value.lock if value.kind == "condvar" else value.spec
        with st.block(f"lock {lock}", s):
            _with(st, s, rest)
        return
    if isinstance(value, Res) and value.kind == "pool":
        _with(st, s, rest)
        st.out(f"shutdown {value.spec}", s)
        return
    if isinstance(value, Instance):
        enter = calls.find_method(st, value.cls, "__enter__")
        leave = calls.find_method(st, value.cls, "__exit__")
        if enter is not None:
            calls.call_func(st, Func(enter.name, value), [], {}, s, used=False)
        _with(st, s, rest)
        if leave is not None:
            calls.call_func(st, Func(leave.name, value), [UNKNOWN] * 3, {}, s, used=False)
        return
    if isinstance(s, ast.AsyncWith) or not isinstance(ctx, ast.Call):
        st.assume(s, f"the context manager `{st.source(ctx)}` is assumed not to block")
    _with(st, s, rest)


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
                _store(st, item.optional_vars, UNKNOWN, s)
            _with(st, s, rest)
        finally:
            f.env, f.globals_declared, f.module, f.inline_init = inside

    f.yield_hooks.append(at_yield)
    f.env, f.globals_declared, f.module, f.inline_init = gen_env, set(), info.module, True
    try:
        block(st, info.node.body, inline=True)
    finally:
        f.yield_hooks.pop()
        f.env, f.globals_declared, f.module, f.inline_init = caller
    if not used[0]:
        st.assume(
            s,
            f"`{st.source(ctx)}` does not yield where the draft sees it: its "
            "`with` body is not drafted",
        )


def _try(st: State, s: ast.Try | ast.TryStar) -> None:
    f = st.f
    f.finally_stack.append(s.finalbody)
    f.handlers += 1 if s.handlers else 0
    try:
        block(st, s.body, inline=True)
    finally:
        f.finally_stack.pop()
        f.handlers -= 1 if s.handlers else 0
    dead = st.f.dead
    st.f.dead = False
    handlers: list[list[ast.stmt]] = [h.body for h in s.handlers]
    for body in handlers:
        with st.capture() as drafted:
            saved = _copy_env(st)
            block(st, body)
            st.f.env.clear()
            st.f.env.update(saved[0])
        if drafted:
            branches(st, "choose", s.handlers[handlers.index(body)], [("", []), ("or", body)])
    st.f.dead = dead
    if not dead:
        block(st, s.orelse, inline=True)
    saved_dead = st.f.dead
    st.f.dead = False
    block(st, s.finalbody, inline=True)
    st.f.dead = saved_dead or st.f.dead


def _return(st: State, s: ast.Return) -> None:
    f = st.f
    value = exprs.evaluate(st, s.value) if s.value is not None else Const(None)
    f.returns.append(value)
    if f.func is not None and not f.inline_init:
        run_finally_blocks(st)
        text = exprs.text(value) if not isinstance(value, Data) else value.spec
        st.out(f"return {text}" if text and text != "none" else "return", s)
    f.dead = True


def run_finally_blocks(st: State) -> None:
    """Leaving the function from inside `try:` blocks: their `finally` blocks run first,
    innermost first."""
    f = st.f
    pending = list(f.finally_stack)
    if not any(pending):
        return
    f.finally_stack = []
    dead = f.dead
    try:
        for body in reversed(pending):
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
    f.target = saved_target


def _nested_def(st: State, s: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    from gilcheck.draft.python.program import FunctionInfo

    f = st.f
    top = st.program.functions.get(s.name)
    if f.is_module and top is not None and top.node is s:
        for d in s.decorator_list:
            if dotted(d) in ("atexit.register", "register"):
                from gilcheck.draft.python import handlers

                handlers.register(st, "atexit.register", _fake_call(s), [Func(s.name)], {})
        return
    name = f"{s.name}__in_{f.func.name if f.func else 'main'}".replace(".", "_")
    if f.is_module and top is None:
        name = s.name
    st.program.functions[name] = FunctionInfo(name, s, f.module)
    st.bind(s.name, Func(name))


def _fake_call(s: ast.stmt) -> ast.Call:
    call = ast.Call(func=ast.Name(id="atexit.register"), args=[], keywords=[])
    return ast.copy_location(call, s)
