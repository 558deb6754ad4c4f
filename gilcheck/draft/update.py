"""Redrafting a spec while keeping its hand edits: lines marked `# keep`.

A kept top-level setting (`scenario`, `expect`, `host`, `gil`) replaces the drafted one. A
kept line that carries an origin annotation replaces the newly drafted line drafted from
the same source text (same hash), wherever that line moved; a kept line without one goes
back after the line it followed in the old spec (matched by its text without its
annotation), or at the end of the header when that line is gone. Kept lines are never
dropped: one whose place cannot be found is reported and put where it best fits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gilcheck.syntax.annotations import line_origin

_SETTINGS = frozenset({"scenario", "expect", "host", "gil"})
KEEP = re.compile(r"#\s*keep\b")


@dataclass(frozen=True, slots=True)
class Merged:
    """A redrafted spec with the old spec's kept lines in it."""

    text: str
    kept: int
    unplaced: tuple[str, ...]  # kept lines whose place was not found (put at the end)


def _body(line: str) -> str:
    """A line without its annotation, comment-free and trimmed: what identifies it."""
    at = line.find("#@")
    return (line[:at] if at >= 0 else line).strip()


def _setting(line: str) -> str | None:
    """The keyword of a top-level setting a spec gives once (`scenario`, `expect`, `host`,
    `gil`): a kept one replaces the drafted one."""
    if line[:1].isspace():
        return None
    word = line.split(maxsplit=1)[0] if line.strip() else ""
    return word if word in _SETTINGS else None


def _hash(line: str) -> str | None:
    """The source-line hash of a spec line's origin annotation (None: it has none)."""
    found = line_origin(line)
    return found[0].hash or None if found else None


def _blocks(lines: list[str]) -> list[str | None]:
    """For each line, the top-level block it is in (`fn worker() {`, `thread main {`),
    by its text without annotations; None at the top level."""
    found: list[str | None] = []
    current: str | None = None
    for line in lines:
        if line and not line[0].isspace():
            current = _body(line) if _body(line).endswith("{") else None
            found.append(None)
        else:
            found.append(current)
    return found


def _pick(candidates: list[int], blocks: list[str | None], block: str | None) -> int | None:
    """The first candidate in the same top-level block, else the first of all."""
    same = [i for i in candidates if blocks[i] == block]
    pool = same or candidates
    return pool[0] if pool else None


def merge_kept(old: str, new: str) -> Merged:
    """The new draft with the old spec's `# keep` lines merged back in."""
    old_lines = old.splitlines()
    old_blocks = _blocks(old_lines)
    out = new.splitlines()
    kept = 0
    unplaced: list[str] = []
    anchor: str | None = None  # the line (annotations included) a kept line follows
    for n, line in enumerate(old_lines):
        if not KEEP.search(line):
            if line.strip():
                anchor = line.strip()
            continue
        kept += 1
        blocks = _blocks(out)
        block = old_blocks[n]
        setting = _setting(line)
        if setting is not None:
            same = [i for i, o in enumerate(out) if _setting(o) == setting and not KEEP.search(o)]
            if same:
                out[same[0]] = line
                anchor = line.strip()
                continue
        digest = _hash(line)
        if digest is not None:
            same = [i for i, o in enumerate(out) if _hash(o) == digest and not KEEP.search(o)]
            at = _pick(same, blocks, block)
            if at is not None:
                # The hand edit, with the origin where the source line is now.
                was, now = line_origin(line), line_origin(out[at])
                if was is not None and now is not None:
                    line = line[: was[1]] + out[at][now[1] : now[2]] + line[was[2] :]
                out[at] = line
                anchor = line.strip()
                continue
        place: int | None = None
        if anchor is None:
            place = _end_of_header(out)
        else:
            exact = [i for i, o in enumerate(out) if o.strip() == anchor]
            loose = [i for i, o in enumerate(out) if _body(o) and _body(o) == _body(anchor)]
            after = _pick(exact, blocks, block) if exact else _pick(loose, blocks, block)
            if after is not None:
                place = after + 1
        if place is None:
            unplaced.append(line.strip())
            out.append(line)
        else:
            out.insert(place, line)
        anchor = line.strip()
    return Merged("\n".join(out) + "\n", kept, tuple(unplaced))


def _end_of_header(lines: list[str]) -> int:
    """Where the header ends: the first line that is neither a comment nor blank."""
    for i, line in enumerate(lines):
        if line.strip() and not line.lstrip().startswith(("#", "//")):
            return i
    return len(lines)
