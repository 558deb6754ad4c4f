"""Where the CLI writes: the report on stdout (or `--output FILE`), messages on stderr.

`streams.out` is rebound (a new console per run, or a file for `--output`), so the other
modules reach it through `streams`; `err` never changes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.text import Text

from gilcheck.report.formats import RenderContext
from gilcheck.report.printable import printable
from gilcheck.trace.model import StateGraph

__all__ = ["err", "printable", "streams"]


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True, emoji=False)


class _Streams:
    """The console the report goes to (stdout, or the file of `--output`)."""

    def __init__(self) -> None:
        self.out = _console()

    def reset(self) -> None:
        """A fresh console on the current stdout (tests swap stdout between runs)."""
        self.out = _console()


streams = _Streams()
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def say(text: str) -> None:
    """A message on stderr, as written (no markup)."""
    err.print(text, markup=False)


def emit(write: Callable[[], None], on_failure: Callable[[], NoReturn]) -> None:
    """Write the report; a closed pipe (`| head`) ends quietly, a full disk is reported."""
    try:
        write()
        streams.out.file.flush()
        sys.stdout.flush()
    except SystemExit:
        pass  # rich's own handling of a closed pipe: stdout already points at /dev/null
    except BrokenPipeError:
        _silence_stdout()
    except OSError as error:
        _silence_stdout()
        say(f"error[unwritable-output]: cannot write the report: {error.strerror}")
        on_failure()


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def report_to(path: Path) -> bool:
    """Send the report (stdout's part) to a file; diagnostics stay on stderr. False (and
    the error said) when the file cannot be written."""
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as error:
        say(f"error[unwritable-output]: cannot write {path}: {error.strerror}")
        return False
    streams.out = Console(
        file=handle, highlight=False, soft_wrap=True, emoji=False, color_system=None
    )
    return True


def render_context(
    *,
    many: bool = False,
    expect_mode: bool = False,
    sources: Mapping[str, str] | None = None,
    state_graph: StateGraph | None = None,
) -> RenderContext:
    """A render context for the report console: its colours (on a terminal) and width."""
    out = streams.out
    return RenderContext(
        many=many,
        expect_mode=expect_mode,
        sources=sources or {},
        color_system=out.color_system if out.is_terminal else None,
        width=out.width,
        state_graph=state_graph,
    )


def print_document(text: str, context: RenderContext) -> None:
    """Print a rendered document; on a terminal its colours are kept."""
    if context.color_system is not None and "\x1b" in text:
        streams.out.print(Text.from_ansi(text), end="")
    else:
        streams.out.print(text, markup=False, end="")
