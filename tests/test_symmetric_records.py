"""Symmetry on records (explore/symmetric_records.py): the step table and the C loop reduce
each successor's record to its representative's, and find exactly what decoding every
successor and reducing the state finds: the same states with the same ids, parents, first
actions and edges, and the same verdict."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path
from typing import Any

import pytest
from conftest import CASES, SPECS, relative
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import ring_specs, symmetric_specs
from test_steptable import _program, _summary

from gilcheck.explore import symmetric_records
from gilcheck.explore.bfs import Exploration, explore
from gilcheck.explore.native import native_module
from gilcheck.explore.store import StoreFull, new_store
from gilcheck.explore.successors import SuccessorSource
from gilcheck.explore.symmetric import reduced_system
from gilcheck.explore.symmetric_records import RecordCanonicalizer
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.semantics import ir

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

SYMMETRIC = sorted(
    p
    for p in [*SPECS.rglob("*.gil"), *CASES.rglob("*.gil")]
    if "errors" not in p.parts and "thread " in p.read_text() and "[" in p.read_text()
)


def _search(program: ir.Program, options: CheckOptions) -> Exploration:
    return explore(reduced_system(program, options)[2], options)


def _agree(program: ir.Program, options: CheckOptions) -> None:
    """Reducing records (with the C loop, and in Python) and reducing decoded states agree."""
    decoded = _summary(_search(program, dataclasses.replace(options, step_table=False)))
    in_python = _summary(_search(program, dataclasses.replace(options, native=False)))
    assert in_python == decoded
    if native_module() is not None:
        assert _summary(_search(program, options)) == decoded


@pytest.mark.parametrize("path", SYMMETRIC, ids=[relative(p) for p in SYMMETRIC])
def test_every_bundled_spec_with_arrays_is_reduced_alike_on_records(path: Path) -> None:
    program = _program(path)
    if program is None:
        pytest.skip("refused spec")
    engine, canonical, _ = reduced_system(program, CheckOptions())
    if canonical is None or not RecordCanonicalizer.applies(canonical) or not engine.threadwise():
        pytest.skip("not reduced on records")
    for merge in (True, False):
        _agree(program, CheckOptions(max_states=2_000, merge_local_steps=merge))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(symmetric_specs(breaking=True), ring_specs()), st.booleans())
def test_reducing_records_changes_nothing_a_search_finds(spec: str, merge: bool) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    _agree(program, CheckOptions(max_states=3_000, merge_local_steps=merge))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(symmetric_specs(breaking=True), ring_specs()))
def test_maps_that_start_afresh_change_nothing(spec: str) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    limit = symmetric_records.CACHE_LIMIT
    symmetric_records.CACHE_LIMIT = 40  # the parts are thrown away every few dozen misses
    try:
        _agree(program, CheckOptions(max_states=5_000))
    finally:
        symmetric_records.CACHE_LIMIT = limit


# Booleans are the ints 0 and 1 (`true == 1`): the store may keep either for equal parts,
# so a rank must not depend on which one it holds.
BOOLS_AND_INTS = """\
const N = 2
mutex m[N]
var x[N] = true
channel c: unbounded
thread worker[N] {
    let v = 0
    choose { v = 1 } or { v = 0 }
    choose { x[self] = 1 } or { x[self] = false }
    lock m[self] { send c, self }
    choose { v = 1 } or { v = 0 }
    lock m[self] { skip }
}
thread main {
    let a = recv c
    lock m[a] { x[a] = 0 }
    let b = recv c
}
"""


def test_booleans_and_ints_that_are_equal_rank_alike() -> None:
    program = analyze_spec(parse_text("b.gil", BOOLS_AND_INTS))
    for merge in (True, False):
        _agree(program, CheckOptions(merge_local_steps=merge))


WORKERS = """\
const N = 4
channel c: bounded(2)
mutex m[N]

thread worker[N] {
    with_gil {
        skip
    }
    lock m[self] {
        send c, self
    }
}

thread main {
    let i = 0
    while i < N {
        let v = recv c
        with_gil {
            skip
        }
        i = i + 1
    }
}
"""


POOL = """\
const N = 3
channel tasks: bounded(6)
channel results: bounded(2)
mutex stats

thread worker[N] {
    python {
        let i = 0
        while i < 2 {
            let t = recv tasks
            lock stats {
                skip
            }
            send results, t
            i = i + 1
        }
    }
}

thread main {
    python {
        let j = 0
        while j < 2 * N {
            send tasks, j
            j = j + 1
        }
        let got = 0
        while got < 2 * N {
            let r = recv results
            got = got + 1
        }
    }
}
"""


def _concrete_records(program: ir.Program) -> tuple[Any, list[bytes]]:
    """A store, and the records of every representative's real successors (before
    reduction), from a search of the program."""
    options = CheckOptions()
    _, canonical, system = reduced_system(program, options)
    assert canonical is not None and RecordCanonicalizer.applies(canonical)
    found = explore(system, options)
    store = new_store(native=True)
    source = SuccessorSource(system, store, options)
    assert source.table is not None
    source.table.representative = None  # the real successors
    records = []
    for state in found.store.states:
        store.add(state, -1, None)
    for sid in range(len(store)):
        records.extend(r for _, r in source.table.successors(sid) if type(r) is bytes)
    return (store, canonical), records


@pytest.mark.skipif(native_module() is None, reason="no C extension")
def test_the_c_map_reduces_every_record_as_python_does() -> None:
    program = analyze_spec(parse_text("w.gil", WORKERS))
    (store, canonical), records = _concrete_records(program)
    reduce = RecordCanonicalizer(canonical, store)
    native = reduce.use_native(store)
    assert all(native.canonical(r) is None for r in records[:1])  # nothing known yet
    wanted = [reduce(r) for r in records]  # Python, which fills the C map as it goes
    assert [native.canonical(r) for r in records] == wanted
    assert sum(w != r for w, r in zip(wanted, records, strict=True)) > 10  # some were moved
    # and they are the records of the reduced states
    assert wanted == [store.encode(canonical(store.decode_record(r))) for r in records]


def test_the_c_loop_reduces_most_successors_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    if native_module() is None:
        pytest.skip("no C extension")
    program = analyze_spec(parse_text("p.gil", POOL))
    calls = 0
    real = RecordCanonicalizer.__call__

    def counted(self: RecordCanonicalizer, record: bytes) -> bytes:
        nonlocal calls
        calls += 1
        return real(self, record)

    monkeypatch.setattr(RecordCanonicalizer, "__call__", counted)
    found = _search(program, CheckOptions(max_states=100_000))  # (10.7 M transitions in all)
    assert found.transitions > 200_000
    assert calls < found.transitions / 20


def test_python_moves_what_the_c_loop_ranked_but_cannot_move(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Where C has ranked a successor's threads but lacks a moved thread or part, Python
    # moves them by C's permutation (`moved`) rather than reducing the record again.
    if native_module() is None:
        pytest.skip("no C extension")
    calls = {"__call__": 0, "moved": 0}
    for name in calls:
        real = getattr(RecordCanonicalizer, name)

        def counted(
            self: RecordCanonicalizer, *args: Any, name: str = name, real: Any = real
        ) -> Any:
            calls[name] += 1
            return real(self, *args)

        monkeypatch.setattr(RecordCanonicalizer, name, counted)
    program = analyze_spec(parse_text("w.gil", WORKERS))
    options = CheckOptions(merge_local_steps=False)
    _agree(program, options)
    calls.update({"__call__": 0, "moved": 0})
    _search(program, options)
    assert calls["moved"] > calls["__call__"] > 0


def test_the_cli_gives_the_same_answer_with_symmetry_on_records(cli) -> None:  # type: ignore[no-untyped-def]
    spec = SPECS / "seed" / "buggy.gil"
    for path in [spec, *SYMMETRIC[:6]]:
        fast = cli("check", str(path), "--format", "json")
        slow = cli("check", str(path), "--format", "json", "--no-step-table")
        assert fast.code == slow.code, path
        a, b = json.loads(fast.stdout), json.loads(slow.stdout)
        for field in ("verdict", "states", "transitions", "steps", "message"):
            assert a.get(field) == b.get(field), (path, field)


def _agreeing(position: list[int], support: tuple[int, ...], rng: Any) -> list[int]:
    """A permutation that puts the support's indexes where `position` does, the rest
    anywhere else."""
    free_from = [k for k in range(len(position)) if k not in support]
    free_to = [position[k] for k in free_from]
    rng.shuffle(free_to)
    other = list(position)
    for k, to in zip(free_from, free_to, strict=True):
        other[k] = to
    return other


def _supports_hold(program: ir.Program, seed: int) -> int:
    """Check on every state a search reaches that a part's or thread's permutation depends
    only on where its support goes; the number of checks made."""
    import random

    from gilcheck.system import symmetry

    options = CheckOptions(max_states=3_000, symmetry=False)
    _, canonical, _ = reduced_system(program, CheckOptions())
    if canonical is None:
        return 0
    found = explore(reduced_system(program, options)[2], options)
    rng = random.Random(seed)
    checks = 0
    for array in canonical.arrays:
        parts: set[tuple[int, Any]] = set()
        threads = set()
        for state in found.store.states[:3_000]:
            parts.update((kind, state[2 + kind]) for kind in range(3))
            threads.update(state[0])
        for kind, part in parts:
            support = symmetry.part_support(kind, part, array, canonical.lock_kinds)
            for _ in range(3):
                p = list(range(array.size))
                rng.shuffle(p)
                q = _agreeing(p, support, rng)
                if kind == 0:
                    a, b = (symmetry.permute_vars(part, array, x) for x in (p, q))
                elif kind == 1:
                    a, b = (
                        symmetry.permute_locks(part, array, x, canonical.lock_kinds) for x in (p, q)
                    )
                else:
                    a, b = (symmetry.permute_chans(part, array, x) for x in (p, q))
                assert a == b, (kind, part, support, p, q)
                checks += 1
        for th in threads:
            support = symmetry.thread_support(th, array)
            p = list(range(array.size))
            rng.shuffle(p)
            q = _agreeing(p, support, rng)
            assert symmetry.permute_thread(th, array, p, 0) == symmetry.permute_thread(
                th, array, q, 0
            )
            checks += 1
    return checks


def test_a_permutation_of_a_part_depends_only_on_its_support() -> None:
    checks = 0
    for path in SYMMETRIC:
        program = _program(path)
        if program is not None:
            checks += _supports_hold(program, 1)
    assert checks > 1_000


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(symmetric_specs(breaking=True), ring_specs()), st.integers(0, 1_000))
def test_generated_parts_depend_only_on_their_support(spec: str, seed: int) -> None:
    _supports_hold(analyze_spec(parse_text("gen.gil", spec)), seed)


def _canon_with_texts(texts: list[str], size: int) -> Any:
    """A C map for one array of `size` threads (ranks read no part), knowing thread number
    i's text without `self` as texts[i], added in the list's order."""
    module = native_module()
    assert module is not None
    canon = module.Canon(((0, size, False, False, False, False, 0),))
    number = struct.Struct("<I")
    for kind in range(3):  # every part stays where it is, whatever the permutation
        canon.add(b"M" + bytes([0, kind]) + number.pack(0), b"")
        canon.add(b"Q" + bytes([0, kind]) + number.pack(0), number.pack(0))
    for i, text in enumerate(texts):
        canon.add(b"o" + number.pack(i), text.encode())
        canon.add(b"U" + bytes([0]) + number.pack(i), b"")
        for new_self in range(size):
            canon.add(b"T" + bytes([0]) + struct.pack("<Ii", i, new_self), number.pack(i))
    return canon


def _record(numbers: list[int]) -> bytes:
    return struct.pack(f"<H{len(numbers)}I", len(numbers), *numbers) + bytes(17)


@pytest.mark.skipif(native_module() is None, reason="the C extension is not built")
@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 40), min_size=1, max_size=12),
    st.lists(st.lists(st.integers(0, 500), min_size=4, max_size=4), min_size=1, max_size=20),
    st.randoms(use_true_random=False),
)
def test_the_c_map_sorts_threads_by_their_texts(
    depths: list[int], picks: list[list[int]], rng: Any
) -> None:
    """Ranks are compared as numbers in C: each text's label is kept in the texts' order as
    texts arrive, spread afresh when two neighbours have no label left between them
    (chains of texts, each just after the one before, split one gap again and again).
    Threads still sort as their texts do, equal texts keeping their order."""
    texts = ["(0,)", "(9,)"]
    for depth in depths:  # "(1, 1)" < "(1, 1, 1)" < ... < "(9,)": one gap, split each time
        texts += ["(" + ", ".join(["1"] * k) + ")" for k in range(1, depth + 1)]
    texts += [f"({rng.randint(0, 3)}, 'a)b', ())" for _ in range(20)]  # ties, brackets in strings
    canon = _canon_with_texts(texts, 4)
    for pick in picks:
        numbers = [p % len(texts) for p in pick]
        expected = sorted(numbers, key=lambda n: texts[n])  # stable: ties keep their order
        assert canon.canonical(_record(numbers)) == _record(expected)


@pytest.mark.skipif(native_module() is None, reason="the C extension is not built")
def test_an_interrupt_in_pythons_reduction_keeps_the_figures(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The C loop calls Python's reduction for a record whose parts its map lacks: an
    interrupt raised there (Ctrl-C, SIGTERM) stops the search with the states and the
    transitions expanded before it counted, as a full store does."""
    spec = relative(SPECS / "symmetric" / "result_slots_fixed.gil")
    summaries = []
    # (the whole record, or the moves of its threads once C has ranked them)
    reductions = {name: getattr(RecordCanonicalizer, name) for name in ("__call__", "moved")}
    for stop in (KeyboardInterrupt, StoreFull):
        calls = [0]
        for name, reduce in reductions.items():

            def reducing(
                self: RecordCanonicalizer,
                *args: Any,
                stop: type = stop,
                calls: list[int] = calls,
                reduce: Any = reduce,
            ) -> bytes:
                calls[0] += 1
                if calls[0] > 300:
                    raise stop("stopped here")
                return reduce(self, *args)  # type: ignore[no-any-return]

            monkeypatch.setattr(RecordCanonicalizer, name, reducing)
        run = cli("check", "--format", "json", "--no-por", spec)
        report = json.loads(run.stdout)
        assert run.code == 3 and report["verdict"] == "inconclusive"
        summaries.append((report["states"], report["transitions"]))
    assert summaries[0] == summaries[1]


@pytest.mark.skipif(native_module() is None, reason="the C extension is not built")
def test_a_check_reduced_by_symmetry_in_c_frees_its_store(cli: Any, stores_alive: Any) -> None:
    """The C map calls Python's reduction, which holds the map: it keeps it by a weak
    reference, so the search's store goes when the check ends, in any long-lived process
    (the language server, the pytest plugin), with no collector pass."""
    run = cli("check", relative(SPECS / "symmetric" / "result_slots_fixed.gil"))
    assert run.code == 0
    made, alive = stores_alive()
    assert made and alive == 0
