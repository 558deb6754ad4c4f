"""AST back to spec text, in the canonical layout (4-space indent, one statement per line)."""

from __future__ import annotations

import re

from gilcheck.source import Span
from gilcheck.syntax import ast

PRECEDENCE = {
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

INDENT = "    "

# A statement or item laid out as text around its blocks: `["if c ", then, " else ", other]`.
Piece = str | ast.Block

_INT = re.compile(r"[0-9][0-9_]*")
_STRING = re.compile(r'"(\\.|[^"\\\n])*"')


def quote(text: str) -> str:
    """A string literal for `text`."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class Printer:
    """Prints AST nodes as spec text. Given the text the nodes were parsed from, integer and
    string literals keep their spelling (`1_000_000`, `"a\\tb"`) instead of a canonical one."""

    def __init__(self, source_text: str | None = None) -> None:
        self._text = source_text

    def _spelled(self, span: Span, pattern: re.Pattern[str]) -> str | None:
        if self._text is None or span.end <= span.start:
            return None
        text = self._text[span.start : span.end]
        quote_at = text.find('"') if pattern is _STRING else 0
        text = text[quote_at:] if quote_at >= 0 else text
        return text if pattern.fullmatch(text) else None

    def string(self, value: str, span: Span) -> str:
        """A string literal: as written, or quoted canonically."""
        return self._spelled(span, _STRING) or quote(value)

    def expr(self, e: ast.Expr, parent: int = 0) -> str:
        """An expression, parenthesised only where precedence requires."""
        match e:
            case ast.IntLit(value=v):
                if v < 0:
                    return f"({v})"
                return self._spelled(e.span, _INT) or str(v)
            case ast.BoolLit(value=v):
                return "true" if v else "false"
            case ast.NoneLit():
                return "none"
            case ast.StrLit(value=v):
                return self.string(v, e.span)
            case ast.SelfExpr():
                return "self"
            case ast.Name(ident=i):
                return i.name
            case ast.Index(base=b, index=i):
                return f"{b.name}[{self.expr(i)}]"
            case ast.BuiltinCall(func=f, args=args):
                return f"{f.name}({self._args(args)})"
            case ast.Unary(op="not", operand=o):
                text = f"not {self.expr(o, PRECEDENCE['not'])}"
                return _paren(text, PRECEDENCE["not"], parent)
            case ast.Unary(op=_, operand=o):
                text = f"-{self.expr(o, PRECEDENCE['neg'])}"
                return _paren(text, PRECEDENCE["neg"], parent)
            case ast.Binary(op=op, left=left, right=right):
                prec = PRECEDENCE[op]
                if op == "**":  # right-associative; its left side binds tighter than unary minus
                    text = f"{self.expr(left, prec + 1)} ** {self.expr(right, prec - 1)}"
                elif prec == 4:  # comparisons do not chain
                    text = f"{self.expr(left, prec + 1)} {op} {self.expr(right, prec + 1)}"
                else:
                    text = f"{self.expr(left, prec)} {op} {self.expr(right, prec + 1)}"
                return _paren(text, prec, parent)

    def _args(self, args: tuple[ast.Expr, ...]) -> str:
        return ", ".join(self.expr(a) for a in args)

    def ref(self, r: ast.Ref) -> str:
        """``name`` or ``name[index]``."""
        return r.name.name if r.index is None else f"{r.name.name}[{self.expr(r.index)}]"

    def operation(self, op: ast.Operation) -> str:
        """A value-yielding operation."""
        match op:
            case ast.Recv(channel=c):
                return f"recv {self.ref(c)}"
            case ast.TryRecv(channel=c):
                return f"try_recv {self.ref(c)}"
            case ast.Send(channel=c, value=v):
                return f"send {self.ref(c)}, {self.expr(v)}"
            case ast.Clone(source=s):
                return f"clone {self.ref(s)}"
            case ast.Unwrap(value=v):
                return f"unwrap {self.expr(v)}"
            case ast.Call(func=f, args=args):
                return f"call {f.name}({self._args(args)})"
            case ast.Spawn(func=f, args=args, daemon=d, process=process):
                words = ("daemon " if d else "") + ("process " if process else "")
                return f"spawn {words}{f.name}({self._args(args)})"
            case ast.Submit(executor=e, func=f, args=args):
                return f"submit {self.ref(e)}, {f.name}({self._args(args)})"
            case ast.AnyValue(low=lo, high=hi):
                return f"any({self.expr(lo)}..{self.expr(hi)})"
            case ast.MakeChannel(maker=m, arg=a):
                return f"{m}({'' if a is None else self.expr(a)})"
            case ast.SyncOp(verb=v, target=t, operand=e, timed=timed):
                text = f"{v} {self.ref(t)}" + (f", {self.expr(e)}" if e is not None else "")
                return text + (" timeout" if timed else "")
            case ast.Timed(form=form):
                if isinstance(form, ast.Recv):
                    return f"{self.operation(form)} timeout"
                return f"{self.stmt_pieces(form)[0]} timeout"
            case ast.TryAcquire(target=t):
                return f"try_acquire {self.ref(t)}"

    def rhs(self, value: ast.Rhs) -> str:
        """The right side of `let` or `=`."""
        if isinstance(value, ast.Operation):
            return self.operation(value)
        return self.expr(value)

    def stmt_pieces(self, s: ast.Stmt) -> list[Piece]:
        """A statement as text around its blocks (a statement without blocks: one text)."""
        match s:
            case ast.Let(names=names, value=v):
                left = names[0].name if len(names) == 1 else f"({', '.join(n.name for n in names)})"
                return [f"let {left} = {self.rhs(v)}"]
            case ast.Assign(target=t, value=v):
                return [f"{self.ref(t)} = {self.rhs(v)}"]
            case ast.OpStmt(op=op):
                return [self.operation(op)]
            case ast.Drop(target=t):
                return [f"drop {self.ref(t)}"]
            case ast.Close(channel=c):
                return [f"close {self.ref(c)}"]
            case ast.WithGil(body=b):
                return ["with_gil ", b]
            case ast.AllowThreads(body=b):
                return ["allow_threads ", b]
            case ast.Python(body=b):
                return ["python ", b]
            case ast.Acquire(target=t, mode=m):
                return [f"{'acquire' if not m else 'acquire_' + m} {self.ref(t)}"]
            case ast.Release(target=t):
                return [f"release {self.ref(t)}"]
            case ast.Lock(target=t, body=b, mode=m):
                return [f"{m or 'lock'} {self.ref(t)} ", b]
            case ast.Wait(target=t, mutex=m):
                return [f"wait {self.ref(t)}" + (f", {self.ref(m)}" if m is not None else "")]
            case ast.Notify(target=t, all=a):
                return [f"{'notify_all' if a else 'notify'} {self.ref(t)}"]
            case ast.CallOnce(target=t, body=b):
                return [f"call_once {self.ref(t)} ", b]
            case ast.SetEvent(target=t):
                return [f"set {self.ref(t)}"]
            case ast.ClearEvent(target=t):
                return [f"clear {self.ref(t)}"]
            case ast.Join(handle=h):
                return [f"join {self.ref(h)}"]
            case ast.Return(value=v):
                return ["return" if v is None else f"return {self.expr(v)}"]
            case ast.If():
                return self._if_pieces(s)
            case ast.While(cond=c, body=b):
                return [f"while {self.expr(c)} ", b]
            case ast.Loop(body=b):
                return ["loop ", b]
            case ast.For(var=v, channel=c, body=b):
                return [f"for {v.name} in {self.ref(c)} ", b]
            case ast.Break():
                return ["break"]
            case ast.Continue():
                return ["continue"]
            case ast.Choose(branches=bs):
                pieces: list[Piece] = ["choose "]
                for i, b in enumerate(bs):
                    pieces += [b] if i == 0 else [" or ", b]
                return pieces
            case ast.Await(cond=c):
                return [f"await {self.expr(c)}"]
            case ast.Assert(cond=c, message=m):
                return [f"assert {self.expr(c)}" + (f", {self.expr(m)}" if m is not None else "")]
            case ast.Panic(message=m):
                return ["panic" if m is None else f"panic {self.expr(m)}"]
            case ast.Print(value=v):
                return [f"print {self.expr(v)}"]
            case ast.Atomic(body=b):
                return ["atomic ", b]
            case ast.Progress():
                return ["progress"]
            case ast.Skip():
                return ["skip"]
            case ast.Fork(body=b):
                return ["fork ", b]
            case ast.Suspend(body=b):
                return ["suspend ", b]
            case ast.AcquireGil():
                return ["acquire_gil"]
            case ast.ReleaseGil():
                return ["release_gil"]

    def _if_pieces(self, s: ast.If) -> list[Piece]:
        pieces: list[Piece] = [f"if {self.expr(s.cond)} ", s.then]
        if isinstance(s.orelse, ast.If):
            rest = self._if_pieces(s.orelse)
            pieces += [" else " + str(rest[0]), *rest[1:]]
        elif s.orelse is not None:
            pieces += [" else ", s.orelse]
        return pieces

    def _size(self, e: ast.Expr | None) -> str:
        return "" if e is None else f"[{self.expr(e)}]"

    def item_pieces(self, it: ast.Item) -> list[Piece]:
        """A top-level item as text around its block."""
        match it:
            case ast.Scenario(title=t):
                return [f"scenario {self.string(t, it.span)}"]
            case ast.Expect(verdict=v, when=w):
                return [f"expect {v.name}" + (f" when {self.expr(w)}" if w is not None else "")]
            case ast.Setting(key=k, value=v):
                return [f"{k} {v.name}"]
            case ast.Use(path=p):
                return [f"use {self.string(p, it.span)}"]
            case ast.ConstDecl(name=n, value=v):
                return [f"const {n.name} = {self.expr(v)}"]
            case ast.ParamDecl(name=n, type=t, low=lo, high=hi):
                return [f"param {n.name}: {t.name} in {self.expr(lo)}..{self.expr(hi)}"]
            case ast.VarDecl(name=n, size=sz, init=v):
                return [f"var {n.name}{self._size(sz)} = {self.expr(v)}"]
            case ast.ResourceDecl(kind=k, name=n, size=sz, count=c, any_order=any_order):
                count = f" = {self.expr(c)}" if c is not None else ""
                order = ": any_order" if any_order else ""
                return [f"{k} {n.name}{self._size(sz)}{count}{order}"]
            case ast.ChannelDecl(name=n, size=sz, kind=kind):
                arg = "" if kind.arg is None else f"({self.expr(kind.arg)})"
                return [f"channel {n.name}{self._size(sz)}: {kind.name.name}{arg}"]
            case ast.ThreadDecl(name=n, size=sz, body=b):
                return [f"thread {n.name}{self._size(sz)} ", b]
            case ast.FnDecl(name=n, params=ps, body=b):
                return [f"fn {n.name}({', '.join(p.name for p in ps)}) ", b]
            case ast.HookDecl(kind=k, body=b):
                return [f"{k} ", b]

    def block(self, b: ast.Block, depth: int) -> str:
        """``{`` statements ``}``."""
        if not b.body:
            return "{ }"
        inner = "\n".join(self.stmt(s, depth + 1) for s in b.body)
        return "{\n" + inner + "\n" + INDENT * depth + "}"

    def _join(self, pieces: list[Piece], depth: int) -> str:
        return "".join(p if isinstance(p, str) else self.block(p, depth) for p in pieces)

    def stmt(self, s: ast.Stmt, depth: int) -> str:
        """One statement, indented."""
        return INDENT * depth + self._join(self.stmt_pieces(s), depth)

    def item(self, it: ast.Item) -> str:
        """One top-level item."""
        return self._join(self.item_pieces(it), 0)

    def module(self, module: ast.Module) -> str:
        """A whole module as spec text."""
        return "\n".join(self.item(i) for i in module.items) + "\n"


def _paren(text: str, prec: int, parent: int) -> str:
    return f"({text})" if prec < parent else text


_CANONICAL = Printer()


def expr(e: ast.Expr, parent: int = 0) -> str:
    """An expression, parenthesised only where precedence requires."""
    return _CANONICAL.expr(e, parent)


def ref(r: ast.Ref) -> str:
    """``name`` or ``name[index]``."""
    return _CANONICAL.ref(r)


def stmt(s: ast.Stmt, depth: int) -> str:
    """One statement, indented."""
    return _CANONICAL.stmt(s, depth)


def item(it: ast.Item) -> str:
    """One top-level item."""
    return _CANONICAL.item(it)


def operation(op: ast.Operation) -> str:
    """A value-yielding operation."""
    return _CANONICAL.operation(op)


def unparse(module: ast.Module) -> str:
    """A whole module as spec text."""
    return _CANONICAL.module(module)
