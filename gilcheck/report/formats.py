"""The one table of output formats: each format's renderer, all of one protocol.

A renderer takes what a command checked (results, or specs that could not be checked)
and a `RenderContext` (layout, source texts, colour), and returns the document as text.
`REPORTS` is checked at import: a format without a renderer, or a command offering a
format the table does not hold, fails at once instead of printing some other format. A
renderer's module is imported when its format is asked for (a check loads only its own).

To add a format: a member of `ReportFormat`; a renderer of the `Renderer` protocol (here,
or in its own module of report/); its row in `REPORTS`; and, to offer it on a command,
a member of `CheckFormat` or `TraceFormat` (and a word in that command's `--format` help).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final, Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from gilcheck.report.printable import printable
from gilcheck.report.text import expected_phrase, render_text, verdict_phrase
from gilcheck.trace.model import CheckResult, StateGraph


@dataclass(frozen=True, slots=True)
class SpecFailure:
    """A spec that could not be checked: its JSON errors object and its first error."""

    spec: str
    report: Mapping[str, Any]  # the errors object of the JSON report
    message: str | None = None  # the first error's message; None: the file was not read


Checked = CheckResult | SpecFailure


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderContext:
    """What some renderers need besides the results."""

    many: bool = False  # the layout of several specs (a summary), even for one spec
    expect_mode: bool = False  # `check --expect`: a spec without `expect` is not as expected
    sources: Mapping[str, str] = field(default_factory=dict)  # path -> text (html)
    color_system: str | None = None  # the terminal's colours (rich's name); None: plain text
    width: int = 80  # the terminal's width, for tables
    state_graph: StateGraph | None = None  # `trace --graph states`: dot draws it instead


class Renderer(Protocol):
    """The protocol of every format: what was checked, in order, to one document."""

    def __call__(self, checked: Sequence[Checked], context: RenderContext) -> str: ...


def results_of(checked: Sequence[Checked]) -> list[CheckResult]:
    """The results among what was checked (specs that could not be checked left out)."""
    return [c for c in checked if isinstance(c, CheckResult)]


def not_as_expected(checked: Sequence[Checked], expect_mode: bool) -> list[Checked]:
    """A spec error, a verdict against its `expect`, and with `--expect` also a spec without
    an `expect` line (it proves nothing)."""
    return [
        c
        for c in checked
        if isinstance(c, SpecFailure)
        or c.matches is False
        or (expect_mode and (c.matches is None or bool(c.drift)))
    ]


def _one(checked: Sequence[Checked], what: str) -> CheckResult | None:
    """The single result a one-spec format draws (None for a spec with errors)."""
    if len(checked) != 1:
        raise ValueError(f"{what} draws one spec, not {len(checked)}")
    only = checked[0]
    return only if isinstance(only, CheckResult) else None


def _console(context: RenderContext, buffer: io.StringIO) -> Console:
    return Console(
        file=buffer,
        width=context.width,
        force_terminal=context.color_system is not None,
        color_system=context.color_system,  # type: ignore[arg-type]
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )


VERDICT_STYLE = {"ok": "bold green", "bound": "bold yellow", "inconclusive": "bold yellow"}


def spec_line(result: CheckResult) -> str:
    """The line `check` prints for each spec of several as it is checked."""
    match = "no expect" if result.matches is None else result.match_word
    return printable(
        f"{result.spec}: {verdict_phrase(result)} "
        f"(expected {expected_phrase(result) or '-'}: {match}), "
        f"{result.stats.states:,} states, {result.stats.seconds:.2f} s"
        + (
            " (cached proof, not checked again)"
            if result.proof is not None and result.proof.get("from_cache")
            else ""
        )
    )


def render_text_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """One spec: the text report, its verdict line coloured on a terminal. Several: a table
    of verdicts and the specs not as expected (the line per spec is printed as each ends)."""
    buffer = io.StringIO()
    console = _console(context, buffer)
    if not context.many:
        result = _one(checked, "text")
        if result is None:
            return ""
        style = VERDICT_STYLE.get(result.verdict, "bold red")
        for line in printable(render_text(result)).splitlines():
            if line.startswith("verdict:"):
                console.print(Text(line, style=style))
            else:
                console.print(line, markup=False)
        return buffer.getvalue()
    counts: dict[str, int] = {}
    for c in checked:
        verdict = c.verdict if isinstance(c, CheckResult) else "spec error"
        counts[verdict] = counts.get(verdict, 0) + 1
    table = Table(title=f"{len(checked)} spec{'s' if len(checked) != 1 else ''}", show_edge=False)
    table.add_column("verdict")
    table.add_column("specs", justify="right")
    for verdict, count in sorted(counts.items()):
        table.add_row(verdict, str(count))
    console.print(table)
    mismatches = not_as_expected(checked, context.expect_mode)
    if mismatches:
        console.print(f"{len(mismatches)} not as expected:", markup=False)
        for c in mismatches:
            if isinstance(c, SpecFailure):
                line = f"  {c.spec}: spec error (not checked)"
            else:
                want = expected_phrase(c) or "nothing: no expect line"
                line = f"  {c.spec}: {verdict_phrase(c)} (expected {want})"
                if c.drift and context.expect_mode:
                    line += "; its source changed since the draft"
            console.print(printable(line), markup=False)
    elif context.expect_mode:
        console.print("every verdict matches its spec's expect", markup=False)
    return buffer.getvalue()


def render_json_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """One spec: its result object (or its errors). Several: a `gilcheck.results` object."""
    from gilcheck.report.json import render_json, result_object

    if not context.many:
        if len(checked) != 1:
            raise ValueError(f"json draws one spec without `many`, not {len(checked)}")
        only = checked[0]
        if isinstance(only, SpecFailure):
            return json.dumps(only.report, indent=2) + "\n"
        return render_json(only)
    summary = {
        "schema": "gilcheck.results",
        "version": 1,
        "expect_mode": context.expect_mode,
        "results": [
            result_object(c) if isinstance(c, CheckResult) else dict(c.report) for c in checked
        ],
        "mismatches": [c.spec for c in not_as_expected(checked, context.expect_mode)],
    }
    return json.dumps(summary, indent=2) + "\n"


def render_junit_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """JUnit XML: a test case per spec (a spec that could not be checked is an error)."""
    from gilcheck.report.junit import JUnitCase, render_junit

    cases = [
        JUnitCase(c.spec, c, None)
        if isinstance(c, CheckResult)
        else JUnitCase(c.spec, None, c.message or "the spec could not be read")
        for c in checked
    ]
    return render_junit(cases)


def render_sarif_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """SARIF 2.1.0: a result per finding among the specs checked."""
    from gilcheck.report.sarif import render_sarif

    return render_sarif(results_of(checked))


def render_github_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """GitHub Actions annotations: a command per finding, assumption and drifted line."""
    from gilcheck.report.github import render_github

    failures = [
        (c.spec, c.message or "the spec could not be read")
        for c in checked
        if isinstance(c, SpecFailure)
    ]
    return render_github(results_of(checked), failures)


def render_markdown_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """One spec: its report. Several: a summary table, then each spec not as expected."""
    from gilcheck.report.markdown import MarkdownSpec, render_markdown, render_markdown_many

    if not context.many:
        result = _one(checked, "markdown")
        return "" if result is None else render_markdown(result)
    items = [
        MarkdownSpec(c.spec, c)
        if isinstance(c, CheckResult)
        else MarkdownSpec(c.spec, None, c.message or "not checked")
        for c in checked
    ]
    return render_markdown_many(items, context.expect_mode)


def render_mermaid_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """A Mermaid sequence diagram of one spec's trace."""
    from gilcheck.report.mermaid import render_mermaid

    result = _one(checked, "mermaid")
    return "" if result is None else render_mermaid(result)


def render_dot_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """The Graphviz wait-for graph of one spec's final state (or the whole state graph,
    when the context holds one)."""
    from gilcheck.report.dot import render_state_graph_dot, render_waitfor_dot

    if context.state_graph is not None:
        return render_state_graph_dot(context.state_graph)
    result = _one(checked, "dot")
    return "" if result is None else render_waitfor_dot(result)


def render_html_report(checked: Sequence[Checked], context: RenderContext) -> str:
    """One self-contained HTML page with a trace player (the sources come in the context)."""
    from gilcheck.report.html import render_html

    result = _one(checked, "html")
    return "" if result is None else render_html(result, dict(context.sources))


class ReportFormat(StrEnum):
    """Every output format gilcheck renders."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    MERMAID = "mermaid"
    DOT = "dot"
    HTML = "html"
    GITHUB = "github"


@dataclass(frozen=True, slots=True)
class Report:
    """A format: its renderer and how a command uses it."""

    render: Renderer
    collection: bool = False  # always the layout of several specs (junit, sarif)
    spec_lines: bool = False  # with several specs, a line per spec as each is checked


REPORTS: Final[Mapping[ReportFormat, Report]] = {
    ReportFormat.TEXT: Report(render_text_report, spec_lines=True),
    ReportFormat.JSON: Report(render_json_report),
    ReportFormat.JUNIT: Report(render_junit_report, collection=True),
    ReportFormat.SARIF: Report(render_sarif_report, collection=True),
    ReportFormat.MARKDOWN: Report(render_markdown_report),
    ReportFormat.MERMAID: Report(render_mermaid_report),
    ReportFormat.DOT: Report(render_dot_report),
    ReportFormat.HTML: Report(render_html_report),
    ReportFormat.GITHUB: Report(render_github_report, collection=True),
}


class CheckFormat(StrEnum):
    """The formats `gilcheck check --format` offers (each one of `REPORTS`)."""

    TEXT = ReportFormat.TEXT.value
    JSON = ReportFormat.JSON.value
    JUNIT = ReportFormat.JUNIT.value
    SARIF = ReportFormat.SARIF.value
    MARKDOWN = ReportFormat.MARKDOWN.value
    GITHUB = ReportFormat.GITHUB.value


class TraceFormat(StrEnum):
    """The formats `gilcheck trace --format` offers (each one of `REPORTS`)."""

    TEXT = ReportFormat.TEXT.value
    MERMAID = ReportFormat.MERMAID.value
    DOT = ReportFormat.DOT.value
    MARKDOWN = ReportFormat.MARKDOWN.value
    HTML = ReportFormat.HTML.value


def report_for(fmt: CheckFormat | TraceFormat | ReportFormat) -> Report:
    """The table's entry for a format a command offers."""
    return REPORTS[ReportFormat(fmt.value)]


def _check_table() -> None:
    """Every format has a renderer; every format a command offers is in the table."""
    missing = [f.value for f in ReportFormat if f not in REPORTS]
    if missing:
        raise ImportError(f"formats without a renderer: {', '.join(missing)}")
    for offered in (CheckFormat, TraceFormat):
        unknown = [f.value for f in offered if f.value not in {r.value for r in ReportFormat}]
        if unknown:
            raise ImportError(f"{offered.__name__} offers unknown formats: {', '.join(unknown)}")


_check_table()
