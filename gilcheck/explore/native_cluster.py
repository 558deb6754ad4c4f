"""A worker of the search on several processes (explore/parallel.py, explore/distributed.py)
that runs the C loop over its records and exchanges records, not states.

The partition and the order are parallel.py's: each process owns the states whose control
falls to it, expands its states of a depth in the order the one-process search numbers
them, and a state found from several processes keeps the finder that search would name.
What travels is compact: the records a depth found, in one bytes object per pair of
processes (`_records.c`, `split`), each with its key (the finder's number and where it
found it) and the sender's id of it. A record names threads and parts by numbers each
process makes in the order it meets them, so each batch carries the values of the
numbers its records name that the receiver was not told of before (`untold`), and the
receiver translates the records to its own numbers in C (`merge`). That pair (the values
once, then records of small ints) is the process-independent form of a state.

The states of another process that this one finds are stored here as copies: never
expanded, they keep this process from sending a state twice, and they hold the step into
them for the trace (a state sent here names its copy at the sender as its parent).
"""

from __future__ import annotations

import random
import struct
import sys
import time
from array import array
from collections.abc import Sequence
from dataclasses import replace
from itertools import accumulate
from typing import Any

from gilcheck.explore.bfs import FILL_AHEAD, NATIVE_RUN
from gilcheck.explore.parallel import Batch, _Level, thread_place
from gilcheck.explore.partition import EVERY_THREAD, HIGHEST_BIT, Partition, Sample, choose
from gilcheck.explore.store import NativeStateStore, new_store
from gilcheck.explore.successors import SuccessorSource
from gilcheck.explore.symmetric import SymmetricSystem
from gilcheck.explore.visitor import Visitor
from gilcheck.options import CheckOptions
from gilcheck.system.model import (
    SPURIOUS_WAKEUP,
    Action,
    LimitHit,
    TransitionSystem,
    Violation,
)
from gilcheck.system.state import State

_ROOT = 255  # the finder of the initial state: none
_KEY_MASK = (1 << 64) - 1
SAMPLE_STATES = 10_000  # the sample for the partition: depths until this many states
SAMPLE_SECONDS = 0.25  # or until this long (the choice is made once, in one process)
SAMPLE_LAST = 4_096  # states of the last depths the sample keeps
SAMPLE_STEPS = 4_096  # steps the sample keeps, spread over the depths
SAMPLE_WALKS = 32  # random runs of the program (seeded: the same every time)
SAMPLE_WALK_STEPS = 4_096  # steps of each at most
WALK_PHASES = 4  # a program's runs in so many parts: a partition must spread each
SHORT_SEARCH = 20  # limits within this many samples: no sample (every thread hashed)


def supports(system: TransitionSystem, options: CheckOptions) -> bool:
    """Whether a search on several processes can store records: the C module is in use,
    states are exact, and not reduced by symmetry (whose representatives the step table
    chooses by number). The C loop runs where the step table applies; elsewhere a
    worker on records takes each state's steps from the engine."""
    if not options.native or options.fingerprint or system.symbolic:
        return False
    if isinstance(system, SymmetricSystem):
        return False
    return isinstance(new_store(True, False), NativeStateStore)


def thread_key(thread: Any) -> int:
    """A thread's part in the owner of a state, the same in every process (a hash of
    ints only)."""
    return hash(thread_place(thread)) & _KEY_MASK


class NativeWorker:
    """One process's part of the search, on records (the interface of parallel._Worker)."""

    def __init__(
        self,
        index: int,
        count: int,
        system: TransitionSystem,
        options: CheckOptions,
        partition: Partition = EVERY_THREAD,
    ) -> None:
        self.index = index
        self.count = count
        self.system = system
        self.partition = partition
        store = new_store(True, False)
        assert isinstance(store, NativeStateStore)
        self.store = store
        self.records = store.records
        self.module = store._module
        self.source = SuccessorSource(system, store, options)
        self.visitor = Visitor(system, options)
        self.graph = options.graph_analysis
        marks = self.graph and self.visitor.is_progress is not None
        self.native = self.source.native(marks, options)
        # Per id: the state's number in the one-process order (-1 until known, for
        # copies until the end), and which process found it (_ROOT: the initial state).
        self.number = array("q")
        self.finder = bytearray()
        self.keys = array("Q")  # per thread number: thread_key
        # The frontier: this process's states of the depth to expand, ids level_start..
        self.level_start = 0
        self.level_end = 0
        # Which of this process's numbers each other process was told of (a byte each),
        # and each other process's numbers here (-1: not told).
        self.told_threads = [bytearray() for _ in range(count)]
        self.told_parts = [bytearray() for _ in range(count)]
        self.thread_map = [array("i") for _ in range(count)]
        self.part_map = [array("i") for _ in range(count)]
        # The copies sent to each process, in order, and the ids here of what each sent.
        self.sent = [array("i") for _ in range(count)]
        self.received = [array("i") for _ in range(count)]
        # The edge log (by source, in expansion order) and the ids expanded.
        self.starts: array[int] | None = array("I") if self.graph else None
        self.dst: array[int] | None = array("i") if self.graph else None
        self.expanded = array("i")
        self.places = array("i")
        self.edges_from = 0
        self.split_at = 0

    def _known_keys(self) -> array[int]:
        store, keys = self.store, self.keys
        for number in range(len(keys), store.threads_known()):
            keys.append(thread_key(store.thread(number)))
        return keys

    def owner(self, record: bytes, partition: Partition, count: int) -> int:
        """Which of `count` processes owns the state with this record under `partition`."""
        keys = self._known_keys()
        owner: int = self.module.owner(record, keys, count, partition.mask, partition.gil)
        return owner

    def seed(self, state: State) -> None:
        record = self.store.encode(state)
        if self.owner(record, self.partition, self.count) == self.index:
            self.records.intern(record, -1, -1)
            self.number.append(0)
            self.finder.append(_ROOT)
            self.level_end = 1

    def expand(self) -> tuple[_Level, list[Batch]]:
        """Expand this process's states of the last depth: a report, and a batch for each
        process (this one's own too: the states it keeps)."""
        report = _Level()
        lo, hi = self.level_start, self.level_end
        assert hi == len(self.records)
        self.edges_from = len(self.dst) if self.dst is not None else 0
        self._expand(lo, hi, report)
        if self.graph:
            self.expanded.extend(range(lo, hi))
        numbers = self.number
        partition = self.partition
        batches, places = self.records.split(
            hi, self.index, self.count, self._known_keys(), numbers, partition.mask, partition.gil
        )
        self.places = array("i")
        self.places.frombytes(places)
        copies = len(self.records) - hi
        numbers.extend(array("q", [-1]) * copies)
        self.finder.extend(bytes([self.index]) * copies)
        self.split_at = hi
        outgoing: list[Batch] = []
        store = self.store
        for dest, batch in enumerate(batches):
            if dest == self.index:
                outgoing.append(batch)
                continue
            # The values of the numbers its records name that were not told to `dest` yet
            told_threads, told_parts = self.told_threads[dest], self.told_parts[dest]
            told_threads.extend(bytes(store.threads_known() - len(told_threads)))
            told_parts.extend(bytes(store.parts_known() - len(told_parts)))
            thread_numbers, part_numbers = self.module.untold(batch, told_threads, told_parts)
            threads = _told(thread_numbers, store.thread)
            parts = _told(part_numbers, store.part)
            self.sent[dest].extend(_refs(batch))
            report.sent += _items(batch)
            outgoing.append((threads, parts, batch))
        return report, outgoing

    def _expand(self, lo: int, hi: int, report: _Level) -> None:
        """The frontier's successors, stored here (this process's and others' alike), and
        the first deadlock, violating step and step past a limit, by number."""
        table = self.source.table
        native = self.native
        starts, dst = self.starts, self.dst
        visitor = self.visitor
        spurious = visitor.spurious
        store = self.store
        add, intern = store.add, store.intern
        numbers = self.number
        sid = lo
        while sid < hi:
            if native is not None:
                assert table is not None
                after, done, made = self._run(native, sid, min(hi, sid + NATIVE_RUN))
                if not done and table.fill_ahead(sid, min(hi, sid + FILL_AHEAD)):
                    after, done, made = self._run(native, sid, min(hi, sid + NATIVE_RUN))
                if done:
                    report.transitions += made
                    sid = after
                    continue
            state: State | None
            if table is not None:
                state = None
                steps = table.successors(sid)
            else:
                state = store.decode(sid)
                steps = self.system.transitions(state)
            if starts is not None and dst is not None:
                starts.append(len(dst))
            number = numbers[sid]
            if (not steps or spurious) and visitor.is_deadlock(
                store.decode(sid) if state is None else state, steps
            ):
                if report.deadlock is None or number < report.deadlock[0]:
                    report.deadlock = (number, sid)
                sid += 1
                continue
            report.transitions += len(steps)
            for action, target in steps:
                kind = type(target)
                if kind is bytes or kind is tuple:
                    if kind is bytes:
                        known = intern(target, sid, action)
                    else:
                        known, _ = add(target, sid, action)
                    if dst is not None and not (spurious and action[1] == SPURIOUS_WAKEUP):
                        dst.append(known)
                    continue
                if isinstance(target, Violation):
                    if report.violation is None or number < report.violation[0]:
                        report.violation = (number, sid, action, target)
                elif isinstance(target, LimitHit) and (
                    report.limit is None or number < report.limit[0]
                ):
                    report.limit = (number, sid, action, target)
            sid += 1

    def _run(self, native: Any, sid: int, stop: int) -> tuple[int, int, int]:
        """The C loop over the frontier from `sid` on, on one thread (the processes are the
        parallelism): (the next id, states expanded, transitions)."""
        table = self.source.table
        assert table is not None
        dst = self.dst
        result: tuple[int, int, int] = native(
            sid,
            stop,
            sys.maxsize,
            table.native_entries,
            table.native_flags(),
            self.starts,
            dst,
            len(dst) if dst is not None else 0,
            None,
            1,
        )
        return result

    def absorb(self, report: _Level, batches: list[Batch]) -> _Level:
        """Store this process's states of the new depth, those it found and those the
        others sent (in process order), each found from the finder with the least key."""
        store = self.store
        sources: list[tuple[int, bytes, array[int] | None, array[int] | None]] = []
        for sender, batch in enumerate(batches):
            if sender == self.index:
                sources.append((sender, batch, None, None))
                continue
            threads, parts, records = batch
            thread_map, part_map = self.thread_map[sender], self.part_map[sender]
            _learn(thread_map, threads, store.thread_number)
            _learn(part_map, parts, store.part_number)
            sources.append((sender, records, thread_map, part_map))
        before = len(self.records)
        key_parents, key_places, finders, ids = self.records.merge(sources, self.index, self.places)
        for sender, got in enumerate(ids):
            if sender != self.index:
                self.received[sender].frombytes(got)
        self.finder.extend(finders)
        report.new = len(self.records) - before
        report.key_parent = array("q")
        report.key_parent.frombytes(key_parents)
        report.key_place = array("q")
        report.key_place.frombytes(key_places)
        report.keys_in_order = True
        if self.dst is not None:
            tail = self.dst[self.edges_from :]
            self.module.renumber(tail, self.split_at, self.places)
            self.dst[self.edges_from :] = tail
        self.level_start, self.level_end = before, len(self.records)
        return report

    def numbered(self, numbers: array[int]) -> None:
        """The numbers of this process's states new at the last depth, in id order."""
        self.number.extend(numbers)

    def step_back(self, sid: int) -> tuple[int, int, Action | None, State | None]:
        """Where state `sid` came from: (process, id) of its parent, the action, the state;
        for a state another process sent, (that process, the copy's id, None, None): the
        step is the copy's."""
        finder = self.finder[sid]
        parent = self.records.parent(sid)
        if finder == _ROOT:
            return -1, -1, None, self.store.decode(sid)
        if finder != self.index:
            return finder, parent, None, None
        return self.index, parent, self.store.action(sid), self.store.decode(sid)

    def copy_numbers(self) -> list[bytes]:
        """Per process, the numbers of the states it sent here, in the order sent."""
        gather = self.module.gather
        return [gather(self.number, got) for got in self.received]

    def take_copy_numbers(self, told: list[bytes]) -> None:
        """The numbers of this process's copies, from their owners (see copy_numbers)."""
        for owner, numbers in enumerate(told):
            self.module.scatter(self.number, self.sent[owner], numbers)

    def numbered_edges(self) -> tuple[bytes, bytes]:
        """This process's edges, every state named by its number (after the copies')."""
        assert self.starts is not None and self.dst is not None
        edges: tuple[bytes, bytes] = self.module.numbered_edges(
            self.starts, self.dst, self.expanded, self.number
        )
        return edges


Told = tuple[bytes, list[Any]]  # numbers (u32 each) and their values


def choose_partition(system: TransitionSystem, options: CheckOptions, count: int) -> Partition:
    """The partition for `count` processes, from a sample of the program's first depths
    (partition.py). Made once, in one process, and handed to every worker: the sample
    stops at a time limit, so two processes could sample differently. A program whose
    every state the sample reaches keeps every thread hashed: it is too small to gain."""
    if count == 1 or _too_short(options):
        return EVERY_THREAD
    sampler = NativeWorker(0, 1, system, replace(options, graph_analysis=True))
    sample = _sample(sampler, system)
    if sample is None:
        return EVERY_THREAD
    keys, module = sampler._known_keys(), sampler.module
    # The few lists of depths `choose` asks of, each packed once; each list is kept with
    # its packing, so no other list can take its id.
    packed: dict[int, tuple[Any, bytes, array[int], array[int]]] = {}

    def busiest(levels: Sequence[Sequence[bytes]], partition: Partition) -> int:
        if id(levels) not in packed:
            lengths = array("I", (len(r) for level in levels for r in level))
            ends = array("I", accumulate(len(level) for level in levels))
            blob = b"".join(r for level in levels for r in level)
            packed[id(levels)] = (levels, blob, lengths, ends)
        _, blob, lengths, ends = packed[id(levels)]
        most: int = module.busiest(blob, lengths, ends, keys, count, partition.mask, partition.gil)
        return most

    return choose(sample, busiest, count)


def _too_short(options: CheckOptions) -> bool:
    """Whether the search's limits leave too little for a sample to pay: a state limit
    within SHORT_SEARCH samples, or a time limit within SHORT_SEARCH times its time."""
    states, seconds = options.max_states, options.timeout
    return (states is not None and states < SHORT_SEARCH * SAMPLE_STATES) or (
        seconds is not None and seconds < SHORT_SEARCH * 2 * SAMPLE_SECONDS
    )


def _sample(worker: NativeWorker, system: TransitionSystem) -> Sample | None:
    """The first depths of the search on one process (`worker`, the only one), and random
    runs of the program; None if the depths sampled are all its depths."""
    levels = _first_depths(worker, system)
    if levels is None:
        return None
    keys = worker._known_keys()
    changes, positions = _changes_of_steps(worker, keys)
    walked = _walk(worker, system, changes, time.monotonic() + SAMPLE_SECONDS)
    positions = max([positions, *(len(_control(r, keys)[0]) for p in walked for r in p)])
    return Sample(changes, _kept(worker, levels), positions, walked)


def _first_depths(worker: NativeWorker, system: TransitionSystem) -> list[tuple[int, int]] | None:
    """The ids of each depth `worker` stores, searching until SAMPLE_STATES or
    SAMPLE_SECONDS (the last depth is stored, not expanded); None if the search ends
    before."""
    worker.seed(system.initial_state())
    levels: list[tuple[int, int]] = []
    started = time.monotonic()
    deadline = started + SAMPLE_SECONDS
    while worker.level_end > worker.level_start:
        lo, hi = worker.level_start, worker.level_end
        levels.append((lo, hi))
        now = time.monotonic()
        # A depth is expanded whole: not one that would take the sample far past its time
        # or its states (by the growth of the depth before).
        before = levels[-2][1] - levels[-2][0] if len(levels) > 1 else 1
        expected_states = (hi - lo) * (hi - lo) / before
        expected_time = (now - started) / lo * (hi - lo) if lo else 0.0
        if (
            hi >= SAMPLE_STATES
            or hi + expected_states > 2 * SAMPLE_STATES
            or now > deadline
            or now + expected_time > deadline + SAMPLE_SECONDS
        ):
            return levels
        report, batches = worker.expand()
        worker.absorb(report, batches)
        worker.numbered(array("q", range(worker.level_start, worker.level_end)))
    return None


def _kept(worker: NativeWorker, levels: list[tuple[int, int]]) -> list[list[bytes]]:
    """The records of the last depths, SAMPLE_LAST at most (of a wider depth, an even
    share)."""
    record = worker.store.record
    kept: list[list[bytes]] = []
    held = 0
    for lo, hi in reversed(levels):
        if held >= SAMPLE_LAST:
            break
        step = -(-(hi - lo) // SAMPLE_LAST)
        kept.append([record(sid) for sid in range(lo, hi, step)])
        held += len(kept[-1])
    kept.reverse()
    return kept


def _changes_of_steps(
    worker: NativeWorker, keys: array[int]
) -> tuple[dict[tuple[int, bool], int], int]:
    """How many of the steps `worker` took (SAMPLE_STEPS of them, spread evenly) change
    each set of positions (and the GIL or not), and the most threads a state had."""
    record = worker.store.record
    changes: dict[tuple[int, bool], int] = {}
    positions = 0
    starts, dst, expanded = worker.starts, worker.dst, worker.expanded
    assert starts is not None and dst is not None
    source = -1
    control: tuple[tuple[int, ...], int, bytes] = ((), 0, b"")
    for at in range(0, len(dst), max(1, len(dst) // SAMPLE_STEPS)):
        index = _source_of(starts, at)
        if expanded[index] != source:
            source = expanded[index]
            control = _control(record(source), keys)
        target = _control(record(dst[at]), keys)
        positions = max(positions, len(control[0]), len(target[0]))
        change = _change(control, target)
        changes[change] = changes.get(change, 0) + 1
    return changes, positions


def _walk(
    worker: NativeWorker,
    system: TransitionSystem,
    changes: dict[tuple[int, bool], int],
    deadline: float,
) -> list[list[bytes]]:
    """The records of the states random runs of the program pass through, by where in
    its run each was (WALK_PHASES parts, from the start to the end), each step's changes
    counted in `changes` as the depths' are; until the deadline. A run cut short by it is
    kept only when no run ended."""
    chooser = random.Random(0)
    encode = worker.store.encode
    runs: list[list[bytes]] = []
    for _ in range(SAMPLE_WALKS):
        state = system.initial_state()
        record = encode(state)
        run: list[bytes] = []
        for _ in range(SAMPLE_WALK_STEPS):
            if time.monotonic() > deadline:
                return _phases(runs or [run])
            following = [t for _, t in system.transitions(state) if type(t) is tuple]
            if not following:
                break
            keys = worker._known_keys()
            control = _control(record, keys)
            targets = [encode(t) for t in following]
            keys = worker._known_keys()
            for target in targets:
                change = _change(control, _control(target, keys))
                changes[change] = changes.get(change, 0) + 1
            pick = chooser.randrange(len(following))
            state, record = following[pick], targets[pick]
            run.append(record)
        runs.append(run)
    return _phases(runs)


def _phases(runs: list[list[bytes]]) -> list[list[bytes]]:
    """The states of the runs by where in its run each was: WALK_PHASES lists."""
    phases: list[list[bytes]] = [[] for _ in range(WALK_PHASES)]
    for run in runs:
        for at, record in enumerate(run):
            phases[at * WALK_PHASES // len(run)].append(record)
    return [phase for phase in phases if phase]


def _source_of(starts: array[int], at: int) -> int:
    """The index of the state whose steps hold edge `at` (starts: each one's first)."""
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= at:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _control(record: bytes, keys: array[int]) -> tuple[tuple[int, ...], int, bytes]:
    """What a partition can hash of a record: each thread's key, the GIL, and the rest
    (the thread count, stdout and the end)."""
    (n,) = struct.unpack_from("<H", record)
    threads = struct.unpack_from(f"<{n}I", record, 2)
    tail = 2 + 4 * n
    (gil,) = struct.unpack_from("<H", record, tail)
    rest = record[tail + 14 : tail + 17]
    return tuple(keys[t] for t in threads), gil, bytes([n & 255, n >> 8]) + rest


def _change(
    before: tuple[tuple[int, ...], int, bytes], after: tuple[tuple[int, ...], int, bytes]
) -> tuple[int, bool]:
    """Which positions a step changes (as a Partition mask), and whether the GIL."""
    changed = 0 if before[2] == after[2] else 1 << HIGHEST_BIT
    for position, (a, b) in enumerate(zip(before[0], after[0], strict=False)):
        if a != b:
            changed |= 1 << min(position, HIGHEST_BIT)
    return changed, before[1] != after[1]


def _told(numbers: bytes, value_of: Any) -> Told:
    """Numbers of this process and their values, for a process that did not know them."""
    named = array("I")
    named.frombytes(numbers)
    return numbers, [value_of(n) for n in named]


def _learn(numbers_here: array[int], told: Told, number_of: Any) -> None:
    """Note this process's numbers of values another numbered (`numbers_here`, by the
    other's number; -1 where not told)."""
    raw, values = told
    theirs = array("I")
    theirs.frombytes(raw)
    if theirs:
        most = max(theirs) + 1
        if most > len(numbers_here):
            numbers_here.extend(array("i", [-1]) * (most - len(numbers_here)))
    for number, value in zip(theirs, values, strict=True):
        numbers_here[number] = number_of(value)


def _items(batch: bytes) -> int:
    return int.from_bytes(batch[:4], "little")


def _refs(batch: bytes) -> array[int]:
    """The ids at the sender named in a batch (see `split`): its copies."""
    n = _items(batch)
    at = 8 + n * (4 + 8 + 8)
    refs = array("i")
    refs.frombytes(batch[at : at + 4 * n])
    return refs
