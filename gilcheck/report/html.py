"""A self-contained HTML report: the spec source, a step-by-step trace player, the final state.

One file with its CSS, script and data inline; it loads nothing from anywhere (its
content security policy forbids it), so it can be attached to a review or kept offline.
"""

from __future__ import annotations

import json
from html import escape
from importlib.resources import files
from typing import Any

from gilcheck.report.svg import render_waitfor_svg
from gilcheck.report.text import cycle_text, expected_phrase, verdict_phrase
from gilcheck.source import SourceMap
from gilcheck.trace.model import CheckResult, Location, Snapshot, Step, Wait

_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"


def source_texts(result: CheckResult, sources: SourceMap) -> dict[str, str]:
    """The text of the spec and of every file the trace runs in (model files), spec first."""
    locations: list[Location] = []
    if result.trace is not None:
        for step in result.trace.steps:
            locations.append(step.location)
            locations += [t.location for t in step.after.threads] if step.after else []
        locations += [w.location for w in result.trace.waits]
    paths = [result.spec, *(where.file for where in locations if where)]
    texts: dict[str, str] = {}
    for path in dict.fromkeys(paths):
        source = sources.get(path)
        if source is not None:
            texts[path] = source.text
    return texts


def _asset(name: str) -> str:
    return files("gilcheck.report").joinpath(name).read_text(encoding="utf-8")


def _snapshot(snapshot: Snapshot | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "holdings": [[h.name, h.state, list(h.holders)] for h in snapshot.holdings],
        "buffers": [[b.name, b.kind, list(b.messages), b.closed] for b in snapshot.buffers],
        "threads": [[t.name, t.status, t.location.file, t.line] for t in snapshot.threads],
    }


def _step(step: Step) -> dict[str, Any]:
    return {
        "label": "+" if step.merged else str(step.index),
        "thread": step.thread,
        "file": step.location.file,
        "line": step.line,
        "location": str(step.location),
        "statement": step.statement,
        "effects": list(step.effects),
        "after": _snapshot(step.after),
    }


def _data(result: CheckResult) -> str:
    """The trace as JSON that is safe inside a <script> element."""
    trace = result.trace
    data = {
        "verdict": result.verdict,
        "start": _snapshot(trace.start) if trace is not None else None,
        "steps": [_step(s) for s in trace.steps] if trace is not None else [],
        "loopFrom": trace.loop_from if trace is not None else None,
    }
    text = json.dumps(data, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _source_panel(path: str, text: str, index: int) -> str:
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        rows.append(
            f'<div class="src-line" data-file="{escape(path)}" data-line="{number}">'
            f'<span class="ln">{number}</span><span class="badges"></span>'
            f"<code>{escape(line) or ' '}</code></div>"
        )
    return (
        f'<section class="source" id="source-{index}"><h2>{escape(path)}</h2>'
        f'<div class="listing"><div class="lines">{"".join(rows)}</div></div></section>'
    )


def _final_state(result: CheckResult) -> str:
    trace = result.trace
    if trace is None or not trace.waits:
        note = trace.final_note if trace is not None and trace.final_note else result.message
        return f'<section id="final"><h2>Final state</h2><p>{escape(note)}</p></section>'
    label = "Stuck threads" if result.verdict == "stuck" else "Final state"
    rows = "".join(
        f"<tr><td>{escape(w.thread)}</td><td>{escape(w.waits_for)}</td>"
        f"<td>{escape(', '.join(w.holds))}</td><td>{_wait_place(w)}</td></tr>"
        for w in trace.waits
    )
    cycle = f'<p class="cycle">Cycle: {escape(cycle_text(trace, " → "))}</p>' if trace.cycle else ""
    cycle += "".join(
        f'<p class="cycle">Pool exhausted: {escape(line)}</p>' for line in trace.exhausted
    )
    around = [f"{w.name} = {w.value}" for w in trace.watched]
    around = (["vars read by the waits: " + ", ".join(around)] if around else []) + [
        p.text for p in trace.pending
    ]
    listed = "".join(f"<li>{escape(line)}</li>" for line in around)
    return (
        f'<section id="final"><h2>{label}: {escape(trace.final_note)}</h2>'
        f'<div class="graph">{render_waitfor_svg(trace.waits, trace.cycle)}</div>{cycle}'
        '<table id="waits"><thead><tr><th>thread</th><th>waits</th><th>holds</th><th>at</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
        + (f'<ul id="around">{listed}</ul>' if listed else "")
        + "</section>"
    )


def _wait_place(wait: Wait) -> str:
    """Where a thread waits; inside a model's helper, from the spec's call site down."""
    if not wait.stack:
        return f"{escape(wait.location.short)} <code>{escape(wait.statement)}</code>"
    first, *inner = wait.stack
    text = f"{escape(first.location.short)} <code>{escape(first.statement)}</code>"
    for site in inner:
        text += (
            f"<br>in {escape(site.function)} at {escape(str(site.location))} "
            f"<code>{escape(site.statement)}</code>"
        )
    return text


def _verdict(result: CheckResult) -> tuple[str, str]:
    """The verdict line and its extra class: a verdict the spec's `expect` line announced is
    `deadlock (expected)`, styled as expected (` expected`), not as a failure; one that
    differs says what was expected and is styled as a mismatch (` mismatch`)."""
    line = f"verdict: {verdict_phrase(result)}"
    expected = expected_phrase(result)
    if expected is None:
        return line, ""
    if result.matches:
        return f"{line} (expected)", " expected"
    return f"{line} (expected {expected}: {result.match_word})", " mismatch"


_PLAYER = """
<section id="player">
  <div class="controls">
    <button id="first" title="first (Home)">&#xAB; first</button>
    <button id="back" title="back (Left arrow)">&#x2039; back</button>
    <button id="forward" title="forward (Right arrow)">forward &#x203A;</button>
    <button id="last" title="last (End)">last &#xBB;</button>
    <span id="position"></span>
  </div>
  <div id="step"></div>
  <h3>Holders</h3>
  <table id="holdings"><thead><tr><th>what</th><th>state</th></tr></thead><tbody></tbody></table>
  <h3>Channels</h3>
  <table id="buffers"><thead><tr><th>channel</th><th>kind</th><th>buffers</th></tr></thead>
  <tbody></tbody></table>
  <h3>Threads</h3>
  <table id="threads"><thead><tr><th>thread</th><th>status</th><th>next line</th></tr></thead>
  <tbody></tbody></table>
  <h3>Trace</h3>
  <ol id="steps"></ol>
</section>
"""


def render_html(result: CheckResult, texts: dict[str, str]) -> str:
    """The whole page. `texts` maps each source path to its text (see `source_texts`)."""
    title = result.spec + (f": {result.title}" if result.title else "")
    verdict, judged = _verdict(result)
    has_trace = result.trace is not None and bool(result.trace.steps)
    player = (
        _PLAYER
        if has_trace
        else (
            '<section id="player"><p class="none">'
            + escape(
                "No counterexample: no violation in the whole state space."
                if result.verdict == "ok"
                else "No trace to play."
            )
            + "</p></section>"
        )
    )
    panels = "".join(_source_panel(path, text, i) for i, (path, text) in enumerate(texts.items()))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>gilcheck: {escape(title)}</title>
<style>
{_asset("player.css")}
</style>
</head>
<body>
<header>
  <h1>{escape(title)}</h1>
  <p class="verdict verdict-{escape(result.verdict)}{judged}">{escape(verdict)}</p>
  <p class="message">{escape(result.message)}</p>
</header>
<main>
  <div class="sources">{panels}</div>
  {player}
</main>
{_final_state(result) if has_trace else ""}
<footer>{result.stats.states:,} states, {result.stats.transitions:,} transitions.
Keys: &#x2190; back, &#x2192; forward, Home first, End last.</footer>
<script type="application/json" id="gilcheck-data">{_data(result)}</script>
<script>
{_asset("player.js")}
</script>
</body>
</html>
"""
