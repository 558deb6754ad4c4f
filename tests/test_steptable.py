"""The step table (explore/steptable.py) finds exactly what interpreting every step finds:
the same states with the same ids, parents, first actions and edges, and the same verdict."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CASES, ROOT, SPECS, expected_errors, relative
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import differential_specs, scenario_specs, symmetric_specs

from gilcheck.diagnostics import SpecError
from gilcheck.explore import budget, steptable, successors
from gilcheck.explore.bfs import Exploration, explore
from gilcheck.explore.native import native_module
from gilcheck.explore.steptable import StepTable
from gilcheck.explore.store import new_store
from gilcheck.explore.successors import SuccessorSource
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_spec, parse_text
from gilcheck.semantics import ir
from gilcheck.system.engine import Engine

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

# Every bundled spec, and every other test case (the step table's own tests and the
# property tests cover the rest; the suite's time is kept under three minutes).
BUNDLED = (
    sorted(SPECS.rglob("*.gil"))
    + sorted(p for p in CASES.rglob("*.gil") if "errors" not in p.parts)[::2]
)


def _search(program: ir.Program, options: CheckOptions) -> Exploration:
    return explore(Engine(program, options), options)


def _summary(found: Exploration) -> dict[str, Any]:
    """Everything a search found, state by state."""
    store = found.store
    edges = found.edges
    return {
        "states": list(store.states),
        "parents": list(store.parent),
        "vias": list(store.via),
        "transitions": found.transitions,
        "starts": list(edges.starts) if edges is not None else None,
        "dst": list(edges.dst) if edges is not None else None,
        "progress": bytes(edges.progress) if edges is not None else None,
        "violation": (found.violation, found.violation_from, found.violation_action),
        "deadlock": found.deadlock,
        "limits": found.limits,
        "stopped": found.stopped,
    }


def _agree(program: ir.Program, options: CheckOptions, python_table: bool = True) -> None:
    """The table with the C loop, the table in Python (unless `python_table` is False), and
    the interpreter alone agree. Where the table does not apply, the search in Python is
    the interpreter's: the interpreter on C's store is compared with it."""
    interpreted = _summary(
        _search(program, dataclasses.replace(options, step_table=False, native=False))
    )
    if python_table and not StepTable.supports(Engine(program, options)):
        python_table = False
    if python_table or native_module() is None:
        tabled = _summary(_search(program, dataclasses.replace(options, native=False)))
        assert tabled == interpreted
    if native_module() is not None:
        assert _summary(_search(program, options)) == interpreted


def _program(path: Path) -> ir.Program | None:
    """The compiled spec, or None for a case that is meant to be refused (it has marks)."""
    try:
        return analyze_spec(parse_spec(str(path)))
    except SpecError:
        if expected_errors(path.read_text()) or "not_exportable" in path.parts:
            return None
        raise


@pytest.mark.parametrize("path", BUNDLED, ids=[relative(p) for p in BUNDLED])
def test_every_bundled_spec_is_explored_alike_with_and_without_the_table(path: Path) -> None:
    program = _program(path)
    if program is None:
        pytest.skip("refused spec")
    # Without merging, the table in Python is left to the generated specs below (both
    # ways there): the C loop, which checks run, is compared with the interpreter.
    for merge, states in ((True, 4_000), (False, 2_000)):
        options = CheckOptions(max_states=states, merge_local_steps=merge, symmetry=False)
        _agree(program, options, python_table=merge)


SPECS_OF_EVERY_KIND = st.one_of(
    scenario_specs(),
    differential_specs(),
    differential_specs(arrays=True),
    differential_specs(local_steps=True, calls=True),
    symmetric_specs(breaking=True),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPECS_OF_EVERY_KIND, st.booleans(), st.booleans())
def test_the_table_changes_nothing_a_search_finds(spec: str, merge: bool, spurious: bool) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    options = CheckOptions(
        max_states=5_000, merge_local_steps=merge, symmetry=False, spurious_wakeups=spurious
    )
    _agree(program, options)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(differential_specs(gil_off=True), differential_specs(gil_off=True, gil_api=True)),
    st.booleans(),
)
def test_the_table_changes_nothing_free_threaded(spec: str, merge: bool) -> None:
    """`gil off`: threads' steps read the pause and themselves; the pause's requester waits
    for every attached thread and is interpreted in every state."""
    program = analyze_spec(parse_text("gen.gil", spec))
    _agree(program, CheckOptions(max_states=5_000, merge_local_steps=merge, symmetry=False))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPECS_OF_EVERY_KIND, st.booleans(), st.sampled_from([3, 40]))
def test_a_table_that_starts_afresh_changes_nothing(spec: str, merge: bool, keep: int) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    options = CheckOptions(max_states=5_000, merge_local_steps=merge, symmetry=False)
    limit = steptable.DEFAULT_LIMIT
    # Entries (and what C derives them from) are thrown away every few misses.
    steptable.DEFAULT_LIMIT = keep
    try:
        _agree(program, options)
    finally:
        steptable.DEFAULT_LIMIT = limit


@pytest.mark.skipif(native_module() is None, reason="no C extension")
@pytest.mark.parametrize("merge", [False, True])
def test_c_keeping_more_entries_than_python_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, merge: bool
) -> None:
    """Python's entries start the table afresh at 1,000, the entries C derives at 3,000
    (each at 7/8 before a run is made ahead): C keeps more than Python's limit; past half
    its own it derives most entries for the state at hand alone, so that the table seldom
    starts afresh (it did at least four times when C kept them all); the states are the
    interpreter's."""
    text = (ROOT / "bench" / "models" / "gil_workers_fixed_5.gil").read_text()
    program = analyze_spec(parse_text("gw.gil", text))
    options = CheckOptions(max_states=10_000, merge_local_steps=merge, symmetry=False)
    made: list[StepTable] = []
    with monkeypatch.context() as patched:
        patched.setattr(steptable, "DEFAULT_LIMIT", 1_000)
        patched.setattr(successors, "native_entry_limit", lambda memory, tables=1: 3_000)
        patched.setattr(successors, "StepTable", _Recording(made))
        _agree(program, options, python_table=False)
    (table,) = (t for t in made if t.native_entries is not None)
    assert (table.limit, table.native_limit) == (1_000, 3_000)
    assert table.afresh <= 1
    assert table.entries < 1_000 < len(table.native_entries) <= 3_000


class _Recording:
    """StepTable, with every table made kept in `made`."""

    def __init__(self, made: list[StepTable]) -> None:
        self.made = made

    def __call__(self, *args: Any, **kwargs: Any) -> StepTable:
        table = StepTable(*args, **kwargs)
        self.made.append(table)
        return table


def test_the_table_is_used_where_it_applies_and_only_there() -> None:
    def supported(text: str) -> bool:
        program = analyze_spec(parse_text("t.gil", text))
        return StepTable.supports(Engine(program, CheckOptions()))

    plain = "channel c: bounded(1)\nthread main {\n    send c, 1\n    let v = recv c\n}\n"
    assert supported(plain)
    assert not supported("param p: int in 0..3\nthread main {\n    assert p < 9\n}\n")
    assert supported("gil off\nthread main {\n    skip\n}\n")  # a pause's requester: live
    assert not supported("thread main {\n    fork {\n        skip\n    }\n}\n")


def test_the_cli_gives_the_same_answer_without_the_table(cli) -> None:  # type: ignore[no-untyped-def]
    for path in (SPECS / "seed").glob("*.gil"):
        with_table = json.loads(cli("check", "--format", "json", relative(path)).stdout)
        without = json.loads(
            cli("check", "--format", "json", "--no-step-table", relative(path)).stdout
        )
        for key in ("verdict", "states", "transitions", "steps", "message"):
            assert with_table[key] == without[key], (path, key)


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
def test_the_c_loop_expands_most_states_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_calls(monkeypatch, "successors")
    program = analyze_spec(parse_spec(str(ROOT / "bench" / "models" / "gil_workers_fixed_4.gil")))
    options = CheckOptions(max_states=60_000, merge_local_steps=False, symmetry=False)
    found = _search(program, options)
    assert found.stopped is not None and "state limit" in found.stopped
    assert calls["python"] < found.states // 5
    interpreted = _search(program, dataclasses.replace(options, native=False, step_table=False))
    assert (found.states, found.transitions) == (interpreted.states, interpreted.transitions)


def test_without_a_compiler_the_search_runs_in_python(monkeypatch: pytest.MonkeyPatch) -> None:
    from gilcheck.explore import native

    monkeypatch.setenv("GILCHECK_NATIVE", "0")
    assert native.native_module() is None
    assert native.why_not == "GILCHECK_NATIVE=0"
    program = analyze_spec(parse_spec(str(SPECS / "seed" / "buggy.gil")))
    found = _search(program, CheckOptions())
    assert type(found.store).__name__ == "StateStore"
    assert found.deadlock >= 0


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
def test_the_c_entries_refuse_what_is_not_an_entry_and_start_afresh() -> None:
    module = native_module()
    assert module is not None
    entries = module.Entries()
    tail = bytes(17)
    entries.add(tail, 0, 7, steptable._INTERPRET)
    entries.add(tail, 0, 7, steptable._INTERPRET)  # already there: kept once
    entries.add(tail, 1, 7, (None, (), False, None))
    assert len(entries) == 2
    with pytest.raises(TypeError):
        entries.add(b"short", 0, 7, steptable._INTERPRET)
    with pytest.raises(TypeError):
        entries.add(tail, 2, 7, ("not", "an", "entry"))
    with pytest.raises(OverflowError):
        entries.add(tail, 1 << 16, 7, steptable._INTERPRET)
    entries.clear()
    assert len(entries) == 0


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
def test_c_records_of_one_length_and_then_of_another_keep_their_ids() -> None:
    module = native_module()
    assert module is not None
    records = module.Records()
    alike = [i.to_bytes(4, "little") + b"x" for i in range(3000)]  # one stride, past a regrowth
    ids = [records.intern(r, -1, -1) for r in alike]
    assert ids == list(range(3000))
    longer = b"a longer record"
    assert records.intern(longer, 7, 2) == 3000  # from now on offsets are kept
    assert records.intern(b"\x00", 1, 1) == 3001
    assert [records.intern(r, -1, -1) for r in alike] == ids  # still found
    assert records.intern(longer, -1, -1) == 3000
    assert [records.record(i) for i in (0, 2999, 3000, 3001)] == [
        alike[0],
        alike[2999],
        longer,
        b"\x00",
    ]
    assert (records.parent(3000), records.via(3000)) == (7, 2)


def _count_calls(monkeypatch: pytest.MonkeyPatch, method: str) -> dict[str, int]:
    """Counts the calls of a StepTable method in Python (`calls["python"]`)."""
    calls = {"python": 0}
    original = getattr(StepTable, method)

    def counted(self: StepTable, *args: Any) -> Any:
        calls["python"] += 1
        return original(self, *args)

    monkeypatch.setattr(StepTable, method, counted)
    return calls


def test_projected_entries_are_made_from_what_a_step_reads_and_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without merged local steps a thread's entry is made once per combination of what
    its statement reads (engine/footprints.py), and the search finds what the interpreter
    finds, state for state."""
    made = _count_calls(monkeypatch, "_from_template")
    text = (ROOT / "bench" / "models" / "gil_workers_fixed_4.gil").read_text()
    program = analyze_spec(parse_text("gw.gil", text))
    options = CheckOptions(max_states=30_000, merge_local_steps=False, symmetry=False)
    _agree(program, options)
    assert made["python"] > 1000


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
@pytest.mark.parametrize("threads", [1, 2])
def test_entries_are_made_ahead_again_after_the_table_starts_afresh(
    monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    """Python makes the entries C lacks for a run of states ahead, each state scanned once;
    a table that started afresh has lost them, so the states are scanned again."""
    tables: list[StepTable] = []
    made_ahead = StepTable.fill_ahead

    def kept(self: StepTable, *args: Any) -> Any:
        tables.append(self)
        return made_ahead(self, *args)

    monkeypatch.setattr(StepTable, "fill_ahead", kept)
    text = (ROOT / "bench" / "models" / "gil_workers_fixed_4.gil").read_text()
    options = CheckOptions(
        symmetry=False, merge_local_steps=False, threads=threads, max_states=30_000
    )
    found = explore(Engine(analyze_spec(parse_text("gw.gil", text)), options), options)
    table, records, stop = tables[-1], found.store.records, len(found.store)  # type: ignore[attr-defined]
    assert table.fill_ahead(0, stop, threads) is False  # (nothing was missing)
    table.start_afresh()
    lacking, end = records.missing(0, stop, table.native_entries, 2)  # (on two threads)
    assert end == stop and len(lacking) > 100
    assert (lacking, end) == records.missing(0, stop, table.native_entries)
    assert table.fill_ahead(0, stop, threads) is True
    assert records.missing(0, stop, table.native_entries) == ([], stop)


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
def test_entries_made_ahead_do_not_outgrow_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run of states whose entries would outgrow the table is made ahead only in part:
    a table that started afresh in the middle of it would make them again at each stop."""
    made = _count_calls(monkeypatch, "fill")
    monkeypatch.setattr(steptable, "DEFAULT_LIMIT", 5_000)
    text = (ROOT / "bench" / "models" / "gil_workers_fixed_5.gil").read_text()
    options = CheckOptions(symmetry=False, threads=1, max_states=60_000)
    found = explore(Engine(analyze_spec(parse_text("gw.gil", text)), options), options)
    assert len(found.store) == 60_000
    assert made["python"] < len(found.store) / 4  # (about 7 per state when it thrashed)


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
@pytest.mark.parametrize("merge", [False, True])
def test_the_c_loop_derives_projected_entries_itself(
    monkeypatch: pytest.MonkeyPatch, merge: bool
) -> None:
    """Python makes a projected entry once per combination of what the steps read; C makes
    it in every other shared part from what Python learnt (`Entries.project`), with and
    without merged local steps."""
    made = _count_calls(monkeypatch, "_from_template")
    program = analyze_spec(parse_spec(str(ROOT / "bench" / "models" / "gil_workers_fixed_4.gil")))
    options = CheckOptions(max_states=60_000, merge_local_steps=merge, symmetry=False)
    in_python = _search(program, dataclasses.replace(options, native=False))
    by_python = made["python"]
    made["python"] = 0
    in_c = _search(program, options)
    assert by_python > 1000
    assert made["python"] * 10 < by_python
    assert _summary(in_c) == _summary(in_python)


# A thread at `send c, 1` whose `release m` after it is merged when it holds `m` and not
# when it does not (a misuse, left as a step of its own): the same thread, vars and
# channel, so the projected entry must be keyed by `m` too, which only merging reads.
MERGING_READS = """\
mutex m
channel c: bounded(3)

thread t {
    choose {
        skip
    } or {
        acquire m
    }
    send c, 1
    release m
}

thread main {
    send c, 5
    let a = recv c
    let b = recv c
}
"""


# Main joins workers while they run: a join's steps read, of other threads, only whether
# the joined one has ended, so the table keeps its entry both ways (also a timed join).
JOINS = """\
channel c: bounded(1)
mutex m[2]

thread w0 {
    lock m[0] {
        send c, 0
    }
}

thread w1 {
    lock m[1] {
        send c, 1
    }
}

thread consumer {
    let a = recv c
    let b = recv c
}

thread main {
    let done = join w0 timeout
    join w0
    join w1
    join consumer
}
"""


@pytest.mark.parametrize("merge", [True, False])
def test_a_join_is_patched_for_whether_its_thread_has_ended(merge: bool) -> None:
    program = analyze_spec(parse_text("t.gil", JOINS))
    _agree(program, CheckOptions(max_states=4_000, merge_local_steps=merge, symmetry=False))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(spawns=True, handles=True), st.booleans())
def test_the_table_changes_nothing_with_spawns_and_joins(spec: str, merge: bool) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    _agree(program, CheckOptions(max_states=5_000, merge_local_steps=merge, symmetry=False))


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
def test_the_c_loop_expands_states_where_main_waits_in_a_join(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = _count_calls(monkeypatch, "successors")
    text = (ROOT / "bench" / "models" / "gil_workers_fixed_4.gil").read_text()
    # The consumer becomes a thread of its own, and main joins everyone.
    text = text.replace("thread main {", "thread consumer {")
    text += "\nthread main {\n    join worker[0]\n    join worker[1]\n    join consumer\n}\n"
    program = analyze_spec(parse_text("gw.gil", text))
    options = CheckOptions(max_states=20_000, symmetry=False)
    found = _search(program, options)
    assert calls["python"] < found.states // 20
    _agree(program, options)


# A function's return stores into its caller's target, whose index here reads a channel:
# the return's entry must be keyed by the channel (or not projected).
RETURN_INTO_A_CHANNEL_INDEX = """\
channel c: bounded(3)
var x[4] = 7

fn f() {
    skip
}

thread main {
    choose {
        send c, 1
    } or {
        skip
    }
    x[len(c)] = call f()
    assert x[0] == 7, "the empty-channel path stores into x[0]"
}
"""


@pytest.mark.parametrize("merge", [True, False])
def test_a_return_into_an_index_that_reads_a_channel(merge: bool) -> None:
    program = analyze_spec(parse_text("t.gil", RETURN_INTO_A_CHANNEL_INDEX))
    options = CheckOptions(max_states=4_000, merge_local_steps=merge, symmetry=False)
    _agree(program, options)
    assert _search(program, options).violation is not None


@pytest.mark.parametrize("merge", [True, False])
def test_a_projected_entry_is_keyed_by_what_merging_reads(merge: bool) -> None:
    program = analyze_spec(parse_text("t.gil", MERGING_READS))
    _agree(program, CheckOptions(max_states=4_000, merge_local_steps=merge, symmetry=False))


def test_footprints_name_only_what_the_statement_names() -> None:
    text = (
        "channel c: bounded(1)\nmutex m[2]\nvar x = 0\n"
        "thread main {\n    lock m[1] {\n        send c, x + 1\n    }\n    let v = recv c\n"
        "    x = len(c)\n}\n"
    )
    program = analyze_spec(parse_text("t.gil", text))
    engine = Engine(program, CheckOptions(merge_local_steps=False))
    assert engine.footprints_apply()
    state = engine.initial_state()
    seen = []
    for _ in range(8):
        seen.append(engine.footprint(state, 0))
        steps = engine.transitions(state)
        if not steps:
            break
        state = steps[0][1]
    assert ((1,), ()) in seen  # lock m[1] and its release
    assert ((), (0,)) in seen  # send c and recv c
    assert None in seen  # `len(c)` reads the channel: no footprint given


def test_footprints_of_a_release_a_scope_s_end_and_a_thread_s_end() -> None:
    text = (
        "mutex m\nvar x = 0\n"
        "fn f() {\n    return 1\n}\n"
        "thread w {\n    lock m {\n        let a = 1\n    }\n    let r = call f()\n}\n"
        "thread main {\n    x = 1\n}\n"
    )
    program = analyze_spec(parse_text("t.gil", text))
    engine = Engine(program, CheckOptions(merge_local_steps=False))
    state = engine.initial_state()
    seen: dict[tuple[int, str], Any] = {}
    for _ in range(30):
        for tid, th in enumerate(state[0]):
            frames = th[0]
            if frames:
                instr = engine.prepared[frames[-1][0]][frames[-1][1]].instr
                seen[(tid, type(instr).__name__)] = engine.footprint(state, tid)
            else:
                seen[(tid, "ended")] = engine.footprint(state, tid)
        steps = engine.transitions(state)
        if not steps:
            break
        state = steps[0][1]  # w first: it runs to its end before main moves
    w, main = (0, 1) if program.threads[0].name == "w" else (1, 0)
    assert seen[(w, "Release")] == ((0,), ())
    assert seen[(w, "EndScope")] == ((), ())
    assert seen[(w, "End")] == ((), ())  # f returns; w ends
    assert seen[(w, "ended")] == ((), ())
    assert seen[(main, "End")] is None  # main's end goes on to the program's end


def test_c_keeps_more_entries_under_a_larger_memory_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """C derives a sixteenth of the memory limit's worth of entries (at least DEFAULT_LIMIT;
    shared among workers) before the table starts afresh, under the limit the search runs
    under (the default one where neither it nor a state limit is given); Python's entries
    keep the fixed limit."""
    assert steptable.native_entry_limit(None) == steptable.DEFAULT_LIMIT
    assert steptable.native_entry_limit(1024) == steptable.DEFAULT_LIMIT  # 512 Ki entries
    assert steptable.native_entry_limit(24 * 1024) == 1 << 23
    assert steptable.native_entry_limit(24 * 1024, tables=2) == 1 << 22
    assert steptable.native_entry_limit(1 << 30) == steptable.MOST_NATIVE_ENTRIES
    text = (ROOT / "bench" / "models" / "gil_workers_fixed_5.gil").read_text()
    system = Engine(analyze_spec(parse_text("gw.gil", text)), CheckOptions(symmetry=False))
    monkeypatch.setattr(budget, "default_memory_limit_mb", lambda: 96 * 1024)
    for states, memory, limit in (
        (10**6, None, steptable.DEFAULT_LIMIT),  # no memory limit
        (None, 48 * 1024, 1 << 24),
        (None, None, 1 << 25),  # the default memory limit
    ):
        options = CheckOptions(symmetry=False, max_states=states, max_memory_mb=memory)
        source = SuccessorSource(system, new_store(native=False), options)
        assert source.table is not None
        assert (source.table.limit, source.table.native_limit) == (steptable.DEFAULT_LIMIT, limit)


def _distinct_workers(n: int) -> str:
    """Workers that are threads of their own, each sending under its own lock (the
    distinct-thread gil_workers family): each new combination of the locks' states is a
    new shared part for every thread."""
    locks = "".join(f"mutex m{k}\n" for k in range(n))
    workers = "".join(
        f"thread w{k} {{\n"
        + f"    with_gil {{\n        skip\n    }}\n    lock m{k} {{\n        send c, {k}\n    }}\n"
        * 2
        + "}\n\n"
        for k in range(n)
    )
    main = (
        "thread main {\n    let i = 0\n    while i < 2 * N {\n        let v = recv c\n"
        "        with_gil {\n            skip\n        }\n        i = i + 1\n    }\n}\n"
    )
    return f"const N = {n}\n\nchannel c: bounded(2)\n{locks}\n{workers}{main}"


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
def test_c_derives_entries_in_new_combinations_of_locks_and_numbers_their_parts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """C reads what a thread's steps read from each part's items, and finds or numbers the
    part a step makes itself: a new combination of ten locks' states sends no thread to
    Python once its steps are known (it sent 8,682 in the first 10,000 states when C knew
    the values read and the parts made by whole parts only), and the search finds what
    the interpreter finds, with the parts C numbered taken by the store where a state is
    rebuilt."""
    made = _count_calls(monkeypatch, "_from_template")
    interpreted = _count_calls(monkeypatch, "_interpreted")
    program = analyze_spec(parse_text("distinct.gil", _distinct_workers(10)))
    options = CheckOptions(max_states=10_000)
    in_c = _search(program, options)
    assert interpreted["python"] < 2_000
    assert made["python"] < 100
    store = in_c.store
    numbered_in_c = store.parts_known() - len(store._parts.by_value)  # (no part has two numbers)
    assert numbered_in_c == 0
    interpreted_search = _search(
        program, dataclasses.replace(options, step_table=False, native=False)
    )
    assert _summary(in_c) == _summary(interpreted_search)


@pytest.mark.skipif(native_module() is None, reason="no C compiler here")
def test_parts_c_numbers_are_taken_before_python_numbers_another() -> None:
    """One numbering for the parts: those C numbered are taken by the store where a record
    names one, and before Python numbers a part of its own, so no number is given twice
    and equal parts keep one number."""
    module = native_module()
    assert module is not None
    store = new_store()
    first = store.part_number((1, 2))
    entries = store.new_entries(1 << 10)
    with pytest.raises(RuntimeError):
        store.new_entries(1 << 10)
    assert entries.parts_known() == 1
    # C numbers (2, 3) from what it was told of its items, as a derived step would.
    entries.part(1, store.items((2, 3)), store.objects((2, 3)))
    assert store.part_number((2, 3)) == 1  # taken from C: not numbered again
    assert store.part_number((4,)) == 2
    assert entries.parts_known() == 3
    assert store.part(first) == (1, 2)
    with pytest.raises(ValueError):
        entries.part(7, b"", b"")  # told in order of numbers only
    assert entries.parts_from(1) == [store.objects((2, 3)), store.objects((4,))]


# Indexes on one channel and `false` on another: the channels' states are equal items
# (`false == 0`), so a part C makes must be rebuilt of the objects its own channel holds
# (an index 0, which symmetry renames, not `false`).
INDEXES_AND_A_BOOL = """\
var done[3] = 0
channel c: unbounded
channel d: unbounded

thread w[3] {
    done[self] = 1
    send c, self
}

thread t {
    send d, false
}

thread main {
    let a = recv c
    let b = recv c
    assert a != b, "two senders"
}
"""


def test_a_part_c_makes_holds_what_its_own_items_hold(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Items equal to others of another type (`false` and 0) keep their own objects in the
    parts C numbers: the search finds what the interpreter finds, and the CLI, whose
    symmetry renames the indexes `c` holds, the same verdict and states with and without
    the table (an internal error when C rebuilt `c` holding `false`)."""
    _agree(analyze_spec(parse_text("indexes.gil", INDEXES_AND_A_BOOL)), CheckOptions())
    spec = tmp_path / "indexes.gil"
    spec.write_text(INDEXES_AND_A_BOOL)
    for extra in ((), ("--no-step-table",), ("--threads", "2")):
        done = cli("check", str(spec), "--format", "json", *extra)
        assert done.code == 0, done.stdout + done.stderr
        found = json.loads(done.stdout)
        assert (found["verdict"], found["states"]) == ("ok", 50)
