"""Document symbols: the top-level declarations of a document, in order."""

from __future__ import annotations

from dataclasses import dataclass

from gilcheck.lsp.declarations import document_names
from gilcheck.lsp.places import Extent, extent_of_span
from gilcheck.source import SourceFile
from gilcheck.syntax import ast


@dataclass(frozen=True, slots=True)
class Outlined:
    """One top-level declaration: its name, kind, and where it and its name are."""

    name: str
    kind: str  # `thread`, `function`, `hook`, `channel`, `shared variable`, `constant`,
    # `param`, or a resource kind (`mutex`, `condvar`, ...)
    detail: str  # its first line as written
    extent: Extent
    name_extent: Extent


def document_symbols(text: str, path: str) -> tuple[Outlined, ...]:
    """Every top-level declaration of the document (as far as it parses)."""
    names = document_names(text, path)
    if not names.modules or names.modules[0].path != path:
        return ()
    source = names.files[path]
    return tuple(
        found for item in names.modules[0].items if (found := _outlined(item, source)) is not None
    )


def _outlined(item: ast.Item, source: SourceFile) -> Outlined | None:
    match item:
        case ast.HookDecl(kind=kind):
            name, kind_word, name_span = kind, "hook", item.span
        case ast.ThreadDecl(name=ident):
            name, kind_word, name_span = ident.name, "thread", ident.span
        case ast.FnDecl(name=ident):
            name, kind_word, name_span = ident.name, "function", ident.span
        case ast.ResourceDecl(name=ident, kind=kind):
            name, kind_word, name_span = ident.name, kind, ident.span
        case ast.ChannelDecl(name=ident):
            name, kind_word, name_span = ident.name, "channel", ident.span
        case ast.VarDecl(name=ident):
            name, kind_word, name_span = ident.name, "shared variable", ident.span
        case ast.ConstDecl(name=ident):
            name, kind_word, name_span = ident.name, "constant", ident.span
        case ast.ParamDecl(name=ident):
            name, kind_word, name_span = ident.name, "param", ident.span
        case _:
            return None
    line = source.line_col(item.span.start).line
    return Outlined(
        name,
        kind_word,
        source.line_text(line).strip(),
        extent_of_span(source, item.span),
        extent_of_span(source, name_span),
    )
