"""`gilcheck codes`: every diagnostic code with a one-line summary."""

from __future__ import annotations

from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import streams
from gilcheck.diagnostics import CODES


def list_codes() -> None:
    """List every diagnostic code with a one-line summary."""
    width = max(len(c) for c in CODES)
    for info in CODES.values():
        streams.out.print(f"{info.code.ljust(width)}  {info.summary}", markup=False)
    finish(Outcome.OK)
