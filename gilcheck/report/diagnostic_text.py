"""Diagnostics rendered the way rustc and ruff do: header, location, source line, caret, help."""

from __future__ import annotations

from gilcheck.diagnostics import Diagnostic, Severity
from gilcheck.source import SourceMap, Span


def _gutter_width(lines: list[int]) -> int:
    return max((len(str(n)) for n in lines), default=1)


def _snippet(sources: SourceMap, span: Span, mark: str, note: str, width: int) -> list[str]:
    source = sources.get(span.path)
    if source is None:
        return []
    start = source.line_col(span.start)
    end = source.line_col(max(span.start, span.end - 1)) if span.end > span.start else start
    text = source.line_text(start.line)
    first = start.col - 1
    last = end.col if end.line == start.line else len(text)
    length = max(1, min(last, len(text)) - first) if text else 1
    prefix = "".join("\t" if ch == "\t" else " " for ch in text[:first])
    pad = " " * width
    underline = prefix + mark * length + (f" {note}" if note else "")
    return [f"{str(start.line).rjust(width)} | {text}", f"{pad} | {underline.rstrip()}"]


def render_diagnostic(diag: Diagnostic, sources: SourceMap) -> str:
    """One diagnostic as plain text (no colour)."""
    lines_used = [sources.line_of(diag.span)] + [sources.line_of(lb.span) for lb in diag.labels]
    width = _gutter_width(lines_used)
    pad = " " * width
    out = [f"{diag.severity.value}[{diag.code}]: {diag.message}"]
    out.append(f"{pad}--> {sources.location(diag.span)}")
    out.append(f"{pad} |")
    out.extend(_snippet(sources, diag.span, "^", "", width))
    for label in diag.labels:
        if label.span.path != diag.span.path:
            out.append(f"{pad}::: {sources.location(label.span)}")
        out.extend(_snippet(sources, label.span, "-", label.message, width))
    out.append(f"{pad} |")
    if diag.help:
        out.append(f"help: {diag.help}")
    for note in diag.notes:
        out.append(f"note: {note}")
    return "\n".join(out)


def render_diagnostics(
    diagnostics: list[Diagnostic], sources: SourceMap, subject: str = "the spec"
) -> str:
    """Every diagnostic, then a one-line summary of what `subject` has."""
    blocks = [render_diagnostic(d, sources) for d in diagnostics]
    errors = sum(1 for d in diagnostics if d.severity is Severity.ERROR)
    warnings = len(diagnostics) - errors
    summary = []
    if errors:
        summary.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        summary.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if errors:
        blocks.append(f"error: {subject} has {' and '.join(summary)}; nothing was checked")
    return "\n\n".join(blocks) + "\n"
