"""A reentrant lock (`rlock r`): its state is (owner, count). Only its owner may release it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    NO_THREAD,
    Misuse,
    Moved,
    Namer,
    Obj,
    Phase,
    Site,
    Step,
    TidMap,
    Verb,
    WaitView,
    remap_id,
    timed_out,
)
from gilcheck.sync.common import lock_effect, lock_wait_reason, owned_show


def _acquire(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    owner, count = obj
    if owner != NO_THREAD and owner != tid:
        return BLOCKED
    return (Moved((tid, count + 1)),)


def _try_acquire(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    owner, count = obj
    if owner != NO_THREAD and owner != tid:
        return (Moved(obj, value=False),)
    return (Moved((tid, count + 1), value=True),)


def _release(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    owner, count = obj
    if owner != tid:
        return Misuse("releases rlock `{label}`, which it does not hold")
    return (Moved((NO_THREAD, 0) if count == 1 else (tid, count - 1)),)


class RLock:
    """The rlock primitive."""

    kind = "rlock"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "acquire": Verb("acquire", _acquire, blocks=True, timeout=timed_out),
        "try_acquire": Verb(
            "try_acquire", _try_acquire, yields=True, usage="`try_acquire r` on an rlock"
        ),
        "release": Verb("release", _release, left_mover=True),
    }

    def initial(self, count: int | None) -> Obj:
        """Free."""
        return (NO_THREAD, 0)

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """The owner mapped."""
        return (remap_id(obj[0], f), obj[1])

    def holders(self, obj: Obj) -> tuple[int, ...]:
        """Its owner, if any."""
        return () if obj[0] == NO_THREAD else (obj[0],)

    def holds(self, obj: Obj, tid: int, label: str) -> str | None:
        """The rlock, when `tid` owns it."""
        return label if obj[0] == tid else None

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Held by its owner (how many times), or free."""
        owner, count = obj
        holders, text = owned_show(owner, name)
        if owner == NO_THREAD or count <= 1:
            return holders, text
        return holders, f"{text} ({count} times)"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Acquired, released, or its count changed."""
        return lock_effect(old[0], new[0], tid, label, name) or f"{label}: count {new[1]}"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A `try_acquire` of an rlock another thread holds fails; every other step changes it."""
        if verb == "try_acquire":
            return f"{name} is held by another thread: try_acquire yields false"
        return None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for its owner."""
        return lock_wait_reason(obj[0], tid, view)

    # As the partner of `wait cv, r`.
    def owner(self, obj: Obj) -> int:
        """The owner."""
        return int(obj[0])

    def release_all(self, obj: Obj) -> tuple[Obj, int]:
        """Free, and how many times it was taken."""
        return (NO_THREAD, 0), int(obj[1])

    def retake(self, tid: int, saved: int) -> Obj:
        """Owned by `tid` as many times as before."""
        return (tid, saved)


PRIMITIVE = RLock()
