"""SARIF 2.1.0: violations as code-scanning results, located at the blocking statements,
with the counterexample as a code flow."""

from __future__ import annotations

import json
from pathlib import PurePath

from gilcheck import __version__
from gilcheck.report.located import blocking_waits, place_of
from gilcheck.report.text import expected_phrase, verdict_phrase
from gilcheck.trace.model import NOWHERE, CheckResult, Location

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
RULES = {
    "deadlock": "No thread can move and the program has not ended.",
    "stuck": "A thread can never move again while the rest of the program runs.",
    "livelock": "The program can run for ever without running `progress`.",
    "assertion": "An `assert` can fail.",
    "panic": "A `panic`, a failed `unwrap`, an index out of range or an arithmetic error.",
    "misuse": "A lock released that is not held, a moved handle used, and the like.",
    "bound": "An unbounded channel grew past the exploration bound: not a pass.",
    "inconclusive": "A limit was hit before the whole state space was explored: not a pass.",
    "assumption": "A drafted spec's `ok` rests on this assumption of the draft: check it.",
    "drift": "The source changed since the spec was drafted from it: redraft.",
    "fingerprint": "An `ok` of a fingerprinted search (--fingerprint): states may have been "
    "missed (p(miss) given) and `stuck`/`livelock` were not looked for; not a pass unless "
    "accepted (--accept-fingerprint).",
}


def reported(result: CheckResult) -> bool:
    """Whether a result is a finding: a verdict other than the spec's `expect` (other than
    `ok` when it has none). A buggy spec that deadlocks as it expects is no finding."""
    return result.verdict != (result.expected or "ok") or result.when_matches is False


def expected_violation(result: CheckResult) -> bool:
    """A violation the spec's `expect` line states: reported, suppressed in the source."""
    return result.verdict != "ok" and result.matches is True


# Rules whose findings are not violations: what keeps a result from being a pass.
WARNINGS = ("bound", "inconclusive", "assumption", "drift", "fingerprint")


def render_sarif(results: list[CheckResult]) -> str:
    """One SARIF log with one run: a result per finding, and per violation the spec
    expects (suppressed in source by its `expect` line, so code scanning shows it closed)."""
    rule_ids = list(RULES)
    findings = [
        _suppressed(r, _result(r, rule_ids)) if expected_violation(r) else _result(r, rule_ids)
        for r in results
        if reported(r) or expected_violation(r)
    ]
    for r in results:
        findings.extend(_drafted(r, rule_ids))
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                # Columns count characters (code points), as spans do, not UTF-16 units.
                "columnKind": "unicodeCodePoints",
                "tool": {
                    "driver": {
                        "name": "gilcheck",
                        "version": __version__,
                        "informationUri": "https://github.com/gilcheck/gilcheck",
                        "rules": [
                            {
                                "id": rule,
                                "name": rule,
                                "shortDescription": {"text": text},
                                "defaultConfiguration": {
                                    "level": "warning" if rule in WARNINGS else "error"
                                },
                            }
                            for rule, text in RULES.items()
                        ],
                    }
                },
                "results": findings,
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _result(result: CheckResult, rule_ids: list[str]) -> dict[str, object]:
    trace = result.trace
    waits = trace.waits if trace is not None else ()
    steps = trace.steps if trace is not None else ()
    blocking = [
        _location(result.spec, w.location, f"{w.thread} {w.waits_for}")
        for w in blocking_waits(waits)
    ]
    if not blocking and steps:
        last = steps[-1]
        blocking = [_location(result.spec, last.location, f"{last.thread}: {last.statement}")]
    if not blocking:
        blocking = [_location(result.spec, NOWHERE, result.message)]
    expected = f" (expected {expected_phrase(result)})" if result.expected else ""
    entry: dict[str, object] = {
        "ruleId": result.verdict,
        "ruleIndex": rule_ids.index(result.verdict) if result.verdict in rule_ids else 0,
        "level": "warning" if result.verdict in ("bound", "inconclusive") else "error",
        "message": {"text": f"{verdict_phrase(result)}{expected}: {result.message}"},
        "locations": blocking[:1],
        "relatedLocations": [dict(loc, id=i) for i, loc in enumerate(blocking[1:], 1)],
    }
    if steps:
        entry["codeFlows"] = [
            {
                "threadFlows": [
                    {
                        "locations": [
                            {
                                "location": _location(
                                    result.spec,
                                    step.location,
                                    f"{step.index} {step.thread}: {step.statement}"
                                    + "".join(f" -> {e}" for e in step.effects),
                                ),
                                "executionOrder": n,
                            }
                            for n, step in enumerate(steps)
                        ]
                    }
                ]
            }
        ]
    return entry


def _suppressed(result: CheckResult, entry: dict[str, object]) -> dict[str, object]:
    """A result the spec's `expect` line accounts for, marked suppressed in source there."""
    line = result.expected_line
    suppression: dict[str, object] = {
        "kind": "inSource",
        "status": "accepted",
        "justification": f"the spec's `expect {expected_phrase(result)}` line states this verdict",
    }
    if line:  # known (a result read back from JSON does not carry it)
        suppression["location"] = {
            "physicalLocation": {
                "artifactLocation": {"uri": PurePath(result.spec).as_posix()},
                "region": {"startLine": line},
            },
            "message": {"text": f"expect {expected_phrase(result)}"},
        }
    return dict(entry, suppressions=[suppression])


def _drafted(result: CheckResult, rule_ids: list[str]) -> list[dict[str, object]]:
    """A drafted spec's unaccepted assumptions under an `ok`, and its drifted lines, as
    warnings on the user's source lines."""
    found: list[tuple[str, str, str, int]] = []
    if result.rests_on_assumptions:
        found.extend(
            ("assumption", f"{result.spec}: `ok` only if: {a.text}", a.file, a.line)
            for a in result.assumptions
        )
    found.extend(("drift", f"{result.spec}: {d.message}", d.file, d.line) for d in result.drift)
    if result.rests_on_fingerprints:
        text = f"{result.spec}: {verdict_phrase(result)}, not accepted"
        found.append(("fingerprint", text, result.spec, result.expected_line))
    return [
        {
            "ruleId": rule,
            "ruleIndex": rule_ids.index(rule),
            "level": "warning",
            "message": {"text": text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": PurePath(file).as_posix()},
                        "region": {"startLine": max(1, line)},
                    }
                }
            ],
        }
        for rule, text, file, line in found
    ]


def _location(spec: str, where: Location, text: str) -> dict[str, object]:
    """A SARIF location: the statement's file and region (for a drafted statement, the
    user's own source line, the spec's beside it in words); nowhere (a thread that ended)
    is the spec's first line."""
    place = place_of(spec, where)
    found = {"startLine": place.line}
    if place.column:
        found["startColumn"] = place.column
    if place.has_end:
        found["endLine"] = place.end_line
        found["endColumn"] = place.end_column
    return {
        "physicalLocation": {"artifactLocation": {"uri": place.file}, "region": found},
        "message": {"text": f"{text} (spec {where})" if place.from_origin else text},
    }
