"""A condition variable (`condvar cv`, `wait cv, m`, `notify cv`): its state is (waiting
threads, notified threads), both sorted. `wait` releases the mutex (or rlock, entirely)
and sleeps, phase `("cv", times held)`; once notified it takes the mutex back (blocking).
Which waiter a `notify` wakes is up to the scheduler."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    NO_THREAD,
    STAY,
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
    added,
    remap_ids,
    remove,
)
from gilcheck.sync.common import Counted


def _wait(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    waiting, woken = obj
    lock = site.partner
    assert lock is not None
    owner = lock.owner(partner)
    if phase == 0:  # release the mutex and sleep
        if owner != tid:
            return Misuse(
                f"`wait {site.name}, {site.partner_name}` without holding `{site.partner_name}`"
            )
        freed, saved = lock.release_all(partner)
        return (Moved((added(waiting, tid), woken), ("cv", saved), STAY, 0, freed),)
    if phase[0] == "cv-late":  # timed out: takes the mutex back, blocking; yields false
        if owner != NO_THREAD:
            return BLOCKED
        left = (remove(waiting, tid), remove(woken, tid))
        return (Moved(left, 0, choice=1, partner=lock.retake(tid, phase[1]), value=False),)
    if tid in waiting:
        if site.spurious_wakeups:
            woke = (remove(waiting, tid), woken)
            return (Moved(woke, ("cv-woken", phase[1]), STAY, 0, spurious=True),)
        return BLOCKED
    if owner != NO_THREAD:  # notified (or woken): takes the mutex back, blocking
        return BLOCKED
    return (Moved((waiting, remove(woken, tid)), 0, choice=1, partner=lock.retake(tid, phase[1])),)


def _timeout(
    site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj, python: bool
) -> Moved | None:
    """A timed wait not yet notified times out. In Python code it stays a target of `notify`
    until it has taken the mutex back (CPython's `Condition` removes its waiter only then);
    in native code it stops being one now."""
    waiting, woken = obj
    if phase == 0 or phase[0] != "cv" or tid not in waiting:
        return None
    left = obj if python else (remove(waiting, tid), woken)
    return Moved(left, ("cv-late", phase[1]), STAY)


def _notify(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    waiting, woken = obj
    if len(waiting) <= 1:
        return _notify_all(site, obj, tid, phase, partner)
    return tuple(
        Moved((remove(waiting, chosen), added(woken, chosen)), choice=i)
        for i, chosen in enumerate(waiting)
    )


def _notify_all(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    waiting, woken = obj
    return (Moved(((), added(woken, *waiting))),)


class Condvar(Counted):
    """The condvar primitive."""

    kind = "condvar"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "wait": Verb(
            "wait",
            _wait,
            partner=("mutex", "rlock"),
            blocks=True,
            usage="`wait cv, m` waits on a condvar",
            timeout=_timeout,
        ),
        "notify": Verb("notify", _notify),
        "notify_all": Verb("notify_all", _notify_all),
    }

    def initial(self, count: int | None) -> Obj:
        """No waiter."""
        return ((), ())

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """Waiting and notified threads mapped."""
        return (remap_ids(obj[0], f), remap_ids(obj[1], f))

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Who waits and who was notified."""
        waiting, notified = obj
        parts = []
        if waiting:
            parts.append("waiting: " + ", ".join(name(t) for t in waiting))
        if notified:
            parts.append("notified: " + ", ".join(name(t) for t in notified))
        return (), "; ".join(parts) or "no waiter"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Waits, notifies someone, or wakes up."""
        (waiting_before, woken_before), (waiting, woken) = old, new
        if tid in waiting and tid not in waiting_before:
            return f"waits on condvar {label}"
        newly = [t for t in woken if t not in woken_before]
        if newly:
            return f"notifies {label}: wakes {', '.join(name(t) for t in newly)}"
        if tid in woken_before and tid not in woken:
            return f"wakes up from {label}"
        if tid in waiting_before and tid not in waiting:
            return f"is no longer a waiter of condvar {label}"
        return f"condvar {label} changes"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A waiter goes on; a notify with no waiter is lost."""
        if verb == "wait":
            return f"goes on past condvar {name}"
        return f"notifies {name}: no thread waits, so the notify is lost"

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for a notify (from threads that may notify), or for the mutex back."""
        owner = partner[0] if isinstance(partner, tuple) else partner
        if phase != 0 and phase[0] == "cv-late":
            return (
                f"timed out on {view.label} and waits for {view.partner_label}, "
                f"held by {view.name_or_nobody(owner)}",
                [owner],
            )
        if tid in obj[0]:
            notifiers = view.may_use(("notify", "notify_all"))
            could = view.could(("notify", "notify_all"), "notify it")
            if not notifiers and not could.clause:
                return f"waits on condvar {view.label}, which no running thread can notify", []
            if could.itself_only:
                return (
                    f"waits on condvar {view.label}, which no other thread can notify"
                    f"{could.clause}",
                    [],
                )
            return f"waits on condvar {view.label} for a notify{could.clause}", notifiers
        return (
            f"was notified on {view.label} and waits for {view.partner_label}, "
            f"held by {view.name_or_nobody(owner)}",
            [owner],
        )


PRIMITIVE = Condvar()
