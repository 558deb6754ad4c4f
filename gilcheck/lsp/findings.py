"""Diagnostics as you type: what `gilcheck parse` reports for a document, as editor data.

Only reading, parsing and lowering run here (never the model checker), so a keystroke
costs milliseconds. Each finding keeps the CLI's code, span, message and help.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gilcheck.diagnostics import Diagnostic, SpecError
from gilcheck.lsp.places import Extent, Place, extent_of_span
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.source import SourceFile, SourceMap, Span

SOURCE = "gilcheck"  # the `source` of every diagnostic the server publishes


@dataclass(frozen=True, slots=True)
class Related:
    """A secondary place a finding points at (a label of the CLI's diagnostic)."""

    path: str
    extent: Extent
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnostic of a document: the CLI's code, severity, message and help."""

    code: str
    severity: str  # `error`, `warning` or `information`
    message: str
    extent: Extent
    hint: str | None = None
    related: tuple[Related, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The message an editor shows: the CLI's message, then its help and notes."""
        hint = f"\nhelp: {self.hint}" if self.hint else ""
        return self.message + hint + "".join(f"\nnote: {note}" for note in self.notes)


def _library(text: str) -> bool:
    """A file of functions and declarations with no thread at all, as the models are: it
    is `use`d by specs, not checked alone, so it lacks no `thread main`."""
    return re.search(r"^\s*thread\b", text, re.MULTILINE) is None


def document_findings(text: str, path: str) -> tuple[Finding, ...]:
    """Every error `gilcheck parse` reports for a document's text (none: it is fine),
    except a missing `thread main` in a file without threads (a model)."""
    sources = SourceMap()
    try:
        analyze_spec(parse_text(path, text, sources))
    except SpecError as error:
        return tuple(
            finding_of(d, sources, path, text)
            for d in error.diagnostics
            if not (d.code == "missing-main" and _library(text))
        )
    except OSError as error:  # a `use`d model that exists but cannot be read
        reason = error.strerror or str(error)
        return (_at_first_use(text, "unreadable-file", f"cannot read a used model: {reason}"),)
    except RecursionError:
        return (_at_first_use(text, "nesting-too-deep", "blocks nest too deeply"),)
    return ()


def finding_of(diagnostic: Diagnostic, sources: SourceMap, path: str, text: str) -> Finding:
    """A CLI diagnostic as a finding of the document at `path`. An error in a `use`d model
    is shown on the document's first `use` line, with the model's place beside it."""
    related = tuple(
        Related(label.span.path, _extent(sources, label.span), label.message)
        for label in diagnostic.labels
        if sources.get(label.span.path) is not None
    )
    if diagnostic.span.path == path:
        return Finding(
            diagnostic.code,
            diagnostic.severity.value,
            diagnostic.message,
            _extent(sources, diagnostic.span),
            diagnostic.help,
            related,
            diagnostic.notes,
        )
    elsewhere = Related(diagnostic.span.path, _extent(sources, diagnostic.span), diagnostic.message)
    moved = _at_first_use(text, diagnostic.code, "")
    return Finding(
        diagnostic.code,
        diagnostic.severity.value,
        f"in {sources.location(diagnostic.span)}: {diagnostic.message}",
        moved.extent,
        diagnostic.help,
        (elsewhere, *related),
        diagnostic.notes,
    )


def _extent(sources: SourceMap, span: Span) -> Extent:
    source = sources.get(span.path) or SourceFile(span.path, "")
    return extent_of_span(source, span)


def _at_first_use(text: str, code: str, message: str) -> Finding:
    """A finding on the first `use` line of a text (its first line when it has none)."""
    found = re.search(r"^[ \t]*use\b.*$", text, re.MULTILINE)
    if found is None:
        return Finding(code, "error", message, Extent(Place(0, 0), Place(0, 0)))
    source = SourceFile("", text)
    start = source.line_col(found.start())
    line = start.line - 1
    return Finding(
        code,
        "error",
        message,
        Extent(Place(line, 0), Place(line, found.end() - found.start())),
    )
