"""Drift: which origins of a drafted spec no longer match the user's source (the hash of
the source line an origin names differs from the one recorded when the draft was made)."""

from __future__ import annotations

from pathlib import Path

from gilcheck.draft.model import code_digest, digest
from gilcheck.source import SourceLine, origin_file
from gilcheck.syntax.annotations import Annotations
from gilcheck.trace.model import Drift


def drift_of(spec_path: str, annotations: Annotations) -> tuple[Drift, ...]:
    """What changed in the user's source since the draft, file by file: the origins
    (statements and assumptions) whose recorded hash no longer matches their line (or, when
    every one of a file's changed origins is found the same number of lines away, one
    message that the code moved), then the files whose code changed elsewhere (their
    `#@ source` hash). Origins without a hash are not checked."""
    by_file: dict[str, dict[int, SourceLine]] = {}
    for where in [*annotations.origins.values(), *(a.where for a in annotations.assumptions)]:
        if where.hash:
            by_file.setdefault(where.path, {}).setdefault(where.line, where)
    found: list[Drift] = []
    for path in sorted(by_file):
        found.extend(_file_drift(origin_file(spec_path, path), by_file[path]))
    drifted = {d.file for d in found}
    for whole in annotations.files:
        name = origin_file(spec_path, whole.path)
        if name in drifted:
            continue  # its lines already say what changed
        text = _read(name)
        if text is None:
            found.append(Drift(name, 0, f"`{name}` cannot be read any more"))
        elif code_digest(text) != whole.hash:
            found.append(
                Drift(
                    name,
                    0,
                    f"{name} changed since the draft, in code no drafted statement names "
                    "(a thread's target, an argument, a definition)",
                )
            )
    return tuple(found)


def _read(name: str) -> str | None:
    try:
        return Path(name).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _file_drift(name: str, origins: dict[int, SourceLine]) -> list[Drift]:
    text = _read(name)
    if text is None:
        return [Drift(name, min(origins), f"`{name}` cannot be read any more")]
    lines = text.splitlines()

    def holds(line: int, hash: str) -> bool:
        return 1 <= line <= len(lines) and digest(lines[line - 1]) == hash

    changed = sorted(n for n, w in origins.items() if not holds(n, w.hash))
    if not changed:
        return []
    # Code moved when lines were added or removed above it: the shift that finds the most
    # of the changed origins' text again (the nearest of the best), if it finds at least
    # two or all of them.
    shifts = {
        n - line
        for line in changed
        for n in range(1, len(lines) + 1)
        if n != line and holds(n, origins[line].hash)
    }
    scored = sorted(
        ((sum(holds(n + d, origins[n].hash) for n in changed), -abs(d), d) for d in shifts),
        reverse=True,
    )
    shift, moved = 0, []
    if scored and (scored[0][0] >= 2 or scored[0][0] == len(changed)):
        shift = scored[0][2]
        moved = [n for n in changed if holds(n + shift, origins[n].hash)]
    found = []
    if moved:
        where = "down" if shift > 0 else "up"
        span = f"line {moved[0]}" if len(moved) == 1 else f"lines {moved[0]}-{moved[-1]}"
        found.append(
            Drift(
                name,
                moved[0],
                f"{name}: the code drafted from {span} moved {abs(shift)} "
                f"line{'s' if abs(shift) != 1 else ''} {where}",
            )
        )
    for n in changed:
        if n in moved:
            continue
        at = n + shift
        now = lines[at - 1].strip() if 1 <= at <= len(lines) else None
        message = (
            f"{name} has no line {at} any more"
            if now is None
            else f"{name}:{at} changed since the draft: now `{now}`"
        )
        found.append(Drift(name, at, message))
    return found
