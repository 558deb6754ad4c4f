"""Several threads in the C loop (`--threads`): the same states with the same ids,
parents, first actions, edges and verdicts as one thread, in exact and fingerprint mode."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SPECS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import differential_specs, scenario_specs
from test_steptable import _summary
from test_symmetric_records import WORKERS as SYMMETRIC_WORKERS

from gilcheck.explore import bfs
from gilcheck.explore.bfs import explore
from gilcheck.explore.native import native_module
from gilcheck.options import CheckOptions, search_threads
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.system.engine import Engine

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(native_module() is None, reason="no C extension"),
]

# The workers of tests/test_symmetric_records.py, three of them (no symmetry here).
WORKERS = SYMMETRIC_WORKERS.replace("N = 4", "N = 3")


def tuned_stores(*tuning: int):  # type: ignore[no-untyped-def]
    """`bfs.new_store`, its records tuned (`Records.tune(streak, per_worker[, most_bytes[,
    scan_per_thread]])`)."""
    made = bfs.new_store

    def new_store(native: bool = True, fingerprint: bool = False):  # type: ignore[no-untyped-def]
        store = made(native, fingerprint)
        store.records.tune(*tuning)
        return store

    return new_store


@pytest.fixture
def eager_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Threads start at once, with one state each at first (the C loop otherwise waits for
    a long run of states that need no Python), and share every run of states whose entries
    are made ahead, however short."""
    monkeypatch.setattr(bfs, "new_store", tuned_stores(0, 1, 0, 1))


def _both(spec: str, options: CheckOptions, threads: int = 2) -> None:
    program = analyze_spec(parse_text("t.gil", spec))
    one = _summary(explore(Engine(program, options), dataclasses.replace(options, threads=1)))
    more = explore(Engine(program, options), dataclasses.replace(options, threads=threads))
    assert _summary(more) == one


@pytest.mark.usefixtures("eager_threads")
@pytest.mark.parametrize("fingerprint", [False, True])
@pytest.mark.parametrize("merge", [False, True])
def test_two_threads_find_what_one_finds(merge: bool, fingerprint: bool) -> None:
    options = CheckOptions(
        merge_local_steps=merge,
        symmetry=False,
        fingerprint=fingerprint,
        graph_analysis=not fingerprint,
    )
    _both(WORKERS, options)
    _both(WORKERS.replace("bounded(2)", "bounded(1)"), options)


@pytest.mark.usefixtures("eager_threads")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(scenario_specs(), differential_specs()), st.booleans())
def test_threads_change_nothing_a_search_finds(spec: str, merge: bool) -> None:
    _both(spec, CheckOptions(max_states=5_000, merge_local_steps=merge, symmetry=False))


SPAWNED = """\
mutex m[3]
var x[3] = 0

fn work(i) {
    let k = 0
    while k < 3 {
        lock m[i] {
            x[i] = (x[i] + 1) % 2
        }
        k = k + 1
    }
}

thread main {
    let a = spawn work(0)
    let b = spawn work(1)
    let c = spawn work(2)
    join a
    join b
    join c
}
"""


def _rounds(spec: str, options: CheckOptions) -> tuple[int, int, int, int]:
    program = analyze_spec(parse_text("t.gil", spec))
    found = explore(Engine(program, options), options)
    return found.store.records.rounds()  # type: ignore[attr-defined, no-any-return]


@pytest.mark.usefixtures("eager_threads")
@pytest.mark.parametrize("fingerprint", [False, True])
def test_rounds_are_stored_at_once_with_entries_the_threads_derive(fingerprint: bool) -> None:
    # The path the figures come from: rounds whose successors every thread stores at once
    # (not one state at a time), with step-table entries the threads derive themselves.
    options = CheckOptions(
        symmetry=False, threads=2, fingerprint=fingerprint, graph_analysis=not fingerprint
    )
    at_once, in_order, derived, _ = _rounds(WORKERS, options)
    assert at_once > 0 and at_once > in_order
    assert derived > 0
    _both(WORKERS, options)


@pytest.mark.parametrize("fingerprint", [False, True])
@pytest.mark.parametrize("merge", [False, True])
def test_entries_made_ahead_on_several_threads_are_those_one_makes(
    merge: bool, fingerprint: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The entries of the states ahead (`missing`), derived by each thread for its share of
    # them and kept in order afterwards: here every run of states ahead is shared, however
    # short. A step that makes a part not numbered yet is derived in order after them.
    monkeypatch.setattr(bfs, "new_store", tuned_stores(0, 1, 0, 1))
    options = CheckOptions(
        merge_local_steps=merge,
        symmetry=False,
        fingerprint=fingerprint,
        graph_analysis=not fingerprint,
        threads=2,
    )
    *_, ahead = _rounds(WORKERS, options)
    assert ahead > 0
    _both(WORKERS, options)
    _both(WORKERS.replace("bounded(2)", "bounded(1)"), options, threads=3)


class _KeepingNone:
    """The C module, its step-table entries keeping none of those several threads derive
    (`Entries(limit, keep_most=0)`): each thread derives them again where it needs them."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def Entries(self, limit: int) -> Any:
        return self.module.Entries(limit, 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)


@pytest.mark.parametrize("fingerprint", [False, True])
@pytest.mark.parametrize("merge", [False, True])
def test_entries_are_derived_again_where_the_table_keeps_no_more(
    merge: bool, fingerprint: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Past what the table keeps of the entries C derives (none here), each thread derives
    # them for the state at hand, on one thread as on several: the states, edges and
    # verdicts of a table that keeps them all.
    options = CheckOptions(
        merge_local_steps=merge,
        symmetry=False,
        fingerprint=fingerprint,
        graph_analysis=not fingerprint,
    )
    specs = (WORKERS, WORKERS.replace("bounded(2)", "bounded(1)"))
    programs = [analyze_spec(parse_text("t.gil", spec)) for spec in specs]
    kept = [
        _summary(explore(Engine(program, options), dataclasses.replace(options, threads=1)))
        for program in programs
    ]
    made = bfs.new_store

    def new_store(native: bool = True, fingerprint: bool = False):  # type: ignore[no-untyped-def]
        store = made(native, fingerprint)
        store.records.tune(0, 1, 0, 1)
        store._module = _KeepingNone(store._module)
        return store

    monkeypatch.setattr(bfs, "new_store", new_store)
    for program, expected in zip(programs, kept, strict=True):
        for threads in (1, 2, 3):
            more = dataclasses.replace(options, threads=threads)
            assert _summary(explore(Engine(program, options), more)) == expected
    _, _, derived, ahead = _rounds(WORKERS, dataclasses.replace(options, threads=2))
    assert derived > 0 and ahead > 0


@pytest.mark.usefixtures("eager_threads")
@pytest.mark.parametrize("threads", [3, 4, 7])
def test_more_threads_than_a_round_stores_at_once(threads: int) -> None:
    # A round stored at once can have fewer workers than the pool has threads (those up
    # to the first that stopped early): the others must not run a round's job twice.
    options = CheckOptions(symmetry=False, merge_local_steps=False)
    _both(WORKERS, options, threads)
    _both(SPAWNED, options, threads)
    _both(
        WORKERS.replace("bounded(2)", "bounded(1)"),
        dataclasses.replace(options, max_states=900),
        threads,
    )


SYMMETRIC = sorted(
    path
    for path in (SPECS / "symmetric").glob("*.gil")
    if "spawned" not in path.name  # (spawned threads are renumbered on decoded states)
)


@pytest.mark.usefixtures("eager_threads")
@pytest.mark.parametrize("path", SYMMETRIC, ids=lambda path: path.name)
def test_threads_reduce_by_symmetry_as_one_does(path: Path) -> None:
    # Each thread reduces successors to their representatives with its own copy of the
    # map's scratch areas.
    spec = path.read_text()
    for merge in (False, True):
        options = CheckOptions(symmetry=True, merge_local_steps=merge, max_states=12_000)
        _both(spec, options)
        _both(spec, options, 3)


@pytest.mark.usefixtures("eager_threads")
def test_rounds_are_stored_at_once_with_symmetry() -> None:
    options = CheckOptions(symmetry=True, threads=2, merge_local_steps=False)
    at_once, _, _, _ = _rounds(WORKERS, options)
    assert at_once > 0


@pytest.mark.usefixtures("eager_threads")
@pytest.mark.parametrize("merge", [False, True])
def test_spawned_threads_records_of_several_lengths(merge: bool) -> None:
    # Spawns change the number of threads, so records differ in length (offsets kept).
    options = CheckOptions(symmetry=False, merge_local_steps=merge)
    _both(SPAWNED, options)
    assert _rounds(SPAWNED, dataclasses.replace(options, threads=2))[0] > 0


@pytest.mark.parametrize("most", [40_000, 150_000])
def test_a_store_that_fills_inside_a_round_stops_where_one_thread_stops(
    most: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Records of several lengths may take at most 4 GiB: a round that does not fit is
    # stored state by state, up to the state that does not fit, as one thread stores it
    # (here the limit is lowered to `most` bytes).
    monkeypatch.setattr(bfs, "new_store", tuned_stores(0, 1, most))
    options = CheckOptions(symmetry=False, merge_local_steps=False)
    program = analyze_spec(parse_text("t.gil", SPAWNED))
    one = explore(Engine(program, options), dataclasses.replace(options, threads=1))
    assert one.stopped is not None and "capacity" in one.stopped
    for threads in (2, 3):
        more = explore(Engine(program, options), dataclasses.replace(options, threads=threads))
        assert _summary(more) == _summary(one)


@pytest.mark.usefixtures("eager_threads")
@pytest.mark.parametrize("limit", [1_000, 1_777, 3_001])
def test_a_state_limit_inside_a_round_stops_where_one_thread_stops(limit: int) -> None:
    _both(WORKERS, CheckOptions(symmetry=False, merge_local_steps=False, max_states=limit))


TRACED = """\
import sys, tracemalloc
sys.path.insert(0, {tests!r})
from test_threads import WORKERS, tuned_stores
from gilcheck.explore import bfs
from gilcheck.explore.bfs import explore
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.system.engine import Engine
bfs.new_store = tuned_stores(0, 1)
tracemalloc.start()
options = CheckOptions(symmetry=False, threads=2)
found = explore(Engine(analyze_spec(parse_text("t.gil", WORKERS)), options), options)
print(len(found.store), found.store.records.rounds()[0])
"""


def test_threads_run_with_tracemalloc_on() -> None:
    # With tracemalloc on, Python's raw allocator takes the GIL, which the thread waiting
    # for the workers holds: workers that allocated through it never finished.
    done = subprocess.run(
        [sys.executable, "-c", TRACED.format(tests=str(Path(__file__).parent))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    states, at_once = map(int, done.stdout.split())
    assert states > 100 and at_once > 0


def test_the_cli_gives_the_same_answer_with_threads(cli) -> None:  # type: ignore[no-untyped-def]
    for path in [SPECS / "seed" / "buggy.gil", SPECS / "seed" / "fixed.gil"]:
        one = cli("check", str(path), "--format", "json", "--no-symmetry")
        for threads in ("2", "0"):
            more = cli(
                "check", str(path), "--format", "json", "--no-symmetry", "--threads", threads
            )
            assert more.code == one.code
            a, b = json.loads(one.stdout), json.loads(more.stdout)
            for field in ("verdict", "states", "transitions", "steps", "message"):
                assert a[field] == b[field], (path, threads, field)


OVER_ITS_BOUND = """\
channel c: unbounded
var x[3] = 0
thread p {
    loop { send c, 1 }
}
thread w[3] {
    let i = 0
    while i < 4 {
        x[self] = (x[self] + 1) % 3
        i = i + 1
    }
}
thread main { skip }
"""


class _Counting:
    """A store's C records, counting the states `missing` is asked to scan (in runs; one
    state found in a run is asked about again, alone, before Python makes its entries)."""

    def __init__(self, records: object) -> None:
        self.records = records
        self.scanned = self.again = 0

    def missing(
        self, sid: int, stop: int, entries: object, threads: int = 1
    ) -> tuple[list[int], int]:
        if stop - sid == 1:
            self.again += 1
        else:
            self.scanned += stop - sid
        return self.records.missing(sid, stop, entries, threads)  # type: ignore[attr-defined, no-any-return]

    def __getattr__(self, name: str) -> object:
        return getattr(self.records, name)

    def __len__(self) -> int:
        return len(self.records)  # type: ignore[arg-type]


def test_entries_are_made_ahead_once_per_run_of_states(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every state has a step Python takes (a channel over its bound): the C loop stops at
    # each, and only the stops where entries were missing look ahead, each run once.
    made, counted = bfs.new_store, []

    def new_store(native: bool = True, fingerprint: bool = False):  # type: ignore[no-untyped-def]
        store = made(native, fingerprint)
        store.records = _Counting(store.records)
        counted.append(store.records)
        return store

    monkeypatch.setattr(bfs, "new_store", new_store)
    program = analyze_spec(parse_text("o.gil", OVER_ITS_BOUND))
    options = CheckOptions(symmetry=False, max_states=20_000)
    found = explore(Engine(program, options), options)
    assert len(found.store) > 2_000
    assert counted[0].scanned <= len(found.store) + bfs.FILL_AHEAD
    assert counted[0].again <= len(found.store)


def test_threads_zero_means_one_per_core_and_is_the_default() -> None:
    assert search_threads(CheckOptions(threads=3)) == 3
    assert search_threads(CheckOptions(threads=0)) >= 1
    assert CheckOptions().threads == 0


@pytest.mark.parametrize("ahead", [False, True])
def test_threads_start_at_once_on_states_whose_entries_were_made_ahead(
    ahead: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Threads wait for a long run of states that need no Python (here longer than the
    # search), except on the run whose entries Python has just made ahead (ENTRIES_AHEAD),
    # past the search's first states (AT_ONCE_AFTER, here none): there they start at
    # once, and find what one thread finds.
    monkeypatch.setattr(bfs, "new_store", tuned_stores(10**9, 1))
    monkeypatch.setattr(bfs, "AT_ONCE_AFTER", 0 if ahead else 10**9)
    options = CheckOptions(symmetry=False, merge_local_steps=False, threads=2)
    at_once, in_order, _, _ = _rounds(WORKERS, options)
    assert (at_once + in_order > 0) == ahead
    _both(WORKERS, options)
