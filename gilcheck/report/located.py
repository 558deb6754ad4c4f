"""Where a finding lands in the user's files, for the formats code hosts read (SARIF,
GitHub annotations): a drafted statement at its origin in the user's source, any other at
its spec line (the spec's first line when nowhere)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from gilcheck.trace.model import Location, Wait


@dataclass(frozen=True, slots=True)
class Place:
    """A file and a 1-based region in it (0: a column or an end not known)."""

    file: str
    line: int
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    from_origin: bool = False  # the user's source line a drafted statement came from

    @property
    def has_end(self) -> bool:
        """Whether the region's end is known and past its start."""
        return bool(self.column) and (self.end_line, self.end_column) > (self.line, self.column)


def place_of(spec: str, where: Location) -> Place:
    """Where a statement is, as a code host shows it (a file named as the spec is the
    spec's path)."""
    if where.origin_file:
        return Place(
            PurePath(where.origin_file).as_posix(),
            max(1, where.origin_line),
            where.origin_column,
            from_origin=True,
        )
    file = where.file or spec
    if PurePath(file).name == PurePath(spec).name:
        file = spec
    column = where.column if where.line else 0
    return Place(
        PurePath(file).as_posix(), max(1, where.line), column, where.end_line, where.end_column
    )


def blocking_waits(waits: Sequence[Wait]) -> list[Wait]:
    """The waits that are somewhere in the code (a thread gone in a forked child is
    nowhere), those at a line of the user's source first."""
    return sorted((w for w in waits if w.location), key=lambda w: not w.location.origin_file)
