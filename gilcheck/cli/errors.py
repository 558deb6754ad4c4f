"""A spec that cannot be read or does not mean anything: its diagnostics, and exit 2."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import err, printable, say
from gilcheck.diagnostics import SpecError
from gilcheck.report.diagnostic_text import render_diagnostics
from gilcheck.source import SourceMap


def print_diagnostics(error: SpecError, sources: SourceMap, subject: str = "the spec") -> None:
    """A spec's (or `subject`'s) errors on stderr, rendered as rustc does."""
    text = render_diagnostics(error.diagnostics, sources, subject)
    err.print(printable(text), markup=False, end="")


@contextlib.contextmanager
def reporting_spec_errors(
    spec: Path, sources: SourceMap, *, report: Callable[[SpecError], None] | None = None
) -> Iterator[None]:
    """A spec that cannot be read or does not mean anything ends the command with exit 2;
    `report` also puts a spec's errors in the report (the JSON format does)."""
    try:
        yield
    except SpecError as error:
        if report is not None:
            report(error)
        print_diagnostics(error, sources)
        finish(Outcome.BAD_INPUT)
    except RecursionError:
        too_deep(spec)
    except OSError as error:
        unreadable(spec, error)


def too_deep(path: Path) -> NoReturn:
    """A spec whose nesting is deeper than the parser goes."""
    say(
        f"error[nesting-too-deep]: `{path}` nests blocks or expressions too deeply\n"
        "help: flatten the nesting (see `gilcheck explain nesting-too-deep`)"
    )
    finish(Outcome.BAD_INPUT)


def unreadable(path: Path, error: OSError) -> NoReturn:
    """A spec that cannot be read."""
    reason = error.strerror or str(error)
    say(f"error[unreadable-file]: cannot read `{path}`: {reason}")
    say("help: check the path; `gilcheck check` takes a spec file (*.gil)")
    finish(Outcome.BAD_INPUT)


def no_specs(paths: list[Path], help: str | None) -> NoReturn:
    """Paths that name no spec at all."""
    where = ", ".join(f"`{p}`" for p in paths)
    say(f"error[unreadable-file]: no spec (*.gil) in {where}")
    if help is not None:
        say(help)
    finish(Outcome.BAD_INPUT)
