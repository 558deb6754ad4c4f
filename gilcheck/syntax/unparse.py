"""AST back to spec text, in the canonical layout (4-space indent, one statement per line)."""

from __future__ import annotations

from gilcheck.syntax import ast

_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "not": 3,
    "==": 4,
    "!=": 4,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "%": 6,
    "neg": 7,
    "**": 8,
}


def quote(text: str) -> str:
    """A string literal for `text`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def expr(e: ast.Expr, parent: int = 0) -> str:
    """An expression, parenthesised only where precedence requires."""
    match e:
        case ast.IntLit(value=v):
            return str(v) if v >= 0 else f"({v})"
        case ast.BoolLit(value=v):
            return "true" if v else "false"
        case ast.NoneLit():
            return "none"
        case ast.StrLit(value=v):
            return quote(v)
        case ast.SelfExpr():
            return "self"
        case ast.Name(ident=i):
            return i.name
        case ast.Index(base=b, index=i):
            return f"{b.name}[{expr(i)}]"
        case ast.BuiltinCall(func=f, args=args):
            return f"{f.name}({', '.join(expr(a) for a in args)})"
        case ast.Unary(op="not", operand=o):
            text = f"not {expr(o, _PRECEDENCE['not'])}"
            return _paren(text, _PRECEDENCE["not"], parent)
        case ast.Unary(op=_, operand=o):
            text = f"-{expr(o, _PRECEDENCE['neg'])}"
            return _paren(text, _PRECEDENCE["neg"], parent)
        case ast.Binary(op=op, left=left, right=right):
            prec = _PRECEDENCE[op]
            if op == "**":  # right-associative; its left side binds tighter than unary minus
                text = f"{expr(left, prec + 1)} ** {expr(right, prec - 1)}"
            elif prec == 4:  # comparisons do not chain
                text = f"{expr(left, prec + 1)} {op} {expr(right, prec + 1)}"
            else:
                text = f"{expr(left, prec)} {op} {expr(right, prec + 1)}"
            return _paren(text, prec, parent)


def _paren(text: str, prec: int, parent: int) -> str:
    return f"({text})" if prec < parent else text


def ref(r: ast.Ref) -> str:
    """``name`` or ``name[index]``."""
    return r.name.name if r.index is None else f"{r.name.name}[{expr(r.index)}]"


def operation(op: ast.Operation) -> str:
    """A value-yielding operation."""
    match op:
        case ast.Recv(channel=c):
            return f"recv {ref(c)}"
        case ast.TryRecv(channel=c):
            return f"try_recv {ref(c)}"
        case ast.Send(channel=c, value=v):
            return f"send {ref(c)}, {expr(v)}"
        case ast.Clone(source=s):
            return f"clone {ref(s)}"
        case ast.Unwrap(value=v):
            return f"unwrap {expr(v)}"
        case ast.Call(func=f, args=args):
            return f"call {f.name}({', '.join(expr(a) for a in args)})"
        case ast.Spawn(func=f, args=args, daemon=d):
            return f"spawn {'daemon ' if d else ''}{f.name}({', '.join(expr(a) for a in args)})"
        case ast.AnyValue(low=lo, high=hi):
            return f"any({expr(lo)}..{expr(hi)})"
        case ast.MakeChannel(maker=m, arg=a):
            return f"{m}({'' if a is None else expr(a)})"


def rhs(value: ast.Rhs) -> str:
    """The right side of `let` or `=`."""
    if isinstance(
        value,
        ast.Recv
        | ast.TryRecv
        | ast.Send
        | ast.Clone
        | ast.Unwrap
        | ast.Call
        | ast.Spawn
        | ast.AnyValue
        | ast.MakeChannel,
    ):
        return operation(value)
    return expr(value)


def block(b: ast.Block, depth: int) -> str:
    """``{`` statements ``}``."""
    if not b.body:
        return "{ }"
    inner = "\n".join(stmt(s, depth + 1) for s in b.body)
    return "{\n" + inner + "\n" + "    " * depth + "}"


def stmt(s: ast.Stmt, depth: int) -> str:
    """One statement, indented."""
    pad = "    " * depth
    return pad + _stmt_text(s, depth)


def _stmt_text(s: ast.Stmt, depth: int) -> str:
    match s:
        case ast.Let(names=names, value=v):
            left = names[0].name if len(names) == 1 else f"({', '.join(n.name for n in names)})"
            return f"let {left} = {rhs(v)}"
        case ast.Assign(target=t, value=v):
            return f"{ref(t)} = {rhs(v)}"
        case ast.OpStmt(op=op):
            return operation(op)
        case ast.Drop(target=t):
            return f"drop {ref(t)}"
        case ast.Close(channel=c):
            return f"close {ref(c)}"
        case ast.WithGil(body=b):
            return f"with_gil {block(b, depth)}"
        case ast.AllowThreads(body=b):
            return f"allow_threads {block(b, depth)}"
        case ast.Python(body=b):
            return f"python {block(b, depth)}"
        case ast.Acquire(target=t, mode=m):
            return f"{'acquire' if not m else 'acquire_' + m} {ref(t)}"
        case ast.Release(target=t):
            return f"release {ref(t)}"
        case ast.Lock(target=t, body=b, mode=m):
            return f"{m or 'lock'} {ref(t)} {block(b, depth)}"
        case ast.Wait(target=t, mutex=m):
            return f"wait {ref(t)}" + (f", {ref(m)}" if m is not None else "")
        case ast.Notify(target=t, all=a):
            return f"{'notify_all' if a else 'notify'} {ref(t)}"
        case ast.CallOnce(target=t, body=b):
            return f"call_once {ref(t)} {block(b, depth)}"
        case ast.SetEvent(target=t):
            return f"set {ref(t)}"
        case ast.ClearEvent(target=t):
            return f"clear {ref(t)}"
        case ast.Join(handle=h):
            return f"join {ref(h)}"
        case ast.Return(value=v):
            return "return" if v is None else f"return {expr(v)}"
        case ast.If():
            return _if_text(s, depth)
        case ast.While(cond=c, body=b):
            return f"while {expr(c)} {block(b, depth)}"
        case ast.Loop(body=b):
            return f"loop {block(b, depth)}"
        case ast.For(var=v, channel=c, body=b):
            return f"for {v.name} in {ref(c)} {block(b, depth)}"
        case ast.Break():
            return "break"
        case ast.Continue():
            return "continue"
        case ast.Choose(branches=bs):
            return "choose " + " or ".join(block(b, depth) for b in bs)
        case ast.Await(cond=c):
            return f"await {expr(c)}"
        case ast.Assert(cond=c, message=m):
            return f"assert {expr(c)}" + (f", {expr(m)}" if m is not None else "")
        case ast.Panic(message=m):
            return "panic" if m is None else f"panic {expr(m)}"
        case ast.Print(value=v):
            return f"print {expr(v)}"
        case ast.Atomic(body=b):
            return f"atomic {block(b, depth)}"
        case ast.Progress():
            return "progress"
        case ast.Skip():
            return "skip"
        case ast.Fork(body=b):
            return f"fork {block(b, depth)}"


def _if_text(s: ast.If, depth: int) -> str:
    text = f"if {expr(s.cond)} {block(s.then, depth)}"
    if isinstance(s.orelse, ast.If):
        text += " else " + _if_text(s.orelse, depth)
    elif s.orelse is not None:
        text += " else " + block(s.orelse, depth)
    return text


def _size(e: ast.Expr | None) -> str:
    return "" if e is None else f"[{expr(e)}]"


def item(it: ast.Item) -> str:
    """One top-level item."""
    match it:
        case ast.Scenario(title=t):
            return f"scenario {quote(t)}"
        case ast.Expect(verdict=v, when=w):
            return f"expect {v.name}" + (f" when {expr(w)}" if w is not None else "")
        case ast.Setting(key=k, value=v):
            return f"{k} {v.name}"
        case ast.Use(path=p):
            return f"use {quote(p)}"
        case ast.ConstDecl(name=n, value=v):
            return f"const {n.name} = {expr(v)}"
        case ast.ParamDecl(name=n, type=t, low=lo, high=hi):
            return f"param {n.name}: {t.name} in {expr(lo)}..{expr(hi)}"
        case ast.VarDecl(name=n, size=sz, init=v):
            return f"var {n.name}{_size(sz)} = {expr(v)}"
        case ast.ResourceDecl(kind=k, name=n, size=sz, count=c):
            return f"{k} {n.name}{_size(sz)}" + (f" = {expr(c)}" if c is not None else "")
        case ast.ChannelDecl(name=n, size=sz, kind=kind):
            arg = "" if kind.arg is None else f"({expr(kind.arg)})"
            return f"channel {n.name}{_size(sz)}: {kind.name.name}{arg}"
        case ast.ThreadDecl(name=n, size=sz, body=b):
            return f"thread {n.name}{_size(sz)} {block(b, 0)}"
        case ast.FnDecl(name=n, params=ps, body=b):
            return f"fn {n.name}({', '.join(p.name for p in ps)}) {block(b, 0)}"
        case ast.HookDecl(kind=k, body=b):
            return f"{k} {block(b, 0)}"


def unparse(module: ast.Module) -> str:
    """A whole module as spec text."""
    return "\n".join(item(i) for i in module.items) + "\n"
