"""An event (`event e`, `threading.Event`): its state is (flag, waiting threads, woken
threads), both sorted. `wait e` on a set event goes on at once; on a clear one it takes a
step of its own to start waiting (phase `("event",)`), and `set e` wakes every thread that
has started waiting: each returns even if `clear e` runs before it moves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    STAY,
    Moved,
    Namer,
    Obj,
    Phase,
    Site,
    Step,
    TidMap,
    Verb,
    WaitView,
    added,
    remap_ids,
    remove,
)
from gilcheck.sync.common import Counted

_WAITING = ("event",)


def _set(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    _, waiting, woken = obj
    return (Moved((True, (), added(woken, *waiting)) if waiting else (True, (), woken)),)


def _clear(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved((False, obj[1], obj[2])),)


def _wait(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    flag, waiting, woken = obj
    if phase == 0:
        if flag:
            return (Moved(obj),)
        return (Moved((flag, added(waiting, tid), woken), _WAITING, STAY),)
    if tid in woken:
        return (Moved((flag, waiting, remove(woken, tid)), 0, choice=1),)
    return BLOCKED


def _timeout(
    site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj, python: bool
) -> Moved | None:
    """A waiter not yet woken times out and stops waiting."""
    flag, waiting, woken = obj
    if tid not in waiting:
        return None
    return Moved((flag, remove(waiting, tid), woken), value=False)


class Event(Counted):
    """The event primitive."""

    kind = "event"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "set": Verb("set", _set),
        "clear": Verb("clear", _clear),
        "wait": Verb("wait", _wait, blocks=True, usage="`wait e` on an event", timeout=_timeout),
    }

    def initial(self, count: int | None) -> Obj:
        """Not set, nobody waiting."""
        return (False, (), ())

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """Waiting and woken threads mapped."""
        return (obj[0], remap_ids(obj[1], f), remap_ids(obj[2], f))

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Set or not, and who waits or was woken."""
        flag, waiting, woken = obj
        parts = ["set" if flag else "not set"]
        if waiting:
            parts.append("waiting: " + ", ".join(name(t) for t in waiting))
        if woken:
            parts.append("woken: " + ", ".join(name(t) for t in woken))
        return (), "; ".join(parts)

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Set (waking its waiters), cleared, or a waiter starts waiting, wakes or leaves."""
        (flag_before, waiting_before, woken_before), (flag, waiting, woken) = old, new
        if tid in waiting and tid not in waiting_before:
            return f"event {label} is not set: starts waiting for it"
        if tid in woken_before and tid not in woken:
            return f"wakes up: event {label} was set"
        if tid in waiting_before and tid not in waiting:
            return f"stops waiting for event {label}"
        if flag != flag_before or woken != woken_before:
            if not flag:
                return f"clears event {label}"
            newly = [t for t in woken if t not in woken_before]
            wakes = f": wakes {', '.join(name(t) for t in newly)}" if newly else ""
            return f"sets event {label}{wakes}"
        return f"event {label} changes"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A wait on a set event goes on; setting or clearing changes nothing."""
        if verb == "wait":
            return f"event {name} is set: goes on"
        return f"event {name} is already {'set' if verb == 'set' else 'clear'}"

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for a thread that may set it; says who could, and why they do not."""
        setters = view.may_use(("set",))
        could = view.could(("set",), "set it")
        if not setters and not could.clause:
            return f"waits for event {view.label}, which no running thread can set", []
        if could.itself_only:
            return f"waits for event {view.label}, which no other thread can set{could.clause}", []
        return f"waits for event {view.label} to be set{could.clause}", setters


PRIMITIVE = Event()
