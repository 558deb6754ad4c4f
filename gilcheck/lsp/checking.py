"""The check command: the model checker run on a document, its verdict in a line, and the
places its trace points at (each blocked thread's statement, or the violating step).

This is the one slow thing the server does, so it runs only when asked, with limits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gilcheck.config import find_config, load_config
from gilcheck.diagnostics import SpecError
from gilcheck.lsp.findings import Finding, finding_of
from gilcheck.lsp.places import Extent, extent_of_location
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, parse_text, with_draft_facts
from gilcheck.report.text import verdict_line
from gilcheck.source import SourceMap
from gilcheck.trace.model import CheckResult, Location, Wait

# An editor waits for the answer: a check stops here with `inconclusive` instead.
EDITOR_LIMITS = CheckOptions(max_states=1_000_000, timeout=30.0)


def editor_options(path: str) -> CheckOptions:
    """The options `gilcheck check` would run the document with: the bounds and switches
    of the nearest `[tool.gilcheck]` (from the document's folder up), under the editor's
    limits of states and time. A configuration that cannot be read is left out (the
    command line reports it)."""
    found = find_config(Path(path).resolve().parent)
    if found is None:
        return EDITOR_LIMITS
    try:
        settings = load_config(found, SourceMap()).check
    except (SpecError, OSError):
        return EDITOR_LIMITS
    timeout = settings.get("timeout")
    return dataclasses.replace(
        EDITOR_LIMITS,
        max_states=min(settings.get("max_states", EDITOR_LIMITS.max_states), 1_000_000),
        timeout=min(timeout, 30.0) if timeout is not None else EDITOR_LIMITS.timeout,
        channel_bound=settings.get("channel_bound", EDITOR_LIMITS.channel_bound),
        object_bound=settings.get("object_bound", EDITOR_LIMITS.object_bound),
        spurious_wakeups=settings.get("spurious_wakeups", EDITOR_LIMITS.spurious_wakeups),
    )


_VIOLATIONS = frozenset({"deadlock", "stuck", "livelock", "assertion", "panic", "misuse"})


@dataclass(frozen=True, slots=True)
class Mark:
    """A place the verdict points at, and what happens there."""

    path: str
    extent: Extent
    message: str
    severity: str  # `error`, `warning` or `information`
    verdict: str


@dataclass(frozen=True, slots=True)
class CheckSummary:
    """What checking a document found: its verdict in a line, and the places behind it."""

    verdict: str | None  # None: the spec has errors and nothing was checked
    headline: str  # `verdict: deadlock   (expected deadlock: matches)`
    message: str
    severity: str  # how an editor should show the verdict
    marks: tuple[Mark, ...] = ()
    errors: tuple[Finding, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The command's result, as plain JSON values."""
        return {
            "verdict": self.verdict,
            "headline": self.headline,
            "message": self.message,
            "severity": self.severity,
            "locations": [
                {
                    "file": mark.path,
                    "line": mark.extent.start.line,
                    "character": mark.extent.start.character,
                    "end_line": mark.extent.end.line,
                    "end_character": mark.extent.end.character,
                    "message": mark.message,
                }
                for mark in self.marks
            ],
        }


def check_document(text: str, path: str, options: CheckOptions | None = None) -> CheckSummary:
    """Check a document's text as `gilcheck check` checks a spec file (by default with
    the project's settings: `editor_options`)."""
    if options is None:
        options = editor_options(path)
    sources = SourceMap()
    try:
        loaded = parse_text(path, text, sources)
        result = with_draft_facts(check_spec(loaded, options), loaded)
    except SpecError as error:
        errors = tuple(finding_of(d, sources, path, text) for d in error.diagnostics)
        count = len(errors)
        return CheckSummary(
            None,
            f"the spec has {count} error{'s' if count != 1 else ''}; nothing was checked",
            errors[0].message if errors else "",
            "error",
            errors=errors,
        )
    except (OSError, RecursionError) as error:
        return CheckSummary(None, f"the spec cannot be checked: {error}", str(error), "error")
    return summary_of(result)


def summary_of(result: CheckResult) -> CheckSummary:
    """A check's result as its verdict line and the places its trace points at."""
    severity = _severity(result)
    return CheckSummary(
        result.verdict,
        verdict_line(result),
        result.message,
        severity,
        tuple(_marks(result, severity)),
    )


def _severity(result: CheckResult) -> str:
    """An expected verdict is information; an unexpected violation an error; anything
    else that proves less than asked (a limit, an unexpected `ok`) a warning."""
    if result.matches:
        return "information"
    if result.verdict in _VIOLATIONS:
        return "error"
    if result.verdict == "ok" and result.matches is None and not result.rests_on_assumptions:
        return "information"
    return "warning"


def _marks(result: CheckResult, severity: str) -> list[Mark]:
    trace = result.trace
    if trace is None:
        return []
    marks = [
        Mark(where.file, extent_of_location(where), _wait_message(wait), severity, result.verdict)
        for wait in trace.waits
        if (where := _spec_location(wait))
    ]
    if not marks and trace.steps:
        last = trace.steps[-1]
        where = last.via.location if last.via is not None else last.location
        if where:
            message = f"{result.verdict}: {result.message} ({last.thread}: {last.statement})"
            marks.append(
                Mark(where.file, extent_of_location(where), message, severity, result.verdict)
            )
    return marks


def _spec_location(wait: Wait) -> Location:
    """Where a blocked thread is in the spec's own code (the call into a model's helper)."""
    return wait.stack[0].location if wait.stack else wait.location


def _wait_message(wait: Wait) -> str:
    # What it holds, unless its wait already says so (`holds stdout's lock and waits ..`).
    untold = [held for held in wait.holds if held not in wait.waits_for]
    holds = f" (holds {', '.join(untold)})" if untold else ""
    return f"{wait.thread} {wait.waits_for}{holds}"
