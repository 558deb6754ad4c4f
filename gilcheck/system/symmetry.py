"""Symmetry reduction: one representative state per orbit of permuted identical threads.

For each thread array proven symmetric (semantics/symmetry.py), the representative sorts
the array's threads by a key made of everything a thread owns: its frames and flags, and
its elements of the arrays indexed by `self`, and where copies of its index sit. Keys are
ordered by their text (computed once per distinct key), so the order is total and the
same on every run and in every process.

Permuting threads moves, together: the threads (each gets its new `self`), their elements
of `self`-indexed lock, var and channel arrays, every thread id stored in the state (the
GIL and stdout holders, lock owners, condvar and rwlock queues, rendezvous senders), and
every copy of an index (in locals and channel buffers the analysis found to hold one).

A representative need not be the least element of its orbit: ties keep their order, which
only costs reduction, never soundness, since it is always a permutation of the state.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

from gilcheck.semantics import ir
from gilcheck.semantics.symmetry import ROTATIONS, SymmetricArray
from gilcheck.sync import registry
from gilcheck.sync.base import Primitive
from gilcheck.system.memo import IdentityMemo
from gilcheck.system.objects import canonical
from gilcheck.system.state import (
    C_PENDING,
    F_CODE,
    F_LOCALS,
    F_PC,
    H_COUNT,
    H_KIND,
    H_ORIGIN,
    H_STATE,
    S_CHANS,
    S_GIL,
    S_HEAP,
    S_LOCKS,
    S_STDOUT,
    S_THREADS,
    S_VARS,
    T_FRAMES,
    T_PHASE,
    T_SELF,
    State,
    heap_of,
)

TidMap = Callable[[int], int]
# Per symmetric array, where each thread index goes: permutation[a][old] = new.
Permutation = tuple[tuple[int, ...], ...]


def compose(first: Permutation, then: Permutation) -> Permutation:
    """The permutation applying `first`, then `then`.

    The spawned threads' part grows as threads are spawned: a shorter part moves the
    threads it does not name to themselves.
    """
    out: list[tuple[int, ...]] = []
    for a, b in zip(first, then, strict=True):
        size = max(len(a), len(b))
        a, b = _extended(a, size), _extended(b, size)
        out.append(tuple(b[a[i]] for i in range(size)))
    return tuple(out)


def _extended(position: tuple[int, ...], size: int) -> tuple[int, ...]:
    """A permutation of `size` elements that is `position` on its first ones."""
    return position + tuple(range(len(position), size))


def inverse(permutation: Permutation) -> Permutation:
    """The permutation undoing `permutation`."""
    out: list[tuple[int, ...]] = []
    for position in permutation:
        back = [0] * len(position)
        for old, new in enumerate(position):
            back[new] = old
        out.append(tuple(back))
    return tuple(out)


def remap_sync(prim: Primitive, value: Any, f: TidMap) -> Any:
    """A sync object's state with every thread id in it mapped by `f` (its primitive's map)."""
    return prim.remap(value, f)


class _Array:
    """One symmetric thread array, placed in the engine's state layout."""

    def __init__(self, info: SymmetricArray, base_tid: int, lock_offset: dict[str, int]) -> None:
        self.size = info.size
        self.base = base_tid
        self.locks = tuple(lock_offset[kind] + base for kind, base in info.lock_arrays)
        self.owned_locks = tuple(
            (lock_offset[kind] + base, registry.primitive(kind)) for kind, base in info.lock_arrays
        )
        self.vars = info.var_arrays
        self.chans = info.chan_arrays
        self.index_chans = info.index_chans
        slots: dict[int, list[int]] = {}
        for code, slot in sorted(info.index_locals):
            slots.setdefault(code, []).append(slot)
        self.index_slots = {code: tuple(s) for code, s in slots.items()}
        self.index_sends = info.index_sends
        self.rotational = info.rotational
        # Whether threads outside the array can hold its indexes in their locals or
        # rendezvous offers (code other than the array's own keeps them).
        self.held_outside = any(code != info.code for code in slots) or any(
            code != info.code for code, _ in info.index_sends
        )
        self.in_other_locals = any(code != info.code for code in slots)


class Canonicalizer:
    """Maps states to their representatives under the symmetric thread arrays' permutations."""

    def __init__(
        self,
        arrays: tuple[SymmetricArray, ...],
        thread_ids: dict[tuple[int, int], int],
        lock_offset: dict[str, int],
        lock_kinds: tuple[Primitive, ...],
        spawned_from: int | None = None,
        declared_channels: int | None = None,
        pool_slots: tuple[int, ...] = (),
    ) -> None:
        # Programs that make objects at run time: their objects are named anew after a
        # permutation (the walk that names them visits threads in id order).
        self.declared_channels = declared_channels
        self.pool_slots = pool_slots
        self.arrays = tuple(
            _Array(info, thread_ids[(info.thread, 0)], lock_offset) for info in arrays
        )
        self.lock_kinds = lock_kinds
        # Spawned threads (ids from `spawned_from` on) are permuted too, when not None.
        self.spawned_from = spawned_from
        self._array_names = tuple(
            f"{info.name}[{info.size}]" + (ROTATIONS if info.rotational else "") for info in arrays
        )
        # Each key's sort token: its text, so that every process (the workers of a
        # parallel search) orders threads alike. Computed once per distinct key.
        self._keys: dict[object, str] = {}
        self._texts = SpawnedTexts()

    @property
    def names(self) -> tuple[str, ...]:
        """What is permuted, for reports: the arrays, and spawned threads."""
        return self._array_names + (("spawned threads",) if self.spawned_from is not None else ())

    def __call__(self, state: State) -> State:
        """The representative of `state`'s orbit."""
        moved = False
        for array in self.arrays:
            position = self._sorting(state, array)
            if position is not None:
                state = permute(state, array, position, self.lock_kinds)
                moved = True
        if self.spawned_from is not None:
            order = spawned_sorting(
                state, self.spawned_from, self.lock_kinds, self._keys, self._texts
            )
            if order is not None:
                state = permute_spawned(state, self.spawned_from, order, self.lock_kinds)
                moved = True
        return self._renamed(state) if moved else state

    def _renamed(self, state: State) -> State:
        """A permuted state with its run-time objects named canonically again."""
        if self.declared_channels is None:
            return state
        return canonical(state, self.declared_channels, self.pool_slots).state

    @staticmethod
    def _copies(state: State, array: _Array) -> list[list[object]]:
        """Per index: the places outside the array's threads that hold a copy of it: in
        channel buffers, then in other threads' locals, by thread id."""
        copies = channel_copies(state, array)
        if array.index_slots:
            base, size = array.base, array.size
            for tid, th in enumerate(state[S_THREADS]):
                if not base <= tid < base + size:
                    for index, place in thread_copies(th, tid, array):
                        copies[index].append(place)
        return copies

    def with_permutation(self, state: State) -> tuple[State, Permutation]:
        """The representative, and the permutation that makes it from `state`."""
        positions: list[tuple[int, ...]] = []
        for array in self.arrays:
            position = self._sorting(state, array)
            if position is not None:
                state = permute(state, array, position, self.lock_kinds)
            positions.append(tuple(position or range(array.size)))
        if self.spawned_from is not None:
            first = self.spawned_from
            order = spawned_sorting(state, first, self.lock_kinds, self._keys, self._texts)
            if order is not None:
                state = permute_spawned(state, first, order, self.lock_kinds)
            positions.append(tuple(order or range(len(state[S_THREADS]) - first)))
        return self._renamed(state), tuple(positions)

    def identity(self) -> Permutation:
        """The permutation that moves nothing."""
        spawned: tuple[tuple[int, ...], ...] = ((),) if self.spawned_from is not None else ()
        return tuple(tuple(range(array.size)) for array in self.arrays) + spawned

    def apply(self, state: State, permutation: Permutation) -> State:
        """`state` with every array's thread at index i moved to index permutation[a][i]
        (and spawned thread number i, from the first spawned one, to permutation[-1][i])."""
        for array, position in zip(self.arrays, permutation, strict=False):
            if any(new != old for old, new in enumerate(position)):
                state = permute(state, array, list(position), self.lock_kinds)
        if self.spawned_from is not None:
            first = self.spawned_from
            order = _extended(permutation[-1], len(state[S_THREADS]) - first)
            if any(new != old for old, new in enumerate(order)):
                state = permute_spawned(state, first, list(order), self.lock_kinds)
        return self._renamed(state)

    def thread_map(self, permutation: Permutation) -> Callable[[int], int]:
        """Where a thread id goes under a permutation."""
        spans = [
            (array.base, array.size, position)
            for array, position in zip(self.arrays, permutation, strict=False)
        ]
        if self.spawned_from is not None:
            spans.append((self.spawned_from, len(permutation[-1]), permutation[-1]))

        def f(tid: int) -> int:
            for base, size, position in spans:
                if base <= tid < base + size:
                    return base + position[tid - base]
            return tid

        return f

    def _sorting(self, state: State, array: _Array) -> list[int] | None:
        """The positions that sort the array's threads by key (None: already sorted); for
        an array reduced by rotations alone, the rotation that makes the least state."""
        if array.rotational:
            return self._rotation(state, array)
        return sorting_positions([self._rank(key) for key in self.keys(state, array)])

    def _rotation(self, state: State, array: _Array) -> list[int] | None:
        """The rotation (thread i to (i + r) % N) whose image of the state has the least
        ranks, index by index; the first such r on a tie (None: r = 0)."""
        size = array.size
        best = [self._rank(key) for key in self.keys(state, array)]
        best_position: list[int] | None = None
        for r in range(1, size):
            position = [(i + r) % size for i in range(size)]
            image = permute(state, array, position, self.lock_kinds)
            ranks = [self._rank(key) for key in self.keys(image, array)]
            if ranks < best:
                best, best_position = ranks, position
        return best_position

    def _rank(self, key: tuple[object, ...]) -> str:
        """A key's rank text, computed once per distinct key."""
        rank = self._keys.get(key)
        if rank is None:
            rank = self._keys[key] = rank_text(key)
        return rank

    def keys(self, state: State, array: _Array) -> list[tuple[object, ...]]:
        """The sort key of each of the array's threads, by index: everything it owns.

        A thread's rank is its key's text; the key starts with the thread without its
        `self` (explore/symmetric_records.py relies on that to rank records)."""
        threads = state[S_THREADS]
        base, size = array.base, array.size
        gil, stdout = state[S_GIL], state[S_STDOUT]
        locks, vars_, chans = state[S_LOCKS], state[S_VARS], state[S_CHANS]
        # Where copies of each index sit outside the array's threads (channel buffers,
        # other threads' locals): part of the key, so that states differing only in
        # which worker a message names get the same representative.
        copies: list[list[object]] | None = None
        if array.index_chans or array.index_slots:
            copies = self._copies(state, array)
        heap = heap_of(state)
        out: list[tuple[object, ...]] = []
        for k in range(size):
            tid = base + k
            # The thread without its `self` (and its array, the same for all of them).
            own = threads[tid][:T_SELF]
            if heap:  # its objects by what they are, not by their numbers
                own = blur_objects(own, heap, _relative_to(tid))
            key: list[object] = [own, gil == tid, stdout == tid]
            key += lock_items(locks, array, k)
            key += var_items(vars_, array, k)
            key += chan_items(chans, array, k)
            if copies is not None:
                key.append(tuple(copies[k]))
            out.append(tuple(key))
        return out


def lock_items(locks: tuple[Any, ...], array: _Array, k: int) -> list[object]:
    """Index k's elements of the array's `self`-indexed locks, as its key holds them."""
    relative = _relative_to(array.base + k)
    return [prim.remap(locks[lid + k], relative) for lid, prim in array.owned_locks]


def var_items(vars_: tuple[Any, ...], array: _Array, k: int) -> list[object]:
    """Index k's elements of the array's `self`-indexed vars, as its key holds them."""
    return [vars_[vid + k] for vid in array.vars]


def chan_items(chans: tuple[Any, ...], array: _Array, k: int) -> list[object]:
    """Index k's elements of the array's `self`-indexed channels, as its key holds them."""
    tid = array.base + k
    return [_chan_key(chans[cid + k], tid) for cid in array.chans]


def channel_copies(state: State, array: _Array) -> list[list[object]]:
    """Per index of the array: the places in channel buffers that hold a copy of it."""
    return buffer_copies(state[S_CHANS], array)


def buffer_copies(chans: tuple[Any, ...], array: _Array) -> list[list[object]]:
    """Per index of the array: the places in the channels part's buffers holding a copy."""
    size = array.size
    copies: list[list[object]] = [[] for _ in range(size)]
    for cid in array.index_chans:
        for position, value in enumerate(chans[cid][0]):
            if type(value) is int and 0 <= value < size:
                copies[value].append((cid, position))
    return copies


def thread_copies(th: tuple[Any, ...], tid: int, array: _Array) -> list[tuple[int, object]]:
    """The copies of the array's indexes in thread `tid`'s locals: (index, place) each."""
    out: list[tuple[int, object]] = []
    size = array.size
    for depth, frame in enumerate(th[T_FRAMES]):
        slots = array.index_slots.get(frame[F_CODE])
        if slots:
            for slot in slots:
                value = frame[F_LOCALS][slot]
                if type(value) is int and 0 <= value < size:
                    out.append((value, (tid, depth, slot)))
    return out


def rank_text(value: object) -> str:
    """The text a key ranks by: its repr with every bool written as the int it equals.

    Values that are equal rank alike whatever objects hold them: `True == 1` (the language's
    booleans are 0 and 1), so a state's parts may hold either, depending on which the store
    kept first, and the ranks are cached by equality."""
    return repr(_ints(value))


def _ints(value: Any) -> Any:
    kind = type(value)
    if kind is bool:
        return int(value)
    if kind is tuple:
        return tuple([_ints(item) for item in value])
    if kind is list:
        return [_ints(item) for item in value]
    return value


def sorting_positions(ranks: list[str]) -> list[int] | None:
    """The positions that sort threads by rank, ties keeping their order (position[old
    index] = new index), or None when they are sorted already."""
    previous = ""
    for rank in ranks:
        if rank < previous:
            break
        previous = rank
    else:
        return None  # already in order: the state is its own representative
    order = sorted(range(len(ranks)), key=ranks.__getitem__)
    position = [0] * len(ranks)
    for new, old in enumerate(order):
        position[old] = new
    return position


def _offer(
    th: tuple[Any, ...], sends: frozenset[tuple[int, int]], index: Callable[[Any], Any]
) -> tuple[Any, ...]:
    """A thread whose rendezvous offer is an index, with the offered index mapped.

    Only a plain offer, `("offer", value)`, is read: a channel a waiting thread keeps
    (its phase pinned to the channel it read) is never permuted (`canonicalizer_for`)."""
    phase = th[T_PHASE]
    if type(phase) is not tuple or len(phase) != 2 or phase[0] != "offer" or not th[T_FRAMES]:
        return th
    top = th[T_FRAMES][-1]
    if (top[F_CODE], top[F_PC]) not in sends:
        return th
    return (*th[:T_PHASE], (phase[0], index(phase[1])), *th[T_PHASE + 1 :])


def _relative_to(tid: int) -> TidMap:
    """Thread ids with `tid` itself marked, for keys that must not depend on numbering."""
    return lambda t: -2 if t == tid else t


def _chan_key(chan: tuple[Any, ...], tid: int) -> tuple[Any, ...]:
    pending = chan[C_PENDING]
    if pending == tid:
        return (*chan[:C_PENDING], -2, *chan[C_PENDING + 1 :])
    return chan


def permute(
    state: State, array: _Array, position: list[int], lock_kinds: tuple[Primitive, ...]
) -> State:
    """`state` with the array's thread at index i moved to index position[i]."""
    base, size = array.base, array.size
    old_threads = state[S_THREADS]
    threads = list(old_threads)
    for tid, th in enumerate(old_threads):
        inside = base <= tid < base + size
        if inside or array.index_slots or array.index_sends:
            new_self = position[tid - base] if inside else None
            threads[base + new_self if new_self is not None else tid] = permute_thread(
                th, array, position, new_self
            )
    f = _thread_map(array, position)
    gil, stdout = state[S_GIL], state[S_STDOUT]
    return (
        tuple(threads),
        f(gil) if gil >= 0 else gil,
        permute_vars(state[S_VARS], array, position),
        permute_locks(state[S_LOCKS], array, position, lock_kinds),
        permute_chans(state[S_CHANS], array, position),
        f(stdout) if stdout >= 0 else stdout,
        *_tail(state, f),
    )


def _thread_map(array: _Array, position: list[int] | tuple[int, ...]) -> TidMap:
    base, size = array.base, array.size

    def f(t: int) -> int:
        return base + position[t - base] if base <= t < base + size else t

    return f


def _index_map(array: _Array, position: list[int] | tuple[int, ...]) -> Callable[[Any], Any]:
    """Where a value that is an index of the array goes (other values stay)."""
    size = array.size

    def index(value: Any) -> Any:
        return position[value] if type(value) is int and 0 <= value < size else value

    return index


def permute_thread(
    th: tuple[Any, ...],
    array: _Array,
    position: list[int] | tuple[int, ...],
    new_self: int | None,
) -> tuple[Any, ...]:
    """A thread as a permutation leaves it: the copies of indexes in its locals and its
    rendezvous offer renamed, and for a thread of the array, its new `self`."""
    index = _index_map(array, position)
    index_slots = array.index_slots
    if index_slots:
        frames = []
        for frame in th[T_FRAMES]:
            slots = index_slots.get(frame[F_CODE])
            if slots:
                local_values = list(frame[F_LOCALS])
                for slot in slots:
                    local_values[slot] = index(local_values[slot])
                frame = (*frame[:F_LOCALS], tuple(local_values), *frame[F_LOCALS + 1 :])
            frames.append(frame)
        th = (tuple(frames), *th[T_FRAMES + 1 :])
    if array.index_sends:
        th = _offer(th, array.index_sends, index)
    if new_self is not None:
        th = (*th[:T_SELF], new_self, *th[T_SELF + 1 :])
    return th


def permute_locks(
    locks: tuple[Any, ...],
    array: _Array,
    position: list[int] | tuple[int, ...],
    lock_kinds: tuple[Primitive, ...],
) -> tuple[Any, ...]:
    """The locks part with its thread ids moved and the array's own locks permuted."""
    f = _thread_map(array, position)
    moved = [prim.remap(value, f) for prim, value in zip(lock_kinds, locks, strict=True)]
    return _owned_moved(moved, array.locks, array.size, position)


def permute_vars(
    vars_: tuple[Any, ...], array: _Array, position: list[int] | tuple[int, ...]
) -> tuple[Any, ...]:
    """The vars part with the array's own vars permuted."""
    return _owned_moved(list(vars_), array.vars, array.size, position)


def permute_chans(
    chans: tuple[Any, ...], array: _Array, position: list[int] | tuple[int, ...]
) -> tuple[Any, ...]:
    """The channels part with its rendezvous senders and index messages renamed and the
    array's own channels permuted."""
    f = _thread_map(array, position)
    index = _index_map(array, position)
    moved = []
    for cid, chan in enumerate(chans):
        pending = chan[C_PENDING]
        if pending >= 0 and f(pending) != pending:
            chan = (*chan[:C_PENDING], f(pending), *chan[C_PENDING + 1 :])
        if cid in array.index_chans and chan[0]:
            chan = (tuple(index(v) for v in chan[0]), *chan[1:])
        moved.append(chan)
    return _owned_moved(moved, array.chans, array.size, position)


def _owned_moved(
    values: list[Any], starts: Any, size: int, position: list[int] | tuple[int, ...]
) -> tuple[Any, ...]:
    """`values` with each array of `size` elements from each of `starts` permuted."""
    old = list(values)
    for start in starts:
        for k in range(size):
            values[start + position[k]] = old[start + k]
    return tuple(values)


def thread_support(th: tuple[Any, ...], array: _Array) -> tuple[int, ...]:
    """The indexes whose new places `permute_thread` reads (besides the new `self`): the
    copies in the thread's locals and offer."""
    seen: set[int] = set()
    for index, _ in thread_copies(th, 0, array):
        seen.add(index)
    if array.index_sends:
        _offer(th, array.index_sends, _noting(seen, array.size))
    return tuple(sorted(seen))


def part_support(
    kind: int, part: tuple[Any, ...], array: _Array, lock_kinds: tuple[Primitive, ...]
) -> tuple[int, ...]:
    """The indexes whose new places a permutation of a vars (kind 0), locks (1) or
    channels (2) part depends on: the result is the same for any two permutations that
    agree on them.

    Those are the indexes of threads the part names (lock holders and queues, rendezvous
    senders), the indexes its channel buffers hold, and the elements of the array's own
    arrays that differ from the value most of them hold: the others hold equal values, so
    which of them goes where changes nothing."""
    base, size = array.base, array.size
    seen: set[int] = set()

    def noted(t: int) -> int:
        if base <= t < base + size:
            seen.add(t - base)
        return t

    if kind == 0:
        starts = array.vars
    elif kind == 1:
        starts = array.locks
        for prim, value in zip(lock_kinds, part, strict=True):
            prim.remap(value, noted)
    else:
        starts = array.chans
        index = _noting(seen, size)
        for cid, chan in enumerate(part):
            if chan[C_PENDING] >= 0:
                noted(chan[C_PENDING])
            if cid in array.index_chans:
                for value in chan[0]:
                    index(value)
    for start in starts:
        elements = part[start : start + size]
        if elements:
            usual = Counter(elements).most_common(1)[0][0]
            seen.update(k for k, value in enumerate(elements) if value != usual)
    return tuple(sorted(seen))


def _noting(seen: set[int], size: int) -> Callable[[Any], Any]:
    """An index map that notes the indexes it is asked about and moves nothing."""

    def index(value: Any) -> Any:
        if type(value) is int and 0 <= value < size:
            seen.add(value)
        return value

    return index


def _tail(state: State, f: TidMap) -> tuple[Any, ...]:
    """The parts after stdout's holder, with the thread ids in run-time objects mapped."""
    if len(state) <= S_HEAP or not state[S_HEAP]:
        return state[S_STDOUT + 1 :]
    heap = tuple(
        (
            *entry[:H_STATE],
            registry.primitive(entry[H_KIND]).remap(entry[H_STATE], f),
            *entry[H_STATE + 1 :],
        )
        for entry in state[S_HEAP]
    )
    return (*state[S_STDOUT + 1 : S_HEAP], heap, *state[S_HEAP + 1 :])


def blur_objects(value: Any, heap: tuple[Any, ...], f: TidMap) -> Any:
    """A value with each reference to a run-time object replaced by what the object is (its
    kind, count, state with thread ids mapped by `f`, and origin): a sort key that does not
    depend on how objects are numbered."""
    if type(value) is not tuple or not value:
        return value
    if len(value) == 2 and value[0] == "obj":
        entry = heap[value[1]]
        prim = registry.primitive(entry[H_KIND])
        return (
            "obj",
            entry[H_KIND],
            entry[H_COUNT],
            prim.remap(entry[H_STATE], f),
            entry[H_ORIGIN],
        )
    return tuple(blur_objects(item, heap, f) for item in value)


def remap_value(value: Any, f: TidMap) -> Any:
    """A value with every thread handle in it, `("thread", tid)`, naming thread f(tid)."""
    if type(value) is tuple and len(value) == 2:
        tag, inner = value
        if tag == "thread":
            new = f(inner)
            return value if new == inner else ("thread", new)
        if tag in _WRAPPING:
            moved = remap_value(inner, f)
            return value if moved is inner else (tag, moved)
    return value


_WRAPPING = ("ok", "err", "pyobj", "pyerr")


def _remap_thread(th: tuple[Any, ...], f: TidMap) -> tuple[Any, ...]:
    """A thread whose locals and rendezvous offer name threads through `f`."""
    frames = tuple(
        (
            *frame[:F_LOCALS],
            tuple(remap_value(v, f) for v in frame[F_LOCALS]),
            *frame[F_LOCALS + 1 :],
        )
        for frame in th[T_FRAMES]
    )
    phase = th[T_PHASE]
    if type(phase) is tuple and len(phase) == 2 and phase[0] == "offer":
        phase = ("offer", remap_value(phase[1], f))
    return (frames, *th[T_FRAMES + 1 : T_PHASE], phase, *th[T_PHASE + 1 :])


def permute_spawned(
    state: State, first: int, position: list[int], lock_kinds: tuple[Primitive, ...]
) -> State:
    """`state` with spawned thread `first + i` renumbered `first + position[i]` everywhere:
    its place among the threads, and every id and handle of it in the state."""
    size = len(position)

    def f(t: int) -> int:
        return first + position[t - first] if first <= t < first + size else t

    old = state[S_THREADS]
    threads = list(old)
    for tid, th in enumerate(old):
        threads[f(tid)] = _remap_thread(th, f)
    locks = tuple(
        remap_sync(prim, value, f) for prim, value in zip(lock_kinds, state[S_LOCKS], strict=True)
    )
    chans = []
    for chan in state[S_CHANS]:
        pending = chan[C_PENDING]
        buffer = tuple(remap_value(v, f) for v in chan[0])
        chans.append(
            (
                buffer,
                *chan[1:C_PENDING],
                f(pending) if pending >= 0 else pending,
                *chan[C_PENDING + 1 :],
            )
        )
    gil, stdout = state[S_GIL], state[S_STDOUT]
    return (
        tuple(threads),
        f(gil) if gil >= 0 else gil,
        tuple(remap_value(v, f) for v in state[S_VARS]),
        locks,
        tuple(chans),
        f(stdout) if stdout >= 0 else stdout,
        *_tail(state, f),
    )


class SpawnedTexts:
    """What `spawned_sorting` keeps from state to state, by identity (successors share
    most threads with their parents): the text of each spawned thread as the holder of
    handles, and of each as it ranks itself (by its index and the heap)."""

    __slots__ = ("holders", "owns")

    def __init__(self) -> None:
        self.holders: IdentityMemo[str] = IdentityMemo(_TEXTS_KEPT)
        self.owns: IdentityMemo[dict[int, tuple[Any, str]]] = IdentityMemo(_TEXTS_KEPT)


def spawned_sorting(
    state: State,
    first: int,
    lock_kinds: tuple[Primitive, ...],
    ranks_of: dict[object, str],
    texts: SpawnedTexts,
) -> list[int] | None:
    """The positions that sort the spawned threads by a key of what each holds and where
    its handles are (None: already sorted). Every other thread id in a key is blurred, so
    that the key does not depend on how the others are numbered.

    A thread's rank is the text of its key, `(places, own, holds the GIL, holds stdout,
    roles in locks, rendezvous sends)`, composed from the texts of its items."""
    threads = state[S_THREADS]
    size = len(threads) - first
    if size < 2:
        return None
    heap = heap_of(state)
    # Where each spawned thread's handles are: (holder, frame depth, slot) with a spawned
    # holder blurred, a var slot, or a channel place.
    places: list[list[object]] = [[] for _ in range(size)]
    blurred = _blur_all(first)
    for tid, th in enumerate(threads):
        holder: object = None
        for depth, frame in enumerate(th[T_FRAMES]):
            for slot, value in enumerate(frame[F_LOCALS]):
                k = _handle(value, first, size)
                if k is None:
                    continue
                if holder is None:
                    # A spawned holder is named by its own state (its handles blurred), so
                    # that threads whose handles different spawned threads hold do not tie.
                    holder = tid if tid < first else texts.holders.get(th)
                    if holder is None:
                        holder = texts.holders.put(th, rank_text(_remap_thread(th, blurred)))
                places[k].append((holder, depth, slot))
    for slot, value in enumerate(state[S_VARS]):
        k = _handle(value, first, size)
        if k is not None:
            places[k].append(("var", slot))
    for cid, chan in enumerate(state[S_CHANS]):
        for at, value in enumerate(chan[0]):
            k = _handle(value, first, size)
            if k is not None:
                places[k].append(("chan", cid, at))
    gil, stdout, locks, chans = state[S_GIL], state[S_STDOUT], state[S_LOCKS], state[S_CHANS]
    # The locks that name spawned threads: only there can a thread have a role.
    naming: list[tuple[int, Primitive, Any, set[int]]] = []
    for lid, (prim, value) in enumerate(zip(lock_kinds, locks, strict=True)):
        named: set[int] = set()

        def seen(t: int, named: set[int] = named) -> int:
            if t >= first:
                named.add(t)
            return t

        prim.remap(value, seen)
        if named:
            naming.append((lid, prim, value, named))
    ranks: list[str] = []
    for k in range(size):
        tid = first + k

        def blur(t: int, tid: int = tid) -> int:
            return -2 if t == tid else -3 if t >= first else t

        roles = []
        for lid, prim, value, named in naming:
            if tid in named:
                marked = prim.remap(value, blur)
                if marked != prim.remap(value, blurred):
                    roles.append((lid, marked))
        pending = tuple(cid for cid, chan in enumerate(chans) if chan[C_PENDING] == tid)
        # Where its handles are comes first: threads kept apart by their handles (`a`,
        # `b`) then keep their order and are not renumbered for nothing.
        th = threads[tid]
        owns = texts.owns.get(th)
        if owns is None:
            owns = texts.owns.put(th, {})
        known = owns.get(tid)
        if known is None or known[0] is not heap:
            own = _remap_thread(th, blur)
            if heap:  # its objects by what they are, not by their numbers
                own = blur_objects(own, heap, blur)
            known = owns[tid] = (heap, rank_text(own))
        where_text = _cached_text(tuple(places[k]), ranks_of)
        ranks.append(
            "".join(
                (
                    "(",
                    where_text,
                    ", ",
                    known[1],
                    ", 1" if gil == tid else ", 0",
                    ", 1" if stdout == tid else ", 0",
                    ", ",
                    _cached_text(tuple(roles), ranks_of),
                    ", ",
                    _cached_text(pending, ranks_of),
                    ")",
                )
            )
        )
    if all(a <= b for a, b in itertools.pairwise(ranks)):
        return None
    order = sorted(range(size), key=ranks.__getitem__)
    position = [0] * size
    for new, old in enumerate(order):
        position[old] = new
    return position


def _handle(value: Any, first: int, size: int) -> int | None:
    """The spawned thread (by its index from `first`) whose handle `value` is, wrapped in
    `ok`, `err` or a Python object or not; None if it is none's."""
    while type(value) is tuple and len(value) == 2:
        tag, inner = value
        if tag == "thread":
            return inner - first if first <= inner < first + size else None
        if tag not in _WRAPPING:
            return None
        value = inner
    return None


def _cached_text(value: tuple[Any, ...], texts: dict[object, str]) -> str:
    """`rank_text(value)`, kept in `texts`."""
    if not value:
        return "()"
    text = texts.get(value)
    if text is None:
        text = texts[value] = rank_text(value)
    return text


_TEXTS_KEPT = 1 << 16
"""Threads' texts `SpawnedTexts` keeps (of each kind) before it starts afresh."""


def _blur_all(first: int) -> TidMap:
    return lambda t: -3 if t >= first else t


def lock_kinds_of(program: ir.Program) -> tuple[Primitive, ...]:
    """The primitive of every sync object slot of a state, in the engine's layout."""
    declared = [(res.kind, res.size or 1) for res in program.resources]
    return tuple(registry.primitive(kind) for kind in registry.layout(declared))
