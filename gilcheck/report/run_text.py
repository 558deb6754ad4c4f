"""The text of one run, a simulation or a replayed trace: what it shows, its steps, its end."""

from __future__ import annotations

from gilcheck.report.text import step_lines, wait_lines
from gilcheck.trace.model import Trace


def render_run(spec: str, title: str | None, outcome: str, message: str, trace: Trace) -> str:
    """`spec: title`, the outcome line, the message, the steps and (deadlocked) the waits."""
    out = [spec + (f": {title}" if title else ""), outcome, f"  {message}"]
    if trace.steps:
        out += ["", *step_lines(trace, "Trace")]
    if trace.waits:
        out += ["", *wait_lines(trace, "deadlock")]
    return "\n".join(out) + "\n"
