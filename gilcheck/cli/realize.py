"""`gilcheck realize`: write a `host python` spec as a runnable CPython program."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gilcheck.cli.errors import reporting_spec_errors
from gilcheck.cli.options import Output, Spec
from gilcheck.cli.outcome import Outcome, finish, write
from gilcheck.cli.output import printable, say
from gilcheck.files import MAX_DATA_BYTES, read_regular_file
from gilcheck.pipeline import checkable_program, parse_spec
from gilcheck.realize import DEFAULT_TIMEOUT, BadSteering, realize_program, steps_of_result
from gilcheck.realize.steer import Step
from gilcheck.source import SourceMap, Span


def realize(
    spec: Spec,
    output: Output = None,
    steer: Annotated[
        Path | None,
        typer.Option(
            "--steer",
            help="Follow this counterexample: a result saved by `gilcheck check SPEC -f json` "
            "(best with --no-por).",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", min=0.1, help="Seconds before the program's watchdog reports a hang."
        ),
    ] = DEFAULT_TIMEOUT,
) -> None:
    """Write a `host python` spec as a CPython program (threads, locks, channels, the GIL).

    The program exits 0 when it finishes, 3 when its watchdog finds it hung (it prints
    `hang` and the threads' stacks), 4 on a failed assertion, 5 on a panic, 6 on a misuse
    (7: a bug of the realization).
    A construct it cannot map is a `not-realizable` error (exit 2), every one listed.
    """
    sources = SourceMap()
    with reporting_spec_errors(spec, sources):
        program = checkable_program(parse_spec(str(spec), sources))

        def where(span: Span) -> tuple[int, int]:
            source = sources.get(span.path)
            if source is None:
                return (0, 0)
            at = source.line_col(span.start)
            return (at.line, at.col)

        steps: list[Step] = []
        if steer is not None:
            declared = [
                t.name if t.size is None else f"{t.name}[{n}]"
                for t in program.threads
                for n in range(t.size or 1)
            ]
            try:
                text = read_regular_file(steer, MAX_DATA_BYTES).decode("utf-8")
                steps = steps_of_result(text, declared)
            except (OSError, UnicodeDecodeError, BadSteering) as error:
                reason = getattr(error, "strerror", None) or str(error)
                say(printable(f"error[bad-trace-file]: `{steer}`: {reason}"))
                finish(Outcome.BAD_INPUT)
        text = realize_program(program, where, steps, timeout)
    write(text, output, encoding=None)
    finish(Outcome.OK)
