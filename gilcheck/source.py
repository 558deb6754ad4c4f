"""Source text, spans (0-based half-open byte offsets) and line/column lookup."""

from __future__ import annotations

import bisect
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range ``[start, end)`` of character offsets in one source file."""

    path: str
    start: int
    end: int

    def cover(self, other: Span) -> Span:
        """The smallest span containing both spans (same file)."""
        return Span(self.path, min(self.start, other.start), max(self.end, other.end))


NO_SPAN = Span("<builtin>", 0, 0)


def origin_file(spec_path: str, named: str) -> str:
    """The user's source file an origin annotation names, as reports show it: a path
    relative to the spec's folder (as drafts write them) when that file exists, then
    relative to the working folder; shown relative to the working folder."""
    path = Path(named)
    if path.is_absolute():
        return named
    beside = Path(spec_path).parent / path
    if not beside.exists() and path.exists():
        return path.as_posix()
    try:
        return Path(os.path.relpath(beside)).as_posix()
    except ValueError:  # another drive
        return beside.as_posix()


@dataclass(frozen=True, slots=True)
class SourceLine:
    """A place in the user's source: the file as the spec names it, a 1-based line and
    column (0: not given), and the hash of the line's text when the draft was made."""

    path: str
    line: int
    column: int = 0
    hash: str = ""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class LineCol:
    """A 1-based line and column."""

    line: int
    col: int


@dataclass(slots=True)
class SourceFile:
    """The text of one spec or model file, with a line index."""

    path: str
    text: str
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        self._line_starts = starts

    def line_col(self, offset: int) -> LineCol:
        """1-based line and column of a character offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        return LineCol(line + 1, offset - self._line_starts[line] + 1)

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its newline."""
        if line < 1 or line > len(self._line_starts):
            return ""
        start = self._line_starts[line - 1]
        end = self.text.find("\n", start)
        if end < 0:
            end = len(self.text)
        return self.text[start:end].rstrip("\r")

    def offset_of(self, line: int, col: int) -> int:
        """Character offset of a 1-based line and column."""
        line = max(1, min(line, len(self._line_starts)))
        return min(self._line_starts[line - 1] + col - 1, len(self.text))

    def span(self, start: int, end: int) -> Span:
        """A span in this file."""
        return Span(self.path, start, end)


class SourceMap:
    """Every source file read for one check, by path."""

    def __init__(self) -> None:
        self._files: dict[str, SourceFile] = {}
        # spec path -> spec line -> where in the user's source it was drafted from
        self._origins: dict[str, Mapping[int, SourceLine]] = {}

    def set_origins(self, path: str, origins: Mapping[int, SourceLine]) -> None:
        """Record the origin annotations of a spec file (line -> its source line)."""
        if origins:
            self._origins[path] = origins

    def origin_of(self, span: Span) -> SourceLine | None:
        """The origin annotation on the line where a span starts, if any."""
        origins = self._origins.get(span.path)
        if not origins:
            return None
        return origins.get(self.line_of(span))

    def add(self, source: SourceFile) -> SourceFile:
        """Register a file (idempotent) and return it."""
        self._files.setdefault(source.path, source)
        return self._files[source.path]

    def get(self, path: str) -> SourceFile | None:
        """The file registered under ``path``, if any."""
        return self._files.get(path)

    def location(self, span: Span) -> str:
        """``path:line:col`` of a span's start."""
        source = self._files.get(span.path)
        if source is None:
            return span.path
        lc = source.line_col(span.start)
        return f"{span.path}:{lc.line}:{lc.col}"

    def line_of(self, span: Span) -> int:
        """1-based line of a span's start (0 when the file is unknown)."""
        source = self._files.get(span.path)
        return source.line_col(span.start).line if source else 0
