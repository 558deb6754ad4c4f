"""Symmetry reduction on records: a successor's representative, made from its record.

With symmetry, the step table (explore/steptable.py) patches a representative's record
into its successors' records as it does without; each successor then goes to its orbit's
representative here. The result is byte for byte the record of what
`Canonicalizer.__call__` (system/symmetry.py) makes of the decoded successor, so a search
finds the same states with the same ids as one that decodes every successor.

The work is in what the representative depends on, each part computed once:
- a thread's rank starts with the text of the thread without its `self`, which depends
  on the thread alone: one text per thread number;
- the rest of its rank is the GIL and stdout holders (read from the record), then its
  elements of the arrays indexed by `self` and the places in channel buffers holding
  its index (one text per index and vars, locks or channels part), then, when other
  threads' locals hold indexes, the places each such thread adds (one list per thread);
- a permutation moves each thread (a new `self`, its locals' indexes renamed) and each
  part (elements moved, thread ids and indexes renamed). What a thread or part becomes
  depends on where a few indexes go, its support (`part_support`, `thread_support`): one
  result per thread or part and the new places of its support.

Records with run-time objects (the extended record) and programs whose permutations
rename objects or spawned threads are reduced by decoding (`RecordCanonicalizer.applies`).
"""

from __future__ import annotations

import struct
from typing import Any

from gilcheck.explore.store import NativeStateStore, StateStore, StoreFull, thread_numbers
from gilcheck.explore.symmetric import SymmetricSystem
from gilcheck.system.model import ThreadwiseSystem, TransitionSystem
from gilcheck.system.state import T_SELF
from gilcheck.system.symmetry import (
    Canonicalizer,
    buffer_copies,
    chan_items,
    lock_items,
    part_support,
    permute_chans,
    permute_locks,
    permute_thread,
    permute_vars,
    rank_text,
    sorting_positions,
    thread_copies,
    thread_support,
    var_items,
)

_TAIL_SIZE = 17  # gil + 1, vars, locks, channels, stdout + 1, ended (steptable._TAIL)
_NUMBER = struct.Struct("<I")
_MOVE = struct.Struct("<Ii")  # a moved thread's key: its number, its new `self` or -1
_HOLDER = struct.Struct("<H")
VARS, LOCKS, CHANS = 0, 1, 2
"""The shared parts, in the order a record keeps their numbers after the GIL's holder."""
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


def _positions(position: tuple[int, ...], support: tuple[int, ...]) -> tuple[int, ...]:
    return tuple([position[k] for k in support])


def _packed(values: tuple[int, ...]) -> bytes:
    return struct.pack(f"<{len(values)}H", *values)


class RecordCanonicalizer:
    """Maps a state's record to its representative's record (`__call__`)."""

    def __init__(self, canonical: Canonicalizer, store: StateStore) -> None:
        self.canonical = canonical
        self.store = store
        self.arrays = canonical.arrays
        # Per array: whether a permutation changes threads outside it (their locals or
        # rendezvous offers hold indexes of it), whether its ranks name the places of
        # copies of its indexes, and which parts its ranks read (in the order a rank names
        # them: locks, vars, channels).
        self._moves_others = tuple(a.held_outside for a in self.arrays)
        self._copies = tuple(bool(a.index_chans or a.index_slots) for a in self.arrays)
        self._kinds = tuple(
            tuple(
                kind
                for kind, used in (
                    (LOCKS, a.owned_locks),
                    (VARS, a.vars),
                    (CHANS, a.chans or a.index_chans),
                )
                if used
            )
            for a in self.arrays
        )
        self._own: dict[int, str] = {}  # thread number -> its text without `self`
        # (array, kind, part number) -> per index: its text, and the places in channels
        self._texts: dict[tuple[int, int, int], tuple[tuple[str, tuple[str, ...]], ...]] = {}
        self._places: dict[tuple[int, int, int], tuple[tuple[int, str], ...]] = {}
        self._part_supports: dict[tuple[int, int, int], tuple[int, ...]] = {}
        self._part_moves: dict[tuple[Any, ...], bytes] = {}
        self._thread_supports: dict[tuple[int, int], tuple[int, ...]] = {}
        self._thread_moves: dict[tuple[Any, ...], bytes] = {}
        # The same parts in C (`_records.Canon`), for the C loop, once it is in use: every
        # part is added there when it is computed here, and both start afresh together.
        self.native: Any = None

    def use_native(self, store: NativeStateStore) -> Any:
        """The C form of this map (`_records.Canon`), made empty: from now on it gets every
        part computed here, and it calls this map for a record it cannot reduce alone."""
        layout = tuple(
            (
                a.base,
                a.size,
                a.in_other_locals,
                others,
                a.rotational,
                copies,
                sum(1 << kind for kind in kinds),
            )
            for a, others, copies, kinds in zip(
                self.arrays, self._moves_others, self._copies, self._kinds, strict=True
            )
        )
        self._forget()
        self.native = store.new_canon(layout)
        # The C loop, where it runs alone, asks this map for a record whose parts C lacks
        # rather than handing its state back to the search.
        self.native.reduce_with(self)
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
            self._texts,
            self._places,
            self._part_supports,
            self._part_moves,
            self._thread_supports,
            self._thread_moves,
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
        native = self.native
        if native is not None:  # the C map, where it knows every part the record needs
            reduced: bytes | None = native.canonical(record)
            if reduced is not None:
                return reduced
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

    def moved(self, record: bytes, a: int, position: bytes) -> bytes:
        """The record with array `a`'s thread at index i moved to index position[i]
        (`position`: 2-byte numbers), computing and adding the parts C lacks: what the C map
        asks for where it has ranked the threads of its last array but cannot move them."""
        n = record[0] | record[1] << 8
        numbers = thread_numbers(n).unpack_from(record, 2)
        places = struct.unpack(f"<{self.arrays[a].size}H", position)
        return self._permuted(record, numbers, 2 + 4 * n, a, places)

    def _ranks(self, record: bytes, numbers: tuple[int, ...], cut: int, a: int) -> list[str]:
        """Each of array `a`'s threads' rank in the record, by index (less its first
        character, the same in all: `Canonicalizer.keys` gives the whole)."""
        array = self.arrays[a]
        base, size = array.base, array.size
        tail = record[cut:]
        gil = (tail[0] | tail[1] << 8) - 1
        stdout = (tail[14] | tail[15] << 8) - 1
        texts = self._texts
        parts = []
        for kind in self._kinds[a]:
            number = _NUMBER.unpack_from(tail, 2 + 4 * kind)[0]
            known = texts.get((a, kind, number))
            if known is None:
                known = self._texts_of(a, kind, number)
            parts.append(known)
        outside: list[list[str]] | None = None
        if array.in_other_locals:  # other threads' locals hold indexes: ranks name them
            outside = [[] for _ in range(size)]
            for tid, number in enumerate(numbers):
                if base <= tid < base + size:
                    continue
                places = self._places.get((a, tid, number))
                if places is None:
                    places = self._places_of(a, tid, number)
                for k, text in places:
                    outside[k].append(text)
        copies = self._copies[a]
        own = self._own
        ranks = []
        for k in range(size):
            number = numbers[base + k]
            own_text = own.get(number)
            if own_text is None:
                own_text = self._own_text(number)
            items = [
                own_text,
                ", 1" if gil == base + k else ", 0",
                ", 1" if stdout == base + k else ", 0",
            ]
            found: list[str] = []
            for known in parts:
                item, in_channels = known[k]
                items.append(item)
                found += in_channels
            if copies:
                if outside is not None:
                    found += outside[k]
                items.append(", " + _tuple_text(found))
            items.append(")")
            ranks.append("".join(items))
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

    def _texts_of(self, a: int, kind: int, number: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Per index of array `a`: the text its rank gives the vars, locks or channels
        part numbered `number` (its items, each after ", "), and for channels, the places
        in their buffers that hold the index."""
        self._make_room()
        array = self.arrays[a]
        part = self.store.part(number)
        items = (var_items, lock_items, chan_items)[kind]
        in_channels: list[list[object]] = [[] for _ in range(array.size)]
        if kind == CHANS:
            in_channels = buffer_copies(part, array)
        known = self._texts[(a, kind, number)] = tuple(
            (
                "".join(", " + rank_text(item) for item in items(part, array, k)),
                tuple(rank_text(place) for place in in_channels[k]),
            )
            for k in range(array.size)
        )
        if self.native is not None:
            self.native.add(
                b"R" + bytes([a, kind]) + _NUMBER.pack(number),
                b"".join(
                    _text(text.encode())
                    + (
                        _NUMBER.pack(len(places)) + b"".join(_text(p.encode()) for p in places)
                        if kind == CHANS
                        else b""
                    )
                    for text, places in known
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
        parts = [
            self._part_moved(a, kind, tail[2 + 4 * kind : 6 + 4 * kind], position)
            for kind in (VARS, LOCKS, CHANS)
        ]
        moved = [b""] * len(numbers)
        others = self._moves_others[a]
        for tid, number in enumerate(numbers):
            k = tid - base
            if 0 <= k < size:
                moved[base + position[k]] = self._thread_moved(a, number, position[k], position)
            elif others:
                moved[tid] = self._thread_moved(a, number, -1, position)
            else:
                moved[tid] = record[2 + 4 * tid : 6 + 4 * tid]
        gil = _holder(tail[0] | tail[1] << 8, base, size, position)
        stdout = _holder(tail[14] | tail[15] << 8, base, size, position)
        return record[:2] + b"".join(moved) + gil + b"".join(parts) + stdout + tail[16:]

    def _part_moved(self, a: int, kind: int, packed: bytes, position: tuple[int, ...]) -> bytes:
        """The number (as the record keeps it) of what the permutation makes of the vars,
        locks or channels part whose number is `packed`."""
        number = _NUMBER.unpack(packed)[0]
        support = self._part_supports.get((a, kind, number))
        if support is None:
            support = self._part_support_of(a, kind, number)
        key = (a, kind, number, _positions(position, support))
        moved = self._part_moves.get(key)
        if moved is None:
            self._make_room()
            array = self.arrays[a]
            part = self.store.part(number)
            if kind == VARS:
                new = permute_vars(part, array, position)
            elif kind == LOCKS:
                new = permute_locks(part, array, position, self.canonical.lock_kinds)
            else:
                new = permute_chans(part, array, position)
            moved = self._part_moves[key] = _number(self.store.part_number(new))
            if self.native is not None:
                self.native.add(b"Q" + bytes([a, kind]) + packed + _packed(key[3]), moved)
        return moved

    def _part_support_of(self, a: int, kind: int, number: int) -> tuple[int, ...]:
        self._make_room()
        array = self.arrays[a]
        part = self.store.part(number)
        support = part_support(kind, part, array, self.canonical.lock_kinds)
        self._part_supports[(a, kind, number)] = support
        if self.native is not None:
            self.native.add(b"M" + bytes([a, kind]) + _NUMBER.pack(number), _packed(support))
        return support

    def _thread_moved(self, a: int, number: int, new_self: int, position: tuple[int, ...]) -> bytes:
        """The number (as the record keeps it) of what the permutation makes of thread
        number `number`: with its new `self` (-1: a thread outside the array)."""
        support = self._thread_supports.get((a, number))
        if support is None:
            self._make_room()
            support = thread_support(self.store.thread(number), self.arrays[a])
            self._thread_supports[(a, number)] = support
            if self.native is not None:
                self.native.add(b"U" + bytes([a]) + _NUMBER.pack(number), _packed(support))
        key = (a, number, new_self, _positions(position, support))
        moved = self._thread_moves.get(key)
        if moved is None:
            self._make_room()
            th = permute_thread(
                self.store.thread(number),
                self.arrays[a],
                position,
                None if new_self < 0 else new_self,
            )
            moved = self._thread_moves[key] = _number(self.store.thread_number(th))
            if self.native is not None:
                self.native.add(
                    b"T" + bytes([a]) + _MOVE.pack(number, new_self) + _packed(key[3]), moved
                )
        return moved


def _number(number: int) -> bytes:
    """A thread's or part's number as a record keeps it."""
    if number >= 1 << 32:
        raise StoreFull("a pool outgrew the record's 4-byte numbers")
    return _NUMBER.pack(number)


def _holder(stored: int, base: int, size: int, position: tuple[int, ...]) -> bytes:
    """A GIL or stdout holder as the record keeps it (its id + 1, 0 for none), moved."""
    tid = stored - 1
    if base <= tid < base + size:
        tid = base + position[tid - base]
    return _HOLDER.pack(tid + 1)
