"""`gilcheck schema`: the JSON Schema of `gilcheck check --format json`."""

from __future__ import annotations

from gilcheck.cli.outcome import Outcome, emit_text, finish
from gilcheck.report.json_schema import schema_text


def print_schema() -> None:
    """Print the JSON Schema (draft 2020-12) of `gilcheck check --format json`."""
    emit_text(schema_text())
    finish(Outcome.OK)
