"""A barrier (`barrier b = 3`): its state is (threads arrived, generation % 2). A thread
that arrives waits (phase `("barrier", generation)`) until the generation turns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import STAY, Moved, Namer, Obj, Phase, Site, Step, Verb, WaitView
from gilcheck.sync.common import Counted


def _wait(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    arrived, generation = obj
    if phase != 0:  # arrived earlier: waits until the generation turns
        return () if generation == phase[1] else (Moved(obj, choice=1),)
    if arrived + 1 >= (site.count or 1):  # the last party: everyone goes on
        return (Moved((0, 1 - generation)),)
    return (Moved((arrived + 1, generation), ("barrier", generation), STAY),)


class Barrier(Counted):
    """The barrier primitive."""

    kind = "barrier"
    count_minimum: int | None = 1
    verbs: ClassVar[Mapping[str, Verb]] = {
        "wait": Verb("wait", _wait, blocks=True, usage="`wait b` at a barrier")
    }

    def initial(self, count: int | None) -> Obj:
        """Nobody arrived, first generation."""
        return (0, 0)

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """How many arrived."""
        return (), f"{obj[0]} arrived"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Opens, or one more arrived."""
        if new[0] == 0:
            return f"barrier {label} opens"
        return f"arrives at barrier {label} ({new[0]} waiting)"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A waiter goes on once it has opened."""
        return f"barrier {name} has opened: goes on" if verb == "wait" else None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for the parties still to come: threads that may wait on it and do not yet."""
        coming = view.not_at(view.may_use(("wait",)), "wait")
        return f"waits at barrier {view.label} ({obj[0]} of {view.count} arrived)", coming


PRIMITIVE = Barrier()
