"""Drift: which origins of a drafted spec no longer match the user's source (the hash of
the source line an origin names differs from the one recorded when the draft was made)."""

from __future__ import annotations

from pathlib import Path

from gilcheck.draft.model import digest
from gilcheck.source import SourceLine, origin_file
from gilcheck.syntax.annotations import Annotations
from gilcheck.trace.model import Drift


def drift_of(spec_path: str, annotations: Annotations) -> tuple[Drift, ...]:
    """The origins (statements and assumptions) whose recorded hash no longer matches their
    source line, one per source line, in order; origins without a hash are not checked."""
    lines: dict[str, list[str] | None] = {}
    shown: dict[str, str] = {}
    wheres: dict[tuple[str, int], SourceLine] = {}
    for where in [*annotations.origins.values(), *(a.where for a in annotations.assumptions)]:
        if where.hash:
            wheres.setdefault((where.path, where.line), where)
    found: list[Drift] = []
    for (path, line), where in sorted(wheres.items()):
        shown.setdefault(path, origin_file(spec_path, path))
        if path not in lines:
            try:
                text = Path(shown[path]).read_text(encoding="utf-8", errors="replace")
                lines[path] = text.splitlines()
            except OSError:
                lines[path] = None
        text_lines = lines[path]
        if text_lines is None:
            found.append(Drift(shown[path], line, f"`{shown[path]}` cannot be read any more"))
            continue
        now = text_lines[line - 1] if 1 <= line <= len(text_lines) else None
        if now is not None and digest(now) == where.hash:
            continue
        moved = [n for n, t in enumerate(text_lines, 1) if t.strip() and digest(t) == where.hash]
        name = shown[path]
        if moved:
            message = f"{name}:{line} moved (the code drafted from it is now at line {moved[0]})"
        elif now is None:
            message = f"{name} has no line {line} any more"
        else:
            message = f"{name}:{line} changed since the draft: now `{now.strip()}`"
        found.append(Drift(name, line, message))
    return tuple(found)
