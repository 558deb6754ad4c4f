"""`gilcheck parse`: parse and check a spec without exploring it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from gilcheck.cli.errors import reporting_spec_errors
from gilcheck.cli.options import Spec
from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import printable, streams
from gilcheck.pipeline import analyze_spec, parse_spec
from gilcheck.report.dump import dump_ast, dump_ir
from gilcheck.source import SourceMap


class DumpStage(StrEnum):
    """What `gilcheck parse --dump` prints."""

    AST = "ast"
    IR = "ir"


def parse(
    spec: Spec,
    dump: Annotated[
        DumpStage | None, typer.Option("--dump", help="Print the syntax tree or the IR.")
    ] = None,
) -> None:
    """Parse and check a spec without exploring it; optionally dump a stage."""
    sources = SourceMap()
    with reporting_spec_errors(spec, sources):
        loaded = parse_spec(str(spec), sources)
        program = analyze_spec(loaded)
    out = streams.out
    if dump is DumpStage.AST:
        for module in loaded.modules:
            out.print(printable(dump_ast(module, sources)), markup=False, end="")
    elif dump is DumpStage.IR:
        out.print(printable(dump_ir(program, sources)), markup=False, end="")
    else:
        threads = len(program.threads)
        functions = len(program.functions)
        out.print(
            f"{spec}: ok ({threads} thread{'s' if threads != 1 else ''}, "
            f"{functions} function{'s' if functions != 1 else ''}, "
            f"{sum(len(c.instrs) for c in program.codes)} instructions)",
            markup=False,
        )
    finish(Outcome.OK)
