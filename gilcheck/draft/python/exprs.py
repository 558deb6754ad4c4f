"""Python expressions as far as the draft can compute them: constants, locals, shared
variables, arithmetic and comparisons become spec expressions; anything else is
`UNKNOWN` (a branch on it becomes a `choose`). Calls inside an expression are drafted
first, as statements of their own."""

from __future__ import annotations

import ast

from gilcheck.draft.python import calls
from gilcheck.draft.python.state import State
from gilcheck.draft.python.values import (
    DATA,
    UNKNOWN,
    Const,
    Data,
    DictVal,
    Func,
    Instance,
    ListVal,
    Marker,
    Method,
    Opaque,
    Res,
    Unknown,
    Value,
)

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "/", ast.Mod: "%"}
_CMPOPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}


def literal(value: object) -> str | None:
    """A constant as a spec literal (None when the spec has no such value)."""
    if value is None:
        return "none"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value) if value >= 0 else f"(-{-value})"
    if isinstance(value, str) and "\n" not in value:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return None


def text(value: Value) -> str | None:
    """The spec expression for a value (None when the spec cannot hold it)."""
    if isinstance(value, Marker):
        return value.text
    if isinstance(value, Const):
        return literal(value.value)
    if isinstance(value, Data):
        return value.spec
    if isinstance(value, Res):
        return value.spec
    return None


def message(st: State, value: Value) -> str:
    """The spec value for a Python value put in a channel, returned or completed: the
    value itself where the spec holds it, else a stand-in literal: `"data"` for data
    that surely is neither `None` nor a marker (a number, a string, a tuple, an object
    of the program), `"unknown"` for anything else. A comparison with a value that may
    be a stand-in is exact only where the stand-in cannot decide it (see `_compare`)."""
    t = text(value)
    if isinstance(value, Const | Marker | Data) and t is not None:
        return t
    if isinstance(value, Const):
        return st.placeholder("data")  # a constant the spec cannot write
    if isinstance(value, Unknown) or (isinstance(value, Opaque) and not value.not_none):
        return st.placeholder("unknown")
    return st.placeholder("data")


def evaluate(st: State, node: ast.expr) -> Value:
    """What the draft knows of an expression's value; calls in it are drafted first."""
    if isinstance(node, ast.Constant):
        return Const(node.value) if literal(node.value) is not None else UNKNOWN  # type: ignore[arg-type]
    if isinstance(node, ast.Name):
        return st.lookup(node.id)
    if isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name) and _is_class(st, node.value.id):
            return class_attribute(st, node.value.id, node.attr, None)
        base = evaluate(st, node.value)
        if isinstance(base, Instance):
            if node.attr in base.fields:
                return base.fields[node.attr]
            found = class_attribute(st, base.cls, node.attr, base)
            if isinstance(found, Unknown):
                calls.may_raise(st, node, implicit=True)  # AttributeError
            if isinstance(found, Func):
                return _property(st, found, base, node)
            return found
        if isinstance(base, Res):
            return Method(base, node.attr)
        if isinstance(base, Unknown):
            calls.may_raise(st, node)  # an attribute of an object the draft does not know
        return UNKNOWN
    if isinstance(node, ast.Call):
        return calls.call(st, node)
    if isinstance(node, ast.Await):
        return calls.await_(st, node)
    if isinstance(node, ast.List | ast.Tuple):
        return ListVal([evaluate(st, e) for e in node.elts])
    if (
        isinstance(node, ast.Dict)
        and all(isinstance(k, ast.Constant) for k in node.keys)
        and len({k.value for k in node.keys if isinstance(k, ast.Constant)}) == len(node.keys)
    ):
        values = [evaluate(st, v) for v in node.values]
        keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
        return DictVal(dict(zip(keys, values, strict=True)))
    if isinstance(node, ast.JoinedStr):
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                _formatted(st, part)
        return DATA
    if isinstance(node, ast.DictComp | ast.SetComp):
        _comprehension(st, node)
        return DATA
    if isinstance(node, ast.Dict | ast.Set):
        _inner_calls(st, node)
        return DATA
    if isinstance(node, ast.NamedExpr):
        saved, st.f.target = st.f.target, node.target.id
        try:
            value = evaluate(st, node.value)
        finally:
            st.f.target = saved
        from gilcheck.draft.python import stmts

        stmts.assign_name(st, node.target.id, value, node)
        return st.lookup(node.target.id)
    if isinstance(node, ast.Lambda):
        return calls.lambda_function(st, node)
    if isinstance(node, ast.ListComp | ast.GeneratorExp):
        return _comprehension(st, node)
    if isinstance(node, ast.Subscript):
        base, index = evaluate(st, node.value), evaluate(st, node.slice)
        if isinstance(node.ctx, ast.Load) and calls.dunder(
            st, base, ("__getitem__",), node, (index,)
        ):
            return UNKNOWN
        if isinstance(node.ctx, ast.Load) and not _surely_there(base, index):
            calls.may_raise(st, node, implicit=True)  # KeyError, IndexError, TypeError
        return _item(base, index)
    return _operation(st, node)


def _property(st: State, method: Func, inst: Instance, node: ast.expr) -> Value:
    """`obj.name` where `name` is a `@property` of its class: its getter runs (one that
    only returns an attribute of the object is that attribute); a plain method is the
    bound method."""
    info = calls.function_info(st, method)
    if info is None or not any(
        (getattr(d, "id", None) or getattr(d, "attr", None)) in ("property", "cached_property")
        for d in info.node.decorator_list
    ):
        return method
    body = info.node.body
    params = info.params
    if (
        len(body) == 1
        and isinstance(body[0], ast.Return)
        and isinstance(body[0].value, ast.Attribute)
        and isinstance(body[0].value.value, ast.Name)
        and params
        and body[0].value.value.id == params[0]
    ):
        attr = body[0].value.attr
        if attr in inst.fields:
            return inst.fields[attr]
        return class_attribute(st, inst.cls, attr, inst)
    calls.call_func(st, method, [], {}, node, used=False)
    return UNKNOWN


def _formatted(st: State, part: ast.FormattedValue) -> None:
    """`{k!r:>4}` in an f-string: the value, then the special method formatting it."""
    value = evaluate(st, part.value)
    if part.format_spec is not None:
        evaluate(st, part.format_spec)
    if part.conversion == ord("r") or part.conversion == ord("a"):
        names: tuple[str, ...] = ("__repr__",)
    elif part.conversion == ord("s"):
        names = ("__str__", "__repr__")
    else:
        names = ("__format__", "__str__", "__repr__")
    calls.dunder(st, value, names, part)


def _surely_there(base: Value, index: Value) -> bool:
    """Whether `base[index]` surely finds an item (a dict of known keys, a list of
    known length, a constant key or index)."""
    if not isinstance(index, Const):
        return False
    if isinstance(base, DictVal):
        return base.exact and index.value in base.items
    if isinstance(base, ListVal) and base.exact:
        i = index.value
        return (
            isinstance(i, int)
            and not isinstance(i, bool)
            and -len(base.items) <= i < len(base.items)
        )
    return False


def _item(base: Value, index: Value) -> Value:
    """`base[index]` for a list of known length or a dict of known keys, and a constant
    index."""
    if isinstance(base, DictVal) and base.exact and isinstance(index, Const):
        item = base.items.get(index.value, UNKNOWN)
        return UNKNOWN if isinstance(item, Const | Data) else item
    if (
        isinstance(base, ListVal)
        and base.exact
        and isinstance(index, Const)
        and isinstance(index.value, int)
        and not isinstance(index.value, bool)
        and -len(base.items) <= index.value < len(base.items)
    ):
        item = base.items[index.value]
        # a list's data may be changed by any thread: only its objects are followed
        return UNKNOWN if isinstance(item, Const | Data) else item
    return UNKNOWN


def legal_key(key: object) -> str:
    """A dict key as part of a spec name."""
    from gilcheck.draft.python.names import legal

    return legal(str(key))


def item_of(base: Value, index: Value) -> Value:
    """`base[index]` (see `_item`)."""
    return _item(base, index)


def _is_class(st: State, name: str) -> bool:
    return name in st.program.classes and name not in st.f.env


def class_attribute(st: State, cls: str, attr: str, instance: Instance | None) -> Value:
    """An attribute found on a class (or its bases): a class attribute, or a method
    (bound to the instance when there is one)."""
    seen: set[str] = set()
    while cls in st.program.classes and cls not in seen:
        seen.add(cls)
        if attr in st.class_attrs.get(cls, {}):
            return st.class_attrs[cls][attr]
        info = st.program.classes[cls]
        if attr in info.methods:
            return Func(info.methods[attr].name, instance)
        bases = [b.rpartition(".")[2] for b in info.bases]
        cls = next((b for b in bases if b in st.program.classes), "")
    return UNKNOWN


def peek(st: State, node: ast.expr) -> Value:
    """What a name, attribute or item holds, without drafting anything."""
    if isinstance(node, ast.Name):
        return st.lookup(node.id)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return _item(peek(st, node.value), Const(node.slice.value))  # type: ignore[arg-type]
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name | ast.Attribute):
        if isinstance(node.value, ast.Name) and _is_class(st, node.value.id):
            return class_attribute(st, node.value.id, node.attr, None)
        base = peek(st, node.value)
        if isinstance(base, Instance):
            if node.attr in base.fields:
                return base.fields[node.attr]
            return class_attribute(st, base.cls, node.attr, base)
    return UNKNOWN


def _operation(st: State, node: ast.expr) -> Value:
    if isinstance(node, ast.BinOp) and isinstance(node.op, _DIVISIONS):
        left, right = evaluate(st, node.left), evaluate(st, node.right)
        if not (isinstance(right, Const) and isinstance(right.value, int | float) and right.value):
            calls.may_raise(st, node, implicit=True)  # ZeroDivisionError
        return _arithmetic(st, node, left, right)
    if isinstance(node, ast.BinOp):
        left, right = evaluate(st, node.left), evaluate(st, node.right)
        return _arithmetic(st, node, left, right)
    return _other_operation(st, node)


_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)


_OPERATOR_DUNDERS = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "truediv",
    ast.FloorDiv: "floordiv",
    ast.Mod: "mod",
    ast.Pow: "pow",
    ast.MatMult: "matmul",
    ast.BitAnd: "and",
    ast.BitOr: "or",
    ast.BitXor: "xor",
    ast.LShift: "lshift",
    ast.RShift: "rshift",
}


def _arithmetic(st: State, node: ast.BinOp, left: Value, right: Value) -> Value:
    word = _OPERATOR_DUNDERS.get(type(node.op))
    if word and (
        calls.dunder(st, left, (f"__{word}__",), node, (right,))
        or calls.dunder(st, right, (f"__r{word}__",), node, (left,))
    ):
        return UNKNOWN
    if type(node.op) in _BINOPS:
        op = _BINOPS[type(node.op)]
        if isinstance(left, Const) and isinstance(right, Const):
            folded = _fold(left.value, op, right.value)
            if folded is not None:
                return folded
        lt, rt = _number(left), _number(right)
        if lt and rt:
            return Data(f"({lt} {op} {rt})")
        return DATA if _datalike(left) and _datalike(right) else UNKNOWN
    return UNKNOWN


def _other_operation(st: State, node: ast.expr) -> Value:
    if isinstance(node, ast.UnaryOp):
        inner = evaluate(st, node.operand)
        t = text(inner)
        if isinstance(node.op, ast.Not) and calls.dunder(st, inner, ("__bool__", "__len__"), node):
            return UNKNOWN
        if isinstance(node.op, ast.Not):
            if isinstance(inner, Const):
                return Const(not inner.value)
            return Data(f"not {t}") if t and isinstance(inner, Data) and inner.plain else UNKNOWN
        if isinstance(node.op, ast.USub) and isinstance(inner, Const | Data) and t:
            return Data(f"(-{t})")
        return UNKNOWN
    if isinstance(node, ast.BoolOp):
        parts = [evaluate(st, v) for v in node.values]
        texts = [text(p) for p in parts]
        if any(t is None or not _plain(p) for p, t in zip(parts, texts, strict=True)):
            return UNKNOWN
        word = " and " if isinstance(node.op, ast.And) else " or "
        return Data("(" + word.join(t for t in texts if t) + ")")
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        return _compare(st, node)
    if isinstance(node, ast.IfExp):
        evaluate(st, node.test)
        a, b = evaluate(st, node.body), evaluate(st, node.orelse)
        return a if a == b else UNKNOWN
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.expr):
            evaluate(st, child)
    return UNKNOWN


def _datalike(value: Value) -> bool:
    """Whether a value is plain data (never an object the draft follows)."""
    return isinstance(value, Const | Data | Opaque | Unknown)


def _identity(value: Value) -> bool:
    """Whether a value is `None`, a bool or a marker: `is` against it is `==`."""
    return isinstance(value, Marker) or (
        isinstance(value, Const) and (value.value is None or isinstance(value.value, bool))
    )


def _never_none(value: Value) -> bool:
    """Whether a value surely is neither `None` nor any marker: data known not to be.
    (An object the draft follows is not folded: an attribute it was read from may have
    held `None` on a path the draft's order of drafting does not see.)"""
    return isinstance(value, Opaque) and value.not_none


_COMPARE_DUNDERS: dict[type, tuple[str, str]] = {
    ast.Eq: ("__eq__", "__eq__"),
    ast.NotEq: ("__ne__", "__eq__"),
    ast.Lt: ("__lt__", "__gt__"),
    ast.LtE: ("__le__", "__ge__"),
    ast.Gt: ("__gt__", "__lt__"),
    ast.GtE: ("__ge__", "__le__"),
}


def _compare_dunders(st: State, op: ast.cmpop, left: Value, right: Value, node: ast.AST) -> bool:
    """A comparison that calls a special method of an instance of the program's
    classes (`a == b`: `__eq__`; `x in k`: `__contains__`)."""
    if isinstance(op, ast.In | ast.NotIn):
        return calls.dunder(st, right, ("__contains__", "__iter__"), node, (left,))
    if type(op) not in _COMPARE_DUNDERS:
        return False
    mine, reflected = _COMPARE_DUNDERS[type(op)]
    names = (mine, "__eq__") if mine == "__ne__" else (mine,)
    return calls.dunder(st, left, names, node, (right,)) or calls.dunder(
        st, right, (reflected,), node, (left,)
    )


def _compare(st: State, node: ast.Compare) -> Value:
    op = node.ops[0]
    left, right = evaluate(st, node.left), evaluate(st, node.comparators[0])
    if _compare_dunders(st, op, left, right, node):
        return UNKNOWN
    if isinstance(op, ast.Is | ast.IsNot | ast.Eq | ast.NotEq):
        negated = isinstance(op, ast.IsNot | ast.NotEq)
        if isinstance(op, ast.Is | ast.IsNot) and not (_identity(left) or _identity(right)):
            return UNKNOWN
        if (
            isinstance(op, ast.Is | ast.IsNot)
            and isinstance(left, Const)
            and isinstance(right, Const)
        ):
            return Const((left.value is right.value) != negated)
        same = _equal(st, left, right)
        if isinstance(same, Const):
            return Const(bool(same.value) != negated)
        if isinstance(same, Data):
            return Data(_not(same.spec)) if negated else same
        return UNKNOWN
    if type(op) not in _CMPOPS:
        return UNKNOWN
    sym = _CMPOPS[type(op)]
    if isinstance(left, Const) and isinstance(right, Const):
        try:
            return Const(bool(eval(f"a {sym} b", {"a": left.value, "b": right.value})))
        except TypeError:
            return UNKNOWN
    lt, rt = text(left), text(right)
    if not (lt and rt and isinstance(left, Const | Data) and isinstance(right, Const | Data)):
        return UNKNOWN
    if not (_number(left) and _number(right)):
        return UNKNOWN
    return Data(f"{lt} {sym} {rt}")


def negation(cond: str) -> str:
    """The spec condition that holds when `cond` does not."""
    return _not(cond)


def _not(cond: str) -> str:
    if cond.startswith("is_none(") and cond.endswith(")") and cond.count("(") == 1:
        return f"not {cond}"
    if " == " in cond and cond.count(" == ") == 1 and " " not in cond.replace(" == ", ""):
        return cond.replace(" == ", " != ")
    return f"not ({cond})" if " " in cond else f"not {cond}"


def _equal(st: State, left: Value, right: Value) -> Value:
    """Whether two values are the same (`==`, and `is` where one of them is `None`, a
    bool or a marker): a constant when the draft knows, a spec condition when the spec
    holds both values, else `UNKNOWN`."""
    for a, b in ((left, right), (right, left)):
        if isinstance(a, Marker) and isinstance(b, Marker):
            if a == b or not (a.local or b.local):
                return Const(a == b)
            return Data(f"{a.text} == {b.text}")
        if isinstance(a, Marker | Const) and _identity(a) and _never_none(b):
            return Const(False)
        if isinstance(a, Marker) and isinstance(b, Const):
            return Const(False)
    if isinstance(left, Const) and isinstance(right, Const):
        try:
            return Const(bool(left.value == right.value))
        except TypeError:
            return UNKNOWN
    lt, rt = text(left), text(right)
    kinds = Const | Data | Marker
    if not (lt and rt and isinstance(left, kinds) and isinstance(right, kinds)):
        return UNKNOWN
    if isinstance(right, Const) and right.value is None:
        cond = f"is_none({lt})"
    elif isinstance(left, Const) and left.value is None:
        cond = f"is_none({rt})"
    else:
        cond = f"{lt} == {rt}"
    return _guarded(st, cond, left, right)


def _guarded(st: State, cond: str, left: Value, right: Value) -> Value:
    """`cond` compares values of which some may be stand-ins (`message`): where one is a
    stand-in that could be either, the result is a choice."""
    vague = [v.spec for v in (left, right) if isinstance(v, Data) and v.vague]
    if not vague:
        return Data(cond)
    st.vague_compared = True
    kinds = {"unknown"} if _identity(left) or _identity(right) else {"data", "unknown"}
    kinds &= st.guard
    if not kinds:
        return Data(cond)
    stand_ins = [st.placeholder(k) for k in sorted(kinds)]
    test = " or ".join(f"{v} == {p}" for v in vague for p in stand_ins)
    same = st.temp("same", cond, st.f.stmt)
    with st.block(f"if {test}", st.f.stmt):
        with st.block("choose", st.f.stmt) as b:
            st.out(f"{same} = true", st.f.stmt)
        with st.tail(b, "or"):
            st.out(f"{same} = false", st.f.stmt)
    return Data(same)


def _number(value: Value) -> str | None:
    if isinstance(value, Const):
        ok = isinstance(value.value, int) and not isinstance(value.value, bool)
        return text(value) if ok else None
    return text(value) if isinstance(value, Data) and value.plain else None


def _fold(a: object, op: str, b: object) -> Const | None:
    if (
        not (isinstance(a, int) and isinstance(b, int))
        or isinstance(a, bool)
        or isinstance(b, bool)
    ):
        return None
    if op in ("/", "%") and b == 0:
        return None
    ops = {
        "+": lambda: a + b,
        "-": lambda: a - b,
        "*": lambda: a * b,
        "/": lambda: a // b,
        "%": lambda: a % b,
    }
    return Const(ops[op]())


def _comprehension(
    st: State, node: ast.ListComp | ast.GeneratorExp | ast.SetComp | ast.DictComp
) -> Value:
    """`[Thread(target=f, args=(i,)) for i in range(3)]`: a list of known length, its
    items drafted one by one; over unknown data, `unroll` items (an assumption). A set
    or dict comprehension runs its calls the same way."""
    if len(node.generators) != 1 or node.generators[0].ifs:
        _inner_calls(st, node)
        return UNKNOWN
    gen = node.generators[0]
    count = calls.constant_range(st, gen.iter)
    values: list[Value]
    if count is not None and len(count) <= 16:
        values = [Const(i) for i in count]
    else:
        source = evaluate(st, gen.iter)
        if isinstance(source, ListVal) and source.exact and len(source.items) <= 16:
            values = list(source.items)
        else:
            k = st.options.unroll
            st.assume(
                node, f"loop over unknown data bounded to {k} iterations: `{st.source(gen.iter)}`"
            )
            values = [UNKNOWN] * k
    if not isinstance(gen.target, ast.Name):
        _inner_calls(st, node)
        return UNKNOWN
    items: list[Value] = []
    saved = st.f.env.get(gen.target.id)
    for v in values:
        st.f.env[gen.target.id] = v
        if isinstance(node, ast.DictComp):
            evaluate(st, node.key)
            items.append(evaluate(st, node.value))
        else:
            items.append(evaluate(st, node.elt))
    if saved is None:
        st.f.env.pop(gen.target.id, None)
    else:
        st.f.env[gen.target.id] = saved
    return ListVal(items)


def _inner_calls(st: State, node: ast.AST) -> None:
    """Draft the calls inside an expression the draft does not follow (a dict, a set,
    an f-string, a comprehension): once each, their values unknown."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.comprehension):
            _inner_calls(st, child)
        elif isinstance(child, ast.expr) and not isinstance(child, ast.Name | ast.Constant):
            evaluate(st, child)


def condition(st: State, node: ast.expr) -> str | None:
    """A condition as a spec expression, or None when it depends on what the draft
    cannot compute (a `choose` then)."""
    value = evaluate(st, node)
    if calls.dunder(st, value, ("__bool__", "__len__"), node):
        return None
    if isinstance(value, Const):
        return "true" if value.value else "false"
    if isinstance(value, Data) and value.plain:
        return value.spec
    return None


def _plain(value: Value) -> bool:
    return isinstance(value, Const) or (isinstance(value, Data) and value.plain)


def known(value: Value) -> bool:
    """Whether the value is more than `UNKNOWN`."""
    return not isinstance(value, Unknown)


def function_of(value: Value) -> Func | None:
    """The module function a value refers to, if any."""
    return value if isinstance(value, Func) else None
