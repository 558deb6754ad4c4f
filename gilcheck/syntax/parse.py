"""Text to AST: runs the lark grammar and turns its tree and its errors into our own types."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from lark import Token, Transformer, v_args
from lark.exceptions import UnexpectedInput, VisitError

from gilcheck.diagnostics import Diagnostic, DiagnosticSink, SpecError
from gilcheck.source import SourceFile, Span
from gilcheck.syntax import ast
from gilcheck.syntax.annotations import scan_annotations
from gilcheck.syntax.grammar import parser
from gilcheck.syntax.keywords import KEYWORDS, SOFT_KEYWORDS
from gilcheck.syntax.syntax_errors import recover, syntax_diagnostic


def _unescape(literal: str) -> str:
    body = literal[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


class _Size:
    """An array size while the tree is being built (tells `m[2]` from `s = 2`)."""

    def __init__(self, expr: Any) -> None:
        self.expr = expr


def _split_size(children: list[Any]) -> tuple[Any, Any]:
    """(size or None, the next child or None) from the children after a declared name."""
    if children and isinstance(children[0], _Size):
        return children[0].expr, (children[1] if len(children) > 1 else None)
    return None, (children[0] if children else None)


MAX_LITERAL_DIGITS = 1000


def _int(text: str) -> int:
    digits = text.replace("_", "")
    if len(digits) > MAX_LITERAL_DIGITS:
        raise _LiteralTooLong(len(digits))
    return int(digits)


class _LiteralTooLong(Exception):
    def __init__(self, digits: int) -> None:
        super().__init__(f"an integer literal of {digits:,} digits")
        self.digits = digits


def _binary(op: str) -> Any:
    @v_args(meta=True)
    def build(self: _ToAst, meta: Any, c: list[Any]) -> ast.Binary:
        return ast.Binary(op=op, left=c[0], right=c[-1], span=self._span(meta))

    return build


def _ref_stmt(cls: Any) -> Any:
    @v_args(meta=True)
    def build(self: _ToAst, meta: Any, c: list[Any]) -> Any:
        return cls(target=c[0], span=self._span(meta))

    return build


def _block_stmt(cls: Any) -> Any:
    @v_args(meta=True)
    def build(self: _ToAst, meta: Any, c: list[Any]) -> Any:
        return cls(body=c[0], span=self._span(meta))

    return build


def _bare_stmt(cls: Any) -> Any:
    @v_args(meta=True)
    def build(self: _ToAst, meta: Any, c: list[Any]) -> Any:
        return cls(span=self._span(meta))

    return build


class _ToAst(Transformer[Token, ast.Module]):
    """Builds AST nodes; every rule name maps onto one node class."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.errors = DiagnosticSink()

    def _name(self, ident: ast.Ident) -> ast.Ident:
        """A name being declared: keywords are refused (they would not parse where used)."""
        if ident.name in KEYWORDS and ident.name not in SOFT_KEYWORDS:
            self.errors.error(
                "syntax-error",
                f"`{ident.name}` is a keyword and cannot be a name",
                ident.span,
                help=f"rename it, for example `{ident.name}_`",
            )
        return ident

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.path, 0, 0)
        return Span(self.path, meta.start_pos, meta.end_pos)

    def _tok(self, tok: Token) -> Span:
        return Span(self.path, tok.start_pos or 0, tok.end_pos or 0)

    # -- tokens and small pieces
    def ident(self, children: list[Token]) -> ast.Ident:
        tok = children[0]
        return ast.Ident(name=str(tok), span=self._tok(tok))

    @v_args(meta=True)
    def ref(self, meta: Any, children: list[Any]) -> ast.Ref:
        index = children[1] if len(children) > 1 else None
        return ast.Ref(name=children[0], index=index, span=self._span(meta))

    def size(self, children: list[Any]) -> _Size:
        return _Size(children[0])

    def _kw(self, children: list[Token]) -> str:
        return str(children[0])

    resource_kind = hook_kind = acquire_kw = lock_kw = notify_kw = channel_maker = _kw

    # -- expressions
    @v_args(meta=True)
    def int_lit(self, meta: Any, c: list[Token]) -> ast.IntLit:
        try:
            value = _int(c[0])
        except _LiteralTooLong as err:
            self.errors.error(
                "bad-constant",
                f"{err}: too long for an integer",
                self._span(meta),
                help=f"integers have at most {MAX_LITERAL_DIGITS:,} digits; write large "
                "values as powers, such as `2**31`",
            )
            value = 0
        return ast.IntLit(value=value, span=self._span(meta))

    @v_args(meta=True)
    def true_lit(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(value=True, span=self._span(meta))

    @v_args(meta=True)
    def false_lit(self, meta: Any, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(value=False, span=self._span(meta))

    @v_args(meta=True)
    def none_lit(self, meta: Any, c: list[Any]) -> ast.NoneLit:
        return ast.NoneLit(span=self._span(meta))

    @v_args(meta=True)
    def str_lit(self, meta: Any, c: list[Token]) -> ast.StrLit:
        return ast.StrLit(value=_unescape(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def self_lit(self, meta: Any, c: list[Any]) -> ast.SelfExpr:
        return ast.SelfExpr(span=self._span(meta))

    @v_args(meta=True)
    def name(self, meta: Any, c: list[Any]) -> ast.Name:
        return ast.Name(ident=c[0], span=self._span(meta))

    @v_args(meta=True)
    def index(self, meta: Any, c: list[Any]) -> ast.Index:
        return ast.Index(base=c[0], index=c[1], span=self._span(meta))

    @v_args(meta=True)
    def builtin_call(self, meta: Any, c: list[Any]) -> ast.BuiltinCall:
        args = tuple(a for a in c[1:] if a is not None)
        return ast.BuiltinCall(func=c[0], args=args, span=self._span(meta))

    or_op = _binary("or")
    and_op = _binary("and")
    add = _binary("+")
    sub = _binary("-")
    mul = _binary("*")
    div = _binary("/")
    mod = _binary("%")
    pow = _binary("**")

    @v_args(meta=True)
    def compare(self, meta: Any, c: list[Any]) -> ast.Binary:
        return ast.Binary(op=str(c[1]), left=c[0], right=c[2], span=self._span(meta))

    @v_args(meta=True)
    def not_op(self, meta: Any, c: list[Any]) -> ast.Unary:
        return ast.Unary(op="not", operand=c[0], span=self._span(meta))

    @v_args(meta=True)
    def neg(self, meta: Any, c: list[Any]) -> ast.Unary:
        return ast.Unary(op="-", operand=c[0], span=self._span(meta))

    # -- operations
    @v_args(meta=True)
    def recv(self, meta: Any, c: list[Any]) -> ast.Recv:
        return ast.Recv(channel=c[0], span=self._span(meta))

    @v_args(meta=True)
    def timed_acquire(self, meta: Any, c: list[Any]) -> ast.Timed:
        span = self._span(meta)
        return ast.Timed(form=self.acquire(meta, c[:2]), span=span)

    @v_args(meta=True)
    def timed_wait(self, meta: Any, c: list[Any]) -> ast.Timed:
        return ast.Timed(form=self.wait(meta, c[:-1]), span=self._span(meta))

    @v_args(meta=True)
    def timed_join(self, meta: Any, c: list[Any]) -> ast.Timed:
        return ast.Timed(form=self.join(meta, c[:1]), span=self._span(meta))

    @v_args(meta=True)
    def timed_recv(self, meta: Any, c: list[Any]) -> ast.Timed:
        return ast.Timed(form=self.recv(meta, c[:1]), span=self._span(meta))

    @v_args(meta=True)
    def try_acquire(self, meta: Any, c: list[Any]) -> ast.TryAcquire:
        return ast.TryAcquire(target=c[1], span=self._span(meta))

    @v_args(meta=True)
    def try_recv(self, meta: Any, c: list[Any]) -> ast.TryRecv:
        return ast.TryRecv(channel=c[0], span=self._span(meta))

    @v_args(meta=True)
    def send(self, meta: Any, c: list[Any]) -> ast.Send:
        return ast.Send(channel=c[0], value=c[1], span=self._span(meta))

    @v_args(meta=True)
    def clone(self, meta: Any, c: list[Any]) -> ast.Clone:
        return ast.Clone(source=c[0], span=self._span(meta))

    @v_args(meta=True)
    def unwrap(self, meta: Any, c: list[Any]) -> ast.Unwrap:
        return ast.Unwrap(value=c[0], span=self._span(meta))

    def args(self, c: list[Any]) -> tuple[Any, ...]:
        return tuple(a for a in c if a is not None)

    @v_args(meta=True)
    def call(self, meta: Any, c: list[Any]) -> ast.Call:
        return ast.Call(func=c[0], args=c[1], span=self._span(meta))

    def daemon(self, c: list[Any]) -> bool:
        return True

    def process(self, c: list[Any]) -> Token:
        return c[0]  # type: ignore[no-any-return]

    @v_args(meta=True)
    def spawn(self, meta: Any, c: list[Any]) -> ast.Spawn:
        daemon = c[0] is True
        rest = c[1:] if daemon or c[0] is None else c
        process = Span(self.path, 0, 0)
        if isinstance(rest[0], Token) or rest[0] is None:
            if rest[0] is not None:
                process = self._tok(rest[0])
            rest = rest[1:]
        return ast.Spawn(
            func=rest[0],
            args=rest[1],
            daemon=daemon,
            process=process.end > process.start,
            process_span=process,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def submit(self, meta: Any, c: list[Any]) -> ast.Submit:
        return ast.Submit(executor=c[1], func=c[2], args=c[3], span=self._span(meta))

    @v_args(meta=True)
    def any_value(self, meta: Any, c: list[Any]) -> ast.AnyValue:
        return ast.AnyValue(low=c[0], high=c[1], span=self._span(meta))

    @v_args(meta=True)
    def make_channel(self, meta: Any, c: list[Any]) -> ast.MakeChannel:
        return ast.MakeChannel(maker=c[0], arg=c[1], span=self._span(meta))

    # -- statements
    @v_args(meta=True)
    def block(self, meta: Any, c: list[Any]) -> ast.Block:
        return ast.Block(body=tuple(s for s in c if s is not None), span=self._span(meta))

    def let_names(self, c: list[Any]) -> tuple[ast.Ident, ...]:
        return tuple(self._name(i) for i in c)

    @v_args(meta=True)
    def let(self, meta: Any, c: list[Any]) -> ast.Let:
        return ast.Let(names=c[0], value=c[1], span=self._span(meta))

    @v_args(meta=True)
    def assign(self, meta: Any, c: list[Any]) -> ast.Assign:
        return ast.Assign(target=c[0], value=c[1], span=self._span(meta))

    @v_args(meta=True)
    def op_stmt(self, meta: Any, c: list[Any]) -> ast.OpStmt:
        return ast.OpStmt(op=c[0], span=self._span(meta))

    drop = _ref_stmt(ast.Drop)
    release = _ref_stmt(ast.Release)
    set_event = _ref_stmt(ast.SetEvent)
    clear_event = _ref_stmt(ast.ClearEvent)

    with_gil = _block_stmt(ast.WithGil)
    allow_threads = _block_stmt(ast.AllowThreads)
    python = _block_stmt(ast.Python)
    loop = _block_stmt(ast.Loop)
    atomic = _block_stmt(ast.Atomic)
    fork = _block_stmt(ast.Fork)

    break_ = _bare_stmt(ast.Break)
    continue_ = _bare_stmt(ast.Continue)
    progress = _bare_stmt(ast.Progress)
    skip = _bare_stmt(ast.Skip)

    @v_args(meta=True)
    def close(self, meta: Any, c: list[Any]) -> ast.Close:
        return ast.Close(channel=c[0], span=self._span(meta))

    @v_args(meta=True)
    def acquire(self, meta: Any, c: list[Any]) -> ast.Acquire:
        mode = {"acquire": "", "acquire_read": "read", "acquire_write": "write"}[c[0]]
        return ast.Acquire(target=c[1], mode=mode, span=self._span(meta))

    @v_args(meta=True)
    def lock(self, meta: Any, c: list[Any]) -> ast.Lock:
        mode = {"lock": "", "read": "read", "write": "write"}[c[0]]
        return ast.Lock(target=c[1], body=c[2], mode=mode, span=self._span(meta))

    @v_args(meta=True)
    def wait(self, meta: Any, c: list[Any]) -> ast.Wait:
        mutex = c[1] if len(c) > 1 else None
        return ast.Wait(target=c[0], mutex=mutex, span=self._span(meta))

    @v_args(meta=True)
    def sync_op(self, meta: Any, c: list[Any]) -> ast.SyncOp:
        timed = isinstance(c[-1], Token) and c[-1].type == "TIMEOUT"
        operands = c[2:-1] if timed else c[2:]
        operand = operands[0] if operands else None
        return ast.SyncOp(
            verb=str(c[0]), target=c[1], operand=operand, timed=timed, span=self._span(meta)
        )

    @v_args(meta=True)
    def suspend(self, meta: Any, c: list[Any]) -> ast.Suspend:
        return ast.Suspend(body=c[1], span=self._span(meta))

    @v_args(meta=True)
    def gil_call(self, meta: Any, c: list[Any]) -> ast.AcquireGil | ast.ReleaseGil:
        cls = ast.AcquireGil if str(c[0]) == "acquire_gil" else ast.ReleaseGil
        return cls(span=self._span(meta))

    @v_args(meta=True)
    def notify(self, meta: Any, c: list[Any]) -> ast.Notify:
        return ast.Notify(target=c[1], all=c[0] == "notify_all", span=self._span(meta))

    @v_args(meta=True)
    def call_once(self, meta: Any, c: list[Any]) -> ast.CallOnce:
        return ast.CallOnce(target=c[0], body=c[1], span=self._span(meta))

    @v_args(meta=True)
    def join(self, meta: Any, c: list[Any]) -> ast.Join:
        return ast.Join(handle=c[0], span=self._span(meta))

    @v_args(meta=True)
    def return_(self, meta: Any, c: list[Any]) -> ast.Return:
        return ast.Return(value=c[0] if c else None, span=self._span(meta))

    @v_args(meta=True)
    def if_(self, meta: Any, c: list[Any]) -> ast.If:
        orelse = c[2] if len(c) > 2 else None
        return ast.If(cond=c[0], then=c[1], orelse=orelse, span=self._span(meta))

    @v_args(meta=True)
    def while_(self, meta: Any, c: list[Any]) -> ast.While:
        return ast.While(cond=c[0], body=c[1], span=self._span(meta))

    @v_args(meta=True)
    def for_(self, meta: Any, c: list[Any]) -> ast.For:
        return ast.For(var=self._name(c[0]), channel=c[1], body=c[2], span=self._span(meta))

    @v_args(meta=True)
    def choose(self, meta: Any, c: list[Any]) -> ast.Choose:
        return ast.Choose(branches=tuple(c), span=self._span(meta))

    @v_args(meta=True)
    def await_(self, meta: Any, c: list[Any]) -> ast.Await:
        return ast.Await(cond=c[0], span=self._span(meta))

    @v_args(meta=True)
    def assert_(self, meta: Any, c: list[Any]) -> ast.Assert:
        message = c[1] if len(c) > 1 else None
        return ast.Assert(cond=c[0], message=message, span=self._span(meta))

    @v_args(meta=True)
    def panic(self, meta: Any, c: list[Any]) -> ast.Panic:
        return ast.Panic(message=c[0] if c else None, span=self._span(meta))

    @v_args(meta=True)
    def print(self, meta: Any, c: list[Any]) -> ast.Print:
        return ast.Print(value=c[0], span=self._span(meta))

    # -- items
    @v_args(meta=True)
    def scenario(self, meta: Any, c: list[Token]) -> ast.Scenario:
        return ast.Scenario(title=_unescape(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def expect(self, meta: Any, c: list[Any]) -> ast.Expect:
        when = c[1] if len(c) > 1 else None
        return ast.Expect(verdict=c[0], when=when, span=self._span(meta))

    @v_args(meta=True)
    def setting(self, meta: Any, c: list[Any]) -> ast.Setting:
        return ast.Setting(key=str(c[0]), value=c[1], span=self._span(meta))

    @v_args(meta=True)
    def use(self, meta: Any, c: list[Token]) -> ast.Use:
        return ast.Use(path=_unescape(c[0]), span=self._span(meta))

    @v_args(meta=True)
    def const_decl(self, meta: Any, c: list[Any]) -> ast.ConstDecl:
        return ast.ConstDecl(name=self._name(c[0]), value=c[1], span=self._span(meta))

    @v_args(meta=True)
    def param_decl(self, meta: Any, c: list[Any]) -> ast.ParamDecl:
        return ast.ParamDecl(
            name=self._name(c[0]), type=c[1], low=c[2], high=c[3], span=self._span(meta)
        )

    @v_args(meta=True)
    def var_decl(self, meta: Any, c: list[Any]) -> ast.VarDecl:
        size, init = _split_size(c[1:])
        return ast.VarDecl(name=self._name(c[0]), size=size, init=init, span=self._span(meta))

    @v_args(meta=True)
    def resource_decl(self, meta: Any, c: list[Any]) -> ast.ResourceDecl:
        kind, name = c[0], c[1]
        size, rest = _split_size(c[2:])
        count = rest if rest is not None else None
        return ast.ResourceDecl(
            kind=kind, name=self._name(name), size=size, count=count, span=self._span(meta)
        )

    @v_args(meta=True)
    def channel_kind(self, meta: Any, c: list[Any]) -> ast.ChannelKind:
        arg = c[1] if len(c) > 1 else None
        return ast.ChannelKind(name=c[0], arg=arg, span=self._span(meta))

    @v_args(meta=True)
    def channel_decl(self, meta: Any, c: list[Any]) -> ast.ChannelDecl:
        size, kind = _split_size(c[1:])
        return ast.ChannelDecl(name=self._name(c[0]), size=size, kind=kind, span=self._span(meta))

    @v_args(meta=True)
    def eventloop_decl(self, meta: Any, c: list[Any]) -> ast.ResourceDecl:
        name, rest = c[1], c[2:]
        size = rest[0].expr if rest and isinstance(rest[0], _Size) else None
        order = rest[-1] if rest and isinstance(rest[-1], ast.Ident) else None
        if order is not None and order.name != "any_order":
            self.errors.error(
                "syntax-error",
                f"`{order.name}` is not an event loop's order",
                order.span,
                help="write `eventloop lp` (tasks in the order they became ready) or "
                "`eventloop lp: any_order`",
            )
        return ast.ResourceDecl(
            kind="eventloop",
            name=self._name(name),
            size=size,
            any_order=order is not None,
            span=self._span(meta),
        )

    @v_args(meta=True)
    def thread_decl(self, meta: Any, c: list[Any]) -> ast.ThreadDecl:
        size, body = _split_size(c[1:])
        return ast.ThreadDecl(name=self._name(c[0]), size=size, body=body, span=self._span(meta))

    @v_args(meta=True)
    def fn_decl(self, meta: Any, c: list[Any]) -> ast.FnDecl:
        params = tuple(self._name(p) for p in c[1:-1] if p is not None)
        return ast.FnDecl(name=self._name(c[0]), params=params, body=c[-1], span=self._span(meta))

    @v_args(meta=True)
    def hook_decl(self, meta: Any, c: list[Any]) -> ast.HookDecl:
        return ast.HookDecl(kind=c[0], body=c[1], span=self._span(meta))

    @v_args(meta=True)
    def module(self, meta: Any, c: list[Any]) -> ast.Module:
        return ast.Module(path=self.path, items=tuple(c), span=self._span(meta))


# Rule names that are Python keywords get a trailing underscore on the transformer side.
for _rule in ("break", "continue", "return", "if", "while", "for", "await", "assert"):
    setattr(_ToAst, _rule, getattr(_ToAst, _rule + "_"))


MAX_SYNTAX_ERRORS = 20


# Files parsed without error, by (path, text): a process that reads the same files again
# (the language server, a check of several specs that use the same models) parses each
# once. The AST is immutable, so one module serves every reader.
# Kept while the files' texts come to at most 2 MB (their ASTs to some tens of MB).
_PARSED: dict[tuple[str, str], ast.Module] = {}
_PARSED_CHARS_LIMIT = 2_000_000


def parse_source(source: SourceFile) -> ast.Module:
    """Parse one file into an AST; every syntax error found is raised as one SpecError."""
    key = (source.path, source.text)
    module = _PARSED.get(key)
    if module is None:
        module = _parse_afresh(source)
        if len(source.text) + sum(len(text) for _, text in _PARSED) > _PARSED_CHARS_LIMIT:
            _PARSED.clear()
        _PARSED[key] = module
    return module


def _parse_afresh(source: SourceFile) -> ast.Module:
    text = source.text
    errors: list[Diagnostic] = []
    seen_lines: set[int] = set()
    while True:
        try:
            tree = parser().parse(text)
        except UnexpectedInput as err:
            diag = syntax_diagnostic(source, err)
            line = source.line_col(diag.span.start).line
            if line in seen_lines:
                break
            seen_lines.add(line)
            errors.append(diag)
            if diag.code == "unexpected-end" or len(errors) >= MAX_SYNTAX_ERRORS:
                break
            patched = recover(text, source, line, diag)
            if patched is None:
                break
            text = patched
            continue
        builder = _ToAst(source.path)
        try:
            module: ast.Module = builder.transform(tree)
        except VisitError as err:  # pragma: no cover - a bug in the transformer
            raise err.orig_exc from err
        annotations, malformed = scan_annotations(source)
        module = dataclasses.replace(module, annotations=annotations)
        errors.extend(malformed)
        if errors:
            # The text parsed once the broken lines were neutralized: keep what it says,
            # so that the later checks can still report their errors.
            errors.sort(key=lambda d: d.span.start)
            raise SpecError(errors, partial=[module])
        builder.errors.raise_if_errors()
        return module
    raise SpecError(errors)
