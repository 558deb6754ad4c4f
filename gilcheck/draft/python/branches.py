"""Branches: `if` (an `if` on data the spec computes, a `choose` on anything else),
`match`, branches that pick between objects (the rest of the block drafted in each arm),
and `os.fork()` (`fork { child }` then the parent)."""

from __future__ import annotations

import ast
import copy
import functools
from collections.abc import Callable

from gilcheck.draft.python import exprs, stmts
from gilcheck.draft.python.ir import Block
from gilcheck.draft.python.program import dotted, is_main_guard
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    UNKNOWN,
    Const,
    Data,
    DictVal,
    ForkPid,
    ListVal,
    Opaque,
    Unknown,
    Value,
)

_MAX_SPLITS = 2


def split(st: State, s: ast.stmt, rest: list[ast.stmt]) -> bool:
    """A branch that picks one of two objects (`target = a if mode else b`, or an `if`
    whose arms bind a name to different objects used later): the rest of the block is
    drafted in each arm, so that each arm knows its object. At most two levels deep."""
    f = st.f
    if f.splits >= _MAX_SPLITS:
        return False
    keyed = _keyed(st, s)
    if keyed is not None:
        f.splits += 1
        try:
            stmts.block(st, [keyed(rest)], inline=True)
        finally:
            f.splits -= 1
        return True
    pick = _picked(st, s)
    if pick is not None and (rest or not isinstance(s, ast.Assign | ast.AnnAssign)):
        test, picks, rebuild = pick
        parts: list[list[ast.stmt]] = [[rebuild(arm)] for arm in picks]
    elif isinstance(s, ast.If) and rest and not (f.is_module and is_main_guard(s)):
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
        arms(st, head, s, [("", parts[0] + rest), (word, parts[1] + rest)])
    finally:
        f.splits -= 1
    return True


def _keyed(st: State, s: ast.stmt) -> Callable[[list[ast.stmt]], ast.stmt] | None:
    """A statement that takes an object from a list or dict the draft knows by an index
    held in spec data (`with locks[name]:`, one key or more): it becomes an `if` on the
    index with one arm per key (and, for no key, the `KeyError` or `IndexError`), each drafting the
    statement with that key and the rest of the block."""
    if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return None
    for sub in _subscripts(s):
        if isinstance(sub, ast.Call):  # `d.get(key)`
            assert isinstance(sub.func, ast.Attribute)
            container, key_node = sub.func.value, sub.args[0]
        else:
            container, key_node = sub.value, sub.slice
        base = exprs.peek(st, container)
        index = exprs.peek(st, key_node)
        if not (isinstance(index, Data) and isinstance(key_node, ast.Name | ast.Attribute)):
            continue
        if isinstance(sub, ast.Call) and not isinstance(base, DictVal):
            continue
        if isinstance(base, DictVal) and base.exact:
            keys: list[object] = list(base.items)
            values = list(base.items.values())
            error = "KeyError"
        elif isinstance(base, ListVal) and base.exact:
            keys, values, error = list(range(len(base.items))), list(base.items), "IndexError"
        else:
            continue
        if not keys or len(keys) > 8 or any(isinstance(v, Const | Data) for v in values):
            continue
        if not all(isinstance(k, str | int) and not isinstance(k, bool) for k in keys):
            continue
        return _key_chain(s, sub, [k for k in keys if isinstance(k, str | int)], error)
    return None


def _own_nodes(s: ast.stmt) -> list[ast.AST]:
    """The expressions a statement evaluates itself, outermost first (not those of nested
    blocks, of a `while` test, nor of functions and lambdas it defines)."""
    heads: list[ast.AST] = []
    if isinstance(s, ast.With | ast.AsyncWith):
        heads = [i.context_expr for i in s.items]
    elif isinstance(s, ast.If):
        heads = [s.test]
    elif isinstance(s, ast.For | ast.AsyncFor):
        heads = [s.iter]
    elif not isinstance(s, ast.Try | ast.TryStar | ast.Match | ast.While):
        heads = [s]
    out: list[ast.AST] = []
    todo = list(heads)
    while todo:
        n = todo.pop(0)
        if isinstance(n, ast.Lambda | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        out.append(n)
        todo.extend(ast.iter_child_nodes(n))
    return out


def _subscripts(s: ast.stmt) -> list[ast.Subscript | ast.Call]:
    """The subscripts (and `d.get(key)` calls) a statement evaluates itself."""
    out: list[ast.Subscript | ast.Call] = []
    for n in _own_nodes(s):
        if isinstance(n, ast.Subscript) and isinstance(n.ctx, ast.Load):
            out.append(n)
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "get"
            and len(n.args) == 1
            and not n.keywords
        ):
            out.append(n)
    return out


def _key_chain(
    s: ast.stmt, sub: ast.Subscript | ast.Call, keys: list[str | int], error: str
) -> Callable[[list[ast.stmt]], ast.stmt]:
    key_node = sub.args[0] if isinstance(sub, ast.Call) else sub.slice

    def chain(rest: list[ast.stmt]) -> ast.stmt:
        orelse: list[ast.stmt]
        if isinstance(sub, ast.Call):  # `d.get(key)` of a key not there is None
            orelse = [_with_key(s, sub, None), *rest]
        else:
            fail = ast.Raise(exc=ast.Name(id=error, ctx=ast.Load()), cause=None)
            orelse = [ast.copy_location(fail, s)]
        for key in reversed(keys):
            arm = _with_key(s, sub, key)
            test = ast.Compare(
                left=copy.deepcopy(key_node), ops=[ast.Eq()], comparators=[ast.Constant(key)]
            )
            node = ast.If(test=test, body=[arm, *rest], orelse=orelse)
            ast.copy_location(node, s)
            ast.fix_missing_locations(node)
            orelse = [node]
        return orelse[0]

    return chain


def _with_key(s: ast.stmt, sub: ast.Subscript | ast.Call, key: str | int | None) -> ast.stmt:
    """The statement with `key` in place of the index (for `d.get(key)`, the item
    itself, or None when there is no key)."""
    where = (sub.lineno, sub.col_offset, sub.end_lineno, sub.end_col_offset)

    def here(node: ast.expr) -> bool:
        return (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset) == where

    class Put(ast.NodeTransformer):
        def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
            if here(node):
                node.slice = ast.copy_location(ast.Constant(key), node.slice)
                return node
            return self.generic_visit(node)

        def visit_Call(self, node: ast.Call) -> ast.AST:
            if here(node) and isinstance(node.func, ast.Attribute):
                if key is None:
                    return ast.copy_location(ast.Constant(None), node)
                item = ast.Subscript(value=node.func.value, slice=ast.Constant(key), ctx=ast.Load())
                return ast.copy_location(item, node)
            return self.generic_visit(node)

    out = Put().visit(copy.deepcopy(s))
    assert isinstance(out, ast.stmt)
    return out


def _object_like(node: ast.expr) -> bool:
    """An expression that may stand for an object: a name, an attribute, a call, an
    item, or a tuple or list of such (`(lock_a, lock_b)`)."""
    if isinstance(node, ast.Tuple | ast.List):
        return bool(node.elts) and all(
            _object_like(e) or isinstance(e, ast.Constant) for e in node.elts
        )
    return isinstance(node, ast.Name | ast.Call | ast.Attribute | ast.Subscript)


def _picked(
    st: State,
    s: ast.stmt,
) -> tuple[ast.expr, tuple[ast.expr, ast.expr], Callable[[ast.expr], ast.stmt]] | None:
    """A statement that picks one of two objects with a conditional expression
    (`a, b = (l1, l2) if c else (l2, l1)`, `with l1 if c else l2:`,
    `Thread(target=work, args=(l1 if c else l2,))`): the test, the two arms, and how to
    write the statement with one arm in place of the choice."""
    whole = s.value if isinstance(s, ast.Assign) else None
    for n in _own_nodes(s):
        if not (isinstance(n, ast.IfExp) and _object_like(n.body) and _object_like(n.orelse)):
            continue
        # elsewhere than as the whole value assigned, only a choice between objects
        # the draft knows is worth drafting the rest twice
        if n is whole or _holds_object(st, n.body) or _holds_object(st, n.orelse):
            return n.test, (n.body, n.orelse), functools.partial(_replaced, s, n)
    return None


def _holds_object(st: State, node: ast.expr) -> bool:
    if isinstance(node, ast.Tuple | ast.List):
        return any(_holds_object(st, e) for e in node.elts)
    value = exprs.peek(st, node)
    return not isinstance(value, Const | Data | Unknown | Opaque)


def _replaced(s: ast.stmt, old: ast.expr, new: ast.expr) -> ast.stmt:
    """A copy of the statement with `new` in place of the expression `old`."""
    where = (old.lineno, old.col_offset, old.end_lineno, old.end_col_offset)
    kind = type(old)

    class Put(ast.NodeTransformer):
        def visit(self, node: ast.AST) -> ast.AST:
            if isinstance(node, kind) and isinstance(node, ast.expr):
                here = (node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)
                if here == where:
                    return ast.copy_location(copy.deepcopy(new), node)
            result: ast.AST = super().visit(node)
            return result

    out = Put().visit(copy.deepcopy(s))
    assert isinstance(out, ast.stmt)
    return out


def _bound_objects(body: list[ast.stmt]) -> set[str]:
    out: set[str] = set()
    for s in body:
        if isinstance(s, ast.Assign) and _object_like(s.value):
            for t in s.targets:
                out.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return out


def copy_env(st: State) -> tuple[dict[str, Value], dict[str, Value]]:
    return dict(st.f.env), dict(st.genv)


def merge(a: dict[str, Value], b: dict[str, Value]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for k in a.keys() | b.keys():
        x, y = a.get(k, UNKNOWN), b.get(k, UNKNOWN)
        if x is y or x == y:
            out[k] = x
        elif isinstance(x, Data) and isinstance(y, Data) and x.spec == y.spec:
            out[k] = Data(x.spec, x.plain and y.plain, x.vague or y.vague)
        else:
            out[k] = UNKNOWN
    return out


def arms(st: State, head: str, node: ast.AST, parts: list[tuple[str, list[ast.stmt]]]) -> None:
    """`head { part } word { part } ...` with the draft's knowledge merged after."""
    f = st.f
    start = copy_env(st)
    ends: list[tuple[dict[str, Value], dict[str, Value]]] = []
    b: Block | None = None
    for i, (word, body) in enumerate(parts):
        f.env.clear()
        f.env.update(start[0])
        st.genv.clear()
        st.genv.update(start[1])
        if i == 0:
            with st.block(head, node) as b:
                stmts.block(st, body)
        else:
            assert b is not None
            with st.tail(b, word):
                stmts.block(st, body)
        ends.append((dict(f.env), dict(st.genv)))
    env, genv = ends[0]
    for e, g in ends[1:]:
        env, genv = merge(env, e), merge(genv, g)
    if f.env is not st.genv:
        f.env.clear()
        f.env.update(env)
    st.genv.clear()
    st.genv.update(genv)


def if_statement(st: State, s: ast.If) -> None:
    f = st.f
    if f.is_module and is_main_guard(s):
        if not st.options.entries:
            stmts.block(st, s.body, inline=True)
        return
    if _is_fork_test(st, s.test):
        _fork(st, s)
        return
    cond = exprs.condition(st, s.test)
    if cond == "true":
        stmts.block(st, s.body, inline=True)
    elif cond == "false":
        stmts.block(st, s.orelse, inline=True)
    elif cond is None:
        arms(st, "choose", s, [("", s.body), ("or", s.orelse)])
    else:
        parts = [("", s.body)] + ([("else", s.orelse)] if s.orelse else [])
        arms(st, f"if {cond}", s, parts)


def match_statement(st: State, s: ast.Match) -> None:
    exprs.evaluate(st, s.subject)
    parts = [("" if i == 0 else "or", c.body) for i, c in enumerate(s.cases)]
    if not any(isinstance(c.pattern, ast.MatchAs) and c.pattern.pattern is None for c in s.cases):
        parts.append(("or", []))
    if len(parts) == 1:
        parts.append(("or", []))
    arms(st, "choose", s, parts)


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
    start = copy_env(st)
    with st.block("fork", s):
        if helpers:
            st.out("call cpython_fork_child()", s)
        saved = (f.in_fork, f.fork_depth, f.raise_epoch)
        f.in_fork, f.fork_depth = True, f.depth
        stmts.block(st, child)
        # what the child raised ends the child only
        f.in_fork, f.fork_depth, f.raise_epoch = saved
    f.env.clear()
    f.env.update(start[0])
    st.genv.clear()
    st.genv.update(start[1])
    if helpers:
        st.out("call cpython_fork_parent()", s)
    if not _ends_process(child):
        st.assume(s, "the fork child is assumed to end at the end of its branch (as with os._exit)")
    stmts.block(st, parent, inline=True)


def _ends_process(body: list[ast.stmt]) -> bool:
    for s in body:
        for n in ast.walk(s):
            if isinstance(n, ast.Call) and (dotted(n.func) or "").endswith(
                ("_exit", "sys.exit", "execv", "execvp", "execve")
            ):
                return True
    return False
