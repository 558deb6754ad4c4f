"""The lowering context: emission, jump patching, scopes, name lookup and the errors and
atomic-block checks shared by every statement family."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from gilcheck.diagnostics import DiagnosticSink, Label, did_you_mean
from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.resolve import ConstFolder, ConstSym, Declarations, ParamSym, VarSym
from gilcheck.source import Span
from gilcheck.sync import registry
from gilcheck.syntax import ast

# Static kinds of locals, as far as the text shows them.
SENDER, RECEIVER, THREAD, VALUE, UNKNOWN = "sender", "receiver", "thread", "value", "unknown"


@dataclass
class LocalInfo:
    """A local binding: its slot, its static kind and where it was declared."""

    slot: int
    kind: str
    span: Span


@dataclass
class Scope:
    names: dict[str, LocalInfo] = field(default_factory=dict)
    slots: list[int] = field(default_factory=list)


@dataclass
class Loop:
    continue_target: int
    break_jumps: list[int] = field(default_factory=list)


@dataclass
class Exit:
    """A block whose exit runs an instruction (lock release, GIL exit, ...)."""

    make: Callable[[], ir.Instr]


Frame = Scope | Loop | Exit


class LowererCore:
    """The state of lowering one code unit (thread body, function or hook), and the
    services every statement family uses: emission, scopes, names and errors."""

    def __init__(
        self,
        decls: Declarations,
        folder: ConstFolder,
        sink: DiagnosticSink,
        *,
        name: str,
        kind: str,
        params: tuple[ast.Ident, ...] = (),
    ) -> None:
        self.decls = decls
        self.folder = folder
        self.sink = sink
        self.name = name
        self.kind = kind
        self.params = params
        self.code: list[ir.Instr] = []
        self.frames: list[Frame] = []
        self.contexts: list[ir.Context] = [
            ir.Context.PYTHON if kind in ("finalizer", "signal") else ir.Context.INHERIT
        ]
        self.local_names: list[str] = []
        # Every `let` of this unit by name (the first), for an undefined name that was
        # declared in a block that has ended.
        self.declared: dict[str, Span] = {}
        self.atomic_depth = 0
        self.atomic_frame_index = 0
        self.atomic_calls: list[tuple[int, Span]] = []
        self.atomic_leading_await = False  # the statement now lowered opens an `atomic`
        # Locals whose every binding in this body is a constructor of one kind (`let m =
        # mutex()`): the kind the text shows them to have (LANGUAGE.md, v1.2 rulings).
        self.object_kinds: dict[str, str] = {}
        # `suspend { }` blocks and GIL blocks (`with_gil`, `allow_threads`) around the
        # statement now lowered: what may not nest in what (LANGUAGE.md, v1.2 rulings).
        self.suspend_depth = 0
        self.gil_guards: list[str] = []

    # ------------------------------------------------------------ emission

    @property
    def context(self) -> ir.Context:
        return self.contexts[-1]

    def emit(self, instr: ir.Instr) -> int:
        if instr.context is not self.context:
            instr = dataclasses.replace(instr, context=self.context)
        self.code.append(instr)
        return len(self.code) - 1

    def patch(self, index: int, **changes: object) -> None:
        self.code[index] = dataclasses.replace(self.code[index], **changes)  # type: ignore[arg-type]

    def here(self) -> int:
        return len(self.code)

    # ------------------------------------------------------------ entry

    def lower_unit(self, body: ast.Block, span: Span) -> ir.CodeUnit:
        self.object_kinds = shown_object_kinds(body, {p.name for p in self.params})
        params = Scope()
        self.frames.append(params)
        for p in self.params:
            if p.name not in params.names:  # a repeated parameter is reported by resolve
                self.declare(p, UNKNOWN)
        top = Scope()
        self.frames.append(top)
        if self.kind == "atexit" and self.decls.host == "python":
            # Python's atexit handlers: Python code, run by `main` taking the GIL.
            self.emit(ir.PythonEnter(span=head_span(span, "atexit")))
            self.contexts.append(ir.Context.PYTHON)
            self.block_body(body)
            self.emit(ir.PythonExit(span=end_span(body.span)))
            self.contexts.pop()
        else:
            self.block_body(body)
        self.frames.pop()
        self.frames.pop()
        self.emit(ir.End(span=end_span(body.span)))
        return ir.CodeUnit(
            name=self.name,
            kind=self.kind,
            params=tuple(p.name for p in self.params),
            local_names=tuple(self.local_names),
            instrs=tuple(self.code),
            span=span,
        )

    # ------------------------------------------------------------ scopes

    def declare(self, ident: ast.Ident, kind: str) -> LocalInfo:
        scope = next(f for f in reversed(self.frames) if isinstance(f, Scope))
        previous = scope.names.get(ident.name)
        if previous is not None:
            self.sink.error(
                "duplicate-local",
                f"`{ident.name}` is already declared in this block",
                ident.span,
                labels=(Label(previous.span, "declared here"),),
                help=f"assign it with `{ident.name} = ...`, or declare it in an inner block",
            )
        slot = len(self.local_names)
        self.local_names.append(ident.name)
        info = LocalInfo(slot, kind, ident.span)
        self.declared.setdefault(ident.name, ident.span)
        scope.names[ident.name] = info
        scope.slots.append(slot)
        return info

    def lookup_local(self, name: str) -> LocalInfo | None:
        for frame in reversed(self.frames):
            if isinstance(frame, Scope) and name in frame.names:
                return frame.names[name]
        return None

    def visible_names(self, values_only: bool = False) -> list[str]:
        names = [n for f in self.frames if isinstance(f, Scope) for n in f.names]
        symbols = [
            name
            for name, sym in self.decls.symbols.items()
            if not values_only or isinstance(sym, ConstSym | ParamSym | VarSym)
        ]
        return names + symbols

    def block(self, block: ast.Block) -> None:
        scope = Scope()
        self.frames.append(scope)
        self.block_body(block)
        self.frames.pop()
        if scope.slots:
            self.emit(ir.EndScope(slots=tuple(scope.slots), span=end_span(block.span)))

    def block_body(self, block: ast.Block) -> None:
        for stmt in block.body:
            self.stmt(stmt)

    def unwind(self, until: type, span: Span) -> Frame | None:
        """Emit the exits of every frame above the innermost `until` frame; return that frame."""
        for frame in reversed(self.frames):
            if isinstance(frame, until):
                return frame
            if isinstance(frame, Scope) and frame.slots and until is Loop:
                self.emit(ir.EndScope(slots=tuple(frame.slots), span=span))
            elif isinstance(frame, Exit):
                self.emit(dataclasses.replace(frame.make(), span=span))
        return None

    # ------------------------------------------------------------ errors

    def undefined(self, ident: ast.Ident, values_only: bool = False) -> None:
        if ident.name in self.decls.poisoned or ident.name in self.folder.failed:
            return  # its declaration already has an error
        elsewhere = self.declared.get(ident.name)
        if elsewhere is not None:
            self.sink.error(
                "undefined-name",
                f"`{ident.name}` was declared in a block that has ended",
                ident.span,
                labels=(Label(elsewhere, "declared here"),),
                help="a `let` lives until the end of its block (`lock m { }`, `with_gil { }`, "
                "`if`, ... are blocks, unlike Python's `with`): declare it before the "
                f"block (`let {ident.name} = none`) and assign it inside",
            )
            return
        guess = did_you_mean(ident.name, self.visible_names(values_only))
        self.sink.error(
            "undefined-name",
            f"`{ident.name}` is not defined",
            ident.span,
            help=f"did you mean `{guess}`?" if guess else "declare it with `let`, `var` or `const`",
        )

    def wrong_kind(self, span: Span, message: str, help: str) -> None:
        self.sink.error("wrong-kind", message, span, help=help)

    # ------------------------------------------------------------ statements

    def stmt(self, s: ast.Stmt) -> None:
        """Lower one statement; the dispatch table lives with the full lowerer."""
        raise NotImplementedError

    # ------------------------------------------------------------ atomic checks

    def check_blocking(self, span: Span, what: str) -> None:
        if self.atomic_depth:
            self.sink.error(
                "blocking-in-atomic",
                f"`{what}` can block, so it cannot be inside `atomic`",
                span,
                help="an `atomic` block runs as one step; only a leading `await` may wait",
            )

    def check_loop(self, span: Span, what: str) -> None:
        if self.atomic_depth:
            self.sink.error(
                "loop-in-atomic",
                f"`{what}` loops are not allowed inside `atomic`",
                span,
                help="an `atomic` block runs as one finite step",
            )


def constructor_kind(value: ast.Rhs) -> str | None:
    """The kind a right-hand side makes at run time (`mutex()`, `latch(3)`), or None."""
    if isinstance(value, ast.BuiltinCall) and value.func.name in registry.CONSTRUCTIBLE:
        return value.func.name
    return None


def statements(node: object) -> Iterator[ast.Stmt]:
    """Every statement inside a block or statement, at any depth (the node itself too)."""
    if isinstance(node, tuple):
        for item in node:
            yield from statements(item)
    elif dataclasses.is_dataclass(node) and isinstance(node, ast.Stmt | ast.Block):
        if not isinstance(node, ast.Block):
            yield node
        for f in dataclasses.fields(node):
            yield from statements(getattr(node, f.name))


def shown_object_kinds(body: ast.Block, params: set[str]) -> dict[str, str]:
    """The locals of a body whose every binding is a constructor of one kind, and that kind
    (not parameters, whose binding is an argument)."""
    kinds: dict[str, set[str | None]] = {}
    for stmt in statements(body):
        if isinstance(stmt, ast.Let) and len(stmt.names) == 1:
            kinds.setdefault(stmt.names[0].name, set()).add(constructor_kind(stmt.value))
        elif isinstance(stmt, ast.Let):  # `let (tx, rx) = channel(..)`: not constructors
            for name in stmt.names:
                kinds.setdefault(name.name, set()).add(None)
        elif isinstance(stmt, ast.Assign) and stmt.target.index is None:
            kinds.setdefault(stmt.target.name.name, set()).add(constructor_kind(stmt.value))
        elif isinstance(stmt, ast.For):  # bound from a message
            kinds.setdefault(stmt.var.name, set()).add(None)
    return {
        name: next(iter(made))  # type: ignore[misc]
        for name, made in kinds.items()
        if len(made) == 1 and None not in made and name not in params
    }


def one_of(kinds: tuple[str, ...]) -> str:
    """`a mutex`, `a mutex or an rlock`, `a mutex, an rlock or a semaphore`."""
    words = [a_kind(k) for k in kinds]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def end_span(span: Span) -> Span:
    """The last character of `span`: where a block's exit instruction points."""
    return Span(span.path, max(span.start, span.end - 1), span.end)


def head_span(span: Span, keyword: str) -> Span:
    """The leading `keyword` of a statement's span."""
    return Span(span.path, span.start, min(span.end, span.start + len(keyword)))
