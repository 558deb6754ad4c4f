"""The canonical layout of a spec (`gilcheck fmt`): the printer's text, with every comment kept.

Comments are not in the syntax tree, so they are read from the text and put back beside
the statement they were written next to: a comment on a line of its own stays on a line
of its own, at the indentation of the statements around it; a comment after code stays
at the end of that code's line. Where the canonical layout joins lines that had comments
between them (`}` and `else`, `}` and `or`), those comments go to the end of the joined
line. The trailing comments of a paragraph are aligned, one blank line is kept where
the text had one or more, and the result is checked to parse to the same tree.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

from gilcheck.diagnostics import DiagnosticSink, SpecError
from gilcheck.source import SourceFile, SourceMap, Span
from gilcheck.syntax import ast
from gilcheck.syntax.load import read_spec_bytes
from gilcheck.syntax.parse import parse_source
from gilcheck.syntax.unparse import INDENT, Piece, Printer


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment as written (`# ...` or `// ...`, trailing blanks dropped)."""

    offset: int
    line: int
    text: str
    trailing: bool  # code precedes it on its line


def scan_comments(source: SourceFile) -> list[Comment]:
    """Every comment of a text that parses, in order (strings are skipped)."""
    text = source.text
    found: list[Comment] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i += 1
            while i < len(text) and text[i] not in '"\n':
                i += 2 if text[i] == "\\" else 1
            i += 1
        elif ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            line = source.line_col(i).line
            before = text[text.rfind("\n", 0, i) + 1 : i]
            trailing = before.strip(" \t\f\r;") != ""
            found.append(Comment(i, line, text[i:end].rstrip(), trailing))
            i = end
        else:
            i += 1
    return found


@dataclass
class _Line:
    """An output line: indentation depth, code (or an own-line comment), trailing comments."""

    depth: int
    code: str
    comments: list[str] = field(default_factory=list)


class _Formatter:
    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.printer = Printer(source.text)
        self.comments = deque(scan_comments(source))
        self.lines: list[_Line] = []
        self.pending: list[str] = []  # comments for the end of the next line completed
        self.last_line = 0  # the source line of the last thing written
        self.at_block_start = True  # no blank line at the top of a file or a block

    def _line_of(self, offset: int) -> int:
        return self.source.line_col(offset).line

    def module(self, module: ast.Module) -> str:
        for item in module.items:
            self._node(self.printer.item_pieces(item), item.span, 0)
        self._flush(len(self.source.text) + 1, 0)
        return _render(self.lines)

    def _blank_before(self, line: int) -> None:
        """One blank line where the text had at least one since the last thing written."""
        if self.at_block_start or not self.lines:
            return
        if any(self.source.line_text(n).strip() == "" for n in range(self.last_line + 1, line)):
            self.lines.append(_Line(0, ""))

    def _emit(self, depth: int, code: str) -> None:
        self.lines.append(_Line(depth, code, self.pending))
        self.pending = []
        self.at_block_start = False

    def _flush(self, before: int, depth: int, *, gap: bool = False, inline: bool = False) -> None:
        """Write the comments before an offset. In a gap (between `}` and `else` or `or`)
        trailing comments wait for the joined line, as do all after an inline `{ }`."""
        while self.comments and self.comments[0].offset < before:
            comment = self.comments.popleft()
            if gap and (comment.trailing or inline):
                self.pending.append(comment.text)
            elif comment.trailing and self.lines:
                self.lines[-1].comments.append(comment.text)
            else:
                if not gap:
                    self._blank_before(comment.line)
                self.lines.append(_Line(depth, comment.text))
                self.at_block_start = False
            self.last_line = comment.line

    def _node(self, pieces: list[Piece], span: Span, depth: int) -> None:
        """A statement or an item: its text, its blocks with their comments, its comments."""
        self._flush(span.start, depth)
        self._blank_before(self._line_of(span.start))
        text = ""
        for position, piece in enumerate(pieces):
            if isinstance(piece, str):
                text += piece
                continue
            inline = not piece.body and not (
                self.comments and self.comments[0].offset < piece.span.end
            )
            if inline:
                text += "{ }"
            else:
                self._emit(depth, text + "{")
                self.at_block_start = True
                for stmt in piece.body:
                    self._node(self.printer.stmt_pieces(stmt), stmt.span, depth + 1)
                self._flush(piece.span.end - 1, depth + 1)
                text = "}"
            following = [p for p in pieces[position + 1 :] if isinstance(p, ast.Block)]
            if following:
                self._flush(following[0].span.start, depth + 1, gap=True, inline=inline)
        self._emit(depth, text)
        self.last_line = self._line_of(max(span.start, span.end - 1))


def _render(lines: list[_Line]) -> str:
    """The lines as text; the trailing comments of a paragraph (lines between blank lines)
    share one column, two spaces after the longest code that has one."""
    out: list[str] = []
    start = 0
    while start < len(lines):
        end = start
        while end < len(lines) and (lines[end].code or lines[end].comments):
            end += 1
        paragraph = lines[start:end] or [lines[start]]
        commented = [INDENT * ln.depth + ln.code for ln in paragraph if ln.comments and ln.code]
        width = max(map(len, commented), default=0)
        for ln in paragraph:
            code = INDENT * ln.depth + ln.code if ln.code else ""
            if ln.comments:
                code = (code.ljust(width) + "  " if code else "") + "  ".join(ln.comments)
            out.append(code.rstrip())
        start += len(paragraph)
    return "\n".join(out) + "\n" if out else ""


def format_source(source: SourceFile) -> str:
    """A spec in the canonical layout (raises SpecError when it does not parse, FormatError
    when the result would not be the same spec)."""
    module = parse_source(source)
    formatted = _Formatter(source).module(module)
    again = parse_source(SourceFile(source.path, formatted))
    kept = [c.text for c in scan_comments(SourceFile(source.path, formatted))]
    lost = [c for c in scan_comments(source) if not any(c.text in k for k in kept)]
    if again != module or lost:
        raise FormatError(f"{source.path}: the canonical layout would change the spec")
    return formatted


class FormatError(Exception):
    """The canonical layout of a spec would parse to another tree or lose a comment (a bug
    in the formatter: the guard keeps such a spec from ever being rewritten)."""


@dataclass(frozen=True, slots=True)
class FormattedFile:
    """A spec file and its canonical layout."""

    path: Path
    original: str
    formatted: str

    @property
    def changed(self) -> bool:
        """Whether the file is not in the canonical layout yet."""
        return self.original != self.formatted

    def diff(self) -> str:
        """A unified diff from the file to its canonical layout."""
        return "".join(
            difflib.unified_diff(
                self.original.splitlines(keepends=True),
                self.formatted.splitlines(keepends=True),
                str(self.path),
                f"{self.path} (formatted)",
            )
        )

    def write(self) -> None:
        """Rewrite the file in the canonical layout."""
        # A new file renamed over the old one: a full disk never leaves half a spec.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
                file.write(self.formatted)
            with contextlib.suppress(OSError):
                os.chmod(temporary, stat.S_IMODE(os.stat(self.path).st_mode))
            os.replace(temporary, self.path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def format_file(path: Path, sources: SourceMap) -> FormattedFile:
    """Read a spec and lay it out (raises OSError, and SpecError for a file that does not
    parse or is not UTF-8 text: rewriting it would change bytes the spec does not show)."""
    raw = read_spec_bytes(str(path), sources)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        shown = raw.decode("utf-8", errors="replace")
        source = sources.add(SourceFile(str(path), shown))
        at = len(raw[: error.start].decode("utf-8", errors="replace"))
        _refuse(source, at, "is not UTF-8 text")
    source = sources.add(SourceFile(str(path), text.removeprefix("\ufeff")))
    if "\x00" in source.text:
        _refuse(source, source.text.index("\x00"), "holds a NUL character")
    return FormattedFile(path, text, format_source(source))


def _refuse(source: SourceFile, at: int, why: str) -> NoReturn:
    sink = DiagnosticSink()
    sink.error(
        "unreadable-file",
        f"`{source.path}` {why}",
        source.span(at, at + 1),
        help="gilcheck fmt rewrites only UTF-8 text; fix the file's encoding first",
    )
    raise SpecError(sink.items)
