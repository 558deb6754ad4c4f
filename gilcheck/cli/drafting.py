"""What `gilcheck draft` and `gilcheck check --source` share: the options that shape a
draft, drafting with errors shown in the user's source (file, line, column, caret, hint),
and the `#@ draft` line that records how a spec was drafted."""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import err, printable, say
from gilcheck.diagnostics import CODES, Diagnostic
from gilcheck.draft.model import Draft, DraftError, DraftOptions, code_digest
from gilcheck.report.diagnostic_text import render_diagnostic
from gilcheck.source import SourceFile, SourceMap, Span

Entries = Annotated[
    list[str] | None,
    typer.Option(
        "--entry",
        metavar="FUNCTION",
        help="A function to run on its own Python thread, concurrently with the other "
        "entries (repeat it) \\[default: found: thread targets, `__main__`, `fn main`, "
        "#\\[pyfunction]s that touch the GIL and a lock or channel].",
        show_default=False,
    ),
]
Unroll = Annotated[
    int,
    typer.Option(
        "--unroll",
        min=1,
        metavar="K",
        help="A loop over data the draft cannot see runs at most K times (an assumption, "
        "stated in the spec and the report).",
    ),
]
DEFAULT_UNROLL = DraftOptions().unroll


def draft_options(entries: Sequence[str] | None, unroll: int) -> DraftOptions:
    """The options of a draft from the command line."""
    return DraftOptions(entries=tuple(entries or ()), unroll=unroll)


def draft_or_exit(paths: Sequence[Path], options: DraftOptions, base: Path) -> Draft:
    """Draft, or show why not in the user's source and end the command: exit 2 for source
    that does not parse or paths that hold nothing to draft, 3 for a construct the draft
    refuses to guess at (no verdict)."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        fail_plain(f"no such file or folder: `{missing[0]}`", "check the path")
    try:
        from gilcheck.draft.drafting import draft_paths  # the drafters load when used

        return draft_paths(paths, options, base)
    except DraftError as error:
        show_draft_error(error, base)
        finish(Outcome.INCONCLUSIVE if error.refused else Outcome.BAD_INPUT)
    except RecursionError:
        fail_plain("the source nests too deeply to draft", "split the deepest function")


def fail_plain(message: str, hint: str) -> NoReturn:
    """An error with no place in a file (exit 2)."""
    say(printable(f"error[draft-error]: {message}"))
    say(printable(f"help: {hint}"))
    finish(Outcome.BAD_INPUT)


def show_draft_error(error: DraftError, base: Path) -> None:
    """A draft error rendered as spec errors are: file:line:col, the line, a caret, help;
    one about a whole file (or the command line) as a message and its help."""
    message = error.message if not error.refused else f"cannot draft: {error.message}"
    if not (error.path and error.line):
        where = f" ({error.path})" if error.path else ""
        say(printable(f"error[{_code(error.code)}]: {message}{where}"))
        if error.hint:
            say(printable(f"help: {error.hint}"))
        return
    sources = SourceMap()
    span: Span | None = None
    if error.path and error.line:
        path = Path(error.path)
        real = path if path.is_absolute() else base / path
        try:
            text = real.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        source = sources.add(SourceFile(error.path, text))
        start = source.offset_of(error.line, max(1, error.column))
        line_end = text.find("\n", start)
        end = min(start + 1, len(text)) if line_end != start else start
        span = Span(error.path, start, max(end, start))
    diagnostic = _diagnostic(error.code, message, span or Span(error.path, 0, 0), error.hint)
    err.print(printable(render_diagnostic(diagnostic, sources)), markup=False)
    say("error: the source was not drafted")


def _code(code: str) -> str:
    return code if code in CODES else "draft-error"


def _diagnostic(code: str, message: str, span: Span | None, hint: str | None) -> Diagnostic:
    return Diagnostic(
        _code(code),
        message,
        span or Span("<command line>", 0, 0),
        help=hint,
    )


def command_line(paths: Sequence[str], options: DraftOptions) -> str:
    """The `#@ draft` annotation recording how a spec was drafted (paths as the spec names
    them), so that `gilcheck draft --update` can draft it again."""
    words = [*paths]
    for entry in options.entries:
        words += ["--entry", entry]
    if options.unroll != DEFAULT_UNROLL:
        words += ["--unroll", str(options.unroll)]
    return "#@ draft " + shlex.join(words)


def with_command_line(draft: Draft, line: str) -> str:
    """A drafted spec with its `#@ draft` line, and a `#@ source` line with the code hash of
    each file it was drafted from, after its first comment lines."""
    lines = draft.text.splitlines()
    at = 0
    while at < len(lines) and lines[at].startswith("#") and not lines[at].startswith("#@"):
        at += 1
    wholes = [f"#@ source {_quoted(s.path)} ~{code_digest(s.text)}" for s in draft.sources]
    lines[at:at] = [line, *wholes]
    return "\n".join(lines) + "\n"


def _quoted(path: str) -> str:
    return path if path and not any(c.isspace() or c in '"#' for c in path) else shlex.quote(path)


_CONCURRENT = re.compile(
    r"^\s*(?:let \w+ = |\w+ = )?(?:spawn|submit|fork)\b|^(?:thread \w+\[|eventloop |atexit|"
    r"signal|finalizer)\b",
    re.M,
)


def alone_note(draft: Draft) -> str | None:
    """A note for a draft in which nothing runs beside `main` (no thread, task, process,
    handler): its `ok` says only that the code does not block on its own."""
    if _CONCURRENT.search(draft.text):
        return None
    return (
        "nothing in the drafted program runs beside main (no thread, task, process or "
        "handler is started): to check a library's functions against each other, name them "
        "with --entry"
    )
