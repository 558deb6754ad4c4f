"""Checking a spec that is not a file of specs: one drafted from source in memory
(`check --source`) or read from stdin (`check -`); and what `check` says of a drafted
spec (its drift, whether its assumptions were accepted)."""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from gilcheck.cli.drafting import DEFAULT_UNROLL, alone_note, draft_or_exit
from gilcheck.cli.errors import reporting_spec_errors
from gilcheck.cli.limits import working_on
from gilcheck.cli.outcome import Outcome, emit_document, finish, outcome_of_result
from gilcheck.cli.output import printable, render_context, say
from gilcheck.cli.running import run_check
from gilcheck.diagnostics import SpecError
from gilcheck.draft.model import DraftOptions
from gilcheck.files import max_spec_bytes, size_text
from gilcheck.options import CheckOptions
from gilcheck.pipeline import Loaded, parse_text, with_draft_facts
from gilcheck.report.formats import CheckFormat, SpecFailure, report_for
from gilcheck.report.json import errors_object
from gilcheck.source import SourceMap
from gilcheck.trace.model import CheckResult


def drafted_only_options(entries: list[str] | None, unroll: int) -> None:
    """`--entry` and `--unroll` shape a draft: without `--source` they are a mistake."""
    if entries or unroll != DEFAULT_UNROLL:
        say("error: `--entry` and `--unroll` shape a draft: they go with `--source`")
        say("help: gilcheck check --source app.py --entry worker, or redraft the spec")
        finish(Outcome.BAD_INPUT)


def warn_drift(result: CheckResult) -> None:
    """On stderr: each origin of a drafted spec whose source changed since the draft."""
    for d in result.drift:
        say(printable(f"warning: {result.spec}: {d.message}"))
    if result.drift:
        say(printable(f"help: redraft with `gilcheck draft --update {result.spec}`"))


def check_one(
    shown: Path,
    load: Callable[[SourceMap], Loaded],
    options: CheckOptions,
    output_format: CheckFormat,
    quiet: bool,
    accept: bool,
    notes: Callable[[CheckResult], tuple[str, ...]] = lambda result: (),
) -> NoReturn:
    """Check one spec, named `shown` in reports and loaded by `load` (from its file, from
    source drafted in memory, from stdin), report it in `output_format`, and exit: its
    errors in the report too, its drift on stderr, the notes `notes` adds to its result."""
    sources = SourceMap()
    report = report_for(output_format)
    working_on[:] = [str(shown)]

    def report_errors(error: SpecError) -> None:
        failure = SpecFailure(str(shown), errors_object(str(shown), error.diagnostics, sources))
        context = render_context()
        emit_document(report.render([failure], context), context)

    with reporting_spec_errors(shown, sources, report=report_errors):
        loaded = load(sources)
        result = with_draft_facts(run_check(loaded, options, quiet, shown), loaded, accept)
    warn_drift(result)
    result = dataclasses.replace(result, notes=(*result.notes, *notes(result)))
    context = render_context(many=report.collection)
    emit_document(report.render([result], context), context)
    finish(outcome_of_result(result))


def check_source(
    files: list[Path],
    draft: DraftOptions,
    options: CheckOptions,
    output_format: CheckFormat,
    quiet: bool,
    accept: bool,
) -> NoReturn:
    """Draft a spec from source in memory and check it: the report names the spec
    `<first file>.draft.gil` and shows the user's lines beside the spec's."""
    base = files[0].resolve().parent
    drafted = draft_or_exit(files, draft, base)
    spec = base / (files[0].stem + ".draft.gil")
    shown = Path(os.path.relpath(spec)) if not files[0].is_absolute() else spec
    note = (
        f"drafted in memory from {', '.join(s.path for s in drafted.sources)}; "
        f"write it out with `gilcheck draft {' '.join(map(str, files))} -o {shown}`"
    )

    def notes(result: CheckResult) -> tuple[str, ...]:
        alone = alone_note(drafted) if result.verdict == "ok" else None
        return (note,) if alone is None else (note, alone)

    check_one(
        shown,
        lambda sources: parse_text(str(shown), drafted.text, sources),
        options,
        output_format,
        quiet,
        accept,
        notes,
    )


def check_stdin(
    name: str, options: CheckOptions, output_format: CheckFormat, quiet: bool, accept: bool
) -> NoReturn:
    """Check the spec read from stdin (UTF-8), reported under `name`."""
    raw = sys.stdin.buffer.read(max_spec_bytes() + 1)
    if len(raw) > max_spec_bytes():
        say(f"error: the spec on stdin is larger than the limit of {size_text(max_spec_bytes())}")
        say("help: real scenarios are a few kilobytes; GILCHECK_MAX_SPEC_BYTES sets another limit")
        finish(Outcome.BAD_INPUT)
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    check_one(
        Path(name),
        lambda sources: parse_text(name, text, sources),
        options,
        output_format,
        quiet,
        accept,
    )
