"""Reading the program: each file parsed with `ast` (a syntax error is a `DraftError`),
its imports (so `from threading import Lock as L` is known as `threading.Lock`), its
functions and classes, and facts the draft needs before it walks any code."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from gilcheck.draft.model import DraftError, SourceText

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class Module:
    """One parsed source file."""

    name: str
    src: SourceText
    tree: ast.Module
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class FunctionInfo:
    """A function of the program (a method's name is `Class.method`)."""

    name: str
    node: FunctionNode
    module: Module
    cls: str | None = None
    closure: dict[str, object] | None = None
    defaults: dict[str, object] | None = None  # parameter defaults that are objects

    @property
    def free_names(self) -> list[str]:
        """Names a nested function reads from the function that defines it (read, not
        bound in its own body), in order of first use."""
        bound = set(self.params) | {a.arg for a in self.node.args.kwonlyargs}
        for n in ast.walk(self.node):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                bound.add(n.id)
        seen: list[str] = []
        for n in ast.walk(self.node):
            if (
                isinstance(n, ast.Name)
                and isinstance(n.ctx, ast.Load)
                and n.id not in bound
                and n.id not in seen
            ):
                seen.append(n.id)
        return seen

    @property
    def is_async(self) -> bool:
        """Whether it is an `async def`."""
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def params(self) -> list[str]:
        """Its positional parameter names (`self` included for methods)."""
        a = self.node.args
        return [p.arg for p in [*a.posonlyargs, *a.args]]


@dataclass
class ClassInfo:
    """A class of the program: its methods and the names of its bases."""

    name: str
    node: ast.ClassDef
    module: Module
    bases: list[str]
    methods: dict[str, FunctionInfo] = field(default_factory=dict)


@dataclass
class Program:
    """Every file of the program and what is defined in it."""

    modules: list[Module]
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    global_writes: set[str] = field(default_factory=set)
    uses_task_done: bool = False
    uses_fork: bool = False

    @property
    def main(self) -> Module:
        """The module that runs: the first with a `__main__` block, else the first."""
        for m in self.modules:
            if any(is_main_guard(s) for s in m.tree.body):
                return m
        return self.modules[0]


def parse_sources(sources: Sequence[SourceText]) -> Program:
    """Parse every source (a syntax error is a `DraftError` with its place) and index
    its definitions."""
    if not sources:
        raise DraftError("nothing to draft: no source files", "", code="no-source")
    modules = []
    for src in sources:
        try:
            tree = ast.parse(src.text.removeprefix("\ufeff"), filename=src.path)
        except SyntaxError as e:
            raise DraftError(
                f"Python syntax error: {e.msg}",
                src.path,
                e.lineno or 0,
                e.offset or 0,
                hint="the file must be valid Python 3.11",
                refused=False,
                code="source-syntax",
            ) from e
        modules.append(Module(PurePath(src.path).stem, src, tree))
    program = Program(modules)
    for m in modules:
        _index(program, m)
    return program


def _index(program: Program, m: Module) -> None:
    for node in ast.walk(m.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                m.aliases[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                m.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Global):
            program.global_writes.update(node.names)
        elif isinstance(node, ast.Attribute):
            if node.attr == "task_done":
                program.uses_task_done = True
            if node.attr == "fork" and isinstance(node.value, ast.Name):
                program.uses_fork = True
    queues = {
        _last(t)
        for node in ast.walk(m.tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Call)
        and (dotted(node.value.func) or "").endswith("Queue")
        for t in node.targets
    }
    for node in ast.walk(m.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "join"
            and not node.args
            and _last(node.func.value) in queues
        ):
            program.uses_task_done = True
    for stmt in m.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            program.functions[stmt.name] = FunctionInfo(stmt.name, stmt, m)
        elif isinstance(stmt, ast.ClassDef):
            info = ClassInfo(stmt.name, stmt, m, [dotted(b) or "" for b in stmt.bases])
            for s in stmt.body:
                if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
                    info.methods[s.name] = FunctionInfo(f"{stmt.name}.{s.name}", s, m, stmt.name)
            program.classes[stmt.name] = info


def _last(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def dotted(node: ast.AST) -> str | None:
    """`a.b.c` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def canonical(m: Module, name: str) -> str:
    """A dotted name with its first part resolved through the module's imports
    (`L` -> `threading.Lock`, `futures.wait` -> `concurrent.futures.wait`)."""
    head, _, rest = name.partition(".")
    full = m.aliases.get(head)
    if full is None:
        return name
    return f"{full}.{rest}" if rest else full


def is_main_guard(stmt: ast.stmt) -> bool:
    """`if __name__ == "__main__":`."""
    if not isinstance(stmt, ast.If) or not isinstance(stmt.test, ast.Compare):
        return False
    t = stmt.test
    sides = [t.left, *t.comparators]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
    )


def simple_value(e: ast.expr) -> bool:
    """Whether an expression is made only of constants, names and operators."""
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
        for n in ast.walk(e)
    )
