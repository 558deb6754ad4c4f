"""Persistent (stubborn) sets, `--stubborn-sets`: fewer states where threads share locks, the
same verdicts everywhere (bundled and generated specs), liveness left to a search without
them, and the cycle proviso that keeps a spinning thread from hiding another's steps."""

from __future__ import annotations

import json
import typing
from dataclasses import fields
from pathlib import Path

import pytest
from conftest import SPECS, relative
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import differential_specs, ring_specs, symmetric_specs
from test_steptable import _agree as _explored_alike_three_ways

from gilcheck.diagnostics import SpecError
from gilcheck.explore import steptable
from gilcheck.options import CheckOptions
from gilcheck.pipeline import Loaded, analyze_spec, check_spec, parse_spec, parse_text
from gilcheck.semantics import ir
from gilcheck.system.engine import Engine, stubborn
from gilcheck.trace.model import CheckResult

PLAIN = "bench/models/philosophers_native_5.gil"
PLAIN_FIXED = "bench/models/philosophers_native_fixed_5.gil"
SPINNER = "tests/cases/scenarios/stubborn_spinner_buggy.gil"

# Workers that loop for ever while main waits for ever: `stuck` without persistent sets.
STUCK = """\
scenario "stuck"
expect stuck
mutex m
var n = 0
thread worker {
    while true {
        lock m { n = 1 }
    }
}
thread main {
    await n == 2
}
"""


VIOLATIONS = ("deadlock", "assertion", "panic", "misuse")

# Found by review: a function that calls itself (here in a spawned thread) reaches its own
# statements in another frame, whose index is not the first frame's.
RECURSIVE_WRITE = """\
var x[2] = 0
fn f(i) {
    if i == 0 { call f(1) } else { x[i] = 1 }
}
thread main {
    spawn f(0)
    let a = x[1]
    assert a == 0, "seen"
}
"""
RECURSIVE_LOCKS = """\
mutex m[2]
channel r[2]: rendezvous
fn f(i) {
    if i == 0 {
        call f(1)
    } else {
        send r[i], 1
        acquire m[1]
        acquire m[0]
        release m[0]
        release m[1]
    }
}
thread main {
    spawn f(0)
    let v = try_recv r[1]
    if v == 1 {
        acquire m[0]
        acquire m[1]
        release m[1]
        release m[0]
    }
}
"""
# Found by review: the thread holding the GIL in Python code may hand it over to a thread
# that comes to want it later; its Python statement touches the GIL.
HANDOVER_LATER = """\
mutex k
event r
event e0
event e3
thread t2 {
    wait e0
    with_gil {
        wait e3
    }
}
thread t3 {
    with_gil {
        allow_threads {
            set r
            acquire k
            set e3
            release k
        }
    }
}
thread main {
    acquire k
    wait r
    python {
        set e0
        skip
        release k
    }
    join t2
    join t3
}
"""


# Found by review: a spawned thread that ends with `return` ends too (a join waits on it).
JOINED_RETURN = """\
var x = 0
var z = 0
fn w() {
  z = 1
  return
}
thread main {
  let h = spawn w()
  join h
  x = 1
}
thread t {
  assert x == 0, "boom"
}
thread u {
  while true {
    z = 2
  }
}
"""
# Found by review: `main`'s end ends the program, which disables every other thread's steps
# (here a thread that never ends).
MAIN_ENDS_FIRST = """\
mutex m
thread main {
  skip
}
thread t {
  while true {
    release m
  }
}
"""


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        (RECURSIVE_WRITE, "assertion"),
        (RECURSIVE_LOCKS, "deadlock"),
        (HANDOVER_LATER, "deadlock"),
        (JOINED_RETURN, "assertion"),
        (MAIN_ENDS_FIRST, "misuse"),
    ],
    ids=["recursive-write", "recursive-locks", "handover-later", "joined-return", "main-ends"],
)
def test_review_findings_keep_their_violation(text: str, verdict: str) -> None:
    loaded = parse_text("found.gil", text)
    assert _applies(loaded)
    for symmetry in (True, False):
        assert _check(loaded, symmetry=symmetry).verdict == verdict
        assert _check(loaded, symmetry=symmetry, stubborn_sets=True).verdict == verdict
        reduced = _check(loaded, symmetry=symmetry, stubborn_sets=True, step_table=False)
        assert reduced.verdict == verdict


def _check(loaded: Loaded, limit: int = 100_000, **options: typing.Any) -> CheckResult:
    return check_spec(loaded, CheckOptions(max_states=limit, **options))


def _applies(loaded: Loaded) -> bool:
    program = analyze_spec(loaded)
    return Engine(program, CheckOptions(stubborn_sets=True)).stubborn is not None


def _agree(loaded: Loaded, symmetry: bool, limit: int = 100_000) -> tuple[int, int]:
    """The verdict with persistent sets is the verdict without them (but for `stuck` and
    `livelock`, which they do not look for, and limits the full search alone hits); a
    violation comes with a trace."""
    full = _check(loaded, limit, symmetry=symmetry)
    reduced = _check(loaded, limit, symmetry=symmetry, stubborn_sets=True)
    if full.verdict in ("stuck", "livelock"):
        # (the same verdict where persistent sets do not apply)
        assert reduced.verdict in ("ok", "inconclusive", full.verdict), reduced.verdict
    elif full.verdict in VIOLATIONS:
        # Of several violations the search may meet another first in the reduced graph.
        assert reduced.verdict in VIOLATIONS, (full.verdict, reduced.verdict)
        assert reduced.trace is not None
    elif full.verdict != "inconclusive":
        assert reduced.verdict == full.verdict, (full.verdict, reduced.verdict)
    return full.stats.states, reduced.stats.states


def test_jump_fields_name_every_statement_index() -> None:
    """The reachability of `may_touch` follows every field naming a statement: an IR field
    added later that is an index must be named here (or in JUMP_FIELDS)."""
    not_statements = {
        ("CallFn", "function"),
        ("SpawnFn", "function"),
        ("Submit", "function"),
        ("MakeObject", "count"),
        ("DropValue", "slot"),
        ("EndScope", "slots"),
    }
    for cls in typing.get_args(ir.Instr):
        for f in fields(cls):
            if "int" not in str(f.type) or f.name == "span":
                continue
            named = f.name in stubborn.JUMP_FIELDS.get(cls, ())
            assert named or (cls.__name__, f.name) in not_statements, (cls.__name__, f.name)


def test_next_statements_follow_jumps_and_branches() -> None:
    assert stubborn.next_statements(ir.Jump(target=2), 7) == (2,)
    branch = ir.Branch(cond=ir.Local(slot=0, name="go"), if_false=9)
    assert stubborn.next_statements(branch, 3) == (4, 9)
    # `while true`: the loop's exit is never taken
    assert stubborn.next_statements(ir.Branch(cond=ir.Const(value=True), if_false=9), 3) == (4,)
    assert stubborn.next_statements(ir.Branch(cond=ir.Const(value=False), if_false=9), 3) == (9,)
    assert stubborn.next_statements(ir.End(), 3) == ()
    assert stubborn.next_statements(ir.Choose(targets=(5, 8)), 4) == (5, 8)


@pytest.mark.parametrize(
    ("path", "verdict", "full_states", "reduced_states"),
    [(PLAIN, "deadlock", 51, 32), (PLAIN_FIXED, "ok", 967, 158)],
)
def test_the_philosophers_in_native_code_take_fewer_states(  # type: ignore[no-untyped-def]
    cli, path: str, verdict: str, full_states: int, reduced_states: int
) -> None:
    full = json.loads(cli("check", "-f", "json", path).stdout)
    reduced_run = cli("check", "-f", "json", "--stubborn-sets", path)
    reduced = json.loads(reduced_run.stdout)
    assert reduced_run.code == (0 if verdict == "ok" else 1)
    assert (full["verdict"], reduced["verdict"]) == (verdict, verdict)
    assert (full["states"], reduced["states"]) == (full_states, reduced_states)
    assert reduced["proof"]["settings"]["stubborn_sets"] is True
    assert "stubborn_sets" not in full["proof"]["settings"]


def test_a_reduced_deadlock_trace_replays(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    found = cli("check", "-f", "json", "--stubborn-sets", PLAIN)
    assert json.loads(found.stdout)["verdict"] == "deadlock"
    saved = tmp_path / "trace.json"
    saved.write_text(found.stdout)
    replayed = cli("replay", str(saved))
    assert replayed.code == 0, replayed.stdout
    assert "applies and ends in deadlock again" in replayed.stdout


def test_the_text_report_says_what_is_not_looked_for(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--stubborn-sets", PLAIN_FIXED)
    assert done.code == 0
    assert "persistent sets (--stubborn-sets)" in done.stdout
    assert "`stuck` and `livelock` are not looked for" in done.stdout


def test_an_expected_liveness_verdict_is_inconclusive(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "stuck.gil"
    spec.write_text(STUCK)
    assert cli("check", str(spec)).code == 1
    done = cli("check", "-f", "json", "--stubborn-sets", str(spec))
    assert done.code == 3
    result = json.loads(done.stdout)
    assert result["verdict"] == "inconclusive"
    assert "--stubborn-sets does not look for" in result["message"]


def test_a_spec_they_do_not_apply_to_says_so(cli) -> None:  # type: ignore[no-untyped-def]
    spec = relative(SPECS / "v12" / "processes" / "join_before_drain_buggy.gil")
    plain = json.loads(cli("check", "-f", "json", spec).stdout)
    done = json.loads(cli("check", "-f", "json", "--stubborn-sets", spec).stdout)
    assert done["verdict"] == plain["verdict"]
    assert done["states"] == plain["states"]
    assert (
        "--stubborn-sets does not apply to this spec"
        in cli("check", "--stubborn-sets", spec).stdout
    )


def test_the_setting_is_read_from_the_configuration(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.gilcheck]\nstubborn-sets = true\n")
    spec = project / "plain.gil"
    spec.write_text(Path(PLAIN_FIXED).read_text())
    monkeypatch.chdir(project)
    done = json.loads(cli("check", "-f", "json", "plain.gil").stdout)
    assert done["states"] == 158


def test_the_cycle_proviso_keeps_a_spinner_from_hiding_an_assertion(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loaded = parse_spec(SPINNER)
    assert _check(loaded, stubborn_sets=True).verdict == "assertion"
    # Without the proviso, `spin`'s steps alone would be taken for ever (interpreted
    # here: the C loop keeps its own copy of the rule).
    monkeypatch.setattr(stubborn, "forward", lambda *_: True)
    assert _check(loaded, stubborn_sets=True, step_table=False).verdict == "ok"


def test_the_closure_keeps_the_philosophers_deadlock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deadlock needs every philosopher's first step: a closure that ignored what the
    others may take later would lose it."""
    loaded = parse_spec(PLAIN)
    assert _check(loaded, stubborn_sets=True, symmetry=False).verdict == "deadlock"
    monkeypatch.setattr(stubborn.StubbornSets, "_may_touch", lambda *_: 0)
    assert _check(loaded, stubborn_sets=True, symmetry=False, step_table=False).verdict == "ok"
    assert _check(loaded, stubborn_sets=True, symmetry=False).verdict == "ok"  # (C alike)


BUNDLED = sorted(p for p in SPECS.rglob("*.gil") if "drafted" not in p.parts)


@pytest.mark.slow
def test_every_bundled_spec_keeps_its_verdict() -> None:
    full = reduced = 0
    for path in BUNDLED:
        try:
            loaded = parse_spec(str(path))
            if not _applies(loaded):
                continue
            states = _agree(loaded, symmetry=True, limit=2_000)
        except SpecError:
            continue
        except AssertionError as error:
            raise AssertionError(f"{relative(path)}: {error}") from None
        full, reduced = full + states[0], reduced + states[1]
    assert reduced < full


SPECS_THAT_SHARE_LOCKS = st.one_of(
    ring_specs(),
    differential_specs(locks=True),
    differential_specs(arrays=True, calls=True),
    differential_specs(spawns=True),
    symmetric_specs(breaking=True),
)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(SPECS_THAT_SHARE_LOCKS, st.booleans())
def test_generated_specs_keep_their_verdicts(text: str, symmetry: bool) -> None:
    try:
        loaded = parse_text("generated.gil", text)
        _agree(loaded, symmetry, limit=20_000)  # (an example stays within seconds)
    except SpecError:
        pass


@pytest.mark.slow
def test_the_table_and_the_c_loop_choose_as_the_interpreter_does() -> None:
    """The same states, ids, parents and edges with persistent sets, three ways: the C
    loop, the table in Python and the interpreter (each thread number's facts are the
    same in all three)."""
    checked = 0
    for path in BUNDLED:
        try:
            loaded = parse_spec(str(path))
            if not _applies(loaded):
                continue
            program = analyze_spec(loaded)
        except SpecError:
            continue
        options = CheckOptions(max_states=2_000, symmetry=False, stubborn_sets=True)
        _explored_alike_three_ways(program, options)
        checked += 1
    assert checked > 50


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(SPECS_THAT_SHARE_LOCKS)
def test_generated_specs_are_explored_alike_three_ways(text: str) -> None:
    try:
        program = analyze_spec(parse_text("generated.gil", text))
    except SpecError:
        return
    options = CheckOptions(max_states=5_000, symmetry=False, stubborn_sets=True)
    _explored_alike_three_ways(program, options)


def test_the_c_loop_expands_states_with_persistent_sets_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With persistent sets the C loop still expands nearly every state: Python is asked
    only for entries and facts it has not made yet."""
    calls = {"n": 0}
    successors = steptable.StepTable.successors

    def counted(self: steptable.StepTable, sid: int) -> typing.Any:
        calls["n"] += 1
        return successors(self, sid)

    monkeypatch.setattr(steptable.StepTable, "successors", counted)
    text = Path(PLAIN_FIXED).read_text().replace("const N = 5", "const N = 8")
    found = _check(parse_text("p8.gil", text), stubborn_sets=True)
    assert found.verdict == "ok"
    assert calls["n"] < found.stats.states // 4, (calls["n"], found.stats.states)


SPAWNED_PHILOSOPHERS = """\
const N = 4
mutex forks[N]
fn phil(i) {
    let first = i
    let second = (i + 1) % N
    if second < first {
        first = second
        second = i
    }
    lock forks[first] {
        lock forks[second] {
            skip
        }
    }
}
thread main {
    let a = spawn phil(0)
    let b = spawn phil(1)
    let c = spawn phil(2)
    let d = spawn phil(3)
    join a
    join b
    join c
    join d
}
"""


def test_spawned_threads_and_their_handles_are_reduced() -> None:
    """Thread handles are inert values, a `join` reads only its thread's end and a `spawn`
    adds a thread its spawner's future holds: such programs are reduced too."""
    loaded = parse_text("spawned.gil", SPAWNED_PHILOSOPHERS)
    assert _applies(loaded)
    full, reduced = _agree(loaded, symmetry=True)
    assert reduced < full
    buggy = parse_text("spawned.gil", SPAWNED_PHILOSOPHERS.replace("second < first", "false"))
    assert _check(buggy, stubborn_sets=True).verdict == "deadlock"


# Found by review: more objects than a word has bits (here 151), so that two objects share
# a bit; the interpreter and the C loop met them in different orders and chose differently.
MANY_OBJECTS = """\
var x[30] = 0
var y = 0
mutex m[30]
channel c[30]: bounded(1)
event e[30]
semaphore s[30] = 1
fn f0(p00) {
    release m[13]
}
fn f1() {
    let v1 = 20
    if true {
        call f0(v1)
    }
}
thread t0[4] {
    acquire s[self]
    let v2 = 4
    while v2 < 6 {
        let v3 = 29
        x[v3] = 1
    }
    spawn f1()
}
thread t1 {
    skip
    set e[29]
    let v4 = recv c[10]
}
thread main {
    let v5 = 14
    while v5 < 16 {
        v5 = (v5 + 1) % 30
        await y == 0
    }
}

"""

# Ten threads, each with a lock of its own, that end: a step that ends its thread goes
# forward (found by review: such steps were expanded fully).
TEN_THAT_END = """\
var x[10] = 0
var z[10] = 0
mutex m[10]
thread t[10] {
    lock m[self] {
        x[self] = 1
    }
    let v = x[self]
    z[self] = v + 1
    assert z[self] < 3, "z"
}
thread main {
    skip
}
"""


@pytest.mark.parametrize("text", [MANY_OBJECTS, TEN_THAT_END], ids=["many-objects", "ten-end"])
def test_review_findings_are_explored_alike_three_ways(text: str) -> None:
    program = analyze_spec(parse_text("found.gil", text))
    options = CheckOptions(max_states=5_000, symmetry=False, stubborn_sets=True)
    _explored_alike_three_ways(program, options)


def test_threads_that_end_are_reduced() -> None:
    loaded = parse_text("eight.gil", TEN_THAT_END.replace("[10]", "[8]"))
    full, reduced = _agree(loaded, symmetry=False, limit=200_000)
    assert reduced * 10 < full, (full, reduced)
