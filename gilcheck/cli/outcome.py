"""How a command ends: its outcome, and the exit-code table."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import NoReturn, assert_never

import typer

from gilcheck.cli import output
from gilcheck.cli.proofs import write_records
from gilcheck.report.formats import RenderContext
from gilcheck.trace.model import CheckResult

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class Outcome(StrEnum):
    """What a command ended with, before it becomes an exit code."""

    OK = "ok"
    VIOLATION = "violation"
    BAD_INPUT = "bad-input"
    INCONCLUSIVE = "inconclusive"
    INTERNAL = "internal"


def exit_code(outcome: Outcome) -> int:
    """The exit-code table: 0 ok, 1 violation, 2 bad spec or command, 3 inconclusive."""
    match outcome:
        case Outcome.OK:
            return EXIT_OK
        case Outcome.VIOLATION:
            return EXIT_VIOLATION
        case Outcome.BAD_INPUT:
            return EXIT_USAGE
        case Outcome.INCONCLUSIVE:
            return EXIT_INCONCLUSIVE
        case Outcome.INTERNAL:
            return EXIT_INTERNAL
        case _:
            assert_never(outcome)


def finish(outcome: Outcome) -> NoReturn:
    """End the command: write the proof records, exit with the outcome's code."""
    write_records()
    raise typer.Exit(exit_code(outcome))


VERDICT_OUTCOME = {
    "ok": Outcome.OK,
    "bound": Outcome.INCONCLUSIVE,
    "inconclusive": Outcome.INCONCLUSIVE,
}


def outcome_of(verdict: str) -> Outcome:
    """A verdict's outcome: ok, inconclusive (bound, limits) or a violation."""
    return VERDICT_OUTCOME.get(verdict, Outcome.VIOLATION)


def outcome_of_result(result: CheckResult) -> Outcome:
    """A result's outcome: its verdict's, except that an `ok` resting on assumptions the
    user has not accepted (`--accept-assumptions`), or on fingerprints (`--fingerprint`
    without `--accept-fingerprint`), is inconclusive."""
    if result.rests_on_assumptions or result.rests_on_fingerprints:
        return Outcome.INCONCLUSIVE
    return outcome_of(result.verdict)


def _bad_output() -> NoReturn:
    finish(Outcome.BAD_INPUT)


def emit(write: Callable[[], None]) -> None:
    """Write (part of) the report; a full disk ends the command with exit 2."""
    output.emit(write, _bad_output)


def emit_text(text: str) -> None:
    """Print text as it is (no markup) and no newline added."""
    emit(lambda: output.streams.out.print(text, markup=False, end=""))


def emit_document(text: str, context: RenderContext) -> None:
    """Print a rendered document (coloured on a terminal)."""
    if text:
        emit(lambda: output.print_document(text, context))


def report_to(path: Path) -> None:
    """`--output FILE`: the report goes to FILE (exit 2 when it cannot be written)."""
    if not output.report_to(path):
        finish(Outcome.BAD_INPUT)


def write(text: str, path: Path | None, encoding: str | None = "utf-8") -> None:
    """Write a document to FILE, or to stdout."""
    if path is None:
        emit_text(text)
        return
    try:
        path.write_text(text, encoding=encoding)
    except OSError as error:
        output.say(f"error[unwritable-output]: cannot write {path}: {error.strerror}")
        finish(Outcome.BAD_INPUT)
