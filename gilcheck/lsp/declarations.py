"""The names of an open document: its top-level declarations and those of the models it
`use`s (from the compiler's own symbol table), and the locals in scope at a place.

A document with syntax errors still has the declarations that did parse, so hover and
definition keep working while a line is half typed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from gilcheck.diagnostics import DiagnosticSink, SpecError
from gilcheck.lsp.places import Extent, Place, extent_of_span, name_at
from gilcheck.semantics import resolve
from gilcheck.semantics.describe import declaration
from gilcheck.semantics.values import render
from gilcheck.source import SourceFile, SourceMap, Span
from gilcheck.syntax import ast
from gilcheck.syntax.load import load_spec, resolve_use


@dataclass(frozen=True, slots=True)
class Declared:
    """A declared name: what it is, where, and its declaration as written."""

    name: str
    kind: str  # `thread`, `function`, `mutex`, `channel`, `shared variable`, `local`, ...
    summary: str  # `a mutex`, `a bounded(2) channel`, `a constant: 3`, ...
    path: str
    line: int  # 1-based, as the CLI counts
    extent: Extent  # the whole declaration
    name_extent: Extent
    text: str  # the declaration's first line as written


@dataclass(frozen=True, slots=True)
class DocumentNames:
    """An open document's parsed modules (the document first) and its declarations."""

    path: str
    text: str
    modules: tuple[ast.Module, ...]
    top_level: Mapping[str, Declared]
    files: Mapping[str, SourceFile]


def document_names(text: str, path: str) -> DocumentNames:
    """Parse a document (and its models) as far as it parses, and name what it declares."""
    sources = SourceMap()
    source = SourceFile(path, text)
    modules = _parsed(source, sources)
    cut = _before_last_top_level(text) if not modules else None
    if cut:  # a declaration half typed at the end: the text before it still names things
        source = SourceFile(path, text[:cut])
        modules = _parsed(source, sources := SourceMap())
    files = {m.path: sources.get(m.path) or source for m in modules}
    files[path] = sources.get(path) or source
    top_level = _top_level(modules, files) if modules else {}
    return DocumentNames(path, text, tuple(modules), top_level, files)


def _parsed(source: SourceFile, sources: SourceMap) -> list[ast.Module]:
    """The modules of a document and its models, as far as they parse."""
    try:
        return load_spec(source, sources)
    except SpecError as error:
        return list(error.partial or [])
    except (OSError, RecursionError):
        return []


def _before_last_top_level(text: str) -> int | None:
    """Where the last line that starts a top-level declaration begins (None: none but
    the first line)."""
    starts = [m.start() for m in re.finditer(r"^[A-Za-z_]", text, re.MULTILINE)]
    return starts[-1] if starts and starts[-1] > 0 else None


def declared_at(names: DocumentNames, offset: int) -> Declared | None:
    """What the name under an offset of the document refers to: a local in scope there,
    else a top-level declaration (None: no name, or an undeclared one)."""
    own = names.modules[0] if names.modules and names.modules[0].path == names.path else None
    used = _used_model_at(own, offset) if own is not None else None
    if used is not None:
        return used
    found = name_at(names.text, offset)
    if found is None:
        return None
    name = found[0]
    if own is not None:
        local = _locals_at(own, offset, names.files[names.path]).get(name)
        if local is not None:
            return local
    return names.top_level.get(name)


def _used_model_at(module: ast.Module, offset: int) -> Declared | None:
    """The model file a `use` under the offset reads (its first line: what it models)."""
    for item in module.items:
        if isinstance(item, ast.Use) and item.span.start <= offset <= item.span.end:
            found = resolve_use(Path(module.path), item.path)
            if found is None:
                return None
            try:
                first = found.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
            except OSError:
                first = ""
            start = Extent(Place(0, 0), Place(0, 0))
            summary = f"the model file `{found}`"
            return Declared(item.path, "model", summary, str(found), 1, start, start, first)
    return None


def _top_level(modules: list[ast.Module], files: Mapping[str, SourceFile]) -> dict[str, Declared]:
    try:
        decls, _ = resolve.collect(modules, DiagnosticSink())
    except RecursionError:
        return {}
    items = {item.span: item for module in modules for item in module.items}
    consts = {item.name.span: item for item in items.values() if isinstance(item, ast.ConstDecl)}
    found: dict[str, Declared] = {}
    for name, symbol in decls.symbols.items():
        item: ast.Item
        match symbol:
            case resolve.ThreadSym(decl=decl) | resolve.FnSym(decl=decl):
                item = decl
            case resolve.ConstSym(span=span):
                item = consts[span]
            case (
                resolve.ParamSym(info=info)
                | resolve.VarSym(info=info)
                | resolve.ResourceSym(info=info)
                | resolve.ChannelSym(info=info)
            ):
                item = items[info.span]
        source = files.get(item.span.path)
        ident = getattr(item, "name", None)
        if source is None or not isinstance(ident, ast.Ident):
            continue
        kind, summary = _described(symbol)
        found[name] = _declared(name, kind, summary, item.span, ident.span, source)
    return found


def _described(symbol: resolve.Symbol) -> tuple[str, str]:
    """A symbol's kind, and a sentence of what the compiler knows of it."""
    match symbol:
        case resolve.ConstSym(value=value):
            return "constant", f"a constant: {render(value)}"
        case resolve.ParamSym(info=info):
            return "param", f"a param: `{declaration(info)}`"
        case resolve.VarSym(info=info):
            return "shared variable", f"a shared variable: `{declaration(info)}`"
        case resolve.ResourceSym(info=info):
            return info.kind, f"{resolve.symbol_kind(symbol)}: `{declaration(info)}`"
        case resolve.ChannelSym(info=info):
            return "channel", f"a channel: `{declaration(info)}`"
        case resolve.ThreadSym(size=size):
            return "thread", "a thread" + (f" array of {size}" if size is not None else "")
        case resolve.FnSym(decl=decl):
            params = ", ".join(p.name for p in decl.params)
            return "function", f"a function: `fn {decl.name.name}({params})`"


def _declared(
    name: str, kind: str, summary: str, whole: Span, ident: Span, source: SourceFile
) -> Declared:
    line = source.line_col(whole.start).line
    return Declared(
        name,
        kind,
        summary,
        source.path,
        line,
        extent_of_span(source, whole),
        extent_of_span(source, ident),
        source.line_text(line).strip(),
    )


# ------------------------------------------------------------------ locals in scope


def _locals_at(module: ast.Module, offset: int, source: SourceFile) -> dict[str, Declared]:
    """The locals, loop variables and parameters in scope at an offset of a thread or
    function body (later and inner bindings win)."""
    scope: dict[str, Declared] = {}
    for item in module.items:
        if not isinstance(item, ast.ThreadDecl | ast.FnDecl | ast.HookDecl):
            continue
        if not item.span.start <= offset <= item.span.end:
            continue
        if isinstance(item, ast.FnDecl):
            for param in item.params:
                scope[param.name] = _local(param, "parameter", item.span, source)
        _bind_block(item.body, offset, source, scope)
    return scope


def _bind_block(
    block: ast.Block, offset: int, source: SourceFile, scope: dict[str, Declared]
) -> None:
    for stmt in block.body:
        if stmt.span.start > offset:
            break
        # A `let`'s names are bound once it ends (`let x = x + 1` reads the old `x`), or
        # on the names themselves.
        if isinstance(stmt, ast.Let) and (
            offset > stmt.span.end or any(_holds(i.span, offset) for i in stmt.names)
        ):
            for ident in stmt.names:
                scope[ident.name] = _local(ident, "local", stmt.span, source)
        if stmt.span.start <= offset <= stmt.span.end:
            _bind_inside(stmt, offset, source, scope)


def _bind_inside(node: object, offset: int, source: SourceFile, scope: dict[str, Declared]) -> None:
    """Into the blocks of a statement that hold the offset (a `for` binds its variable)."""
    # A `for`'s variable is bound in its body and on itself (`for r in r` reads the old r).
    if isinstance(node, ast.For) and (
        _holds(node.var.span, offset) or _holds(node.body.span, offset)
    ):
        scope[node.var.name] = _local(node.var, "loop variable", node.span, source)
    for child in _children(node):
        if isinstance(child, ast.Block):
            if child.span.start <= offset <= child.span.end:
                _bind_block(child, offset, source, scope)
        elif isinstance(child, ast.If) and child.span.start <= offset <= child.span.end:
            _bind_inside(child, offset, source, scope)


def _holds(span: Span, offset: int) -> bool:
    return span.start <= offset <= span.end


def _children(node: object) -> Iterator[object]:
    if not dataclasses.is_dataclass(node):
        return
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, tuple):
            yield from value
        else:
            yield value


def _local(ident: ast.Ident, kind: str, statement: Span, source: SourceFile) -> Declared:
    summary = {
        "local": "a local of its block (`let`)",
        "loop variable": "a `for` loop's variable: each message received in turn",
        "parameter": "a parameter of its function",
    }[kind]
    return _declared(ident.name, kind, summary, statement, ident.span, source)
