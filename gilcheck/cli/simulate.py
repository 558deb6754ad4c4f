"""`gilcheck simulate`: one random run through a spec."""

from __future__ import annotations

import random
from typing import Annotated

import typer

from gilcheck.analysis.simulate import simulate
from gilcheck.cli.errors import reporting_spec_errors
from gilcheck.cli.options import CHANNEL_BOUND, ChannelBound, Spec
from gilcheck.cli.outcome import Outcome, emit_text, finish
from gilcheck.cli.output import printable
from gilcheck.options import CheckOptions
from gilcheck.pipeline import checkable_program, parse_spec
from gilcheck.report.run_text import render_run
from gilcheck.source import SourceMap


def simulate_spec(
    spec: Spec,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="The random seed: the same seed gives the same run.",
            show_default="random",
        ),
    ] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Stop after N steps.")] = 1000,
    channel_bound: ChannelBound = CHANNEL_BOUND,
) -> None:
    """Take one random run through a spec and print it like a trace.

    Exit codes: 0 the run ended or used up its steps, 1 it hit a violation (a deadlock, a
    failed assert, ...), 2 the spec is wrong, 3 it hit a channel bound or another limit.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    sources = SourceMap()
    with reporting_spec_errors(spec, sources):
        program = checkable_program(parse_spec(str(spec), sources))
        run = simulate(program, sources, CheckOptions(channel_bound=channel_bound), seed, steps)
    taken = f"{run.steps:,} step{'s' if run.steps != 1 else ''}"
    head = f"simulation with seed {seed}: {run.outcome} after {taken}"
    emit_text(printable(render_run(str(spec), program.title, head, run.message, run.trace)))
    if run.violation:
        finish(Outcome.VIOLATION)
    finish(Outcome.INCONCLUSIVE if run.outcome in ("bound", "inconclusive") else Outcome.OK)
