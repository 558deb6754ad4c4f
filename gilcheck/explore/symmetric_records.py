"""Symmetry reduction on records: a successor's representative, made from its record.

With symmetry, the step table (explore/steptable.py) patches a representative's record
into its successors' records as it does without; each successor then goes to its orbit's
representative here. The result is byte for byte the record of what
`Canonicalizer.__call__` (system/symmetry.py) makes of the decoded successor, so a search
finds the same states with the same ids as one that decodes every successor.

The work is in what the representative depends on, each part computed once:
- a thread's rank starts with the text of the thread without its `self`, which depends
  on the thread alone: one text per thread number;
- the rest of its rank (the GIL and stdout holders, its elements of the arrays indexed by
  `self`, where copies of its index sit) depends on the record's shared part and, when
  other threads' locals hold indexes, on those threads: one list per such context;
- a permutation moves each thread (a new `self`, its locals' indexes renumbered) and the
  shared part (elements moved, thread ids renamed): one result per thread or shared
  part and permutation.

Records with run-time objects (the extended record) and programs whose permutations
rename objects or spawned threads are reduced by decoding (`RecordCanonicalizer.applies`).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from gilcheck.explore.store import NativeStateStore, StateStore, StoreFull, thread_numbers
from gilcheck.explore.symmetric import SymmetricSystem
from gilcheck.system.model import ThreadwiseSystem, TransitionSystem
from gilcheck.system.state import S_THREADS, T_SELF
from gilcheck.system.symmetry import (
    Canonicalizer,
    channel_copies,
    holds_index,
    permute,
    rank_text,
    sorting_positions,
    thread_copies,
)

_TAIL_SIZE = 17  # gil + 1, vars, locks, channels, stdout + 1, ended (steptable._TAIL)
_NUMBER = struct.Struct("<I")
_MOVE = struct.Struct("<Ii")  # a moved thread's key: its number, an index or -1
_HOLDER = struct.Struct("<H")
# Where the vars, locks and channels parts' numbers sit in a record's shared part.
_PARTS = (slice(2, 6), slice(6, 10), slice(10, 14))
CACHE_LIMIT = 1 << 20
"""Entries each cache keeps before it starts afresh (a bound on its memory)."""


def table_with_symmetry(
    system: TransitionSystem, store: StateStore
) -> tuple[ThreadwiseSystem, RecordCanonicalizer] | None:
    """For a system reduced by symmetry: the engine whose threads' steps the step table
    patches, and the map of the records it makes to their representatives' records (None
    where the table cannot serve it)."""
    if not isinstance(system, SymmetricSystem) or not RecordCanonicalizer.applies(system.canonical):
        return None
    threadwise = system.engine.threadwise()
    if threadwise is None:
        return None
    return threadwise, RecordCanonicalizer(system.canonical, store)


def _text(data: bytes) -> bytes:
    """A text in the C map's values: its length, then its bytes."""
    return _NUMBER.pack(len(data)) + data


def _tuple_text(items: list[str]) -> str:
    """The text of a tuple whose items' texts are `items` (what repr makes of it)."""
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


class RecordCanonicalizer:
    """Maps a state's record to its representative's record (`__call__`)."""

    def __init__(self, canonical: Canonicalizer, store: StateStore) -> None:
        self.canonical = canonical
        self.store = store
        self.arrays = canonical.arrays
        # Per array: whether a permutation changes threads outside it (their locals or
        # rendezvous offers hold indexes of it).
        self._moves_others = tuple(a.held_outside for a in self.arrays)
        self._own: dict[int, str] = {}  # thread number -> its text without `self`
        self._rests: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self._mids: dict[tuple[Any, ...], tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._places: dict[tuple[Any, ...], tuple[tuple[int, str], ...]] = {}
        self._thread_moves: dict[tuple[Any, ...], bytes] = {}
        self._free_moves: dict[tuple[Any, ...], bytes] = {}
        self._part_moves: dict[tuple[Any, ...], bytes] = {}
        # The same parts in C (`_records.Canon`), for the C loop, once it is in use: every
        # part is added there when it is computed here, and both start afresh together.
        self.native: Any = None

    def use_native(self, store: NativeStateStore) -> Any:
        """The C form of this map (`_records.Canon`), made empty: from now on it gets every
        part computed here."""
        layout = tuple(
            (a.base, a.size, a.in_other_locals, others, a.rotational)
            for a, others in zip(self.arrays, self._moves_others, strict=True)
        )
        self._forget()
        self.native = store.new_canon(layout)
        return self.native

    def _make_room(self) -> None:
        """Start afresh (Python and C alike) once the parts kept outgrow CACHE_LIMIT."""
        if sum(map(len, self._parts())) > CACHE_LIMIT:
            self._forget()
            if self.native is not None:
                self.native.clear()

    def _parts(self) -> tuple[dict[Any, Any], ...]:
        return (
            self._own,
            self._rests,
            self._mids,
            self._places,
            self._thread_moves,
            self._free_moves,
            self._part_moves,
        )

    def _forget(self) -> None:
        for part in self._parts():
            part.clear()

    @staticmethod
    def applies(canonical: Canonicalizer) -> bool:
        """Whether records can be reduced without decoding: not where permutations also
        renumber spawned threads or rename run-time objects."""
        return canonical.spawned_from is None and canonical.declared_channels is None

    def __call__(self, record: bytes) -> bytes:
        """The record of the representative of the state whose record is `record`."""
        n = record[0] | record[1] << 8
        cut = 2 + 4 * n
        if len(record) != cut + _TAIL_SIZE:
            return self._decoded(record)  # run-time objects: blurred keys, renaming
        numbers = thread_numbers(n).unpack_from(record, 2)
        for a, array in enumerate(self.arrays):
            if array.rotational:
                record = self._rotated(record, numbers, cut, a)
            else:
                position = sorting_positions(self._ranks(record, numbers, cut, a))
                if position is None:
                    continue
                record = self._permuted(record, numbers, cut, a, tuple(position))
            numbers = thread_numbers(n).unpack_from(record, 2)
        return record

    def _ranks(self, record: bytes, numbers: tuple[int, ...], cut: int, a: int) -> list[str]:
        """Each of array `a`'s threads' rank in the record, by index (less its first
        character, the same in all: `Canonicalizer.keys` gives the whole)."""
        array = self.arrays[a]
        base = array.base
        tail = record[cut:]
        rests: Sequence[str] | None
        if array.in_other_locals:  # other threads' locals hold indexes: ranks name them
            rests = self._rests_with_places(record, numbers, a, tail)
        else:
            rests = self._rests.get((a, tail))
            if rests is None:
                rests = self._rests_of(record, a, tail)
        own = self._own
        ranks = []
        for k, rest in enumerate(rests):
            number = numbers[base + k]
            text = own.get(number)
            if text is None:
                text = self._own_text(number)
            ranks.append(text + rest)
        return ranks

    def _rotated(self, record: bytes, numbers: tuple[int, ...], cut: int, a: int) -> bytes:
        """For an array reduced by rotations: the rotation of the record whose ranks are
        least (the first on a tie), as `Canonicalizer._rotation` chooses."""
        size = self.arrays[a].size
        best, best_ranks = record, self._ranks(record, numbers, cut, a)
        for r in range(1, size):
            position = tuple((i + r) % size for i in range(size))
            image = self._permuted(record, numbers, cut, a, position)
            image_numbers = thread_numbers(len(numbers)).unpack_from(image, 2)
            ranks = self._ranks(image, image_numbers, cut, a)
            if ranks < best_ranks:
                best, best_ranks = image, ranks
        return best

    def _decoded(self, record: bytes) -> bytes:
        """The representative's record, by decoding the record."""
        store = self.store
        return store.encode(self.canonical(store.decode_record(record)))

    def _own_text(self, number: int) -> str:
        """The text of thread number `number` without its `self`: how its rank starts."""
        self._make_room()
        text = self._own[number] = rank_text(self.store.thread(number)[:T_SELF])
        if self.native is not None:
            self.native.add(b"o" + _NUMBER.pack(number), text.encode())
        return text

    def _rests_of(self, record: bytes, a: int, tail: bytes) -> tuple[str, ...]:
        """The rest of each of array `a`'s threads' ranks, after its text without `self`,
        when no other thread's locals hold its indexes: it depends on the shared part."""
        self._make_room()
        state = self.store.decode_record(record)
        rests = []
        for key in self.canonical.keys(state, self.arrays[a]):
            full, own = rank_text(key), rank_text(key[0])
            # A key's text is "(" + its own part's text + the rest.
            if not full.startswith("(" + own):
                raise AssertionError("a rank does not start with the thread's own text")
            rests.append(full[1 + len(own) :])
        known = self._rests[(a, tail)] = tuple(rests)
        if self.native is not None:
            self.native.add(
                b"r" + bytes([a]) + tail,
                b"".join(_text(rest.encode()) for rest in rests),
            )
        return known

    def _rests_with_places(
        self, record: bytes, numbers: tuple[int, ...], a: int, tail: bytes
    ) -> list[str]:
        """The rest of each of array `a`'s threads' ranks where other threads' locals hold
        its indexes: what the shared part gives (all but the places of copies in locals,
        `_mids`), then the places each other thread adds (`_places`)."""
        array = self.arrays[a]
        mids = self._mids.get((a, tail))
        if mids is None:
            mids = self._mids_of(record, a, tail)
        items = [list(chan_items) for _, chan_items in mids]
        base, size = array.base, array.size
        for tid, number in enumerate(numbers):
            if base <= tid < base + size:
                continue
            places = self._places.get((a, tid, number))
            if places is None:
                places = self._places_of(a, tid, number)
            for k, text in places:
                items[k].append(text)
        return [mid + _tuple_text(found) + ")" for (mid, _), found in zip(mids, items, strict=True)]

    def _mids_of(
        self, record: bytes, a: int, tail: bytes
    ) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Per index of array `a`: its rank's text between its own part and the places of
        its copies, and the places in channel buffers among those (as texts)."""
        self._make_room()
        state = self.store.decode_record(record)
        array = self.arrays[a]
        in_channels = channel_copies(state, array)
        mids = []
        for key, chan_places in zip(self.canonical.keys(state, array), in_channels, strict=True):
            full, own, copies = rank_text(key), rank_text(key[0]), rank_text(key[-1])
            # A key's text is "(" + its own part's text + the middle + its copies' text + ")".
            if not (full.startswith("(" + own) and full.endswith(copies + ")")):
                raise AssertionError("a rank is not made of its parts")
            mid = full[1 + len(own) : len(full) - len(copies) - 1]
            mids.append((mid, tuple(rank_text(place) for place in chan_places)))
        known = self._mids[(a, tail)] = tuple(mids)
        if self.native is not None:
            self.native.add(
                b"r" + bytes([a]) + tail,
                b"".join(
                    _text(mid.encode())
                    + _NUMBER.pack(len(places))
                    + b"".join(_text(place.encode()) for place in places)
                    for mid, places in mids
                ),
            )
        return known

    def _places_of(self, a: int, tid: int, number: int) -> tuple[tuple[int, str], ...]:
        """The places in thread `tid` (whose number is `number`) holding copies of array
        `a`'s indexes: (index, the place's text) each."""
        self._make_room()
        array = self.arrays[a]
        places = tuple(
            (index, rank_text(place))
            for index, place in thread_copies(self.store.thread(number), tid, array)
        )
        self._places[(a, tid, number)] = places
        if self.native is not None:
            self.native.add(
                b"p" + bytes([a]) + _NUMBER.pack(tid) + _NUMBER.pack(number),
                _NUMBER.pack(len(places))
                + b"".join(_NUMBER.pack(k) + _text(text.encode()) for k, text in places),
            )
        return places

    def _permuted(
        self, record: bytes, numbers: tuple[int, ...], cut: int, a: int, position: tuple[int, ...]
    ) -> bytes:
        """The record with array `a`'s thread at index i moved to index position[i]."""
        array = self.arrays[a]
        base, size = array.base, array.size
        tail = record[cut:]
        part_moves = self._part_moves
        parts = []
        for kind, where in enumerate(_PARTS):
            new = part_moves.get((a, kind, position, tail[where]))
            if new is None:
                return self._permuted_slowly(record, numbers, cut, a, position)
            parts.append(new)
        moved = [b""] * len(numbers)
        free, thread_moves = self._free_moves, self._thread_moves
        others = self._moves_others[a]
        for tid, number in enumerate(numbers):
            k = tid - base
            if 0 <= k < size:
                new = free.get((a, number, position[k]))
                if new is None:
                    new = thread_moves.get((a, position, number, k))
                    if new is None:
                        return self._permuted_slowly(record, numbers, cut, a, position)
                moved[base + position[k]] = new
            elif others:
                new = free.get((a, number, -1))
                if new is None:
                    new = thread_moves.get((a, position, number, -1))
                    if new is None:
                        return self._permuted_slowly(record, numbers, cut, a, position)
                moved[tid] = new
            else:
                moved[tid] = record[2 + 4 * tid : 6 + 4 * tid]
        gil = _holder(tail[0] | tail[1] << 8, base, size, position)
        stdout = _holder(tail[14] | tail[15] << 8, base, size, position)
        return record[:2] + b"".join(moved) + gil + b"".join(parts) + stdout + tail[16:]

    def _permuted_slowly(
        self, record: bytes, numbers: tuple[int, ...], cut: int, a: int, position: tuple[int, ...]
    ) -> bytes:
        """`_permuted` by decoding the record, keeping what each part became: a thread
        whose locals and offer hold no index by its new `self` alone, else by the whole
        permutation; the vars, locks and channels parts each by the permutation."""
        self._make_room()
        store = self.store
        array = self.arrays[a]
        base, size = array.base, array.size
        state = store.decode_record(record)
        canonical = self.canonical
        result = store.encode(permute(state, array, list(position), canonical.lock_kinds))
        if len(result) != len(record):
            raise StoreFull("a permuted record changed its length")
        native = self.native
        packed = struct.pack(f"<{size}H", *position)
        for tid, number in enumerate(numbers):
            k = tid - base
            inside = 0 <= k < size
            at = base + position[k] if inside else tid
            moved = result[2 + 4 * at : 6 + 4 * at]
            if not holds_index(state[S_THREADS][tid], array):
                self._free_moves[(a, number, position[k] if inside else -1)] = moved
                if native is not None:
                    key = _MOVE.pack(number, position[k] if inside else -1)
                    native.add(b"s" + bytes([a]) + key, moved)
            else:
                self._thread_moves[(a, position, number, k if inside else -1)] = moved
                if native is not None:
                    key = _MOVE.pack(number, k if inside else -1)
                    native.add(b"t" + bytes([a]) + packed + key, moved)
        tail, new_tail = record[cut:], result[cut:]
        for kind, where in enumerate(_PARTS):
            self._part_moves[(a, kind, position, tail[where])] = new_tail[where]
            if native is not None:
                native.add(b"q" + bytes([a, kind]) + packed + tail[where], new_tail[where])
        return result


def _holder(stored: int, base: int, size: int, position: tuple[int, ...]) -> bytes:
    """A GIL or stdout holder as the record keeps it (its id + 1, 0 for none), moved."""
    tid = stored - 1
    if base <= tid < base + size:
        tid = base + position[tid - base]
    return _HOLDER.pack(tid + 1)
