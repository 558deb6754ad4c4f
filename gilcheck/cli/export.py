"""`gilcheck export`: translate a spec for another checker."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, assert_never

import typer

from gilcheck.cli.errors import reporting_spec_errors
from gilcheck.cli.options import CHANNEL_BOUND, ChannelBound, Output, Spec
from gilcheck.cli.outcome import Outcome, finish, write
from gilcheck.export.promela import export_promela
from gilcheck.options import CheckOptions
from gilcheck.pipeline import checkable_program, parse_spec
from gilcheck.source import SourceMap


class ExportFormat(StrEnum):
    """What `gilcheck export` writes."""

    PROMELA = "promela"


def export(
    spec: Spec,
    export_format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="The target language.")
    ] = ExportFormat.PROMELA,
    output: Output = None,
    channel_bound: ChannelBound = CHANNEL_BOUND,
) -> None:
    """Translate a spec for another checker: Promela for SPIN (spin -a; gcc -DSAFETY; ./pan)."""
    sources = SourceMap()
    with reporting_spec_errors(spec, sources):
        program = checkable_program(parse_spec(str(spec), sources))
        match export_format:
            case ExportFormat.PROMELA:
                text = export_promela(program, CheckOptions(channel_bound=channel_bound))
            case _:
                assert_never(export_format)
    write(text, output, encoding=None)
    finish(Outcome.OK)
