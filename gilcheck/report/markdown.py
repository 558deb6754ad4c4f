"""A Markdown report to paste into a pull request: verdict, trace table, final state, diagram."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gilcheck.report.mermaid import render_mermaid, short_location
from gilcheck.report.text import cycle_text, expected_phrase, p_miss_text, verdict_phrase
from gilcheck.trace.model import CheckResult


def cell(text: str) -> str:
    """Text for a table cell: pipes escaped, markup characters shown as written."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, entity)
    for char in "\\`*[]|":
        text = text.replace(char, "\\" + char)
    text = re.sub(r"(?<!\w)_|_(?!\w)", r"\_", text)  # intraword `_` is never emphasis
    return text.replace("\r", "").replace("\n", "<br>")


def code(text: str) -> str:
    """Text as inline code in a table cell, whatever backticks and pipes it holds."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    body = text.replace("|", "\\|").replace("\n", " ")
    return f"{fence}{pad}{body}{pad}{fence}" if text else ""


def _match(result: CheckResult) -> str:
    if result.expected is None:
        return "no expect line"
    return f"expected {expected_phrase(result)}: {result.match_word}"


def render_markdown(result: CheckResult, level: int = 3) -> str:
    """One spec's report; `level` is the heading level of its title."""
    h = "#" * level
    out = [f"{h} `{result.spec}`: {verdict_phrase(result)} ({_match(result)})", ""]
    if result.title:
        out += [f"**{cell(result.title)}**", ""]
    out += [cell(result.message), ""]
    trace = result.trace
    if trace is not None and trace.steps:
        count = sum(1 for s in trace.steps if not s.merged)
        label = (
            "Shortest trace"
            if result.shortest and result.verdict not in ("bound", "inconclusive")
            else "Trace"
        )
        out += [
            f"{h}# {label} ({count} step{'s' if count != 1 else ''})",
            "",
            "| step | thread | at | statement | effects |",
            "|---:|---|---|---|---|",
        ]
        for position, step in enumerate(trace.steps):
            if trace.loop_from is not None and position == trace.loop_from:
                out.append("| | | | *from here the program can repeat these steps for ever* | |")
            number = "+" if step.merged else str(step.index)
            effects = "<br>".join(cell(e) for e in step.effects)
            out.append(
                f"| {number} | {cell(step.thread)} | {cell(short_location(step.location))} "
                f"| {code(step.statement)} | {effects} |"
            )
        out.append("")
        if any(s.merged for s in trace.steps):
            out += ["`+` marks a statement taken within the step above.", ""]
    if trace is not None and trace.waits:
        label = "Stuck threads" if result.verdict == "stuck" else "Final state"
        out += [
            f"{h}# {label}",
            "",
            cell(trace.final_note),
            "",
            "| thread | waits | holds | at |",
            "|---|---|---|---|",
        ]
        for wait in trace.waits:
            place = wait.stack[0] if wait.stack else None
            location = place.location if place is not None else wait.location
            statement = place.statement if place is not None else wait.statement
            where = cell(short_location(location)) if location else ""
            at = f"{where} {code(statement)}".strip()
            for site in wait.stack[1:]:
                at += f"<br>in {cell(site.function)} at {cell(str(site.location))} "
                at += code(site.statement)
            holds = cell(", ".join(wait.holds))
            out.append(f"| {cell(wait.thread)} | {cell(wait.waits_for)} | {holds} | {at} |")
        out.append("")
        if trace.watched:
            values = ", ".join(f"{w.name} = {w.value}" for w in trace.watched)
            out += [f"Vars read by the waits: {cell(values)}", ""]
        if trace.pending:
            out += [f"- {cell(pending.text)}" for pending in trace.pending] + [""]
        if trace.cycle:
            out += [f"Cycle: {cell(cycle_text(trace, ' → '))}", ""]
        for line in trace.exhausted:
            out += [f"Pool exhausted: {cell(line)}", ""]
    if trace is not None and trace.steps:
        out += [
            f"{h}# Sequence diagram",
            "",
            "```mermaid",
            render_mermaid(result).rstrip(),
            "```",
            "",
        ]
    stats = result.stats
    scope = "exhaustive" if stats.exhaustive else "not exhaustive"
    if result.p_miss is not None and result.verdict == "ok":
        scope = f"exhaustive up to fingerprints: {p_miss_text(result)}"
    if result.verdict not in ("ok", "bound", "inconclusive", "stuck", "livelock"):
        scope = "stopped at the first violation"
    out.append(f"{stats.states:,} states, {stats.transitions:,} transitions ({scope}).")
    return "\n".join(out) + "\n"


@dataclass(frozen=True, slots=True)
class MarkdownSpec:
    """One spec of a multi-spec report: its result, or why it has none."""

    spec: str
    result: CheckResult | None
    error: str = ""


def render_markdown_many(specs: list[MarkdownSpec], expect_mode: bool) -> str:
    """A summary table of several specs, then the report of each one not as expected."""
    out = [f"## gilcheck: {len(specs)} spec{'s' if len(specs) != 1 else ''}", ""]
    out += ["| spec | verdict | expected | |", "|---|---|---|---|"]
    flagged: list[CheckResult] = []
    for item in specs:
        result = item.result
        if result is None:
            out.append(f"| `{cell(item.spec)}` | spec error | | {cell(item.error)} |")
            continue
        unexpected = result.matches is False or (expect_mode and result.matches is None)
        if unexpected or (result.matches is None and result.verdict != "ok"):
            flagged.append(result)
        mark = "**MISMATCH**" if result.match_word == "MISMATCH" else result.match_word
        out.append(
            f"| `{cell(result.spec)}` | {result.verdict} | {result.expected or ''} | {mark} |"
        )
    out.append("")
    for result in flagged:
        out += [
            "<details>",
            f"<summary>{cell(result.spec)}: {result.verdict}</summary>",
            "",
            render_markdown(result, level=3),
            "</details>",
            "",
        ]
    return "\n".join(out)
