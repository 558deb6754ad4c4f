"""A countdown latch (`latch l = 3`, `countdown l`, `wait l`; C++ `std::latch`, Java's
`CountDownLatch`): its state is its count. `countdown` lowers it by one and never blocks
(below zero is a misuse); `wait` blocks until it is 0. No thread id in its state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    Misuse,
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


def _countdown(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    if obj <= 0:
        return Misuse("`countdown` takes latch `{label}` below zero")
    return (Moved(obj - 1),)


def _wait(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved(obj),) if obj == 0 else BLOCKED


class Latch(Counted):
    """The latch primitive."""

    kind = "latch"
    count_minimum: int | None = 0
    verbs: ClassVar[Mapping[str, Verb]] = {
        "countdown": Verb("countdown", _countdown, usage="`countdown l` lowers a latch's count"),
        "wait": Verb(
            "wait",
            _wait,
            blocks=True,
            usage="`wait l` until a latch's count is 0",
            timeout=timed_out,
        ),
    }

    def initial(self, count: int | None) -> Obj:
        """Its declared count."""
        return count or 0

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Its count."""
        return (), "open (count 0)" if obj == 0 else f"count {obj}"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Counted down, perhaps to 0."""
        if new == 0:
            return f"counts latch {label} down to 0: its waiters go on"
        return f"counts latch {label} down: {old} -> {new}"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A wait on an open latch goes on."""
        return f"latch {name} is at 0: goes on" if verb == "wait" else None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for the threads that may still count it down; says who could, and why
        they do not."""
        counters = view.may_use(("countdown",))
        could = view.could(("countdown",), "count it down")
        if not counters and not could.clause:
            return (
                f"waits for latch {view.label} (count {obj}), which no running thread "
                "can count down",
                [],
            )
        if could.itself_only:
            return (
                f"waits for latch {view.label} (count {obj}), which no other thread "
                f"can count down{could.clause}",
                [],
            )
        return (
            f"waits for latch {view.label} to count down to 0 (count {obj}){could.clause}",
            counters,
        )


PRIMITIVE = Latch()
