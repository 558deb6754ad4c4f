"""Which process owns a state in the search on several processes (explore/partition.py, the
C `owner` and `busiest`, and the sample native_cluster.py makes): a partition hashes only
the threads it names, is the same in every process, and is chosen for few states sent
without leaving one process most of the work."""

from __future__ import annotations

import dataclasses
import struct
import sys
from array import array
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from gilcheck.explore import native_cluster
from gilcheck.explore.bfs import explore
from gilcheck.explore.budget import Budget
from gilcheck.explore.native import native_module
from gilcheck.explore.parallel import coordinate, plan_partition
from gilcheck.explore.partition import (
    EVERY_THREAD,
    Partition,
    Sample,
    choose,
    imbalance,
    mask_of,
    recent,
    sent_fraction,
)
from gilcheck.explore.symmetric import reduced_system
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text

sys.path.insert(0, str(ROOT / "bench"))

needs_c = pytest.mark.skipif(native_module() is None, reason="needs the C extension")


def _record(threads: list[int], gil: int = 0, stdout: int = 0, ended: int = 0) -> bytes:
    """A record in store.py's layout: the threads' numbers, the GIL, three parts, stdout."""
    n = len(threads)
    return struct.pack(f"<H{n}IHIIIHB", n, *threads, gil, 0, 0, 0, stdout, ended)


def test_the_sent_fraction_counts_the_steps_that_change_what_is_hashed() -> None:
    changes = {(0b001, False): 6, (0b010, True): 3, (1 << 63, False): 1}
    sample = Sample(changes, [[b""]], positions=2)
    assert sent_fraction(sample, Partition(mask_of([0]), False), 2) == pytest.approx(7 / 10 / 2)
    assert sent_fraction(sample, Partition(mask_of([1]), False), 2) == pytest.approx(4 / 10 / 2)
    assert sent_fraction(sample, Partition(mask_of([1]), True), 4) == pytest.approx(0.4 * 3 / 4)
    assert sent_fraction(sample, EVERY_THREAD, 2) == pytest.approx(0.5)
    assert sent_fraction(sample, EVERY_THREAD, 1) == 0.0


def test_the_last_depths_holding_enough_states() -> None:
    levels = [[b"a"], [b"b", b"c"], [b"d"] * 3]
    assert recent(levels, 3) == levels[2:]
    assert recent(levels, 4) == levels[1:]
    assert recent(levels, 100) == levels


def _busiest_by_first_byte(levels: Any, partition: Partition) -> int:
    """A made-up owner for two processes: the record's first byte, if position 0 is hashed;
    else all on process 0."""
    total = 0
    for level in levels:
        loads = [0, 0]
        for record in level:
            loads[record[0] % 2 if partition.mask & 1 else 0] += 1
        total += max(loads)
    return total


def test_a_partition_that_sends_little_and_spreads_evenly_is_chosen() -> None:
    # Position 0 seldom changes and spreads the states evenly: it wins over every thread.
    even = [[bytes([i % 2]) for i in range(600)]]
    sample = Sample({(0b01, False): 1, (0b10, True): 9}, even, positions=2, walked=even)
    assert imbalance(even, _busiest_by_first_byte, Partition(1, False), 2) == 1.0
    assert choose(sample, _busiest_by_first_byte, 2) == Partition(1, False)
    # Spread evenly early but not later (the walks): not taken.
    lopsided = Sample(sample.changes, even, positions=2, walked=[[b"\x00"] * 600])
    assert choose(lopsided, _busiest_by_first_byte, 2) != Partition(1, False)
    # One process: nothing to choose.
    assert choose(sample, _busiest_by_first_byte, 1) == EVERY_THREAD


@needs_c
def test_owner_hashes_only_the_named_threads_and_the_gil_when_asked() -> None:
    module = native_module()
    keys = array("Q", [11, 22, 33, 44])
    one = _record([0, 1], gil=1)
    other_second = _record([0, 2], gil=2)
    hashes_first = (mask_of([0]), False)
    owners = {module.owner(r, keys, 251, *hashes_first) for r in (one, other_second)}
    assert len(owners) == 1
    spread = {module.owner(_record([t, 1]), keys, 251, *hashes_first) for t in range(4)}
    assert len(spread) > 1
    # Without mask and gil: every thread and the GIL (the partition before sampling).
    assert module.owner(one, keys, 251) == module.owner(one, keys, 251, (1 << 64) - 1, True)
    with pytest.raises(ValueError, match="without a key"):
        module.owner(_record([9]), keys, 2, 1, False)
    for count in (0, 256):
        with pytest.raises(ValueError, match="1 to 255"):
            module.owner(one, keys, count)


@needs_c
@settings(max_examples=60, deadline=None)
@given(
    threads=st.lists(st.integers(0, 7), min_size=1, max_size=70),
    mask=st.integers(0, (1 << 64) - 1),
    gil=st.booleans(),
    count=st.integers(1, 255),
    data=st.data(),
)
def test_a_change_outside_the_partition_keeps_the_owner(
    threads: list[int], mask: int, gil: bool, count: int, data: Any
) -> None:
    module = native_module()
    keys = array("Q", [(k * 0x9E3779B97F4A7C15) % (1 << 64) for k in range(8)])
    outside = [i for i in range(len(threads)) if not mask >> min(i, 63) & 1]
    changed = list(threads)
    for i in outside:
        changed[i] = data.draw(st.integers(0, 7))
    held = data.draw(st.integers(0, 5))
    before = module.owner(_record(threads, gil=1), keys, count, mask, gil)
    after = module.owner(_record(changed, gil=1 if gil else held), keys, count, mask, gil)
    assert before == after < count


@needs_c
def test_busiest_counts_each_depths_busiest_process() -> None:
    module = native_module()
    keys = array("Q", [5, 6, 7, 8, 9])
    levels = [[_record([t, 0]) for t in range(5)], [_record([t % 2, 0]) for t in range(4)]]
    blob = b"".join(r for level in levels for r in level)
    lengths = array("I", [len(r) for level in levels for r in level])
    ends = array("I", [5, 9])
    for count, mask, gil in ((2, 1, False), (3, (1 << 64) - 1, True), (1, 0, False)):
        expected = 0
        for level in levels:
            loads = [0] * count
            for r in level:
                loads[module.owner(r, keys, count, mask, gil)] += 1
            expected += max(loads)
        assert module.busiest(blob, lengths, ends, keys, count, mask, gil) == expected
    with pytest.raises(ValueError, match="malformed"):
        module.busiest(blob, lengths, array("I", [10]), keys, 2)
    with pytest.raises(ValueError, match="malformed"):
        module.busiest(blob[:-1], lengths, ends, keys, 2)
    with pytest.raises(ValueError, match="1 to 255"):
        module.busiest(blob, lengths, ends, keys, 256)


@needs_c
def test_the_sampled_partition_sends_fewer_states_and_finds_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hashing every thread sends most states to another worker; the partition chosen
    from the sample hashes fewer threads and sends fewer (on the two-phase program: 0.56
    states per state against 0.85)."""
    from test_native_cluster import InProcess

    # The sample's bound in states, not its bound in time, which a busy machine reaches
    # first (the choice would then rest on fewer states).
    monkeypatch.setattr(native_cluster, "SAMPLE_SECONDS", 30.0)
    system, options = _phases_system()
    chosen = plan_partition(system, options, 2)
    assert chosen != EVERY_THREAD and not chosen.gil
    states = len(explore(system, options).store)
    sent = {}
    for partition in (chosen, EVERY_THREAD):
        cluster = InProcess(system, options, 2, True, partition)
        shared = coordinate(cluster, options, Budget(options))
        sent[partition] = sum(moved for _, moved in shared.rounds)
        assert shared.states == states > 20_000
    assert sent[chosen] < 0.8 * sent[EVERY_THREAD]


def _many(threads: int) -> Any:
    """`threads` threads each taking one shared lock once: every depth many times wider
    than the one before."""
    body = "".join(
        f"thread t{i} {{\n    lock m {{\n        skip\n    }}\n}}\n" for i in range(threads)
    )
    text = f'scenario "many"\nexpect ok\nmutex m\n{body}thread main {{\n    skip\n}}\n'
    options = CheckOptions(symmetry=False)
    return reduced_system(analyze_spec(parse_text("many.gil", text)), options)[2], options


@needs_c
def test_the_sample_keeps_to_its_bounds_on_wide_depths() -> None:
    """A depth is expanded whole: not one that would take the sample far past its states;
    what it keeps of its last depths is a share of them."""
    system, options = _many(60)
    sampler = native_cluster.NativeWorker(0, 1, system, options)
    sample = native_cluster._sample(sampler, system)
    assert sample is not None
    assert len(sampler.records) < 4 * native_cluster.SAMPLE_STATES
    assert sum(map(len, sample.levels)) <= 2 * native_cluster.SAMPLE_LAST


def test_a_short_search_is_not_sampled(monkeypatch: pytest.MonkeyPatch) -> None:
    system, options = _phases_system()
    # (bounded by states, so that a loaded machine samples as an idle one does)
    monkeypatch.setattr(native_cluster, "SAMPLE_SECONDS", 30.0)
    assert plan_partition(system, options, 2) != EVERY_THREAD
    for short in (
        dataclasses.replace(options, max_states=1000),
        dataclasses.replace(options, timeout=1.0),
    ):
        assert plan_partition(system, short, 2) == EVERY_THREAD


def _two_phases(first: int, second: int) -> str:
    """Threads a and b take a lock `first` times each, then main spawns three threads that
    take another `second` times: most states come after a and b have ended."""
    lock = "    lock {} {{\n        skip\n    }}\n"
    ab = "".join(f"thread {t} {{\n{lock.format('m') * first}    send d, 1\n}}\n" for t in "ab")
    spawns = "".join(f"    let h{i} = spawn work()\n" for i in range(3))
    joins = "".join(f"    join h{i}\n" for i in range(3))
    return (
        'scenario "two phases"\nexpect ok\nmutex m\nmutex m2\nchannel d: bounded(4)\n'
        f"{ab}fn work() {{\n{lock.format('m2') * second}}}\n"
        f"thread main {{\n    let x = recv d\n    let y = recv d\n{spawns}{joins}}}\n"
    )


@needs_c
def test_a_partition_spreads_the_states_of_a_program_s_later_phase(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first depths show only a and b moving; a partition that hashed them alone would
    put every state of the second phase, where they have ended, on one worker."""
    from test_native_cluster import InProcess

    monkeypatch.setattr(native_cluster, "SAMPLE_SECONDS", 30.0)  # (bounded by states)
    system, options = _phases_system()
    chosen = plan_partition(system, options, 2)
    cluster = InProcess(system, options, 2, False, chosen)
    shared = coordinate(cluster, options, Budget(options))
    owned = [len(w.store) - sum(len(s) for s in w.sent) for w in cluster.workers]
    assert sum(owned) == shared.states > 20_000
    assert max(owned) < 1.3 * shared.states / 2, (chosen, owned)


def _phases_system() -> Any:
    options = CheckOptions(symmetry=False)
    program = analyze_spec(parse_text("phases.gil", _two_phases(150, 30)))
    return reduced_system(program, options)[2], options
