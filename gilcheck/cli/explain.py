"""`gilcheck explain CODE`: what a diagnostic code means, why it matters, an example."""

from __future__ import annotations

from typing import Annotated

import typer

from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import say, streams
from gilcheck.diagnostics import CODES, did_you_mean
from gilcheck.report.verdict_info import VERDICTS


def explain(
    code: Annotated[
        str,
        typer.Argument(
            help="A diagnostic code (`undefined-name`), a verdict or a SARIF rule id "
            "(`deadlock`, `assumption`)."
        ),
    ],
) -> None:
    """Explain a diagnostic code or a verdict: what it means, why it matters, an example."""
    name = code.strip().removeprefix("error[").removesuffix("]")
    info = CODES.get(name) or VERDICTS.get(name)
    if info is None:
        guess = did_you_mean(code, [*CODES, *VERDICTS])
        say(f"error: unknown diagnostic code `{code}`")
        say(
            f"help: did you mean `{guess}`?" if guess else "help: `gilcheck codes` lists every code"
        )
        finish(Outcome.BAD_INPUT)
    out = streams.out
    out.print(f"{info.code}: {info.summary}\n", markup=False)
    out.print(f"What\n  {info.what}\n", markup=False)
    out.print(f"Why\n  {info.why}\n", markup=False)
    example = "\n".join("    " + line for line in info.example.splitlines())
    out.print(f"Example\n{example}", markup=False)
    finish(Outcome.OK)
