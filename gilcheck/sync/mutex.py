"""A mutex (`mutex m`): its state is its owner, NO_THREAD when free. Not reentrant; any
thread may release it (as a `threading.Lock`), releasing a free one is a misuse."""

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
    return BLOCKED if obj != NO_THREAD else (Moved(tid),)


def _try_acquire(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    if obj != NO_THREAD:  # held, by this thread too: `acquire(blocking=False)` fails
        return (Moved(obj, value=False),)
    return (Moved(tid, value=True),)


def _release(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    if obj == NO_THREAD:
        return Misuse("releases mutex `{label}`, which is not held")
    return (Moved(NO_THREAD),)


class Mutex:
    """The mutex primitive."""

    kind = "mutex"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "acquire": Verb("acquire", _acquire, blocks=True, timeout=timed_out),
        "try_acquire": Verb(
            "try_acquire", _try_acquire, yields=True, usage="`try_acquire m` on a mutex"
        ),
        "release": Verb("release", _release, left_mover=True),
    }

    def initial(self, count: int | None) -> Obj:
        """Free."""
        return NO_THREAD

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """The owner mapped."""
        return remap_id(obj, f)

    def holders(self, obj: Obj) -> tuple[int, ...]:
        """Its owner, if any."""
        return () if obj == NO_THREAD else (obj,)

    def holds(self, obj: Obj, tid: int, label: str) -> str | None:
        """The mutex, when `tid` owns it."""
        return label if obj == tid else None

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Held by its owner, or free."""
        return owned_show(obj, name)

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Acquired or released."""
        return lock_effect(old, new, tid, label, name) or f"{label} changes"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A `try_acquire` of a held mutex fails; every other step changes it."""
        return f"{name} is held: try_acquire yields false" if verb == "try_acquire" else None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for its owner."""
        return lock_wait_reason(obj, tid, view)

    # As the partner of `wait cv, m`.
    def owner(self, obj: Obj) -> int:
        """The owner."""
        return int(obj)

    def release_all(self, obj: Obj) -> tuple[Obj, int]:
        """Free, taken once."""
        return NO_THREAD, 1

    def retake(self, tid: int, saved: int) -> Obj:
        """Owned by `tid`."""
        return tid


PRIMITIVE = Mutex()
