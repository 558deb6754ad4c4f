"""The machine report: a versioned JSON object (schema documented in docs/json.md)."""

from __future__ import annotations

import json
from typing import Any

from gilcheck.diagnostics import Diagnostic
from gilcheck.source import SourceMap
from gilcheck.trace.model import CallSite, CheckResult, Location

SCHEMA = "gilcheck.result"
VERSION = 1


def where_object(location: Location) -> dict[str, Any] | None:
    """A location as its parts: file, 1-based line and column of the start and of just past
    the end (0 when not known); None for nowhere (a thread that ended)."""
    if not location:
        return None
    found: dict[str, Any] = {
        "file": location.file,
        "line": location.line,
        "column": location.column,
        "end_line": location.end_line,
        "end_column": location.end_column,
    }
    if location.origin_file:
        found["origin"] = {
            "file": location.origin_file,
            "line": location.origin_line,
            "column": location.origin_column,
        }
    return found


def call_site_object(site: CallSite) -> dict[str, Any]:
    """A frame of a call stack: the function it runs, where it is and its statement."""
    return {
        "function": site.function,
        "location": str(site.location),
        "where": where_object(site.location),
        "statement": site.statement,
    }


def result_object(result: CheckResult) -> dict[str, Any]:
    """The JSON-ready dict of a result."""
    trace = result.trace
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "spec": result.spec,
        "title": result.title,
        "verdict": result.verdict,
        "expected": result.expected,
        "matches": result.matches,
        "message": result.message,
        "limit": result.limit,
        "states": result.stats.states,
        "transitions": result.stats.transitions,
        "seconds": round(result.stats.seconds, 4),
        "exhaustive": result.stats.exhaustive,
        "symmetry": list(result.stats.symmetry),
        "bytes_per_state": result.stats.bytes_per_state,
        "storage": dict(result.stats.storage) or None,
        "fingerprint": (
            {"p_miss": result.p_miss, "accepted": result.fingerprint_accepted}
            if result.p_miss is not None
            else None
        ),
        "engine": result.stats.engine,
        "condition": result.condition,
        "condition_complete": result.condition_complete,
        "witness": {name: value for name, value in result.witness},
        "expected_when": result.expected_when,
        **(
            {
                "assumptions": [
                    {"text": a.text, "file": a.file, "line": a.line} for a in result.assumptions
                ]
            }
            if result.assumptions
            else {}
        ),
        **(
            {
                "drift": [
                    {"file": d.file, "line": d.line, "message": d.message} for d in result.drift
                ]
            }
            if result.drift
            else {}
        ),
        "warnings": [
            {
                "code": w.code,
                "message": w.message,
                "location": str(w.location),
                "where": where_object(w.location),
                "line": w.line,
            }
            for w in result.lints
        ],
        "steps": [
            {
                "index": s.index,
                "thread": s.thread,
                "location": str(s.location),
                "where": where_object(s.location),
                "line": s.line,
                "statement": s.statement,
                "effects": list(s.effects),
                "merged": s.merged,
                "via": call_site_object(s.via) if s.via is not None else None,
            }
            for s in (trace.steps if trace else ())
        ],
        "waits": [
            {
                "thread": w.thread,
                "waits_for": w.waits_for,
                "holders": list(w.holders),
                "holds": list(w.holds),
                "location": str(w.location),
                "where": where_object(w.location),
                "statement": w.statement,
                "stack": [call_site_object(site) for site in w.stack],
                "itself": w.itself,
                "any_of": w.any_of,
                "exhausted": w.exhausted,
            }
            for w in (trace.waits if trace else ())
        ],
        "watched": [
            {"name": v.name, "value": v.value, "readers": list(v.readers)}
            for v in (trace.watched if trace else ())
        ],
        "pending": [
            {"name": p.name, "kind": p.kind, "items": list(p.items), "text": p.text}
            for p in (trace.pending if trace else ())
        ],
        "cycle": list(trace.cycle) if trace else [],
        "loop_from": trace.loop_from if trace else None,
        "proof": result.proof,
    }


def render_json(result: CheckResult) -> str:
    """The result as indented JSON text."""
    return json.dumps(result_object(result), indent=2) + "\n"


def render_errors_json(spec: str, diagnostics: list[Diagnostic], sources: SourceMap) -> str:
    """A spec that does not mean anything: the same schema, verdict null, and its errors."""
    return json.dumps(errors_object(spec, diagnostics, sources), indent=2) + "\n"


def errors_object(spec: str, diagnostics: list[Diagnostic], sources: SourceMap) -> dict[str, Any]:
    """The JSON object of a spec with errors (what `render_errors_json` prints)."""
    errors = []
    for d in diagnostics:
        source = sources.get(d.span.path)
        where = source.line_col(d.span.start) if source is not None else None
        errors.append(
            {
                "code": d.code,
                "severity": d.severity.value,
                "message": d.message,
                "file": d.span.path,
                "line": where.line if where else None,
                "column": where.col if where else None,
                "help": d.help,
            }
        )
    return {
        "schema": SCHEMA,
        "version": VERSION,
        "spec": spec,
        "verdict": None,
        "errors": errors,
    }


def file_error_object(spec: str, code: str, message: str, help: str | None) -> dict[str, Any]:
    """The JSON object of a spec that could not be read or parsed at all (no location)."""
    error = {
        "code": code,
        "severity": "error",
        "message": message,
        "file": spec,
        "line": None,
        "column": None,
        "help": help,
    }
    return {"schema": SCHEMA, "version": VERSION, "spec": spec, "verdict": None, "errors": [error]}
