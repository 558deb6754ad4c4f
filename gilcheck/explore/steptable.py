"""Successors by table: each thread's steps computed once per context, then patched into records.

A thread's steps depend only on the thread itself and on the shared parts of the state (the
GIL, vars, locks, channels and stdout), and change only those
(`Engine.thread_transitions`); the exceptions are `join` and `atomic` blocks, which read
other threads, the exit join, and steps that spawn threads. So the first time the search
meets a thread in a given shared context, the engine interprets its steps once; the table
keeps them as patches of the state record (the thread's new number in the store, the new
shared part), and every later state with that thread in that context gets its successors
by copying its own record with the patch applied: no state is rebuilt as tuples, nothing
is interpreted or encoded again. The patched records are byte for byte what
`StateStore.encode` makes of the interpreter's successors, in the same order, so a search
with the table finds the same states with the same ids as one without it.

Threads the table cannot patch (a `join` or `atomic` next, the exit join, a step that
changes another thread) are interpreted each time on the decoded state. Programs with
unknown values, forks, interrupts or `gil off` are interpreted throughout.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from typing import Any

from gilcheck.explore.store import StateStore, StoreFull, thread_numbers
from gilcheck.system.engine.stubborn import ThreadFacts, forward, keep_steps
from gilcheck.system.model import Action, ThreadwiseSystem, TransitionSystem
from gilcheck.system.state import State

_TAIL = struct.Struct("<HIIIHB")  # gil + 1, vars, locks, channels, stdout + 1, ended
_NUMBER = struct.Struct("<I")
_ID = struct.Struct("<i")
_TID_NUMBER = struct.Struct("<HI")
_READS = struct.Struct("<HH")  # a read set for C: how many locks, how many channels
_INDEX = struct.Struct("<H")
# A change for C: the item's index, its new item's ids (as compared and as it is).
_CHANGE = struct.Struct("<III")
# A thread number's persistent-set facts for C (stubborn.ThreadFacts: position, touch,
# waits, future, future while holding the GIL).
_FACTS = struct.Struct("<q4Q")
# A projected step for C (`Entries.project`, key 'k'): whether Python takes it (a violation
# or a limit), the thread's new number, the new shared part, the action's number, and the
# ids of its changes to the locks and channels parts (-1: none).
_TEMPLATE_STEP = struct.Struct("<B4s17siii")
# Entries kept before the table starts afresh (a bound on its memory): those Python makes
# (several hundred bytes each), and those C derives (about 100 bytes each) without a
# memory limit to follow, and at least.
DEFAULT_LIMIT = 1 << 20
# Under a memory limit, the entries C derives may take up to a sixteenth of it, at
# NATIVE_ENTRY_BYTES each (at most), up to MOST_NATIVE_ENTRIES: a table that starts afresh derives
# its entries again (a third of the time of a 64-thread model without partial-order
# reduction at 2^20 entries), but memory the entries take is not there for states.
NATIVE_ENTRY_BYTES = 192  # 44 in C, up to four index slots each, and the steps kept
MEMORY_SHARE = 16
MOST_NATIVE_ENTRIES = 1 << 25
# The C loop's flag for a run of states whose entries `fill_ahead` has just made: several
# threads may start at once, without first running STREAK states on one (_records.c).
ENTRIES_AHEAD = 4
# Read sets kept per thread, number and vars (C tries each; steptable's `_read_sets`).
MAX_READ_SETS = 8
# The locks and channels a thread's steps read (indices in the state's parts).
Footprint = tuple[tuple[int, ...], tuple[int, ...]]

# A patch: (action, the thread's new number packed, the new shared part packed, the
# action's number in the store); for a step that ends in a violation or a limit,
# (action, the Violation or LimitHit, None, -1).
Patch = tuple[Action, Any, bytes | None, int]
# A thread's entry: (its ample step or None, its steps, whether it waits for the GIL,
# the GIL handover it makes when it holds the GIL and another thread wants it, or None).
Entry = tuple[Patch | None, tuple[Patch, ...], bool, Patch | None]
# What the search gets: (action, the successor's record, or a Violation or LimitHit).
Step = tuple[Action, Any]
# A step of a projected entry: its patch where it was interpreted, and the items of the
# locks and channels parts it changes, (index, new state) each. In another shared part the
# patch keeps its GIL, vars, stdout and end, and takes that part's locks and channels
# with these items changed.
_Change = tuple[Patch, tuple[tuple[int, Any], ...], tuple[tuple[int, Any], ...]]
# A projected entry: its steps, its GIL wish, its GIL handover (or None).
_Template = tuple[tuple[_Change, ...], bool, _Change | None]
# Where the locks and channels parts' numbers sit in a packed shared part (`_TAIL`).
_LOCKS, _CHANS = slice(6, 10), slice(10, 14)
# A projected entry's key names the GIL by this where another thread holds it: a thread's
# steps read the GIL only as free, its own or another's (engine/handlers_gil.py), so its
# entry is the same whichever other thread holds it, and its steps leave the GIL as it is.
_OTHERS_GIL = b"\xff\xff"


# The entry of a thread that is interpreted in every state: unequal to every real entry
# (which `in` compares by value), as no real step has the thread id -1.
_INTERPRET: Entry = (None, (), True, ((-1, -1, None), None, None, -1))


_UNKNOWN = object()  # a footprint not computed yet

# A joining thread's two entries sit in C under its id with one of these added: whether the
# thread it joins has ended (`_Watch`). Thread ids below _WATCH_LIMIT only.
_RUNNING_FLAG, _ENDED_FLAG, _WATCH_LIMIT = 0x8000, 0x4000, 0x4000


class _Watch:
    """The entry of a thread whose next statement joins another thread: its steps read, of
    other threads, only whether that one has ended, so it has one entry each way."""

    __slots__ = ("target", "variants")

    def __init__(self, target: int) -> None:
        self.target = target
        self.variants: list[Entry | None] = [None, None]  # while it runs, once it has ended


class _Live(Exception):
    """The thread's steps here read or change more than the table can patch."""


class _WholeState(Exception):
    """The state's steps must come from the engine as a whole."""


def native_entry_limit(max_memory_mb: int | None, tables: int = 1) -> int:
    """How many entries C derives before the table starts afresh, under a memory limit of
    `max_memory_mb` (None or 0: no limit) shared by `tables` tables (one per worker)."""
    if not max_memory_mb:
        return DEFAULT_LIMIT
    share = max_memory_mb * 1024 * 1024 // MEMORY_SHARE // NATIVE_ENTRY_BYTES // max(1, tables)
    return max(DEFAULT_LIMIT, min(MOST_NATIVE_ENTRIES, share))


class StepTable:
    """The successors of stored states, as records, for the programs the table supports."""

    def __init__(
        self,
        engine: ThreadwiseSystem,
        store: StateStore,
        representative: Callable[[bytes], bytes] | None = None,
        native_limit: int | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        # With symmetry: the map from a successor's record to its representative's.
        self.representative = representative
        self.limit = DEFAULT_LIMIT  # entries made in Python
        # entries derived in C (`native_entry_limit`; their table is made with it)
        self.native_limit = DEFAULT_LIMIT if native_limit is None else native_limit
        self.ample = engine.merge_local_steps and engine.ample
        # Entries by the state's shared part, then by thread id, then by thread number.
        self.contexts: dict[bytes, list[dict[int, Entry | _Watch]]] = {}
        self.entries = 0
        # The same entries in C (`_records.Entries`), for the C loop, once it is in use.
        self.native_entries: Any = None
        # With symmetry, the representatives' parts in C (`_records.Canon`), likewise.
        self.native_canon: Any = None
        self._filled_to = 0  # `fill_ahead` has scanned the states before this id
        self.afresh = 0  # how many times the table has started afresh (at `limit`)
        # Projected entries: a thread's steps as changes to what they read (its footprint,
        # engine/footprints.py), by the thread, the GIL, vars, stdout and the values of the
        # locks and channels they read; an entry for any shared part that agrees on those
        # is made from them without interpreting the thread again. With merged local steps
        # the statements merged after the first are read too (`_read_sets`).
        self.projecting = engine.footprints_apply()
        self.projected: dict[tuple[Any, ...], _Template] = {}
        self._footprints: dict[tuple[int, int, bytes], Any] = {}
        # What the thread's steps were found to read, by where: with merged local steps, a
        # statement's footprint and those of the statements merged after it, which differ
        # with how the statement ends (each a key of projected entries).
        self._read_sets: dict[tuple[int, int, bytes], list[Footprint]] = {}
        # Whether a thread of each number has ended, as told to C (for joins, `_Watch`), and
        # whether any join's entry was made (the fast path looks for them only then).
        self._ended: dict[int, bool] = {}
        self._watching = False
        # The numbers C knows footprints and changes by (`_id`), and the read sets and
        # changes told to C under them.
        self._ids: dict[tuple[str, Any], int] = {}
        self._told: set[bytes] = set()
        # Persistent sets (`--stubborn-sets`, engine/stubborn.py): the facts of each thread
        # number, made once each (and told to C in order of numbers).
        self.stubborn = engine.stubborn
        self._facts: list[ThreadFacts] = []

    @staticmethod
    def supports(system: TransitionSystem) -> bool:
        """Whether a system's steps can be patched from a table (`threadwise`)."""
        return system.threadwise() is not None

    def successors(self, sid: int) -> list[Step]:
        """The steps of stored state `sid`, in the engine's order, with their targets' records
        (with symmetry, their representatives' records)."""
        steps = self._successors(sid)
        representative = self.representative
        if representative is None:
            return steps
        return [
            (action, representative(target) if type(target) is bytes else target)
            for action, target in steps
        ]

    def _successors(self, sid: int) -> list[Step]:
        """`successors` before symmetry."""
        record = self.store.record(sid)
        n = record[0] | record[1] << 8
        cut = 2 + 4 * n
        tail = record[cut:]
        if tail[-1]:
            return []  # the program has ended
        context = self._context(tail, n)
        numbers = thread_numbers(n).unpack_from(record, 2)
        found = list(map(dict.get, context, numbers))
        if (
            None in found
            or _INTERPRET in found
            or (self._watching and any(type(e) is _Watch for e in found))
        ):
            return self._successors_slowly(sid, record, tail, context, numbers)
        entries: list[Entry] = found  # type: ignore[assignment]  # no None left
        if self.ample:
            for tid, entry in enumerate(entries):
                ample = entry[0]
                if ample is not None:
                    step = _apply(ample, record, tid, cut)
                    if self._takes_ample(record, step):
                        return [step]
                    break  # (the first thread's ample step, as the engine takes it)
        owner = -1
        for entry in entries:
            if entry[2]:
                owner = (tail[0] | tail[1] << 8) - 1
                break
        out: list[Step] = []
        for tid, entry in enumerate(entries):
            steps = entry[1]
            if steps:
                head, middle = record[: 2 + 4 * tid], record[6 + 4 * tid : cut]
                for action, number, new_tail, _ in steps:
                    if new_tail is None:
                        out.append((action, number))
                    else:
                        out.append((action, head + number + middle + new_tail))
            if tid == owner:
                handover = entry[3]
                if handover is not None:
                    out.append(_apply(handover, record, tid, cut))
        return out if self.stubborn is None else self._reduced(record, out)

    def fill(self, sid: int) -> bool:
        """Make the entries state `sid`'s threads do not have yet; whether there were any.

        The C loop (explore/native.py) stops at a state with a thread it has no entry for;
        once they are made, it can expand the state itself.
        """
        record = self.store.record(sid)
        n = record[0] | record[1] << 8
        tail = record[2 + 4 * n :]
        if tail[-1]:
            return False
        context = self._context(tail, n)
        numbers = thread_numbers(n).unpack_from(record, 2)
        state: State | None = None
        added = False
        native = self.native_entries
        for tid, number in enumerate(numbers):
            if number not in context[tid] and (native is None or not native.has(tail, tid, number)):
                if state is None:
                    state = self.store.decode(sid)
                try:
                    entry = self._entry(state, tid, tail, number)
                except _WholeState:
                    return added
                self._remember(tail, context, tid, number, entry)
                added = True
            watch = context[tid].get(number)
            if type(watch) is _Watch:
                if state is None:
                    state = self.store.decode(sid)
                try:
                    added |= self._variant(state, tail, tid, numbers, watch)[1]
                except _WholeState:
                    return added
        return added

    def fill_ahead(self, sid: int, stop: int, threads: int = 1) -> bool:
        """`fill` for state `sid` and every state after it up to `stop` whose threads lack
        an entry (the C loop finds them, on up to `threads` threads): the C loop then runs
        through the whole run of states, which several threads can share, instead of
        stopping at each. Whether state `sid`'s entries were missing."""
        # Entries are made ahead only while the table is under 7/8 of its limit (C's
        # derivations too): one that started afresh in the middle of a run would lose the
        # entries made for it, and make them again at the next stop, and again. So a table
        # past that starts afresh here, before the run, rather than at its limit.
        if self.native_entries is not None and self._nearly_full():
            self.start_afresh()
        added = self.fill(sid)
        # Only where entries were missing (not at a state that needs Python for another
        # reason), and each run of states once: a scan reads every record in it.
        start = max(sid + 1, self._filled_to)
        if added and self.native_entries is not None and stop > start:
            records = self.store.records  # type: ignore[attr-defined]
            afresh, native, missing = self.afresh, self.native_entries, records.missing
            lacking, filled = missing(start, stop, native, threads)
            for ahead in lacking:
                if self._nearly_full():
                    filled = ahead
                    break
                # (C may derive them now from what Python made for the states before)
                if missing(ahead, ahead + 1, native) != ([], ahead + 1):
                    self.fill(ahead)
            # (a table that started afresh meanwhile lost the entries made before)
            self._filled_to = filled if self.afresh == afresh else 0
        return added

    def _nearly_full(self) -> bool:
        """Whether the entries kept (in Python or in C) are past 7/8 of their limit (where C's
        `missing` stops deriving too)."""
        native = self.native_entries
        return 8 * self.entries > 7 * self.limit or (
            native is not None and 8 * len(native) > 7 * self.native_limit
        )

    def start_afresh(self) -> None:
        """Forget every entry (in C too) and what they are made from: at `limit`, or
        nearly there before a run of entries is made ahead (`fill_ahead`)."""
        self.contexts.clear()
        self.projected.clear()
        self._footprints.clear()
        self._read_sets.clear()
        self._ids.clear()
        self._told.clear()
        self._ended.clear()
        if self.native_entries is not None:
            self.native_entries.clear()
        self.entries = 0
        self.afresh += 1
        self._filled_to = 0  # (the states scanned before lack their entries again)

    def _remember(
        self,
        tail: bytes,
        context: list[dict[int, Entry | _Watch]],
        tid: int,
        number: int,
        entry: Entry | _Watch,
    ) -> None:
        """Keep thread `tid`'s entry for its number in the shared part `tail` (in C too)."""
        context[tid][number] = entry
        if self.native_entries is not None:
            if type(entry) is _Watch:
                self.native_entries.watch(tail, tid, number, entry.target)
            else:
                self.native_entries.add(tail, tid, number, entry)

    def _variant(
        self, state: State, tail: bytes, tid: int, numbers: tuple[int, ...], watch: _Watch
    ) -> tuple[Entry, bool]:
        """A joining thread's entry in `state`: the one for whether the thread it joins has
        ended (interpreted the first time), and whether anything was new to C."""
        target = watch.target
        ended = self.engine.join_ended(state[0][target])
        entry = watch.variants[ended]
        new = False
        native = self.native_entries
        if entry is None:
            self.entries += 1
            entry = watch.variants[ended] = self._interpreted(state, tid, watched=True)
            if native is not None:
                flag = _ENDED_FLAG if ended else _RUNNING_FLAG
                native.add(tail, tid | flag, numbers[tid], entry)
            new = True
        if native is not None and self._ended.get(numbers[target]) is None:
            # What C reads of the joined thread: whether a thread of this number has ended.
            self._ended[numbers[target]] = ended
            native.project(b"e" + _NUMBER.pack(numbers[target]), b"\x01" if ended else b"\x00")
            new = True
        return entry, new

    def _context(self, tail: bytes, n: int) -> list[dict[int, Entry | _Watch]]:
        """The entries of a shared part, by thread id, then by the thread's number."""
        context = self.contexts.get(tail)
        if context is None or len(context) < n:
            context = self.contexts[tail] = (context or []) + [{} for _ in range(n)]
        return context

    def _successors_slowly(
        self,
        sid: int,
        record: bytes,
        tail: bytes,
        context: list[dict[int, Entry | _Watch]],
        numbers: tuple[int, ...],
    ) -> list[Step]:
        """`successors` where some thread has no entry yet, or must be interpreted."""
        n = len(numbers)
        cut = 2 + 4 * n
        state = self.store.decode(sid)
        chosen: list[Entry | list[Step]] = []
        wanted = False
        ample = self.ample  # (with persistent sets, only a first ample step going forward)
        try:
            for tid in range(n):
                kept = context[tid].get(numbers[tid])
                if kept is None:
                    kept = self._entry(state, tid, tail, numbers[tid])
                    self._remember(tail, context, tid, numbers[tid], kept)
                if isinstance(kept, _Watch):
                    entry = self._variant(state, tail, tid, numbers, kept)[0]
                else:
                    entry = kept
                if entry is _INTERPRET:
                    live = self._live(state, tid, ample)
                    if live[0] is not None:
                        if self._takes_ample(record, live[0]):
                            return [live[0]]
                        ample = False
                        live = self._live(state, tid, ample)
                    chosen.append(live[1])
                    wanted |= live[2]
                    continue
                if ample and entry[0] is not None:
                    step = _apply(entry[0], record, tid, cut)
                    if self._takes_ample(record, step):
                        return [step]
                    ample = False
                chosen.append(entry)
                wanted |= entry[2]
            owner = state[1] if wanted else -1
            out: list[Step] = []
            for tid, item in enumerate(chosen):
                if type(item) is list:
                    out.extend(item)
                    if tid == owner:
                        handover = self.engine.handover_step(state, owner)
                        if handover is not None:
                            out.extend(self._encoded(self.engine.merge([handover])))
                    continue
                assert type(item) is tuple
                for patch in item[1]:
                    out.append(_apply(patch, record, tid, cut))
                if tid == owner and item[3] is not None:
                    out.append(_apply(item[3], record, tid, cut))
            return out if self.stubborn is None else self._reduced(record, out)
        except _WholeState:
            return self._encoded(self.engine.transitions(state))

    def _entry(self, state: State, tid: int, tail: bytes, number: int) -> Entry | _Watch:
        """Thread `tid`'s steps in `state` (whose shared part is `tail` and the thread's
        number `number`) as patches, or _INTERPRET: from a projected entry when there is
        one, else interpreted once."""
        self.entries += 1
        native = self.native_entries
        # (C derives entries too, up to the limit: then Python is asked, and starts afresh)
        if self.entries > self.limit or (native is not None and len(native) >= self.native_limit):
            self.start_afresh()
        if tid < _WATCH_LIMIT:
            target = self.engine.join_watch(state, tid)
            if target is not None:
                self._watching = True
                return _Watch(target)
        if not self.projecting:
            return self._interpreted(state, tid)
        # A footprint depends on the thread and the vars only (engine/footprints.py).
        where = (tid, number, tail[2:6])
        first = self._footprints.get(where, _UNKNOWN)
        if first is _UNKNOWN:
            first = self._footprints[where] = self.engine.footprint(state, tid)
        if first is None:
            return self._interpreted(state, tid)
        gil = tail[0] | tail[1] << 8  # the holder's id + 1, 0 when free
        others = gil not in (0, tid + 1) and tid + 1 < 0xFFFF
        for at, reads in enumerate(self._read_sets.get(where, ())):
            key = _projected_key(state, tail, where, others, reads)
            if native is not None:
                self._project_reads(tail, where, at, reads, key)
            template = self.projected.get(key)
            if template is not None:
                return self._from_template(state, tail, template, others)
        return self._interpreted(state, tid, (first, tail, where, others))

    def _interpreted(
        self,
        state: State,
        tid: int,
        projecting: tuple[Footprint, bytes, tuple[int, int, bytes], bool] | None = None,
        watched: bool = False,
    ) -> Entry:
        """Interpret thread `tid`'s steps in `state` once, as patches (or _INTERPRET). With
        `projecting` (the footprint of its statement, the shared part, where, whether
        another thread holds the GIL), also keep them as a projected entry, keyed by what
        its steps read: that footprint and those of the statements merged after it.
        `watched`: a `join`, whose entry is kept for whether the joined thread has ended."""
        engine = self.engine
        th = state[0][tid]
        entry: Entry | None
        if projecting is not None:
            engine.merge_reads = []
        try:
            if not watched and engine.reads_other_threads(state, tid):
                raise _Live
            ample = engine.ample_step(state, tid, th) if self.ample else None
            out: list[Any] = []
            wanted = engine.thread_transitions(state, tid, th, out)
            engine.merge(out)
            handover_step = None
            if state[1] == tid:
                step = engine.handover_step(state, tid)
                if step is not None:
                    handover_step = engine.merge([step])[0]
            merged = engine.merge_reads  # what merging looked at (`finally` stops it)
            patches = tuple(self._patch(state, tid, step) for step in out)
            handover = None if handover_step is None else self._patch(state, tid, handover_step)
            entry = (
                self._patch(state, tid, ample) if ample is not None else None,
                patches,
                wanted,
                handover,
            )
            if projecting is not None and merged is not None and ample is None:
                first, tail, where, others = projecting
                reads = _reads(engine, first, merged)
                # A step that changes what it does not read is never projected.
                with contextlib.suppress(_Live):
                    if reads is None:
                        raise _Live  # a merged statement reads more than footprints name
                    if others and any(
                        type(target) is tuple and target[1] != state[1] for _, target in out
                    ):
                        raise _Live  # not kept: its steps would not be another holder's
                    template = (
                        tuple(
                            _change(patch, step, state, reads)
                            for patch, step in zip(patches, out, strict=True)
                        ),
                        wanted,
                        None
                        if handover is None or handover_step is None
                        else _change(handover, handover_step, state, reads),
                    )
                    self._keep_template(state, tail, where, others, reads, template)
        except _Live:
            entry = _INTERPRET
        finally:
            engine.merge_reads = None
        return entry

    def _keep_template(
        self,
        state: State,
        tail: bytes,
        where: tuple[int, int, bytes],
        others: bool,
        reads: Footprint,
        template: _Template,
    ) -> None:
        """Keep a projected entry under what its steps read (a new read set of the thread
        here, up to MAX_READ_SETS of them), and tell C."""
        read_sets = self._read_sets.setdefault(where, [])
        if reads not in read_sets:
            if len(read_sets) >= MAX_READ_SETS:
                return
            read_sets.append(reads)
        key = _projected_key(state, tail, where, others, reads)
        self.projected[key] = template
        if self.native_entries is not None:
            self._project_reads(tail, where, read_sets.index(reads), reads, key)
            self._project_template(key, template)

    def _from_template(self, state: State, tail: bytes, template: _Template, others: bool) -> Entry:
        """The entry a projected entry makes in `state`, whose shared part is `tail`
        (`others`: another thread holds the GIL)."""
        steps, wanted, handover = template
        return (
            None,
            tuple(self._changed_patch(state, tail, change, others) for change in steps),
            wanted,
            None if handover is None else self._changed_patch(state, tail, handover, others),
        )

    def _changed_patch(self, state: State, tail: bytes, change: _Change, others: bool) -> Patch:
        """A projected step's patch in `state`, whose shared part is `tail`: the template's
        GIL (unless another thread holds it, which stays so), vars, stdout and end, and this
        state's locks and channels changed as the step changes them."""
        patch, lock_changes, chan_changes = change
        action, number, new_tail, via = patch
        if new_tail is None:  # a violation or a limit
            return patch
        locks = self._part_with(state[3], lock_changes) if lock_changes else tail[_LOCKS]
        chans = self._part_with(state[4], chan_changes) if chan_changes else tail[_CHANS]
        if others:
            new_tail = tail[:2] + new_tail[2:]
        return (action, number, new_tail[:6] + locks + chans + new_tail[14:], via)

    # What C derives entries from (`Entries.project`; _records.c's `derive_entry` names the
    # keys): the facts Python learns as it makes projected entries, so that C makes the
    # same entry for another shared part without stopping for Python.

    def _id(self, kind: str, value: Any) -> bytes:
        """The number C knows a footprint, the values it reads, or a change by (packed)."""
        return _ID.pack(self._ids.setdefault((kind, value), len(self._ids)))

    def _change_id(self, changes: tuple[tuple[int, Any], ...]) -> bytes:
        """A change's number (-1: none), with the items it changes told to C."""
        if not changes:
            return _ID.pack(-1)
        change = self._id("change", changes)
        if change not in self._told:
            self._told.add(change)
            values = tuple([value for _, value in changes])
            items = _NUMBER.iter_unpack(self.store.items(values))
            objects = _NUMBER.iter_unpack(self.store.objects(values))
            pack = _CHANGE.pack
            told = b"".join(
                [
                    pack(i, item, it_is)
                    for (i, _), (item,), (it_is,) in zip(changes, items, objects, strict=True)
                ]
            )
            self.native_entries.project(b"D" + change, told)
        return change

    def _project_reads(
        self,
        tail: bytes,
        where: tuple[int, int, bytes],
        at: int,
        reads: Footprint,
        key: tuple[Any, ...],
    ) -> None:
        """The thread's `at`-th read set here, and what it names (C reads the values there
        from the parts' items, `_LinkedParts`)."""
        native = self.native_entries
        fid = self._id("footprint", reads)
        native.project(b"f" + _TID_NUMBER.pack(where[0], where[1]) + where[2] + bytes((at,)), fid)
        if fid not in self._told:
            self._told.add(fid)
            locks, chans = reads
            # (C is told read sets whose sizes and indices fit 2 bytes; the others are Python's)
            if (
                len(locks) <= 0xFFFF
                and len(chans) <= 0xFFFF
                and all(i <= 0xFFFF for i in locks + chans)
            ):
                indices = b"".join([_INDEX.pack(i) for i in locks + chans])
                native.project(b"r" + fid, _READS.pack(len(locks), len(chans)) + indices)

    def _project_template(self, key: tuple[Any, ...], template: _Template) -> None:
        """A projected entry, under what it is keyed by."""
        steps, wanted, handover = template
        changes = steps if handover is None else (*steps, handover)
        out = [
            b"k",
            _TID_NUMBER.pack(key[0], key[1]),
            key[2],
            key[3],
            self._id("footprint", key[4]),
            self.store.items(key[5]),
            self.store.items(key[6]),
        ]
        value = [
            bytes((1 if wanted else 0, 0 if handover is None else 1)),
            _NUMBER.pack(len(steps)),
        ]
        for (_, number, new_tail, via), lock_changes, chan_changes in changes:
            if new_tail is None:  # a violation or a limit: Python's
                value.append(_TEMPLATE_STEP.pack(1, b"", b"", 0, 0, 0))
                continue
            lock_change = _ID.unpack(self._change_id(lock_changes))[0]
            chan_change = _ID.unpack(self._change_id(chan_changes))[0]
            value.append(_TEMPLATE_STEP.pack(0, number, new_tail, via, lock_change, chan_change))
        self.native_entries.project(b"".join(out), b"".join(value))

    def _part_with(self, part: tuple[Any, ...], changes: tuple[tuple[int, Any], ...]) -> bytes:
        """The packed number of a locks or channels part with some items changed."""
        items = list(part)
        for i, value in changes:
            items[i] = value
        try:
            return _NUMBER.pack(self.store.part_number(tuple(items)))
        except struct.error as error:
            raise StoreFull(f"a state does not fit a record ({error})") from None

    def _patch(self, state: State, tid: int, step: tuple[Action, Any]) -> Patch:
        """A step of thread `tid` as a patch of the state's record (or _Live if it is not one)."""
        action, target = step
        if action[0] != tid:
            raise _WholeState  # another thread's step: the engine's order is not the table's
        if type(target) is not tuple:
            return (action, target, None, -1)  # a violation or a limit
        before, after = state[0], target[0]
        if len(target) != 7 or len(after) != len(before):
            raise _Live
        for i, th in enumerate(after):
            if th is not before[i] and i != tid:
                raise _Live
        store = self.store
        try:
            number = _NUMBER.pack(store.thread_number(after[tid]))
            tail = _TAIL.pack(
                target[1] + 1,
                store.part_number(target[2]),
                store.part_number(target[3]),
                store.part_number(target[4]),
                target[5] + 1,
                target[6],
            )
        except struct.error as error:
            raise StoreFull(f"a state does not fit a record ({error})") from None
        return (action, number, tail, store.action_number(action))

    def _live(
        self, state: State, tid: int, ample: bool = True
    ) -> tuple[Step | None, list[Step], bool]:
        """Thread `tid`'s ample step (unless `ample` is False), steps and GIL wish,
        interpreted in this state."""
        engine = self.engine
        th = state[0][tid]
        if self.ample and ample:
            step = engine.ample_step(state, tid, th)
            if step is not None:
                return self._encoded([step])[0], [], False
        out: list[Any] = []
        wanted = engine.thread_transitions(state, tid, th, out)
        if any(action[0] != tid for action, _ in out):
            raise _WholeState
        return None, self._encoded(engine.merge(out)), wanted

    def native_flags(self) -> int:
        """What the C loop is told to do (1: ample steps, 2: persistent sets; the search adds
        ENTRIES_AHEAD where it has just made the entries ahead, `fill_ahead`); with
        persistent sets, C is first told the facts of every thread number made so far
        (only Python makes numbers, so it knows each number it meets)."""
        if self.stubborn is None:
            return int(self.ample)
        native = self.native_entries
        told, known = native.facts_told(), self.store.threads_known()
        if known > told:
            pack = _FACTS.pack
            data = b"".join(pack(*self._thread_facts(number)) for number in range(told, known))
            native.set_facts(told, data)
        return int(self.ample) | 2

    def _thread_facts(self, number: int) -> ThreadFacts:
        """The persistent sets' facts of a thread number (engine/stubborn.py)."""
        facts = self._facts
        stubborn = self.stubborn
        assert stubborn is not None
        while len(facts) <= number:
            facts.append(stubborn.facts(self.store.thread(len(facts))))
        return facts[number]

    def _moved_to(self, step: Step) -> int:
        """Where a step takes its thread (`ThreadFacts.position`; -1 for a violation)."""
        (tid, _, _), target = step
        if type(target) is not bytes:
            return -1
        return self._thread_facts(_NUMBER.unpack_from(target, 2 + 4 * tid)[0]).position

    def _takes_ample(self, record: bytes, step: Step) -> bool:
        """Whether a thread's ample step is taken alone: always, but with persistent sets
        only where it goes forward (their cycle proviso, as the engine takes it)."""
        if self.stubborn is None:
            return True
        before = self._thread_facts(_NUMBER.unpack_from(record, 2 + 4 * step[0][0])[0])
        return forward(before.position, self._moved_to(step))

    def _reduced(self, record: bytes, out: list[Step]) -> list[Step]:
        """The steps persistent sets keep of a state's steps (`stubborn.keep_steps`, as
        the engine's `reduce` does on states)."""
        if len(out) < 2 or any(type(target) is not bytes for _, target in out):
            return out
        n = record[0] | record[1] << 8
        facts = [self._thread_facts(number) for number in thread_numbers(n).unpack_from(record, 2)]
        cut = 2 + 4 * n
        gil = (record[cut] | record[cut + 1] << 8) - 1
        kept = keep_steps(out, facts, self._moved_to, gil)
        return out if kept is None else kept

    def _encoded(self, steps: list[Any]) -> list[Step]:
        encode = self.store.encode
        return [
            (action, encode(target) if type(target) is tuple else target)
            for action, target in steps
        ]


def _projected_key(
    state: State, tail: bytes, where: tuple[int, int, bytes], others: bool, reads: Footprint
) -> tuple[Any, ...]:
    """What a projected entry is keyed by: the thread, the GIL (as another thread's where
    neither free nor its own), vars, stdout and end, the read set, and the values of the
    locks and channels it names."""
    locks, chans = state[3], state[4]
    return (
        where[0],
        where[1],
        (_OTHERS_GIL if others else tail[:2]) + tail[2:6],
        tail[14:],
        reads,
        tuple([locks[i] for i in reads[0]]),
        tuple([chans[i] for i in reads[1]]),
    )


def _reads(engine: ThreadwiseSystem, first: Footprint, merged: list[tuple[State, int]]) -> Any:
    """The locks and channels a thread's steps read: its statement's footprint and those of
    the statements merging looked at after it (None if one has none)."""
    locks, chans = set(first[0]), set(first[1])
    for state, tid in merged:
        footprint = engine.footprint(state, tid)
        if footprint is None:
            return None
        locks.update(footprint[0])
        chans.update(footprint[1])
    return (tuple(sorted(locks)), tuple(sorted(chans)))


def _change(
    patch: Patch,
    step: tuple[Action, Any],
    state: State,
    footprint: tuple[tuple[int, ...], tuple[int, ...]],
) -> _Change:
    """A step (its patch made by `_patch`) as a projected step: the items of the locks and
    channels it changes, all named by its footprint (else _Live)."""
    target = step[1]
    if type(target) is not tuple:
        return (patch, (), ())
    return (
        patch,
        _changed(state[3], target[3], footprint[0]),
        _changed(state[4], target[4], footprint[1]),
    )


def _changed(
    before: tuple[Any, ...], after: tuple[Any, ...], named: tuple[int, ...]
) -> tuple[tuple[int, Any], ...]:
    """The items of a part a step changes, all among `named` (else _Live)."""
    if after is before:
        return ()
    if len(after) != len(before):
        raise _Live
    changes = []
    for i, value in enumerate(after):
        if value is not before[i] and value != before[i]:
            if i not in named:
                raise _Live
            changes.append((i, value))
    return tuple(changes)


def _apply(patch: Patch, record: bytes, tid: int, cut: int) -> Step:
    """The step a patch makes from a state's record."""
    action, number, tail, _ = patch
    if tail is None:
        return (action, number)
    return (action, record[: 2 + 4 * tid] + number + record[6 + 4 * tid : cut] + tail)
