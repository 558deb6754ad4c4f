"""The state of one draft: the spec's top-level items and functions as they are made,
and the frame of the function (or thread) whose Python code is being walked: its
locals, what the draft knows of each Python name, and the block being filled."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from gilcheck.draft.model import DraftError, DraftOptions, Origin
from gilcheck.draft.python.ir import Block, Line, Node
from gilcheck.draft.python.names import Namer
from gilcheck.draft.python.program import FunctionInfo, Module, Program
from gilcheck.draft.python.values import UNKNOWN, Instance, Res, Value
from gilcheck.draft.writer import SpecWriter


@dataclass
class SpecFn:
    """A drafted `fn`: its name, parameters and body."""

    name: str
    params: list[str]
    body: list[Node]
    origin: Origin | None
    returns: Value = None
    raises: bool = False


@dataclass
class Frame:
    """One spec body being drafted: a `fn`, `thread main`, or a top-level handler."""

    module: Module
    namer: Namer
    env: dict[str, Value]
    is_module: bool = False
    func: FunctionInfo | None = None
    coroutine: bool = False
    loop: str | None = None
    globals_declared: set[str] = field(default_factory=set)
    spec_of: dict[str, str] = field(default_factory=dict)
    declared: set[str] = field(default_factory=set)
    hoisted: list[str] = field(default_factory=list)
    blocks: list[list[Node]] = field(default_factory=list)
    loop_depth: int = 0
    in_fork: bool = False
    dead: bool = False
    inline_init: bool = False
    # where the last `may raise` choice was written (statement, block, its length), so a
    # statement with two operations that may raise gets one choice
    last_raise_choice: tuple[int, int, int] | None = None
    stmt: ast.stmt | None = None
    target: str | None = None
    returns: list[Value] = field(default_factory=list)
    splits: int = 0
    held: int = 0
    raises: bool = False
    raised_var: str | None = None
    raise_epoch: int = 0
    fork_depth: int = -1
    loop_marks: list[int] = field(default_factory=list)
    hoisted_values: dict[str, str] = field(default_factory=dict)
    finally_stack: list[list[ast.stmt]] = field(default_factory=list)
    handlers: int = 0
    yield_hooks: list[Callable[[], None]] = field(default_factory=list)
    loop_futures: set[str] = field(default_factory=set)

    @property
    def depth(self) -> int:
        """How deep the current block is in the body (0: the body's own block)."""
        return len(self.blocks) - 1


@dataclass
class State:
    """Everything drafted so far, shared by every frame."""

    program: Program
    options: DraftOptions
    writer: SpecWriter
    gnames: Namer
    genv: dict[str, Value] = field(default_factory=dict)
    items: list[tuple[str, Origin | None]] = field(default_factory=list)
    fns: list[SpecFn] = field(default_factory=list)
    fn_keys: dict[tuple[object, ...], str] = field(default_factory=dict)
    atexit: list[Node] = field(default_factory=list)
    finalizers: list[list[Node]] = field(default_factory=list)
    signals: list[list[Node]] = field(default_factory=list)
    uses_cpython: bool = False
    uses_logging: bool = False
    read_in_functions: set[str] = field(default_factory=set)
    stack: list[tuple[object, ...]] = field(default_factory=list)
    frame: Frame | None = None
    loops_started: set[str] = field(default_factory=set)
    # a loop run by a non-daemon thread keeps the program alive until `loop.stop()`:
    # the event that stop sets, by loop; and the loops stopped before any such thread
    loop_stop_events: dict[str, str] = field(default_factory=dict)
    loops_stopped: set[str] = field(default_factory=set)
    loops_declared: list[tuple[str, ast.AST]] = field(default_factory=list)
    global_specs: set[str] = field(default_factory=set)
    shared: dict[str, str] = field(default_factory=dict)
    constants: set[str] = field(default_factory=set)
    skip_nodes: set[int] = field(default_factory=set)
    uses_logging_module: bool = False
    class_attrs: dict[str, dict[str, Value]] = field(default_factory=dict)
    default_loop: Res | None = None
    log_handlers: list[Instance] = field(default_factory=list)
    raising_futures: set[str] = field(default_factory=set)
    marker_texts: set[str] = field(default_factory=set)
    lambda_names: dict[str, dict[tuple[object, ...], str]] = field(default_factory=dict)
    placeholders_used: set[str] = field(default_factory=set)
    guard: frozenset[str] = frozenset()
    vague_compared: bool = False
    _strings: set[str] | None = None

    # ------------------------------------------------------------------ values

    def strings(self) -> set[str]:
        """Every string constant of the program (what a stand-in literal must avoid)."""
        if self._strings is None:
            self._strings = {
                n.value
                for m in self.program.modules
                for n in ast.walk(m.tree)
                if isinstance(n, ast.Constant) and isinstance(n.value, str)
            }
        return self._strings

    def unique_text(self, base: str) -> str:
        """A string literal no constant of the program and no other marker has."""
        taken = self.strings() | self.marker_texts
        if base.startswith(("data", "unknown")):
            base = "marker_" + base
        out, n = base, 1
        while out in taken:
            n += 1
            out = f"{base}_{n}"
        self.marker_texts.add(out)
        return '"' + out + '"'

    def placeholder(self, kind: str) -> str:
        """The literal that stands for a value the draft does not follow when it is put
        in a channel, returned or completed: `data` (surely not `None` nor a marker)
        or `unknown` (anything)."""
        self.placeholders_used.add(kind)
        taken = self.strings()
        out, n = kind, 1
        while out in taken:
            n += 1
            out = f"{kind}_{n}"
        return '"' + out + '"'

    # ------------------------------------------------------------------ places

    @property
    def f(self) -> Frame:
        """The frame being drafted."""
        assert self.frame is not None
        return self.frame

    def origin(self, node: ast.AST | None) -> Origin | None:
        """Where a source node is, as an annotation's origin."""
        if node is None or not hasattr(node, "lineno"):
            return None
        if isinstance(node, ast.expr) and self.f.stmt is not None:
            node = self.f.stmt
        return self.f.module.src.origin(node.lineno, getattr(node, "col_offset", 0) + 1)

    def refuse(self, node: ast.AST, what: str, hint: str) -> DraftError:
        """The error for a construct the draft will not guess at."""
        where = self.origin(node)
        assert where is not None
        return DraftError(
            f"cannot draft {what}",
            where.path,
            where.line,
            where.column,
            hint=hint,
            refused=True,
            code="unsupported-construct",
        )

    def source(self, node: ast.AST) -> str:
        """The source text of a node, on one line."""
        text = ast.get_source_segment(self.f.module.src.text, node) or ast.unparse(node)
        return " ".join(part.strip() for part in text.splitlines())

    def assume(self, node: ast.AST, text: str) -> None:
        """Record an assumption made at a source node."""
        where = self.origin(node)
        assert where is not None
        self.writer.assume(where, text)

    # ------------------------------------------------------------------ writing

    def out(self, text: str, node: ast.AST | None = None) -> None:
        """A statement in the current block."""
        self.f.blocks[-1].append(Line(text, self.origin(node)))

    @contextmanager
    def block(self, head: str, node: ast.AST | None = None) -> Iterator[Block]:
        """A block `head { ... }` in the current block; statements go into its body."""
        b = Block(head, self.origin(node))
        self.f.blocks[-1].append(b)
        self.f.blocks.append(b.body)
        try:
            yield b
        finally:
            self.f.blocks.pop()

    @contextmanager
    def tail(self, b: Block, word: str) -> Iterator[None]:
        """The `} word { ... }` part of a block (`or`, `else`)."""
        body: list[Node] = []
        b.tails.append((word, body))
        self.f.blocks.append(body)
        try:
            yield
        finally:
            self.f.blocks.pop()

    @contextmanager
    def capture(self) -> Iterator[list[Node]]:
        """Statements drafted inside go to a list of their own (not written anywhere)."""
        nodes: list[Node] = []
        self.f.blocks.append(nodes)
        try:
            yield nodes
        finally:
            self.f.blocks.pop()

    # ------------------------------------------------------------------ names

    def local(self, pyname: str) -> str:
        """The spec local that holds Python name `pyname` in this frame, declared (with
        `let x = none` at the top of the body when first bound in a nested block)."""
        f = self.f
        spec = f.spec_of.get(pyname)
        if spec is None:
            spec = f.namer.fresh(pyname)
            f.spec_of[pyname] = spec
        return spec

    def bind_local(self, pyname: str, rhs: str, node: ast.AST | None) -> str:
        """`let x = rhs` (first binding at the body's top level) or `x = rhs`."""
        spec = self.local(pyname)
        self.assign_spec(spec, rhs, node)
        return spec

    def hoisted_lets(self, frame: Frame) -> list[Node]:
        """`let x = none` (or its first value) for each local a body declares at its top."""
        return [
            Line(f"let {name} = {frame.hoisted_values.get(name, 'none')}") for name in frame.hoisted
        ]

    def assign_spec(self, spec: str, rhs: str, node: ast.AST | None) -> None:
        """Assign a spec local, declaring it first if needed."""
        f = self.f
        if spec in f.declared:
            self.out(f"{spec} = {rhs}", node)
        elif f.depth == 0 and f.loop_depth == 0:
            f.declared.add(spec)
            self.out(f"let {spec} = {rhs}", node)
        else:
            f.declared.add(spec)
            f.hoisted.append(spec)
            self.out(f"{spec} = {rhs}", node)

    def temp(self, base: str, rhs: str, node: ast.AST | None) -> str:
        """A fresh spec local holding `rhs` (the local of the Python name being assigned,
        when `base` is that name)."""
        spec = self.local(base) if base == self.f.target else self.f.namer.fresh(base)
        self.assign_spec(spec, rhs, node)
        return spec

    def item(self, text: str, node: ast.AST | None = None) -> None:
        """A top-level declaration."""
        self.items.append((text, self.origin(node) if self.frame else None))

    def declare(self, text: str, node: ast.AST | None, name: str) -> None:
        """A top-level declaration of `name`."""
        self.global_specs.add(name)
        self.item(text, node)

    def global_name(self, base: str) -> str:
        """A fresh top-level name."""
        return self.gnames.fresh(base)

    # ------------------------------------------------------------------ lookup

    def lookup(self, name: str) -> Value:
        """What the draft knows of a Python name in the current frame."""
        f = self.f
        if name in f.env and name not in f.globals_declared:
            return f.env[name]
        if name in self.genv:
            return self.genv[name]
        return UNKNOWN

    def bind(self, name: str, value: Value) -> None:
        """Record what a Python name now holds."""
        f = self.f
        if name in f.globals_declared:
            self.genv[name] = value
        else:
            f.env[name] = value
