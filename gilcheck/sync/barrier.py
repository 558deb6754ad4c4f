"""A barrier (`barrier b = 3`): its state is (threads arrived, generation % 2, threads still
to leave). A thread that arrives waits (phase `("barrier", generation)`) until the
generation turns, then leaves. As CPython's `threading.Barrier` drains, a thread arriving
while the threads of the last opening have not all left waits for them: so the barrier
never opens twice before a waiter has left, and the generation's parity tells it apart."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import STAY, Moved, Namer, Obj, Phase, Site, Step, Verb, WaitView
from gilcheck.sync.common import Counted


def _wait(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    arrived, generation, leaving = obj
    if phase != 0:  # arrived earlier: waits until the generation turns, then leaves
        if generation == phase[1]:
            return ()
        return (Moved((arrived, generation, leaving - 1), choice=1),)
    if leaving:  # the last opening's threads are still leaving (draining)
        return ()
    if arrived + 1 >= (site.count or 1):  # the last party: everyone goes on
        return (Moved((0, 1 - generation, arrived)),)
    return (Moved((arrived + 1, generation, leaving), ("barrier", generation), STAY),)


class Barrier(Counted):
    """The barrier primitive."""

    kind = "barrier"
    count_minimum: int | None = 1
    verbs: ClassVar[Mapping[str, Verb]] = {
        "wait": Verb("wait", _wait, blocks=True, usage="`wait b` at a barrier")
    }

    def initial(self, count: int | None) -> Obj:
        """Nobody arrived, first generation, nobody leaving."""
        return (0, 0, 0)

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """How many arrived."""
        return (), f"{obj[0]} arrived"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Opens, one more arrived, or a waiter leaves."""
        if new[1] != old[1]:
            return f"barrier {label} opens"
        if new[2] < old[2]:
            return f"barrier {label} has opened: goes on"
        return f"arrives at barrier {label} ({new[0]} waiting)"

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for the parties still to come: threads that may wait on it and do not yet;
        or, arriving while it drains, for the threads of its last opening to leave."""
        waiters = view.may_use(("wait",))
        if phase == 0 and obj[2]:
            return (
                f"waits at barrier {view.label} until the {obj[2]} thread(s) it released have left",
                [t for t in waiters if t not in view.not_at(waiters, "wait")],
            )
        coming = view.not_at(waiters, "wait")
        return f"waits at barrier {view.label} ({obj[0]} of {view.count} arrived)", coming


PRIMITIVE = Barrier()
