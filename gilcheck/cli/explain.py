"""`gilcheck explain CODE`, `gilcheck codes` and `gilcheck schema`: the reference commands."""

from __future__ import annotations

from typing import Annotated

import typer

from gilcheck.cli.outcome import Outcome, emit_text, finish
from gilcheck.cli.output import say, streams
from gilcheck.diagnostics import CODES, did_you_mean
from gilcheck.report.json_schema import schema_text


def explain(
    code: Annotated[str, typer.Argument(help="A diagnostic code, such as `undefined-name`.")],
) -> None:
    """Explain a diagnostic code: what it means, why it matters, an example."""
    info = CODES.get(code.strip().removeprefix("error[").removesuffix("]"))
    if info is None:
        guess = did_you_mean(code, list(CODES))
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


def list_codes() -> None:
    """List every diagnostic code with a one-line summary."""
    width = max(len(c) for c in CODES)
    for info in CODES.values():
        streams.out.print(f"{info.code.ljust(width)}  {info.summary}", markup=False)
    finish(Outcome.OK)


def print_schema() -> None:
    """Print the JSON Schema (draft 2020-12) of `gilcheck check --format json`."""
    emit_text(schema_text())
    finish(Outcome.OK)
