"""Loops: `while True` (`loop`), `while` on computable data, `for` over constant ranges
and known lists (unrolled, or counted), `iter(callable, sentinel)`, and loops over data
the draft cannot see (bounded to `options.unroll` iterations, an assumption)."""

from __future__ import annotations

import ast

from gilcheck.draft.python import branches, calls, exprs, stmts
from gilcheck.draft.python.program import dotted, simple_value
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    DATA,
    UNKNOWN,
    Const,
    Data,
    DictVal,
    ListVal,
    Value,
)

_UNROLL_LIMIT = 16


# A constant `range` longer than this is not followed iteration by iteration: the states
# of a long counted loop times the interleavings of the threads are too many to check.
_COUNT_LIMIT = 64


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


def _forget_changed(st: State, body: list[ast.stmt]) -> None:
    """Before a loop: a name the body binds to something the draft cannot compute is
    unknown from the start of every iteration (its value from the last one is)."""
    names: set[str] = set()
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, ast.Assign) and not simple_value(n.value):
                names.update(t.id for t in n.targets if isinstance(t, ast.Name))
            elif isinstance(n, ast.AugAssign | ast.AnnAssign) and isinstance(n.target, ast.Name):
                if n.value is not None and not simple_value(n.value):
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
    start = branches.copy_env(st)
    f.loop_depth += 1
    f.loop_marks.append(len(f.finally_stack))
    with st.block(head, node):
        for line in prelude:
            st.out(line, node)
        if callable(after_prelude):
            after_prelude()
        before = f.raise_epoch
        stmts.block(st, body)
        if f.func is None and f.raise_epoch != before:
            # top-level code that raised leaves the loop too
            with st.block(f"if {f.raised_var}", node):
                st.out("break", node)
    f.loop_marks.pop()
    f.loop_depth -= 1
    if f.env is not st.genv:
        merged = branches.merge(start[0], f.env)
        f.env.clear()
        f.env.update(merged)
    g = branches.merge(start[1], st.genv)
    st.genv.clear()
    st.genv.update(g)


def _bounded(
    st: State,
    node: ast.AST,
    source: ast.AST,
    body: list[ast.stmt],
    bind_target: ast.expr | None = None,
    what: str = "loop over unknown data",
) -> None:
    # the items of a `range` are numbers, whatever they are
    is_range = isinstance(source, ast.Call) and dotted(source.func) == "range"
    item = DATA if is_range else UNKNOWN
    k = st.options.unroll
    st.assume(node, f"{what} bounded to {k} iterations: `{st.source(source)}`")
    counter = st.temp("rounds", "0", node)

    def start_iteration() -> None:
        with st.block("choose", node) as b:
            st.out("break", node)
        with st.tail(b, "or"):
            st.out("skip", node)
        if bind_target is not None:
            stmts.store(st, bind_target, item, node)  # type: ignore[arg-type]

    _loop_body(
        st, f"while {counter} < {k}", node, [f"{counter} = {counter} + 1"], body, start_iteration
    )


def while_statement(st: State, s: ast.While) -> None:
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
    elif pre:
        # the condition runs statements (`while (item := q.get()) is not None`) and then
        # tests data the draft cannot compute: each round may be the last

        def unknown_test() -> None:
            st.f.blocks[-1].extend(pre)
            with st.block("choose", s) as b:
                st.out("break", s)
            with st.tail(b, "or"):
                st.out("skip", s)

        _loop_body(st, "loop", s, [], s.body, unknown_test)
    else:
        _bounded(st, s, s.test, s.body)


def negate(cond: str) -> str:
    """`not c`, without a double negation."""
    if cond.startswith("not ") and " " not in cond[4:]:
        return cond[4:]
    for op, other in ((" != ", " == "), (" == ", " != ")):
        left, found, right = cond.partition(op)
        if found and " " not in left and " " not in right and "(" not in cond:
            return f"{left}{other}{right}"
    return f"not {cond}" if " " not in cond else f"not ({cond})"


def for_statement(st: State, s: ast.For | ast.AsyncFor) -> None:
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
        calls.dunder(
            st, source, ("__aiter__",) if isinstance(s, ast.AsyncFor) else ("__iter__",), s
        )
        if isinstance(source, ListVal) and source.exact:
            items = list(source.items)
            above = source.origin
            while above is not None and not above.read_by_copy:
                above.read_by_copy = True
                above = above.origin
        elif isinstance(source, DictVal) and source.exact:
            items = [Const(k) for k in source.items]  # type: ignore[arg-type]
    jump = _has_jump(s.body)
    if items is not None and len(items) <= _UNROLL_LIMIT and not jump:
        _unrolled(st, s, items)
        return
    if values is not None and len(values) > _COUNT_LIMIT:
        _bounded(st, s, s.iter, s.body, s.target, what=f"loop of {len(values)} iterations")
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


def _unrolled(st: State, s: ast.For | ast.AsyncFor, items: list[Value]) -> None:
    """A loop over items the draft knows, one copy of its body per item; in top-level
    code, the iterations after one that may have raised run only if it did not."""
    f = st.f
    for i, item in enumerate(items):
        if isinstance(s.target, ast.Name) and (not f.is_module or s.target.id not in st.shared):
            st.bind(s.target.id, item)
        else:
            stmts.store(st, s.target, item, s)
        before = f.raise_epoch
        stmts.block(st, s.body)
        if f.func is None and f.raise_epoch != before and i + 1 < len(items):
            with st.block(f"if not {f.raised_var}", None):
                _unrolled(st, s, items[i + 1 :])
            return


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
    while_statement(st, loop)


def _range_step(node: ast.expr) -> int:
    if isinstance(node, ast.Call) and len(node.args) == 3:
        step = node.args[2]
        if isinstance(step, ast.Constant) and isinstance(step.value, int):
            return step.value
        if isinstance(step, ast.UnaryOp) and isinstance(step.operand, ast.Constant):
            return -int(step.operand.value)  # type: ignore[arg-type]
    return 1
