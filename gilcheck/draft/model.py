"""The plain data of a draft: where a drafted statement came from, what the draft had to
assume, the options that shape it, and the drafted spec itself."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from gilcheck.source import SourceLine

# Where a drafted statement came from: the place in the user's source the spec's origin
# annotations name (the parser reads them back as the same type).
Origin = SourceLine


def digest(text: str) -> str:
    """The short hash a drafted spec records of a source span's text: the first 8 hex
    digits of the SHA-256 of the text with each line's surrounding whitespace removed (so
    re-indenting code is not a change)."""
    normal = "\n".join(line.strip() for line in text.strip().splitlines())
    return hashlib.sha256(normal.encode()).hexdigest()[:8]


def code_digest(text: str) -> str:
    """The short hash of a whole source file's code: its lines stripped, blank lines and
    lines that are only a comment (`#`, `//`) left out, so that a comment or a re-indent
    is not a change but any edit to the code is."""
    kept = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith(("#", "//"))
    ]
    return hashlib.sha256("\n".join(kept).encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class Assumption:
    """Something the draft could not see and assumed, with where it is in the source:
    `assumed not to block: `client.fetch()``."""

    origin: Origin
    text: str

    def __str__(self) -> str:
        return f"{self.text} at {self.origin}"


@dataclass(frozen=True, slots=True)
class SourceText:
    """One source file read for a draft: its path as the spec will name it, and its text."""

    path: str
    text: str
    lines: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lines", tuple(self.text.splitlines()))

    def line_text(self, line: int) -> str:
        """The text of a 1-based line ("" past the end)."""
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""

    def origin(self, line: int, column: int = 0) -> Origin:
        """The origin of a statement that starts at a 1-based line (and column)."""
        return Origin(self.path, line, column, digest(self.line_text(line)))


@dataclass(frozen=True, slots=True)
class DraftOptions:
    """What shapes a draft: the entry points to run concurrently (empty: found
    automatically), how many times a loop over unknown data runs, how deep calls between
    the source's own functions are inlined."""

    entries: tuple[str, ...] = ()
    unroll: int = 2
    inline_depth: int = 4


@dataclass(frozen=True, slots=True)
class Draft:
    """A drafted spec: its text (annotations included), what it assumes, and the sources it
    was drafted from."""

    text: str
    assumptions: tuple[Assumption, ...]
    sources: tuple[SourceText, ...]


class DraftError(Exception):
    """The source cannot be drafted: a syntax error (`refused` False: exit 2), or a
    construct the draft will not guess at (`refused` True: no verdict, exit 3). Located in
    the user's source, with a hint."""

    def __init__(
        self,
        message: str,
        path: str,
        line: int = 0,
        column: int = 0,
        *,
        hint: str | None = None,
        refused: bool = False,
        code: str = "draft-error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.hint = hint
        self.refused = refused
        self.code = code
