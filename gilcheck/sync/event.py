"""An event (`event e`): its state is a flag; `wait e` blocks until it is set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import BLOCKED, Moved, Namer, Obj, Phase, Site, Step, Verb, WaitView
from gilcheck.sync.common import Counted


def _set(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved(True),)


def _clear(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved(False),)


def _wait(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved(obj),) if obj else BLOCKED


class Event(Counted):
    """The event primitive."""

    kind = "event"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "set": Verb("set", _set),
        "clear": Verb("clear", _clear),
        "wait": Verb("wait", _wait, blocks=True, usage="`wait e` on an event"),
    }

    def initial(self, count: int | None) -> Obj:
        """Not set."""
        return False

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Set or not."""
        return (), "set" if obj else "not set"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Set or cleared."""
        return f"{'sets' if new else 'clears'} event {label}"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A wait on a set event goes on; setting or clearing changes nothing."""
        if verb == "wait":
            return f"event {name} is set: goes on"
        return f"event {name} is already {'set' if verb == 'set' else 'clear'}"

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for a thread that may set it."""
        setters = view.may_use(("set",))
        if not setters:
            return f"waits for event {view.label}, which no running thread can set", []
        return f"waits for event {view.label} to be set", setters


PRIMITIVE = Event()
