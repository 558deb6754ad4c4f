"""An event loop (`eventloop lp`, `eventloop lp: any_order`; an asyncio loop running in a
thread, a tokio current-thread runtime, a GUI main loop): a single thread that runs its
tasks one at a time.

Each task submitted to it (`submit lp, g(a)`) runs as a coroutine of the loop's thread; the
engine gives it a thread entry of its own (system/engine/handlers_loops.py), and this
primitive says which task holds the loop. Its state is (holder, ready, awaiting): the task
holding the loop (-1: none), the tasks ready to take it in the order they became ready,
and the tasks inside a `suspend { }` block, each (task, whether it gave the loop back,
the GIL count it gave back with the loop, how many `suspend` blocks it entered inside that
one: a nested await, through a call). Its count says in which order ready tasks run:
READY_ORDER (the oldest first, asyncio's) or ANY_ORDER (any of them: tokio promises none).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    NO_THREAD,
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
)
from gilcheck.sync.common import Counted

READY_ORDER, ANY_ORDER = 0, 1
L_HOLDER, L_READY, L_AWAITING = range(3)


def _submit(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """A new task (`partner`, its thread entry) is ready at once."""
    holder, ready, awaiting = obj
    return (Moved((holder, (*ready, partner), awaiting), value=True),)


def may_take(obj: Obj, tid: int, order: int) -> bool:
    """Whether ready task `tid` may take the loop now."""
    holder, ready, _ = obj
    if holder != NO_THREAD or tid not in ready:
        return False
    return order == ANY_ORDER or ready[0] == tid


def _take(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """A ready task takes the loop (it starts, or goes on after a `suspend` block)."""
    if not may_take(obj, tid, site.count or READY_ORDER):
        return BLOCKED
    _, ready, awaiting = obj
    return (Moved((tid, tuple(t for t in ready if t != tid), awaiting)),)


def _finish(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """The task has returned: the loop is free."""
    _, ready, awaiting = obj
    return (Moved((NO_THREAD, ready, awaiting)),)


def _suspend(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """The task enters a `suspend` block, still holding the loop (or one inside another:
    a nested await, which the outer block's rule governs)."""
    holder, ready, awaiting = obj
    entry = awaiting_entry(obj, tid)
    rest = tuple(e for e in awaiting if e[0] != tid)
    new = (tid, False, 0, 0) if entry is None else (*entry[:3], entry[3] + 1)
    return (Moved((holder, ready, tuple(sorted((*rest, new))))),)


def _give_back(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """The task's statement cannot complete: it gives the loop back (with `partner`, the
    GIL count it gives back too)."""
    _, ready, awaiting = obj
    entry = awaiting_entry(obj, tid)
    depth = entry[3] if entry is not None else 0
    rest = tuple(e for e in awaiting if e[0] != tid)
    return (Moved((NO_THREAD, ready, tuple(sorted((*rest, (tid, True, partner, depth)))))),)


def _resume(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """The `suspend` block ends: a task that kept the loop goes on; one that gave it back
    becomes ready (the value: the GIL count to take back, or None when it kept the loop);
    a nested block's end only leaves it."""
    holder, ready, awaiting = obj
    entry = next(e for e in awaiting if e[0] == tid)
    rest = tuple(e for e in awaiting if e[0] != tid)
    if entry[3]:
        inner = (*entry[:3], entry[3] - 1)
        return (Moved((holder, ready, tuple(sorted((*rest, inner)))), value=None),)
    if not entry[1]:
        return (Moved((holder, ready, rest), value=None),)
    return (Moved((holder, (*ready, tid), rest), value=entry[2]),)


def awaiting_entry(obj: Obj, tid: int) -> tuple[int, bool, int, int] | None:
    """A task's entry among those inside a `suspend` block (None: not inside one)."""
    for entry in obj[L_AWAITING]:
        if entry[0] == tid:
            return entry  # type: ignore[no-any-return]
    return None


class EventLoop(Counted):
    """The event loop primitive."""

    kind = "eventloop"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "submit": Verb(
            "submit",
            _submit,
            operand=True,
            yields=True,
            usage="`let f = submit lp, g(a)` queues a task on an event loop",
        ),
        # A task's own steps, written by no spec.
        "take": Verb("take", _take, blocks=True),
        "finish": Verb("finish", _finish),
        "suspend": Verb("suspend", _suspend),
        "give_back": Verb("give_back", _give_back),
        "resume": Verb("resume", _resume, yields=True),
    }

    def initial(self, count: int | None) -> Obj:
        """No task."""
        return (NO_THREAD, (), ())

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """Its tasks mapped by `f` (the ready order kept)."""
        holder, ready, awaiting = obj
        return (
            remap_id(holder, f),
            tuple(f(t) for t in ready),
            tuple(sorted((f(t), gave, gil, depth) for t, gave, gil, depth in awaiting)),
        )

    def holders(self, obj: Obj) -> tuple[int, ...]:
        """The task holding it."""
        return (obj[L_HOLDER],) if obj[L_HOLDER] != NO_THREAD else ()

    def holds(self, obj: Obj, tid: int, label: str) -> str | None:
        """The task holding the loop holds it."""
        return f"event loop {label}" if obj[L_HOLDER] == tid else None

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Who holds it, who is ready, who awaits."""
        holder, ready, awaiting = obj
        parts = [f"held by {name(holder)}" if holder != NO_THREAD else "free"]
        if ready:
            parts.append("ready: " + ", ".join(name(t) for t in ready))
        gave = [name(t) for t, gave_back, _, _ in awaiting if gave_back]
        if gave:
            parts.append("awaiting: " + ", ".join(gave))
        return ((name(holder),) if holder != NO_THREAD else ()), "; ".join(parts)

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """A task queued, taking the loop, giving it back or ready again."""
        if new[L_HOLDER] == tid and old[L_HOLDER] != tid:
            return f"takes event loop {label}"
        if old[L_HOLDER] == tid and new[L_HOLDER] != tid:
            if awaiting_entry(new, tid) is not None:
                return f"cannot go on at once: gives event loop {label} back while it awaits"
            return f"gives event loop {label} back"
        added = [t for t in new[L_READY] if t not in old[L_READY]]
        if added and added[0] == tid:
            return f"its awaited operations are done: ready to take event loop {label} back"
        if added:
            return f"queues task {name(added[0])} on event loop {label}"
        return f"uses event loop {label}"

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """A ready task waits for the task holding the loop (or the ones before it)."""
        holder = obj[L_HOLDER]
        if holder != NO_THREAD:
            return f"waits for event loop {view.label}, held by {view.name(holder)}", [holder]
        return f"waits for its turn on event loop {view.label}", []


PRIMITIVE = EventLoop()
