"""Places in a document as an editor counts them: 0-based lines and characters.

Characters are counted in code points here; the server converts them to the encoding
the client negotiated (UTF-16 by default) at the protocol's edge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from gilcheck.source import SourceFile, Span
from gilcheck.trace.model import Location

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Place:
    """A 0-based line and character (in code points)."""

    line: int
    character: int


@dataclass(frozen=True, slots=True)
class Extent:
    """A half-open range from `start` to `end`."""

    start: Place
    end: Place


def place_of_offset(source: SourceFile, offset: int) -> Place:
    """The place of a character offset of a file."""
    where = source.line_col(offset)
    return Place(where.line - 1, where.col - 1)


def extent_of_span(source: SourceFile, span: Span) -> Extent:
    """The extent of a span; an empty span covers the character it points at, as the
    CLI's caret does."""
    end = span.end
    if end <= span.start and span.start < len(source.text) and source.text[span.start] != "\n":
        end = span.start + 1
    return Extent(
        place_of_offset(source, span.start), place_of_offset(source, max(end, span.start))
    )


def extent_of_location(location: Location) -> Extent:
    """The extent of a trace's location (1-based, its end just past the statement)."""
    start = Place(location.line - 1, max(location.column - 1, 0))
    if location.end_line <= 0:
        return Extent(start, start)
    return Extent(start, Place(location.end_line - 1, max(location.end_column - 1, 0)))


def offset_of_place(text: str, place: Place) -> int:
    """The character offset of a place in a text (clamped to the text)."""
    return SourceFile("", text).offset_of(place.line + 1, place.character + 1)


def whole_text(text: str) -> Extent:
    """The extent of a whole text, from its first character to just past its last."""
    lines = text.split("\n")
    return Extent(Place(0, 0), Place(len(lines) - 1, len(lines[-1])))


def name_at(text: str, offset: int) -> tuple[str, int] | None:
    """The name (identifier) under or just before an offset, and where it starts (None in
    a comment or a string literal: words there name nothing)."""
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    column = offset - line_start
    if _in_comment_or_string(line, column):
        return None
    for match in _NAME.finditer(line):
        if match.start() <= column <= match.end():
            return match.group(), line_start + match.start()
    return None


def _in_comment_or_string(line: str, column: int) -> bool:
    """Whether a column of a line lies in a `#` comment or a `"..."` string literal."""
    quoted = False
    for index, char in enumerate(line[:column]):
        if quoted:
            if char == '"' and line[index - 1] != "\\":
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "#":
            return True
    return quoted


def path_of_uri(uri: str) -> str:
    """The file a `file:` URI names; any other URI (an unsaved buffer) stands for itself."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = unquote(parsed.path)
    if re.match(r"^/[A-Za-z]:", path):  # file:///C:/... on Windows
        path = path[1:]
    return path


def uri_of_path(path: str) -> str:
    """The `file:` URI of a path (a path that is already a URI is kept)."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", path) and not re.match(r"^[A-Za-z]:[\\/]", path):
        return path
    return Path(path).absolute().as_uri()
