"""Defaults shared by primitives whose state holds no thread ids, and the lock texts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import NO_THREAD, Namer, Obj, Phase, TidMap, Verb, WaitView


class Counted:
    """A primitive whose state is counts and flags only: no thread id, nothing held."""

    kind = ""
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {}

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """No thread id in it: unchanged by any permutation."""
        return obj

    def holders(self, obj: Obj) -> tuple[int, ...]:
        """Nothing is held."""
        return ()

    def holds(self, obj: Obj, tid: int, label: str) -> str | None:
        """Nothing is held."""
        return None

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """Nothing to say by default."""
        return None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """A generic reason (each blocking primitive says more)."""
        return "cannot go on", []


def owned_show(owner: int, name: Namer) -> tuple[tuple[str, ...], str]:
    """A lock held by one thread or free, for a snapshot."""
    if owner == NO_THREAD:
        return (), "free"
    holder = name(owner)
    return (holder,), f"held by {holder}"


def lock_effect(old_owner: int, new_owner: int, tid: int, label: str, name: Namer) -> str | None:
    """Taking or releasing a mutex or rlock (None: neither)."""
    if new_owner == tid and old_owner != tid:
        return f"acquires {label}"
    if new_owner == NO_THREAD:
        holder = "" if old_owner == tid else f" (held by {name(old_owner)})"
        return f"releases {label}{holder}"
    return None


def lock_wait_reason(owner: int, tid: int, view: WaitView) -> tuple[str, list[int]]:
    """Waiting for a mutex or rlock held by `owner`."""
    if owner == tid:
        return (
            f"waits for {view.label}, which it already holds (a mutex is not reentrant)",
            [tid],
        )
    return f"waits for {view.label}, held by {view.name(owner)}", [owner]
