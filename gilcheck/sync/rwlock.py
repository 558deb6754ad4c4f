"""A readers-writer lock (`rwlock l`): its state is (writer or NO_THREAD, reader threads
sorted with repeats, waiting writers sorted). Writer-preferring: a blocked writer registers
as waiting (a step of its own, phase `("rw",)`), and while one waits new readers block; a
freed lock goes to a waiting writer first."""

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
    remap_id,
    remap_ids,
    remove,
    timed_out,
)


def _read(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    writer, readers, waiting = obj
    if writer != NO_THREAD or waiting:
        return BLOCKED
    return (Moved((writer, added(readers, tid), waiting)),)


def _write(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    writer, readers, waiting = obj
    free = writer == NO_THREAD and not readers
    if phase == 0:
        if free and not waiting:
            return (Moved((tid, readers, waiting)),)
        # blocked: from now on it is a waiting writer
        return (Moved((writer, readers, added(waiting, tid)), ("rw",), STAY),)
    if not free:
        return BLOCKED
    return (Moved((tid, readers, remove(waiting, tid)), choice=1),)


def _write_timeout(
    site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj, python: bool
) -> Moved | None:
    """A timed-out writer stops waiting: readers blocked only by it go on."""
    writer, readers, waiting = obj
    if tid not in waiting:
        return None
    return Moved((writer, readers, remove(waiting, tid)), value=False)


def _release(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    writer, readers, waiting = obj
    if writer == tid:
        return (Moved((NO_THREAD, readers, waiting)),)
    if tid in readers:
        at = readers.index(tid)  # one of its read locks
        return (Moved((writer, readers[:at] + readers[at + 1 :], waiting)),)
    return Misuse("releases rwlock `{label}`, which it does not hold")


class RwLock:
    """The rwlock primitive."""

    kind = "rwlock"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "acquire_read": Verb("acquire_read", _read, blocks=True, timeout=timed_out),
        "acquire_write": Verb("acquire_write", _write, blocks=True, timeout=_write_timeout),
        "release": Verb("release", _release, left_mover=True),
    }

    def initial(self, count: int | None) -> Obj:
        """Free, nobody waiting."""
        return (NO_THREAD, (), ())

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """Writer, readers and waiting writers mapped."""
        writer, readers, waiting = obj
        return (remap_id(writer, f), remap_ids(readers, f), remap_ids(waiting, f))

    def holders(self, obj: Obj) -> tuple[int, ...]:
        """The writer, or the readers."""
        return (obj[0],) if obj[0] != NO_THREAD else tuple(obj[1])

    def holds(self, obj: Obj, tid: int, label: str) -> str | None:
        """The write lock, or its read locks."""
        if obj[0] == tid:
            return f"the write lock on {label}"
        if tid in obj[1]:
            count = obj[1].count(tid)
            reads = "a read lock" if count == 1 else f"{count} read locks"
            return f"{reads} on {label}"
        return None

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Write-locked, read, or free; writers waiting."""
        writer, readers, waiting = obj
        if writer != NO_THREAD:
            who = name(writer)
            holders: tuple[str, ...] = (who,)
            text = f"write-locked by {who}"
        elif readers:
            holders = tuple(name(t) for t in readers)
            text = "read by " + ", ".join(holders)
        else:
            holders, text = (), "free"
        if waiting:
            text += "; writers waiting: " + ", ".join(name(t) for t in waiting)
        return holders, text

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Takes or releases a read or the write lock, or waits as a writer."""
        (writer_before, readers_before, waiting_before), (writer, readers, waiting) = old, new
        if writer == tid and writer_before != tid:
            return f"takes the write lock on {label}"
        if writer_before == tid and writer != tid:
            return f"releases the write lock on {label}"
        if readers.count(tid) > readers_before.count(tid):
            return f"takes a read lock on {label}"
        if readers.count(tid) < readers_before.count(tid):
            return f"releases a read lock on {label}"
        if tid in waiting and tid not in waiting_before:
            return f"cannot take the write lock on {label}: waits as a writer (new readers block)"
        if tid in waiting_before and tid not in waiting:
            return f"stops waiting for the write lock on {label}: readers blocked only by it go on"
        return f"rwlock {label} changes"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """Every step changes it."""
        return None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for the writer, the readers, or (a reader) the waiting writers."""
        writer, readers, waiting = obj
        label = view.label

        def names(tids: list[int]) -> str:
            return ", ".join("itself" if t == tid else view.name_or_nobody(t) for t in tids)

        if verb == "acquire_read":
            if writer != NO_THREAD:
                return f"waits for a read lock on {label}, write-locked by {names([writer])}", [
                    writer
                ]
            writers = list(waiting)
            return (
                f"waits for a read lock on {label}: new readers wait while a writer waits "
                f"(writer-preferring), here {names(writers)}"
            ), writers
        if writer != NO_THREAD:
            return f"waits for the write lock on {label}, held by {names([writer])}", [writer]
        holders = sorted(set(readers))
        return f"waits for the write lock on {label}, read-locked by {names(holders)}", holders


PRIMITIVE = RwLock()
