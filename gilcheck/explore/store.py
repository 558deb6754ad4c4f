"""Interning states to dense ids, compactly, with the parent and the action that first reached each.

A state is stored as a short record of small ints (SPIN's "collapse" compression): each
thread, and the vars, locks and channels parts, are interned once in a pool and named by
their number there, so a record is a few bytes per thread. Records live end to end in one
`bytearray`; an open-addressing table of ids in an `array` finds them by hash. No Python
object is kept per state: about 40 to 100 bytes per state in all, against several hundred
for the states themselves.

The search hands states in and gets ids back; `states[i]` rebuilds state `i` from its
record (equal to the state stored, its parts shared with the pools).
"""

from __future__ import annotations

import functools
import struct
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from gilcheck.explore.unavailable import FingerprintsUnavailable
from gilcheck.system.model import Action
from gilcheck.system.state import State

_INITIAL_TABLE = 1 << 12


@functools.cache
def thread_numbers(n: int) -> struct.Struct:
    """The format of the `n` thread numbers that follow a record's thread count."""
    return struct.Struct(f"<{n}I")


class StoreFull(Exception):
    """A pool or the record area outgrew its fixed-width numbers."""


class _Pool:
    """Values by number and numbers by value; the stored objects are the shared ones."""

    __slots__ = ("by_identity", "by_value", "values")

    def __init__(self) -> None:
        self.values: list[Any] = []
        self.by_value: dict[Any, int] = {}
        # The pool keeps its objects alive, so id() of a pooled object names it for ever:
        # parts a successor shares with its parent are found without hashing them.
        self.by_identity: dict[int, int] = {}

    def number(self, value: Any) -> int:
        known = self.by_identity.get(id(value))
        if known is not None:
            return known
        known = self.by_value.get(value)
        return self._new_number(value) if known is None else known

    def _new_number(self, value: Any) -> int:
        """Number a value the pool does not have."""
        known = len(self.values)
        self.values.append(value)
        self.by_value[value] = known
        self.by_identity[id(value)] = known
        return known


# A part that is not a tuple is one item to C, which no item of a tuple part equals; and a
# bool, in an item's key as it is (`_as_it_is`), apart from the int it equals.
_WHOLE = object()
_BOOL = object()


def _as_it_is(value: Any) -> Any:
    """A key equal only for values alike in type too: `true` apart from 1 (the pool's
    values compare them equal, but symmetry renames an index and not a bool), nested."""
    kind = type(value)
    if kind is bool:
        return (_BOOL, int(value))
    if kind is tuple:
        keys = [_as_it_is(item) for item in value]
        if all(key is item for key, item in zip(keys, value, strict=True)):
            return value
        return tuple(keys)
    return value


def _packed(numbers: list[int]) -> bytes:
    """Numbers as C reads them: 4 bytes each, little-endian."""
    return struct.pack(f"<{len(numbers)}I", *numbers)


class _LinkedParts(_Pool):
    """The parts pool, shared with the step table's entries in C (`_records.Entries`): one
    numbering for the parts Python numbers (told to C as it numbers them) and those C
    numbers as its derived steps make them, which Python takes when it needs them (`pull`):
    before it numbers a part, and where a record names a part it does not have yet.

    C knows a part by its items, each twice as a number: as compared (equal items alike,
    as the pool compares its values, so C finds the part Python would) and as it is
    (`true` apart from 1, so that a part C makes is rebuilt of the objects Python would
    have made it of: the old part's and the change's)."""

    __slots__ = ("entries", "item_ids", "object_ids", "object_values")

    def __init__(self, pool: _Pool, entries: Any) -> None:
        self.values = pool.values
        self.by_value = pool.by_value
        self.by_identity = pool.by_identity
        self.entries = entries
        self.item_ids: dict[Any, int] = {}
        self.object_ids: dict[Any, int] = {}
        self.object_values: list[Any] = []
        for number, value in enumerate(self.values):
            entries.part(number, *self.part_items(value))

    def items(self, items: tuple[Any, ...]) -> bytes:
        """Items as C compares them: their numbers, packed (4 bytes each)."""
        ids = self.item_ids
        return _packed([ids.setdefault(item, len(ids)) for item in items])

    def objects(self, items: tuple[Any, ...]) -> bytes:
        """Items as they are, as C keeps them for Python to rebuild a part from: packed."""
        ids, values = self.object_ids, self.object_values
        out = []
        for item in items:
            known = ids.setdefault(_as_it_is(item), len(values))
            if known == len(values):
                values.append(item)
            out.append(known)
        return _packed(out)

    def part_items(self, part: Any) -> tuple[bytes, bytes]:
        """A part's items as C compares them and as they are."""
        items = part if type(part) is tuple else ((_WHOLE, part),)
        return self.items(items), self.objects(items)

    def pull(self) -> bool:
        """Take the parts C has numbered since (as tuples of the items); whether there were."""
        values = self.values
        made = self.entries.parts_from(len(values))
        if not made:
            return False
        objects = self.object_values
        for items in made:
            super()._new_number(
                tuple([objects[i] for i in struct.unpack(f"<{len(items) // 4}I", items)])
            )
        return True

    def _new_number(self, value: Any) -> int:
        """Number a value neither Python nor C has numbered (taking C's first), and tell C."""
        if self.pull():
            known = self.by_value.get(value)
            if known is not None:
                return known
        self.entries.part(len(self.values), *self.part_items(value))
        return super()._new_number(value)


class StateStore:
    """States by id; `parent[i]` and `via[i]` rebuild a shortest path to state `i`."""

    def __init__(self) -> None:
        self._threads = _Pool()
        self._parts = _Pool()  # vars, locks and channels tuples, and the extended fields
        self._actions = _Pool()
        self._blob = bytearray()
        self._offsets = array("I", [0])
        self._table = array("i", [-1]) * _INITIAL_TABLE
        self._mask = _INITIAL_TABLE - 1
        self._formats: dict[int, struct.Struct] = {}
        self.parent = array("i")
        self._via = array("i")
        self.fingerprint = False  # a store of fingerprints (NativeStateStore only)
        # Fingerprint mode: rebuilds a state whose record is no longer kept (the search
        # sets it: a replay of the path to it).
        self.replayer: Callable[[int], State] | None = None

    @property
    def states(self) -> Sequence[State]:
        """The stored states by id, rebuilt from their records on access (a view made on
        each use: the store keeps no reference to it, so it is freed with no cycle)."""
        return _States(self)

    @property
    def via(self) -> Sequence[Action | None]:
        """Each stored state's first action by id (None for the initial state): a view."""
        return _Vias(self)

    def __len__(self) -> int:
        return len(self.parent)

    def _format(self, n_threads: int, extended: bool) -> struct.Struct:
        key = n_threads * 2 + extended
        fmt = self._formats.get(key)
        if fmt is None:
            # threads count, each thread, gil + 1, vars, locks, chans, stdout + 1, ended,
            # and the fork path, interrupts and path condition as one part
            fmt = struct.Struct(f"<H{n_threads}IHIIIHB" + ("I" if extended else ""))
            self._formats[key] = fmt
        return fmt

    def encode(self, state: State) -> bytes:
        """The record of a state."""
        # The hot path of the search: the pools' identity lookups are inlined.
        threads = state[0]
        known_thread = self._threads.by_identity.get
        known_part = self._parts.by_identity.get
        fields = [len(threads)]
        for th in threads:
            k = known_thread(id(th))
            fields.append(self._threads.number(th) if k is None else k)
        fields.append(state[1] + 1)
        for index in (2, 3, 4):
            part = state[index]
            k = known_part(id(part))
            fields.append(self._parts.number(part) if k is None else k)
        fields.append(state[5] + 1)
        fields.append(state[6])
        extended = len(state) > 7
        if extended:
            fields.append(self._parts.number(state[7:]))
        try:
            return self._format(len(threads), extended).pack(*fields)
        except struct.error as error:
            raise StoreFull(f"a state does not fit a record ({error})") from None

    def decode(self, sid: int) -> State:
        """The state stored as number `sid`."""
        return self._decode(self._blob, self._offsets[sid], self._offsets[sid + 1])

    def _decode(self, blob: bytes | bytearray, start: int, end: int) -> State:
        """The state whose record is `blob[start:end]`."""
        try:
            return self._decode_known(blob, start, end)
        except IndexError:
            # (a part C numbered since Python last took them: `_LinkedParts`)
            if not self._pull_parts():
                raise
            return self._decode_known(blob, start, end)

    def _pull_parts(self) -> bool:
        """Take the parts C numbered (where the pool is shared with it); whether there were."""
        parts = self._parts
        return isinstance(parts, _LinkedParts) and parts.pull()

    def _decode_known(self, blob: bytes | bytearray, start: int, end: int) -> State:
        """`_decode` where the pools hold every part the record names (else IndexError)."""
        n_threads = blob[start] | blob[start + 1] << 8
        extended = end - start == 4 * n_threads + 23
        fields = self._format(n_threads, extended).unpack_from(blob, start)
        pool = self._threads.values
        parts = self._parts.values
        k = n_threads + 1
        state = (
            tuple([pool[i] for i in fields[1:k]]),
            fields[k] - 1,
            parts[fields[k + 1]],
            parts[fields[k + 2]],
            parts[fields[k + 3]],
            fields[k + 4] - 1,
            fields[k + 5],
        )
        if extended:
            extra: tuple[Any, ...] = parts[fields[k + 6]]
            return state + extra
        return state

    def decode_record(self, record: bytes) -> State:
        """The state whose record is `record`."""
        return self._decode(record, 0, len(record))

    def thread(self, number: int) -> Any:
        """The thread whose number in records is `number`."""
        return self._threads.values[number]

    def record(self, sid: int) -> bytes:
        """The record of state `sid`."""
        return bytes(self._blob[self._offsets[sid] : self._offsets[sid + 1]])

    def threads_known(self) -> int:
        """How many thread numbers there are (they run from 0)."""
        return len(self._threads.values)

    def parts_known(self) -> int:
        """How many part numbers there are (they run from 0)."""
        self._pull_parts()
        return len(self._parts.values)

    def part(self, number: int) -> Any:
        """The vars, locks or channels part (or extended fields) whose number is `number`."""
        values = self._parts.values
        if number >= len(values):
            self._pull_parts()
        return values[number]

    def items(self, items: tuple[Any, ...]) -> bytes:
        """Items of parts as the step table's entries in C compare them (`new_entries`)."""
        return self._linked().items(items)

    def objects(self, items: tuple[Any, ...]) -> bytes:
        """Items of parts as the step table's entries in C keep them as they are."""
        return self._linked().objects(items)

    def _linked(self) -> _LinkedParts:
        parts = self._parts
        if not isinstance(parts, _LinkedParts):
            raise RuntimeError("the store's parts are not shared with C")
        return parts

    def thread_number(self, thread: Any) -> int:
        """A thread's number in the record (interned on first use)."""
        return self._threads.number(thread)

    def part_number(self, part: Any) -> int:
        """The number of a vars, locks or channels part in the record (interned)."""
        return self._parts.number(part)

    def action_number(self, action: Action) -> int:
        """An action's number (interned): what `intern` stores as a state's first action."""
        return self._actions.number(action)

    def add(self, state: State, parent: int, via: Action | None) -> tuple[int, bool]:
        """The id of `state`, and whether it is new."""
        return self.add_record(self.encode(state), parent, via)

    def add_record(self, record: bytes, parent: int, via: Action | None) -> tuple[int, bool]:
        """The id of the state with this record (`encode`), and whether it is new."""
        count = len(self.parent)
        sid = self.intern(record, parent, via)
        return sid, sid >= count

    def intern(self, record: bytes, parent: int, via: Action | None) -> int:
        """The id of the state with this record, stored first if it is new (the search's
        inner loop: it runs for every transition)."""
        blob, offsets, table, mask = self._blob, self._offsets, self._table, self._mask
        slot = hash(record) & mask
        sid = table[slot]
        while sid >= 0:
            if blob[offsets[sid] : offsets[sid + 1]] == record:
                return sid
            slot = (slot + 1) & mask
            sid = table[slot]
        sid = len(self.parent)
        table[slot] = sid
        blob += record
        try:
            offsets.append(len(blob))
        except OverflowError:
            raise StoreFull("the records outgrew 4 GiB") from None
        self.parent.append(parent)
        self._via.append(-1 if via is None else self._actions.number(via))
        if (sid + 1) * 2 > mask:
            self._grow()
        return sid

    def _grow(self) -> None:
        """Double the table (kept at most half full, so probes stay short)."""
        size = (self._mask + 1) * 2
        table = array("i", [-1]) * size
        mask = size - 1
        blob, offsets = self._blob, self._offsets
        for sid in range(len(self.parent)):
            slot = hash(bytes(blob[offsets[sid] : offsets[sid + 1]])) & mask
            while table[slot] >= 0:
                slot = (slot + 1) & mask
            table[slot] = sid
        self._table, self._mask = table, mask

    def forget(self, upto: int) -> None:
        """Fingerprint mode only (NativeStateStore): drop the records before `upto`."""
        raise NotImplementedError("only a store of fingerprints forgets records")

    def sizes(self) -> tuple[int, int, int]:
        """Bytes in use by the records, by their index (the hash table and the offsets) and
        by the trace links (each state's parent and first action)."""
        index = self._table.itemsize * len(self._table) + self._offsets.itemsize * len(
            self._offsets
        )
        links = (self._via.itemsize + self.parent.itemsize) * len(self.parent)
        return len(self._blob), index, links

    def reparent(self, sid: int, parent: int, via: Action) -> None:
        """Record another first way to state `sid`: a parallel search hears of a state's
        finders in another order than the sequential search finds them (see parallel.py)."""
        self.parent[sid] = parent
        self._via[sid] = self._actions.number(via)

    def path_to(self, sid: int) -> list[Action]:
        """The actions from the initial state to state `sid`."""
        actions: list[Action] = []
        while sid > 0:
            action = self.via[sid]
            assert action is not None
            actions.append(action)
            sid = self.parent[sid]
        actions.reverse()
        return actions

    def action(self, sid: int) -> Action | None:
        """The action that first reached state `sid` (None for the initial state)."""
        number = self._via[sid]
        return None if number < 0 else self._actions.values[number]


class NativeStateStore(StateStore):
    """The same store with its records, their index, parents and first actions kept by the
    C module (explore/_records.c, loaded by explore/native.py): the same ids for the same
    states. Its `records.expand` runs the search's inner loop over the step table."""

    def __init__(self, module: Any, fingerprint: bool = False) -> None:
        super().__init__()
        self._module = module
        self.records = module.Records()
        self.parent = _Parents(self.records)  # type: ignore[assignment]
        self.fingerprint = fingerprint
        if fingerprint:
            self.records.use_fingerprints()

    def __len__(self) -> int:
        return len(self.records)

    def record(self, sid: int) -> bytes:
        record: bytes = self.records.record(sid)
        return record

    def decode(self, sid: int) -> State:
        try:
            record = self.records.record(sid)
        except KeyError:  # fingerprint mode: an expanded state's record is not kept
            if self.replayer is None:
                raise
            return self.replayer(sid)
        return self._decode(record, 0, len(record))

    def forget(self, upto: int) -> None:
        """Fingerprint mode: drop the records of the states before `upto` (all expanded)."""
        self.records.forget(upto)

    def add_record(self, record: bytes, parent: int, via: Action | None) -> tuple[int, bool]:
        count = len(self.records)
        sid = self.intern(record, parent, via)
        return sid, sid >= count

    def intern(self, record: bytes, parent: int, via: Action | None) -> int:
        number = -1 if via is None else self._actions.number(via)
        sid: int = self.records.intern(record, parent, number)
        return sid

    def action(self, sid: int) -> Action | None:
        number = self.records.via(sid)
        return None if number < 0 else self._actions.values[number]

    def sizes(self) -> tuple[int, int, int]:
        sizes: tuple[int, int, int] = self.records.sizes()
        return sizes

    def new_entries(self, limit: int) -> Any:
        """An empty table of step-table entries in C, for `records.expand`; it derives no
        entry of its own (`Entries.project`) once it holds `limit`. It numbers the parts
        its derived steps make, and Python the others, in one numbering (`_LinkedParts`):
        a store has one such table."""
        if isinstance(self._parts, _LinkedParts):
            raise RuntimeError("the store's parts are shared with a table already")
        entries = self._module.Entries(limit)
        self._parts = _LinkedParts(self._parts, entries)
        return entries

    def new_canon(self, layout: tuple[tuple[int, int, bool, bool, bool, bool, int], ...]) -> Any:
        """An empty map of symmetry representatives' parts in C (explore/symmetric_records.py),
        for `records.expand`: per thread array, its first thread id, its size, whether other
        threads' locals hold its indexes, whether its permutations change them, whether it
        is reduced by rotations alone, whether its ranks name where copies of its indexes
        are, and the parts its ranks read (bit 0 vars, 1 locks, 2 channels)."""
        return self._module.Canon(layout)

    def reparent(self, sid: int, parent: int, via: Action) -> None:
        """Not kept in C: the parallel search, which needs it, uses the Python store."""
        raise NotImplementedError("the parallel search stores its states in Python")


class _Parents(Sequence[int]):
    """The parent of each state, by id, read from the C records."""

    def __init__(self, records: Any) -> None:
        self._records = records

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, sid: int) -> int: ...

    @overload
    def __getitem__(self, sid: slice) -> list[int]: ...

    def __getitem__(self, sid: int | slice) -> int | list[int]:
        if isinstance(sid, slice):
            return [self[i] for i in range(*sid.indices(len(self)))]
        if sid < 0:
            sid += len(self)
        parent: int = self._records.parent(sid)
        return parent


def new_store(native: bool = True, fingerprint: bool = False) -> StateStore:
    """A state store: kept in C where the C module can be built (explore/native.py), else in
    Python; both give the same ids to the same states. With `fingerprint`, a store of
    fingerprints (C only: FingerprintsUnavailable without it)."""
    if native or fingerprint:
        from gilcheck.explore import native as native_form

        module = native_form.native_module() if native else None
        if module is not None:
            return NativeStateStore(module, fingerprint)
        if fingerprint:
            why = native_form.why_not if native else "the C extension is turned off"
            raise FingerprintsUnavailable(
                f"`--fingerprint` needs gilcheck's C extension, which is not in use here "
                f"({why or 'it is not built'})"
            )
    return StateStore()


class _States(Sequence[State]):
    """The stored states by id, rebuilt from their records on access."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def __len__(self) -> int:
        return len(self._store)

    @overload
    def __getitem__(self, sid: int) -> State: ...

    @overload
    def __getitem__(self, sid: slice) -> list[State]: ...

    def __getitem__(self, sid: int | slice) -> State | list[State]:
        if isinstance(sid, slice):
            return [self[i] for i in range(*sid.indices(len(self)))]
        if sid < 0:
            sid += len(self)
        if not 0 <= sid < len(self):
            raise IndexError(sid)
        return self._store.decode(sid)

    def __iter__(self) -> Iterator[State]:
        decode = self._store.decode
        for sid in range(len(self)):
            yield decode(sid)


class _Vias(Sequence[Action | None]):
    """The action that first reached each state, by id."""

    def __init__(self, store: StateStore) -> None:
        self._store = store

    def __len__(self) -> int:
        return len(self._store)

    @overload
    def __getitem__(self, sid: int) -> Action | None: ...

    @overload
    def __getitem__(self, sid: slice) -> list[Action | None]: ...

    def __getitem__(self, sid: int | slice) -> Action | list[Action | None] | None:
        if isinstance(sid, slice):
            return [self[i] for i in range(*sid.indices(len(self)))]
        return self._store.action(sid)
