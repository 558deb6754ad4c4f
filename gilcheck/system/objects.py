"""Objects made at run time, identified up to naming: the canonical form of a state.

Objects made at run time (`let m = mutex()`, `future()`, `let (tx, rx) = channel(..)`) are
numbered in a state by the order in which a fixed walk of the state first reaches them, not
by when they were made, and an object nothing reaches is gone. Two states that differ only
in how their objects are numbered, or in objects nothing can use any more, are then one
state (LANGUAGE.md, "v1.2: run-time objects").

The walk: every thread in id order (its frames' locals, then its phase), the shared vars,
other processes' parts (their vars and copies of the declared channels), the declared
channels' buffers, the declared pools' task queues; then, breadth first, what
the objects reached hold (a future's value, a channel's buffer, a pool's queue). Objects
held by a thread that still exists (a locked mutex) stay even when nothing refers to them;
they come last, ordered by their contents.
"""

from __future__ import annotations

from typing import Any

from gilcheck.sync import registry
from gilcheck.system.memo import IdentityMemo
from gilcheck.system.state import (
    C_BUF,
    ENDED,
    F_LOCALS,
    GONE,
    H_KIND,
    H_STATE,
    S_CHANS,
    S_HEAP,
    S_LOCKS,
    S_PROCS,
    S_THREADS,
    S_VARS,
    T_FRAMES,
    T_PHASE,
    T_STATUS,
    State,
    heap_of,
)


class Canonical:
    """A state in canonical form, and how its objects were renumbered: `objects[new]` and
    `channels[new - first run-time channel]` are the old numbers."""

    __slots__ = ("channels", "objects", "state")

    def __init__(self, state: State, objects: list[int], channels: list[int]) -> None:
        self.state = state
        self.objects = objects
        self.channels = channels

    @property
    def live(self) -> int:
        """The run-time objects alive in it (channels included)."""
        return len(self.objects) + len(self.channels)


_REFERENCES: IdentityMemo[tuple[tuple[int, int], ...]] = IdentityMemo(1 << 15)
_THREAD_REFERENCES: IdentityMemo[tuple[tuple[int, int], ...]] = IdentityMemo(1 << 15)


def references(value: Any) -> tuple[tuple[int, int], ...]:
    """The run-time objects, `(0, number)`, and channels, `(1, number)`, a value refers to,
    in the walk's order (duplicates kept); kept by identity, as a successor shares most of
    its values with its parent."""
    if type(value) is not tuple or not value:
        return ()
    known = _REFERENCES.get(value)
    if known is None:
        found: list[tuple[int, int]] = []
        _collect(value, found)
        known = _REFERENCES.put(value, tuple(found))
    return known


def thread_references(th: tuple[Any, ...]) -> tuple[tuple[int, int], ...]:
    """`references` of a thread's frames' locals, then of its phase (the walk's order),
    kept by identity as `references` keeps values."""
    known = _THREAD_REFERENCES.get(th)
    if known is None:
        found: list[tuple[int, int]] = []
        for frame in th[T_FRAMES]:
            found.extend(references(frame[F_LOCALS]))
        found.extend(references(th[T_PHASE]))
        known = _THREAD_REFERENCES.put(th, tuple(found))
    return known


def _collect(value: Any, found: list[tuple[int, int]]) -> None:
    if type(value) is not tuple or not value:
        return
    if len(value) == 2:
        tag, inner = value
        if tag == "obj":
            found.append((0, inner))
            return
        if (tag == "tx" or tag == "rx" or tag == "chan") and type(inner) is int:
            found.append((1, inner))
            return
    for item in value:
        _collect(item, found)


def canonical(state: State, declared_channels: int, pool_slots: tuple[int, ...] = ()) -> Canonical:
    """The state with its run-time objects numbered canonically and the unreachable ones
    gone (the same state object when nothing changes); `pool_slots` are the declared
    objects whose state holds values (the task queues of declared pools)."""
    heap = heap_of(state)
    chans = state[S_CHANS]
    objects: list[int] = []
    channels: list[int] = []
    seen_objects: dict[int, int] = {}
    seen_channels: dict[int, int] = {}
    pending: list[tuple[int, int]] = []  # (0, object) or (1, channel) whose contents to walk

    def visit(value: Any) -> None:
        noted(references(value))

    def noted(found: tuple[tuple[int, int], ...]) -> None:
        for what, inner in found:
            if what == 0:
                if inner not in seen_objects:
                    seen_objects[inner] = len(objects)
                    objects.append(inner)
                    pending.append((0, inner))
            elif inner >= declared_channels and inner not in seen_channels:
                seen_channels[inner] = len(channels)
                channels.append(inner)
                pending.append((1, inner))

    def drain() -> None:
        walked = 0  # (pending is a queue: the walk is breadth first)
        while walked < len(pending):
            what, at = pending[walked]
            walked += 1
            if what == 0:
                visit(heap[at][H_STATE])
            else:
                visit(chans[at][C_BUF])
        pending.clear()

    threads = state[S_THREADS]
    for th in threads:
        noted(thread_references(th))
    visit(state[S_VARS])
    if len(state) > S_PROCS:  # other processes' globals and copies of the declared channels
        visit(state[S_PROCS])
    for cid in range(declared_channels):
        visit(chans[cid][C_BUF])
    for slot in pool_slots:
        visit(state[S_LOCKS][slot])
    drain()
    if len(objects) < len(heap):
        existing = {tid for tid, th in enumerate(threads) if th[T_STATUS] not in (ENDED, GONE)}
        held = [
            oid
            for oid, entry in enumerate(heap)
            if oid not in seen_objects
            and any(
                t in existing for t in registry.primitive(entry[H_KIND]).holders(entry[H_STATE])
            )
        ]
        for oid in sorted(held, key=lambda o: repr(heap[o])):
            seen_objects[oid] = len(objects)
            objects.append(oid)
            pending.append((0, oid))
        drain()
    unchanged = (
        len(objects) == len(heap)
        and len(channels) == len(chans) - declared_channels
        and all(old == new for new, old in enumerate(objects))
        and all(old == new + declared_channels for new, old in enumerate(channels))
    )
    if unchanged:
        return Canonical(state, objects, channels)
    renamed = _renamed(state, objects, channels, declared_channels, pool_slots)
    return Canonical(renamed, objects, channels)


def _renamed(
    state: State,
    objects: list[int],
    channels: list[int],
    declared: int,
    pool_slots: tuple[int, ...],
) -> State:
    """The state with object `objects[i]` renumbered i and channel `channels[i]` renumbered
    `declared + i` everywhere; the others gone."""
    object_map = {old: new for new, old in enumerate(objects)}
    channel_map = {old: new + declared for new, old in enumerate(channels)}

    def rename(value: Any) -> Any:
        if type(value) is not tuple or not value:
            return value
        if len(value) == 2:
            tag, inner = value
            if tag == "obj":
                return ("obj", object_map[inner])
            if (tag == "tx" or tag == "rx" or tag == "chan") and type(inner) is int:
                if inner < declared:
                    return value
                return (tag, channel_map[inner])
        return tuple(rename(item) for item in value)

    threads = tuple(
        (
            tuple((f[0], f[1], rename(f[F_LOCALS]), *f[3:]) for f in th[T_FRAMES]),
            *th[T_FRAMES + 1 : T_PHASE],
            rename(th[T_PHASE]),
            *th[T_PHASE + 1 :],
        )
        for th in state[S_THREADS]
    )
    chans = state[S_CHANS]
    new_chans = tuple(
        (rename(chan[C_BUF]), *chan[C_BUF + 1 :])
        for chan in (*chans[:declared], *(chans[c] for c in channels))
    )
    locks = state[S_LOCKS]
    if pool_slots:
        locks = tuple(rename(lock) if i in pool_slots else lock for i, lock in enumerate(locks))
    if len(state) <= S_HEAP:  # a program that makes channels only
        return (threads, state[1], rename(state[S_VARS]), locks, new_chans, *state[5:])
    heap = state[S_HEAP]
    new_heap = tuple(
        (*heap[o][:H_STATE], rename(heap[o][H_STATE]), *heap[o][H_STATE + 1 :]) for o in objects
    )
    return (
        threads,
        state[1],
        rename(state[S_VARS]),
        locks,
        new_chans,
        *state[5:S_HEAP],
        new_heap,
        *(rename(part) for part in state[S_HEAP + 1 :]),
    )
