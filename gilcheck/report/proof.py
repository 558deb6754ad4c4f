"""Proof records: what a verification proved, and a cache of them keyed by everything that
decides a verdict, so that CI re-proves only the specs that changed.

A record names the spec's content hash and those of the models it uses, gilcheck's
version and semantics version, the bounds and reductions in force, how much was explored,
whether that was everything, and the verdict. A cached record is used again only when all
of its key is the same and its verdict is conclusive (not `inconclusive`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gilcheck import __version__
from gilcheck.options import CheckOptions
from gilcheck.report.json import result_object
from gilcheck.report.json_read import BadTrace, result_from_object
from gilcheck.trace.model import CheckResult

# Bumped whenever a verdict of some spec may change: older records are then never reused.
SEMANTICS_VERSION = 3
RECORD_SCHEMA = "gilcheck.proof"


@dataclass(frozen=True, slots=True)
class SpecIdentity:
    """The texts a verdict depends on: the spec's and those of the models it uses."""

    spec: str
    spec_sha256: str
    models: tuple[tuple[str, str], ...]  # (path, sha256)


def identity(spec: str, texts: dict[str, str]) -> SpecIdentity:
    """Hashes of a spec's text and of every model text it loaded (`texts`: path -> text)."""

    def digest(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    models = tuple(sorted((path, digest(text)) for path, text in texts.items() if path != spec))
    return SpecIdentity(spec, digest(texts.get(spec, "")), models)


def settings(options: CheckOptions) -> dict[str, Any]:
    """The bounds and reductions in force (what changes a verdict; not time or memory)."""
    return {
        "channel_bound": options.channel_bound,
        "max_call_depth": options.max_call_depth,
        "max_states": options.max_states,
        "statement_merging": options.merge_local_steps,
        "symmetry": options.symmetry,
        "spurious_wakeups": options.spurious_wakeups,
    }


def cache_key(who: SpecIdentity, options: CheckOptions) -> str:
    """The name under which a spec's record is cached."""
    material = {
        "spec_sha256": who.spec_sha256,
        "models": who.models,
        "semantics": SEMANTICS_VERSION,
        "gilcheck": __version__,
        "settings": settings(options),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def record(
    who: SpecIdentity, options: CheckOptions, result: CheckResult, cached: bool = False
) -> dict[str, Any]:
    """The proof record of one verification."""
    return {
        "schema": RECORD_SCHEMA,
        "version": 1,
        "spec": who.spec,
        "spec_sha256": who.spec_sha256,
        "models": {path: digest for path, digest in who.models},
        "gilcheck": __version__,
        "semantics": SEMANTICS_VERSION,
        "settings": settings(options),
        "states": result.stats.states,
        "transitions": result.stats.transitions,
        "exhaustive": result.stats.exhaustive,
        "verdict": result.verdict,
        "condition": result.condition,
        "expected": result.expected,
        "matches": result.matches,
        "from_cache": cached,
    }


def load_cached(directory: Path, who: SpecIdentity, options: CheckOptions) -> CheckResult | None:
    """The cached result of this exact spec, models, semantics and settings, if any."""
    path = directory / f"{cache_key(who, options)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("record", {}).get("spec_sha256") != who.spec_sha256:
            return None
        return result_from_object(data["result"], spec=who.spec)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, BadTrace):
        return None  # absent, unreadable or not ours: check again


def store(directory: Path, who: SpecIdentity, options: CheckOptions, result: CheckResult) -> None:
    """Cache a conclusive result (a limit hit proves nothing, so it is not kept)."""
    if result.verdict == "inconclusive":
        return
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{cache_key(who, options)}.json"
    payload = {"record": record(who, options, result), "result": result_object(result)}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    temporary.replace(path)
