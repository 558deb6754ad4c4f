"""JUnit XML: one test case per spec, for CI systems that show test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from gilcheck.report.text import verdict_phrase
from gilcheck.trace.model import CheckResult


@dataclass(frozen=True)
class JUnitCase:
    """One spec: its result, or the first error that kept it from being checked."""

    spec: str
    result: CheckResult | None
    error: str | None = None


def render_junit(cases: list[JUnitCase]) -> str:
    """A `testsuites` document. A case fails when its verdict is not the one its `expect`
    line states (`ok` when it has none); a spec that could not be checked, or a check that
    ended inconclusive, is an error."""
    suite = ET.Element("testsuite", name="gilcheck", tests=str(len(cases)))
    failures = errors = 0
    total = 0.0
    for case in cases:
        seconds = case.result.stats.seconds if case.result is not None else 0.0
        total += seconds
        title = case.result.title if case.result is not None and case.result.title else ""
        element = ET.SubElement(
            suite, "testcase", classname="gilcheck", name=case.spec, time=f"{seconds:.3f}"
        )
        if title:
            ET.SubElement(element, "properties").append(
                ET.Element("property", name="scenario", value=title)
            )
        result = case.result
        if result is None:
            errors += 1
            ET.SubElement(element, "error", type="spec-error", message=case.error or "")
            continue
        want = result.expected or "ok"
        if result.verdict in ("bound", "inconclusive") and want != result.verdict:
            errors += 1
            ET.SubElement(element, "error", type=result.verdict, message=result.message)
        elif result.rests_on_fingerprints:
            errors += 1  # an `ok` that may have missed states proves nothing until accepted
            message = (
                f"{verdict_phrase(result)}, not accepted (--accept-fingerprint): {result.message}"
            )
            ET.SubElement(element, "error", type="fingerprinted", message=message)
        elif result.verdict != want or result.when_matches is False:
            failures += 1
            failure = ET.SubElement(
                element,
                "failure",
                type=result.verdict,
                message=f"{result.verdict} (expected {want}): {result.message}",
            )
            if result.trace is not None:
                failure.text = "\n".join(
                    f"{s.index} {s.thread} {s.location} {s.statement}" for s in result.trace.steps
                )
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("time", f"{total:.3f}")
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
