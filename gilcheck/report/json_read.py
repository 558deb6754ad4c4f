"""Reading back what `gilcheck check --format json` printed for one spec (for `gilcheck replay`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gilcheck.trace.model import (
    CallSite,
    CheckResult,
    Lint,
    Location,
    Pending,
    Stats,
    Step,
    Trace,
    Wait,
    Watched,
)


class BadTrace(ValueError):
    """The text is not a saved result with a trace; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class SavedResult:
    """A saved result: its spec, verdict and trace."""

    spec: str
    verdict: str | None
    steps: tuple[Step, ...]
    loop_from: int | None


_STEP_FIELDS: dict[str, type | tuple[type, ...]] = {
    "index": int,
    "thread": str,
    "location": str,
    "line": int,
    "statement": str,
    "effects": list,
    "merged": bool,
}


def read_result(text: str) -> SavedResult:
    """A `gilcheck.result` object of version 1 (raises BadTrace)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BadTrace(
            f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(data, dict):
        raise BadTrace("not a JSON object")
    if data.get("schema") == "gilcheck.results":
        raise BadTrace(
            "it holds the results of several specs; save one spec's result with "
            "`gilcheck check -f json SPEC`"
        )
    if data.get("schema") != "gilcheck.result":
        raise BadTrace('not a gilcheck result (its `schema` is not "gilcheck.result")')
    if data.get("version") != 1:
        raise BadTrace(f"its version {data.get('version')!r} is not one this gilcheck reads (1)")
    spec = _field(data, "spec", str, "")
    verdict = data.get("verdict")
    if verdict is not None and not isinstance(verdict, str):
        raise BadTrace("`verdict` is not a string")
    raw_steps = _field(data, "steps", list, "") if verdict is not None else []
    steps = tuple(_step(raw, f"steps[{i}]") for i, raw in enumerate(raw_steps))
    loop_from = data.get("loop_from")
    if loop_from is not None and (type(loop_from) is not int or loop_from < 0):
        raise BadTrace("`loop_from` is not a position in `steps`")
    return SavedResult(spec, verdict, steps, loop_from)


def _field(data: dict[str, Any], name: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(name)
    # bool is an int in Python; a saved trace never has one where a number belongs.
    if value is None or not isinstance(value, kind) or (kind is int and type(value) is bool):
        what = f"{where}.{name}" if where else name
        raise BadTrace(f"`{what}` is missing or is not {_KIND_WORDS.get(kind, 'valid')}")
    return value


_KIND_WORDS: dict[type | tuple[type, ...], str] = {
    int: "an integer",
    str: "a string",
    list: "a list",
    bool: "true or false",
}


def _count(value: object) -> int:
    return value if type(value) is int and value >= 0 else 0


def location_from(text: str, where: object) -> Location:
    """A location back from its `location` text and its `where` parts. The text decides
    (a report edited by hand may change only it): `where` is used when it names the same
    place, else the text gives the file and line (columns unknown)."""
    if not text:
        return Location()
    if isinstance(where, dict):
        parts = [where.get(k) for k in ("line", "column", "end_line", "end_column")]
        numbers = [p for p in parts if type(p) is int]
        if isinstance(where.get("file"), str) and len(numbers) == len(parts):
            raw = where.get("origin")
            origin: dict[str, Any] = raw if isinstance(raw, dict) else {}
            origin_file = origin.get("file")
            found = Location(
                where["file"],
                line=numbers[0],
                column=numbers[1],
                end_line=numbers[2],
                end_column=numbers[3],
                origin_file=origin_file if isinstance(origin_file, str) else "",
                origin_line=_count(origin.get("line")),
                origin_column=_count(origin.get("column")),
            )
            if str(found) == text:
                return found
    file, _, number = text.rpartition(":")
    if file and number.isdigit():
        return Location(file, int(number))
    return Location(text)


def _step(raw: object, where: str) -> Step:
    if not isinstance(raw, dict):
        raise BadTrace(f"`{where}` is not an object")
    values = {name: _field(raw, name, kind, where) for name, kind in _STEP_FIELDS.items()}
    effects = values["effects"]
    if not all(isinstance(e, str) for e in effects):
        raise BadTrace(f"`{where}.effects` holds something that is not a string")
    via = raw.get("via")
    return Step(
        values["index"],
        values["thread"],
        location_from(values["location"], raw.get("where")),
        values["line"],
        values["statement"],
        tuple(effects),
        values["merged"],
        via=_call_site(via) if isinstance(via, dict) else None,
    )


def _call_site(raw: dict[str, Any]) -> CallSite:
    """A frame of a call stack back from its object (fields a report lacks are empty)."""
    return CallSite(
        str(raw.get("function", "")),
        location_from(str(raw.get("location", "")), raw.get("where")),
        str(raw.get("statement", "")),
    )


def result_from_object(data: dict[str, Any], spec: str) -> CheckResult:
    """A whole result back from its JSON object (for a cached proof; raises BadTrace).

    The trace's steps, waits and cycle come back as they were printed; the state snapshots
    the HTML player draws are not part of the JSON and are absent.
    """
    if data.get("schema") != "gilcheck.result" or data.get("version") != 1:
        raise BadTrace("not a gilcheck result of version 1")
    verdict = _field(data, "verdict", str, "")
    steps = tuple(
        _step(raw, f"steps[{i}]") for i, raw in enumerate(_field(data, "steps", list, ""))
    )
    waits = tuple(
        Wait(
            thread=str(w["thread"]),
            waits_for=str(w["waits_for"]),
            holders=tuple(str(h) for h in w["holders"]),
            location=location_from(str(w["location"]), w.get("where")),
            statement=str(w["statement"]),
            holds=tuple(str(h) for h in w["holds"]),
            stack=tuple(_call_site(s) for s in w.get("stack") or () if isinstance(s, dict)),
            itself=str(w.get("itself") or ""),
            any_of=bool(w.get("any_of")),
            exhausted=str(w.get("exhausted") or ""),
        )
        for w in _field(data, "waits", list, "")
    )
    watched = tuple(
        Watched(str(v["name"]), str(v["value"]), tuple(str(r) for r in v["readers"]))
        for v in data.get("watched") or ()
    )
    pending = tuple(
        Pending(str(p["name"]), str(p["kind"]), tuple(str(i) for i in p["items"]), str(p["text"]))
        for p in data.get("pending") or ()
    )
    message = _field(data, "message", str, "")
    trace = None
    if steps or waits:
        trace = Trace(
            steps,
            waits,
            tuple(str(t) for t in _field(data, "cycle", list, "")),
            message,
            data.get("loop_from"),
            watched=watched,
            pending=pending,
        )
    lints = tuple(
        Lint(
            str(w["code"]),
            str(w["message"]),
            location_from(str(w["location"]), w.get("where")),
            int(w["line"]),
        )
        for w in data.get("warnings", [])
    )
    witness = data.get("witness") or {}
    return CheckResult(
        spec=spec,
        title=data.get("title"),
        verdict=verdict,
        expected=data.get("expected"),
        message=message,
        stats=Stats(
            states=_field(data, "states", int, ""),
            transitions=_field(data, "transitions", int, ""),
            seconds=float(data.get("seconds", 0.0)),
            exhaustive=bool(data.get("exhaustive")),
            symmetry=tuple(str(name) for name in data.get("symmetry") or ()),
            engine=str(data.get("engine") or ""),
        ),
        trace=trace,
        limit=data.get("limit"),
        condition=data.get("condition"),
        witness=tuple((str(k), int(v)) for k, v in witness.items()),
        expected_when=data.get("expected_when"),
        when_matches=None if data.get("expected_when") is None else bool(data.get("matches")),
        condition_complete=bool(data.get("condition_complete", True)),
        lints=lints,
    )
