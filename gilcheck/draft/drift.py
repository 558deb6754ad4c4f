"""Drift: which origins of a drafted spec no longer match the user's source (the hash of
the source line an origin names differs from the one recorded when the draft was made)."""

from __future__ import annotations

from pathlib import Path

from gilcheck.draft.model import digest
from gilcheck.source import SourceLine
from gilcheck.syntax.annotations import Annotations
from gilcheck.trace.model import Drift


def source_path(spec_path: str, named: str) -> Path:
    """The file an origin names: relative to the spec's folder (where `gilcheck draft -o`
    writes paths relative to), else as written (relative to the working folder)."""
    path = Path(named)
    if path.is_absolute():
        return path
    beside = Path(spec_path).parent / path
    return beside if beside.exists() or not path.exists() else path


def drift_of(spec_path: str, annotations: Annotations) -> tuple[Drift, ...]:
    """The origins (statements and assumptions) whose recorded hash no longer matches their
    source line, one per source line, in order; origins without a hash are not checked."""
    lines: dict[str, list[str] | None] = {}
    wheres: dict[tuple[str, int], SourceLine] = {}
    for where in [*annotations.origins.values(), *(a.where for a in annotations.assumptions)]:
        if where.hash:
            wheres.setdefault((where.path, where.line), where)
    found: list[Drift] = []
    for (path, line), where in sorted(wheres.items()):
        if path not in lines:
            try:
                text = source_path(spec_path, path).read_text(encoding="utf-8", errors="replace")
                lines[path] = text.splitlines()
            except OSError:
                lines[path] = None
        text_lines = lines[path]
        if text_lines is None:
            found.append(Drift(path, line, f"`{path}` cannot be read any more"))
            continue
        now = text_lines[line - 1] if 1 <= line <= len(text_lines) else None
        if now is not None and digest(now) == where.hash:
            continue
        moved = [n for n, t in enumerate(text_lines, 1) if t.strip() and digest(t) == where.hash]
        if moved:
            message = f"{path}:{line} moved (the code drafted from it is now at line {moved[0]})"
        elif now is None:
            message = f"{path} has no line {line} any more"
        else:
            message = f"{path}:{line} changed since the draft: now `{now.strip()}`"
        found.append(Drift(path, line, message))
    return tuple(found)
