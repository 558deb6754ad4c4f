"""Facts derived from a value, kept by the value's identity.

A successor shares most of its parts (threads, frames' locals) with its parent, so a fact
derived from a part once serves every state that holds the same object, without hashing
or comparing it. Each fact is kept with its value, so that the value's id stays its own
while the fact is kept; past `limit` facts the memo starts afresh (a bound on its memory).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

F = TypeVar("F")


class IdentityMemo(Generic[F]):
    """Facts by the identity of the value they were derived from."""

    __slots__ = ("_kept", "limit")

    def __init__(self, limit: int) -> None:
        self._kept: dict[int, tuple[Any, F]] = {}
        self.limit = limit

    def get(self, value: Any) -> F | None:
        """The fact kept for this very object, or None."""
        known = self._kept.get(id(value))
        return known[1] if known is not None and known[0] is value else None

    def put(self, value: Any, fact: F) -> F:
        """Keep `fact` for `value` (and the value with it); the fact."""
        if len(self._kept) >= self.limit:
            self._kept.clear()
        self._kept[id(value)] = (value, fact)
        return fact

    def __len__(self) -> int:
        return len(self._kept)
