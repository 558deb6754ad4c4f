"""Hover and go to definition: what a name under the cursor is, and where it is declared."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gilcheck.lsp.declarations import Declared, declared_at, document_names
from gilcheck.lsp.kinds import meaning_of
from gilcheck.lsp.places import Extent, Place, offset_of_place


@dataclass(frozen=True, slots=True)
class Target:
    """Where a name is declared: a file and the extent of the declared name."""

    path: str
    extent: Extent


def hover_text(text: str, path: str, place: Place) -> str | None:
    """Markdown for the name at a place: its kind, where it is declared, and how."""
    found = _declared(text, path, place)
    if found is None:
        return None
    where = f"line {found.line}"
    if found.path != path:
        where += f" of `{Path(found.path).name}`"
    meaning = meaning_of(found.kind)
    return (
        f"**{found.kind}** `{found.name}`: {found.summary}\n\n"
        + (f"{meaning[0].upper()}{meaning[1:]}.\n\n" if meaning else "")
        + f"Declared at {where}:\n\n```gil\n{found.text}\n```"
    )


def definition_of(text: str, path: str, place: Place) -> Target | None:
    """Where the name at a place is declared (None: not a declared name)."""
    found = _declared(text, path, place)
    return None if found is None else Target(found.path, found.name_extent)


def _declared(text: str, path: str, place: Place) -> Declared | None:
    return declared_at(document_names(text, path), offset_of_place(text, place))
