"""GitHub Actions workflow commands (`::error file=..,line=..::message`): each finding as an
annotation on the line that blocks (for a drafted spec, the user's own source line), the
other waiting threads as notices, and a drafted spec's assumptions and drift as warnings."""

from __future__ import annotations

from collections.abc import Sequence

from gilcheck.report.located import blocking_waits, place_of
from gilcheck.report.sarif import reported
from gilcheck.report.text import expected_phrase, verdict_phrase
from gilcheck.trace.model import CheckResult, Location


def render_github(results: Sequence[CheckResult], failures: Sequence[tuple[str, str]] = ()) -> str:
    """The workflow commands of every result: annotations for findings, assumptions and
    drift, and a notice for a result as expected; an error for each spec that could not be
    checked (`failures`: spec and message)."""
    out: list[str] = []
    for result in results:
        found = _commands(result)
        if not found:
            expected = f" (expected {expected_phrase(result)})" if result.expected else ""
            # On the `expect` line that accounts for it, when there is one.
            where = ""
            if result.expected_line and not result.spec.startswith("<"):  # not <stdin>
                where = f"file={_escape_property(result.spec)},line={result.expected_line},"
            found = [
                f"::notice {where}"
                f"title={_escape_property('gilcheck: ' + result.spec)}::"
                + _escape_data(
                    f"{verdict_phrase(result)}{expected}, {result.stats.states:,} states"
                )
            ]
        out.extend(found)
    for spec, message in failures:
        title = _escape_property("gilcheck: spec error")
        out.append(f"::error file={_escape_property(spec)},title={title}::{_escape_data(message)}")
    return "".join(line + "\n" for line in out)


def _commands(result: CheckResult) -> list[str]:
    out: list[str] = []
    if reported(result) or result.rests_on_assumptions:
        trace = result.trace
        waits = blocking_waits(trace.waits if trace else ())
        expected = f" (expected {expected_phrase(result)})" if result.expected else ""
        title = f"gilcheck: {verdict_phrase(result)}{expected}"
        level = "warning" if result.verdict in ("ok", "bound", "inconclusive") else "error"
        first = waits[0].location if waits else _last_step(result)
        out.append(_command(level, result.spec, first, title, result.message))
        for w in waits[1:]:
            out.append(
                _command(
                    "notice",
                    result.spec,
                    w.location,
                    f"gilcheck: {w.thread} waits",
                    f"{w.thread} {w.waits_for}",
                )
            )
    for a in result.assumptions:
        if result.verdict == "ok" and not result.assumptions_accepted:
            out.append(
                _command(
                    "warning",
                    result.spec,
                    Location(a.file, a.line),
                    "gilcheck: assumed by the draft",
                    f"{a.text}: the verdict `ok` of {result.spec} holds only if this is true",
                )
            )
    for d in result.drift:
        out.append(
            _command(
                "warning",
                result.spec,
                Location(d.file, d.line),
                "gilcheck: source changed since the draft",
                f"{d.message}; redraft with `gilcheck draft --update {result.spec}`",
            )
        )
    return out


def _last_step(result: CheckResult) -> Location:
    steps = result.trace.steps if result.trace else ()
    return steps[-1].location if steps else Location()


def _command(level: str, spec: str, where: Location, title: str, message: str) -> str:
    """One workflow command, at the statement's origin in the user's source when it has one,
    else at the spec line (the spec's first line when nowhere)."""
    place = place_of(spec, where)
    props = {"file": place.file, "line": str(place.line)}
    if place.column:
        props["col"] = str(place.column)
    if place.has_end:
        props["endLine"] = str(place.end_line)
        props["endColumn"] = str(place.end_column)
    props["title"] = title
    joined = ",".join(f"{k}={_escape_property(v)}" for k, v in props.items())
    return f"::{level} {joined}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")
