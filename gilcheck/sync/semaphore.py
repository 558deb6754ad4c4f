"""A counting semaphore (`semaphore s = 2`): its state is its count. Releasing above the
initial count is allowed (as `threading.Semaphore`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    Moved,
    Namer,
    Obj,
    Phase,
    Site,
    Step,
    Verb,
    WaitView,
    timed_out,
)
from gilcheck.sync.common import Counted


def _acquire(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return BLOCKED if obj <= 0 else (Moved(obj - 1),)


def _try_acquire(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved(obj, value=False),) if obj <= 0 else (Moved(obj - 1, value=True),)


def _release(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved(obj + 1),)


class Semaphore(Counted):
    """The semaphore primitive."""

    kind = "semaphore"
    count_minimum: int | None = 0
    verbs: ClassVar[Mapping[str, Verb]] = {
        "acquire": Verb("acquire", _acquire, blocks=True, timeout=timed_out),
        "try_acquire": Verb(
            "try_acquire", _try_acquire, yields=True, usage="`try_acquire s` on a semaphore"
        ),
        "release": Verb("release", _release),
    }

    def initial(self, count: int | None) -> Obj:
        """Its declared count."""
        return count or 0

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Its permits."""
        return (), f"{obj} permit{'s' if obj != 1 else ''}"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """The count before and after."""
        return f"semaphore {label}: {old} -> {new}"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A `try_acquire` with no permit left fails."""
        if verb == "try_acquire":
            return f"semaphore {name} has no permit: try_acquire yields false"
        return None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """No permit left: waits for a thread that may release one; says who could, and why
        they do not."""
        releasers = view.may_use(("release",))
        could = view.could(("release",), "release it")
        return f"waits for semaphore {view.label} (count 0){could.clause}", releasers


PRIMITIVE = Semaphore()
