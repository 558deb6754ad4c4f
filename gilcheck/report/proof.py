"""Proof records: what a verification proved, and a cache of them keyed by everything that
decides a verdict, so that CI re-proves only the specs that changed.

A record names the spec's content hash and those of the models it uses, gilcheck's
version and semantics version, the bounds, reductions and search strategy in force, how
much was explored, whether that was everything, and the verdict. A cached record is used
again only when all of its key is the same, its verdict is conclusive (not
`inconclusive` or `bound`), it is consistent in itself, and it carries a valid HMAC made
with the user's private key (see gilcheck/private.py): a record edited by anyone without
that key is checked again.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gilcheck import __version__
from gilcheck.files import MAX_DATA_BYTES, read_regular_file
from gilcheck.options import CheckOptions, effective_strategy
from gilcheck.report.json import result_object
from gilcheck.report.json_read import BadTrace, result_from_object
from gilcheck.trace.model import CheckResult

# Bumped whenever a verdict of some spec may change: older records are then never reused.
SEMANTICS_VERSION = 4  # 4: language v1.2 (run-time objects, the event and timeout rulings)
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
        "object_bound": options.object_bound,
        "max_call_depth": options.max_call_depth,
        "max_states": options.max_states,
        "statement_merging": options.merge_local_steps,
        "symmetry": options.symmetry,
        "spurious_wakeups": options.spurious_wakeups,
        # A record made by one strategy is not used again for another.
        "strategy": effective_strategy(options),
        # Hash compaction: the states with a known fingerprint were not explored.
        **({"fingerprint": True} if options.fingerprint else {}),
        # Persistent sets: the states a reduced search skips were not explored.
        **({"stubborn_sets": True} if options.stubborn_sets else {}),
    }


@functools.cache
def implementation_digest() -> str:
    """The SHA-256 of gilcheck's own code and data (its Python and C sources, grammar,
    schema and bundled models): a record made by other code is never trusted, even when
    the version numbers are the same."""
    package = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    suffixes = {".py", ".c", ".lark", ".json", ".gil"}
    files = sorted(p for p in package.rglob("*") if p.suffix in suffixes and p.is_file())
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def cache_key(who: SpecIdentity, options: CheckOptions) -> str:
    """The name under which a spec's record is cached."""
    material = {
        "spec": who.spec,
        "implementation": implementation_digest(),
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
        "implementation": implementation_digest(),
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


# Verdicts that prove something; `bound` and `inconclusive` are never cached.
CACHEABLE = frozenset({"ok", "deadlock", "stuck", "livelock", "assertion", "panic", "misuse"})
# Their results depend on settings a record does not hold (the depth bound, the seed, the
# walks) and their traces need not be shortest: never cached.
UNCACHED_STRATEGIES = frozenset({"dfs", "random"})


def signature(key: bytes, payload: dict[str, Any]) -> str:
    """The HMAC-SHA256 of a cached record and result, over their canonical JSON."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def load_cached(
    directory: Path, who: SpecIdentity, options: CheckOptions, key: bytes
) -> CheckResult | None:
    """The cached result of this exact spec, models, semantics and settings, if there is one
    that can be trusted: signed with `key`, written by this gilcheck and semantics version,
    and consistent in itself (see `consistent`). Anything else is checked again."""
    path = directory / f"{cache_key(who, options)}.json"
    try:
        data = json.loads(read_regular_file(path, MAX_DATA_BYTES).decode("utf-8"))
        payload = {"record": data["record"], "result": data["result"]}
        if not hmac.compare_digest(str(data.get("hmac", "")), signature(key, payload)):
            return None
        if not consistent(data["record"], data["result"], who, options):
            return None
        return result_from_object(data["result"], spec=who.spec)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, BadTrace, RecursionError):
        return None  # absent, unreadable, nested too deeply or not ours: check again


def consistent(
    proof: dict[str, Any], result: dict[str, Any], who: SpecIdentity, options: CheckOptions
) -> bool:
    """Whether a cached record and result agree with each other and with what is asked:
    the same spec, models, gilcheck and semantics version and settings; a conclusive
    verdict; counts, `exhaustive` and the trace as that verdict has them."""
    expected_record = {
        "schema": RECORD_SCHEMA,
        "spec": who.spec,
        "implementation": implementation_digest(),
        "spec_sha256": who.spec_sha256,
        "models": {path: digest for path, digest in who.models},
        "gilcheck": __version__,
        "semantics": SEMANTICS_VERSION,
        "settings": settings(options),
    }
    if any(proof.get(field) != value for field, value in expected_record.items()):
        return False
    verdict = result.get("verdict")
    if verdict not in CACHEABLE or proof.get("verdict") != verdict or result.get("limit"):
        return False
    if result.get("condition_complete") is not True:
        return False
    for field in ("states", "transitions", "exhaustive"):
        if proof.get(field) != result.get(field):
            return False
    states, transitions = result.get("states"), result.get("transitions")
    if not isinstance(states, int) or not isinstance(transitions, int) or states < 1:
        return False
    steps = result.get("steps") or []
    waits = result.get("waits") or []
    real_steps = sum(1 for step in steps if not step.get("merged"))
    if real_steps > transitions:
        return False
    if verdict == "ok":
        return result.get("exhaustive") is True and not steps and not waits
    if verdict == "deadlock":
        return bool(waits)
    if verdict in ("stuck", "livelock"):
        return result.get("loop_from") is not None
    return bool(steps)  # assertion, panic, misuse: the failing step is the last


def store(
    directory: Path, who: SpecIdentity, options: CheckOptions, result: CheckResult, key: bytes
) -> None:
    """Cache a conclusive result, signed with `key` (a limit hit or a channel bound proves
    nothing, so neither is kept). Written under a unique temporary name, then renamed."""
    if result.verdict not in CACHEABLE or result.limit or not result.condition_complete:
        return
    if options.strategy in UNCACHED_STRATEGIES or result.p_miss is not None:
        return  # a fingerprinted search may have missed states: it proves nothing to reuse
    directory.mkdir(parents=True, exist_ok=True)
    name = cache_key(who, options)
    payload = {"record": record(who, options, result), "result": result_object(result)}
    payload = json.loads(json.dumps(payload))  # what a reader will see, tuples as lists
    text = json.dumps({**payload, "hmac": signature(key, payload)}, indent=1) + "\n"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, directory / f"{name}.json")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
