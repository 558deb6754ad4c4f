"""Origin annotations: `#@` comments that tie a spec's statements to the user's source.

A drafted spec (`gilcheck draft`) writes one at the end of each statement it drafted, and
lists what it assumed in its header:

    acquire lock_a                              #@ app.py:12:9 ~3fa2c1d0
    #@ assume app.py:41:5 ~9b1e22aa "assumed not to block: `client.fetch()`"

`#@ PATH:LINE[:COLUMN] [~HASH]` after a statement is its origin: reports show the source
line beside the spec's, and the hash (of the source line's text) tells when the source
changed since the draft. `#@ assume PATH:LINE[:COLUMN] [~HASH] "TEXT"` on a line of its own
is an assumption: a verdict of `ok` holds only under it. `#@ draft ARGS` records the
paths and options the spec was drafted with (for `gilcheck draft --update`), and
`#@ source PATH ~HASH` the hash of a whole file's code. A PATH with spaces or `:` is
written in double quotes. Anything else after `#@` is an error; a plain
`#` comment (one not followed by `@`) is never an annotation.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from gilcheck.diagnostics import Diagnostic, DiagnosticSink
from gilcheck.source import SourceFile, SourceLine, Span


@dataclass(frozen=True, slots=True)
class Assumed:
    """An assumption a drafted spec states: where in the source, and what was assumed."""

    where: SourceLine
    text: str
    span: Span  # the annotation in the spec

    def __str__(self) -> str:
        return f"{self.text} at {self.where}"


@dataclass(frozen=True, slots=True)
class Annotations:
    """The annotations of one spec file: the origin of each annotated spec line, and the
    assumptions in the order written."""

    origins: dict[int, SourceLine] = field(default_factory=dict)
    assumptions: tuple[Assumed, ...] = ()
    spans: dict[int, Span] = field(default_factory=dict)  # spec line -> the annotation
    command: tuple[str, ...] = ()  # `#@ draft ...`: the draft's paths and options
    # `#@ source app.py ~hash`: each whole file drafted from (its code, comments and blank
    # lines left out), so that a change to a line no statement came from is seen too.
    files: tuple[SourceLine, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.origins or self.assumptions or self.command or self.files)


NO_ANNOTATIONS = Annotations()

_WHERE = r'(?P<path>"(?:[^"\\]|\\.)+"|[^\s":]+):(?P<line>\d+)(?::(?P<col>\d+))?'
_HASH = r"(?:\s+~(?P<hash>[0-9a-f]{8}))?"
# An origin may be followed by a comment of its own (`# keep` marks a hand edit).
_ORIGIN = re.compile(rf"{_WHERE}{_HASH}\s*(?:#.*)?")
_SOURCE = re.compile(r'source\s+(?P<path>"(?:[^"\\]|\\.)+"|\S+)\s+~(?P<hash>[0-9a-f]{8})\s*')
_ASSUME = re.compile(rf'assume\s+{_WHERE}{_HASH}\s+(?P<text>"(?:[^"\\]|\\.)*")\s*')


def scan_annotations(source: SourceFile) -> tuple[Annotations, list[Diagnostic]]:
    """Every `#@` annotation of a spec file, and an error for each malformed one."""
    sink = DiagnosticSink()
    origins: dict[int, SourceLine] = {}
    spans: dict[int, Span] = {}
    assumptions: list[Assumed] = []
    files: list[SourceLine] = []
    command: tuple[str, ...] = ()
    offset = 0
    for number, line in enumerate(source.text.split("\n"), start=1):
        at = _annotation_start(line)
        if at >= 0:
            body = line[at + 2 :].rstrip("\r")
            span = Span(source.path, offset + at, offset + len(line.rstrip("\r")))
            alone = not line[:at].strip()
            stripped = body.strip()
            word = stripped.split(maxsplit=1)[0] if stripped else ""
            if word == "draft" and alone:
                try:
                    command = tuple(shlex.split(stripped)[1:])
                except ValueError:
                    _bad(sink, span, "an unfinished quotation in a `#@ draft` annotation")
            elif word == "source" and alone:
                found = _SOURCE.fullmatch(stripped)
                if found is None:
                    _bad(
                        sink,
                        span,
                        '`#@ source` names a file and its hash: `#@ source "app.py" ~3fa2c1d0`',
                    )
                else:
                    files.append(
                        SourceLine(_unquote(found.group("path")), 0, 0, found.group("hash"))
                    )
            elif word == "assume":
                found = _ASSUME.fullmatch(stripped)
                if found is None:
                    _bad(sink, span, f"`#@{body}` is not an assumption annotation")
                elif not alone:
                    _bad(sink, span, "an `#@ assume` annotation stands on a line of its own")
                elif _counts_from_one(sink, span, found):
                    assumptions.append(Assumed(_where(found), _unquote(found.group("text")), span))
            else:
                found = _ORIGIN.fullmatch(stripped)
                if found is None:
                    _bad(sink, span, f"`#@{body}` is not an annotation")
                elif alone:
                    _bad(sink, span, "an origin annotation follows the statement it belongs to")
                elif _counts_from_one(sink, span, found):
                    origins[number] = _where(found)
                    spans[number] = span
        offset += len(line) + 1
    return Annotations(origins, tuple(assumptions), spans, command, tuple(files)), sink.items


def line_origin(line: str) -> tuple[SourceLine, int, int] | None:
    """The origin annotation after the statement on one spec line (as `scan_annotations`
    reads it), and where its text runs on the line: from `#@` to the end of its hash (a
    comment after it, such as `# keep`, left out). None: the line has no valid one."""
    at = _annotation_start(line)
    if at < 0 or not line[:at].strip():
        return None
    body = line[at + 2 :].rstrip("\r")
    stripped = body.strip()
    found = _ORIGIN.fullmatch(stripped)
    if found is None:
        return None
    last = next(g for g in ("hash", "col", "line") if found.group(g) is not None)
    return _where(found), at, at + 2 + (len(body) - len(body.lstrip())) + found.end(last)


def _counts_from_one(sink: DiagnosticSink, span: Span, found: re.Match[str]) -> bool:
    col = found.group("col")
    if int(found.group("line")) < 1 or (col is not None and int(col) < 1):
        _bad(sink, span, "lines and columns count from 1")
        return False
    return True


def _bad(sink: DiagnosticSink, span: Span, message: str) -> None:
    sink.error(
        "bad-annotation",
        message,
        span,
        help='write `#@ app.py:41` after a statement, or `#@ assume app.py:41 "what"` on a '
        "line of its own; for a plain comment, put a space between `#` and `@`",
    )


def _where(match: re.Match[str]) -> SourceLine:
    col = match.group("col")
    return SourceLine(
        _unquote(match.group("path")),
        int(match.group("line")),
        int(col) if col else 0,
        match.group("hash") or "",
    )


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _annotation_start(line: str) -> int:
    """Where a `#@` comment starts on a line (-1: none): outside strings, not after `//`
    or a plain `#` comment."""
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "#":
            return i if line.startswith("#@", i) else -1
        elif line.startswith("//", i):
            return -1
        i += 1
    return -1
