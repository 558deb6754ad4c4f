"""Formatting: a document in the canonical layout of `gilcheck fmt`."""

from __future__ import annotations

from gilcheck.diagnostics import SpecError
from gilcheck.source import SourceFile
from gilcheck.syntax.formatter import FormatError, format_source


def formatted_text(text: str, path: str) -> str | None:
    """The document laid out as `gilcheck fmt` writes it; None when it cannot be (it does
    not parse, or holds what fmt refuses to rewrite), so that nothing is changed."""
    if "\x00" in text:
        return None
    try:
        return format_source(SourceFile(path, text.removeprefix("\ufeff")))
    except (SpecError, FormatError, RecursionError):
        return None
