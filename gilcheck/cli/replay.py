"""`gilcheck replay`: re-run a saved trace against its spec as it is now."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gilcheck.analysis.retrace import retrace
from gilcheck.cli.errors import reporting_spec_errors
from gilcheck.cli.options import (
    AS_THE_CHECK_RAN,
    CHANNEL_BOUND,
    OBJECT_BOUND,
    ChannelBound,
    ObjectBound,
    no_merge,
    spurious_wakeups,
)
from gilcheck.cli.outcome import Outcome, emit_text, finish
from gilcheck.cli.output import printable, say
from gilcheck.files import MAX_DATA_BYTES, read_regular_file
from gilcheck.options import CheckOptions
from gilcheck.pipeline import checkable_program, parse_spec
from gilcheck.report.json_read import BadTrace, read_result
from gilcheck.report.run_text import render_run
from gilcheck.source import SourceMap


def replay_trace(
    trace_file: Annotated[
        Path, typer.Argument(help="A result saved by `gilcheck check SPEC --format json`.")
    ],
    spec: Annotated[
        Path | None, typer.Option("--spec", help="The spec \\[default: the one the result names].")
    ] = None,
    channel_bound: ChannelBound = CHANNEL_BOUND,
    object_bound: ObjectBound = OBJECT_BOUND,
    merge_off: Annotated[bool, no_merge(AS_THE_CHECK_RAN)] = False,
    spurious: Annotated[bool, spurious_wakeups(AS_THE_CHECK_RAN)] = False,
) -> None:
    """Re-run a saved trace step by step against its spec as it is now.

    Exit codes: 0 the trace still applies and ends in its verdict, 1 it no longer does (the
    step that fails is named), 2 the file is not a saved trace or the spec is wrong.
    """
    try:
        text = read_regular_file(trace_file, MAX_DATA_BYTES).decode("utf-8")
        saved = read_result(text)
        if saved.verdict is None or not saved.steps:
            what = "a spec's errors" if saved.verdict is None else f"a `{saved.verdict}` result"
            raise BadTrace(f"it holds {what}, with no trace to replay")
    except (OSError, UnicodeDecodeError, BadTrace, RecursionError) as error:
        if isinstance(error, RecursionError):
            error = BadTrace("its JSON nests too deeply")
        reason = getattr(error, "strerror", None) or str(error)
        say(printable(f"error[bad-trace-file]: `{trace_file}`: {reason}"))
        finish(Outcome.BAD_INPUT)
    path = spec if spec is not None else Path(saved.spec)
    options = CheckOptions(
        channel_bound=channel_bound,
        object_bound=object_bound,
        merge_local_steps=not merge_off,
        spurious_wakeups=spurious,
    )
    sources = SourceMap()
    with reporting_spec_errors(path, sources):
        program = checkable_program(parse_spec(str(path), sources))
        done = retrace(program, sources, options, saved.steps, saved.verdict, saved.loop_from)
    if done.applies:
        head = f"replay of {trace_file}: the trace applies and ends in {saved.verdict} again"
    else:
        head = f"replay of {trace_file}: the trace no longer applies at step {done.failed_at}"
        hint = _settings_hint(text, options)
        if hint:
            head += f" ({hint})"
    emit_text(printable(render_run(str(path), program.title, head, done.message, done.trace)))
    finish(Outcome.OK if done.applies else Outcome.VIOLATION)


def _settings_hint(text: str, options: CheckOptions) -> str:
    """How the check that saved the trace ran differently from this replay, as the flags to
    pass (a trace made with `--no-por` has steps the default merges)."""
    try:
        settings = json.loads(text).get("proof", {}).get("settings", {})
    except (ValueError, AttributeError):
        return ""
    flags = []
    if settings.get("statement_merging") is False and options.merge_local_steps:
        flags.append("--no-por")
    if settings.get("spurious_wakeups") is True and not options.spurious_wakeups:
        flags.append("--spurious-wakeups")
    if not flags:
        return ""
    return f"the check that saved it ran with {' '.join(flags)}: replay with it too"
