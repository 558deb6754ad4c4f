"""Running a check for the CLI: memory limit, progress display, proof cache and records."""

from __future__ import annotations

import dataclasses
import glob
from pathlib import Path

from gilcheck.cli.outcome import Outcome, finish
from gilcheck.cli.output import err, printable, say
from gilcheck.cli.proofs import proofs
from gilcheck.explore.unavailable import (
    FingerprintsUnavailable,
    ParallelUnavailable,
    RayUnavailable,
)
from gilcheck.memory import pause_memory_watch
from gilcheck.options import CheckOptions
from gilcheck.pipeline import Loaded, check_spec, expect_line
from gilcheck.progress import ProgressDisplay
from gilcheck.report.proof import identity, load_cached, record, store
from gilcheck.trace.model import CheckResult, Stats
from gilcheck.walk import Walker, WalkRules


def expand_spec_paths(paths: list[Path], rules: WalkRules | None = None) -> list[Path]:
    """Files as given, folders as every *.gil inside (sorted; what `rules` leave out, by
    default hidden folders, virtual environments, installed packages and `.gitignore`d
    paths, left out), globs expanded (their finds judged by the same rules); files named
    are left out only with `force_exclude`."""
    made: list[Walker] = []

    def walker() -> Walker:  # made for the first folder or glob: none for files alone
        if not made:
            made.append(Walker(rules))
        return made[0]

    specs: list[Path] = []
    for path in paths:
        if path.is_dir():
            specs.extend(walker().walk(path, (".gil",), frozenset()))
        elif not path.exists() and any(c in str(path) for c in "*?["):
            base = _glob_base(path)
            specs.extend(
                sorted(
                    found
                    for p in glob.glob(str(path), recursive=True)
                    if not walker().excluded_below(found := Path(p), base)
                )
            )
        elif not (rules is not None and rules.force_exclude and walker().excluded_named(path)):
            specs.append(path)
    return specs


def _glob_base(pattern: Path) -> Path:
    """The folders of a glob before its first wildcard: `specs` of `specs/**/*.gil`."""
    parts: list[str] = []
    for part in pattern.parts:
        if any(c in part for c in "*?["):
            break
        parts.append(part)
    return Path(*parts) if parts else Path()


def stopped_before_a_verdict(spec: Path, reason: str) -> CheckResult:
    """The `inconclusive` result of a spec whose reading or checking a limit stopped."""
    return CheckResult(
        spec=str(spec),
        title=None,
        verdict="inconclusive",
        expected=None,
        message=f"stopped by {reason} before a verdict; nothing was proved",
        stats=Stats(states=0, transitions=0, seconds=0.0, exhaustive=False),
        trace=None,
        limit=reason,
    )


def run_check(
    loaded: Loaded, options: CheckOptions, quiet: bool, spec: Path, index: int = 1, total: int = 1
) -> CheckResult:
    """Check (or find a still valid cached proof), with a progress line on stderr for long
    runs (only on a terminal); the result carries its proof record. The memory watch ends
    with the check: what remains is reporting."""
    try:
        return _check_or_recall(loaded, options, quiet, spec, index, total)
    finally:
        pause_memory_watch()


def _check_or_recall(
    loaded: Loaded, options: CheckOptions, quiet: bool, spec: Path, index: int, total: int
) -> CheckResult:
    texts = {m.path: s.text for m in loaded.modules if (s := loaded.sources.get(m.path))}
    who = identity(loaded.modules[0].path if loaded.modules else str(spec), texts)
    if proofs.cache is not None:
        hit = load_cached(proofs.cache, who, options, proofs.key)
        if hit is not None:
            note = (
                "proof still valid: the same spec, models, semantics and bounds were checked before"
            )
            hit = dataclasses.replace(
                hit,
                notes=(note,),
                proof=record(who, options, hit, cached=True),
                expected_line=expect_line(loaded),  # a cached record does not keep it
            )
            proofs.records.append(hit.proof or {})
            return hit
    try:
        if quiet or not err.is_terminal:
            result = check_spec(loaded, options)
        else:
            with ProgressDisplay(err).spec(printable(str(spec)), index, total) as progress:
                result = check_spec(loaded, options, progress)
    except (RayUnavailable, ParallelUnavailable) as error:
        say(f"error: {error}")
        say("help: run with the default `--strategy bfs`, without `--workers` and `--backend`")
        finish(Outcome.BAD_INPUT)
    except FingerprintsUnavailable as error:
        say(f"error: {printable(str(spec))}: {error}")
        say("help: run without `--fingerprint` (every state is then stored exactly)")
        finish(Outcome.BAD_INPUT)
    if proofs.wanted or proofs.cache is not None or proofs.record is not None:
        result = dataclasses.replace(result, proof=record(who, options, result))
    if proofs.cache is not None:
        try:
            store(proofs.cache, who, options, result, proofs.key)
        except OSError as error:
            say(f"warning: cannot write the proof cache: {error}")
    proofs.records.append(result.proof or {})
    return result
