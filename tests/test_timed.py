"""Timed waits, `try_acquire` and the v1.2 rulings that bind v1 constructs (LANGUAGE.md
v1.2): verdicts through the CLI, the steps of the engine, narration, contextual keywords,
`fmt` and the export's refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.syntax import ast, unparse
from gilcheck.system.engine import Engine
from gilcheck.system.model import TIMEOUT
from gilcheck.system.state import S_THREADS

SPECS = "specs/v12/timeouts"
CASES = "tests/cases/scenarios"


@pytest.mark.parametrize(
    ("spec", "verdict"),
    [
        (f"{SPECS}/acquire_lock_order_buggy.gil", "deadlock"),
        (f"{SPECS}/acquire_lock_order_fixed.gil", "ok"),
        (f"{SPECS}/try_acquire_gil_buggy.gil", "deadlock"),
        (f"{SPECS}/try_acquire_gil_fixed.gil", "ok"),
        (f"{SPECS}/condvar_missed_notify_buggy.gil", "deadlock"),
        (f"{SPECS}/condvar_missed_notify_fixed.gil", "ok"),
        (f"{SPECS}/event_pulse_buggy.gil", "deadlock"),
        (f"{SPECS}/event_pulse_fixed.gil", "ok"),
        (f"{SPECS}/join_recv_buggy.gil", "deadlock"),
        (f"{SPECS}/join_recv_fixed.gil", "ok"),
        (f"{SPECS}/rwlock_writer_buggy.gil", "deadlock"),
        (f"{SPECS}/rwlock_writer_fixed.gil", "ok"),
        (f"{SPECS}/retry_forever_livelock.gil", "livelock"),
        (f"{CASES}/timed_condvar_python_stale_waiter.gil", "deadlock"),
        (f"{CASES}/timed_condvar_native_waiter.gil", "ok"),
        (f"{CASES}/timed_acquire_python_three_steps.gil", "assertion"),
        (f"{CASES}/timed_latch_and_join.gil", "ok"),
        (f"{CASES}/try_acquire_results.gil", "ok"),
        (f"{CASES}/stuck_wins_over_livelock.gil", "stuck"),
        (f"{CASES}/notify_wakes_any_waiter.gil", "assertion"),
    ],
)
def test_timed_specs_meet_their_expectation(spec: str, verdict: str, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", spec)
    report = json.loads(result.stdout)
    assert report["verdict"] == verdict and report["matches"] is True, result.stdout


def _engine(text: str) -> Engine:
    program = analyze_spec(parse_text("t.gil", text))
    return Engine(program, CheckOptions(merge_local_steps=False))


def _step(engine: Engine, state: object, tid: int) -> object:
    """The state after thread `tid`'s only step."""
    (target,) = [t for (who, _, _), t in engine.transitions(state) if who == tid]  # type: ignore[arg-type]
    return target


def test_a_set_then_clear_pulse_wakes_a_thread_that_has_started_waiting() -> None:
    engine = _engine("event e\nthread w { wait e }\nthread main { set e\nclear e\nskip }")
    state = engine.initial_state()
    state = _step(engine, state, 0)  # w starts waiting (a step of its own)
    assert 0 not in engine.enabled_threads(state)
    state = _step(engine, state, 1)  # set e: wakes w
    state = _step(engine, state, 1)  # clear e, before w moves
    assert 0 in engine.enabled_threads(state)  # w still returns
    after = _step(engine, state, 0)
    assert after[S_THREADS][0][0][-1][1] != state[S_THREADS][0][0][-1][1]  # type: ignore[index]


def test_a_wait_that_starts_on_a_set_event_goes_on_in_one_step() -> None:
    engine = _engine("event e\nthread main { set e\nwait e\nskip }")
    state = _step(engine, engine.initial_state(), 0)  # set e
    after = _step(engine, state, 0)  # wait e: goes on at once
    frame_before = state[S_THREADS][0][0][-1]  # type: ignore[index]
    frame_after = after[S_THREADS][0][0][-1]  # type: ignore[index]
    assert frame_after[1] != frame_before[1]


def test_a_timeout_step_only_while_the_operation_cannot_complete() -> None:
    engine = _engine("mutex m\nthread other { acquire m }\nthread main { acquire m timeout }")
    state = engine.initial_state()
    assert all(kind != TIMEOUT for (_, kind, _), _ in engine.transitions(state))
    held = _step(engine, state, 0)  # other takes m
    kinds = [kind for (who, kind, _), _ in engine.transitions(held) if who == 1]
    assert kinds == [TIMEOUT]
    # A thread that can time out is not blocked: no deadlock, and it is enabled.
    assert 1 in engine.enabled_threads(held)


def test_python_code_releases_the_gil_then_times_out_then_takes_it_back(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("check", f"{CASES}/timed_acquire_python_three_steps.gil").stdout
    release = out.index("cannot go on at once: releases the GIL while it waits")
    timeout = out.index("times out: gives up waiting, the wait yields false")
    back = out.index("takes the GIL back")
    assert release < timeout < back


def test_a_stale_python_waiter_spends_the_notify_and_says_so(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("check", f"{CASES}/timed_condvar_python_stale_waiter.gil").stdout
    assert "times out before any notify: takes the mutex back" in out
    assert "notifies cv: wakes quick" in out
    assert "the wait yields false: it had timed out" in out


def test_a_retrying_thread_is_not_stuck_and_the_one_it_blocks_is(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "t.gil"
    spec.write_text(
        "mutex m\nthread main {\n    acquire m\n    let h = spawn w()\n    join h\n}\n"
        "fn w() {\n    loop {\n        let ok = acquire m timeout\n        if ok { break }\n"
        "    }\n}\n"
    )
    report = json.loads(cli("check", "--format", "json", str(spec)).stdout)
    assert report["verdict"] == "stuck"
    assert "main can never move again" in report["message"]
    assert "w can never" not in report["message"]


@pytest.mark.parametrize(
    "text",
    [
        "var timeout = 1\nvar try_acquire = 2\nthread main {\n"
        "    timeout = try_acquire + timeout\n    try_acquire = 3\n}\n",
        "mutex m\nthread main {\n    let timeout = 1\n    let try_acquire = timeout\n}\n",
    ],
)
def test_timeout_and_try_acquire_stay_names_elsewhere(text: str) -> None:
    analyze_spec(parse_text("t.gil", text))


def test_timed_forms_and_try_acquire_round_trip_through_fmt() -> None:
    text = (
        "mutex m\nevent e\ncondvar cv\nrwlock l\nlatch c = 1\n"
        "thread main {\n"
        "    let a = acquire m timeout\n"
        "    release m\n"
        "    acquire m timeout\n"
        "    release m\n"
        "    let b = wait e timeout\n"
        "    acquire m\n"
        "    let c2 = wait cv, m timeout\n"
        "    release m\n"
        "    let d = acquire_write l timeout\n"
        "    wait c timeout\n"
        "    let (tx, rx) = channel(unbounded)\n"
        "    let v = recv rx timeout\n"
        "    let r = try_acquire m\n"
        "    try_acquire m\n"
        "}\n"
    )
    module = parse_text("t.gil", text).modules[0]
    printed = unparse.unparse(module)
    assert "let c2 = wait cv, m timeout" in printed
    assert "    try_acquire m\n" in printed
    again = parse_text("t.gil", printed).modules[0]
    assert unparse.unparse(again) == printed
    lets = [s for s in module.items[-1].body.body if isinstance(s, ast.Let)]  # type: ignore[union-attr]
    assert isinstance(lets[0].value, ast.Timed)
    analyze_spec(parse_text("t.gil", text))


def test_the_export_translates_timed_waits_and_try_acquire_but_on_a_condvar_in_python(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    spec = tmp_path / "t.gil"
    for body in ("let ok = acquire m timeout", "let ok = try_acquire m"):
        spec.write_text(f"mutex m\nthread main {{\n    {body}\n}}\n")
        assert cli("export", str(spec)).code == 0
    native = (
        "mutex m\ncondvar cv\nthread main {\n    lock m {\n        let ok = wait cv, m timeout\n"
    )
    spec.write_text(native + "    }\n}\n")
    assert cli("export", str(spec)).code == 0
    spec.write_text(native.replace("lock m {", "python { lock m {") + "    } }\n}\n")
    result = cli("export", str(spec))
    assert result.code == 2
    assert "a timed `wait` on a condvar in Python code cannot be exported" in result.stderr
    assert "t.gil:5:" in result.stderr


def test_an_untimed_wait_as_a_value_is_a_syntax_error_with_help(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "t.gil"
    spec.write_text("mutex m\nthread main {\n    let x = acquire m\n}\n")
    result = cli("check", str(spec))
    assert result.code == 2
    assert "expected `timeout`" in result.stderr
    assert "only a timed wait yields a value" in result.stderr


@pytest.mark.parametrize(
    "spec",
    sorted(str(p) for p in Path(SPECS).glob("*.gil"))
    + [f"{CASES}/timed_condvar_python_stale_waiter.gil", f"{CASES}/try_acquire_results.gil"],
)
def test_the_step_table_and_the_interpreter_agree_on_timed_steps(spec: str) -> None:
    from gilcheck.explore.bfs import explore
    from gilcheck.pipeline import parse_spec

    program = analyze_spec(parse_spec(spec))
    found = []
    for table in (True, False):
        options = CheckOptions(step_table=table)
        result = explore(Engine(program, options), options)
        found.append((len(result.store), result.transitions, result.deadlock >= 0))
    assert found[0] == found[1]


def test_merging_keeps_the_moment_a_timed_wait_or_try_acquire_can_see(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A release, a thread's end and a dropped sender are visible to timed waits and to
    # `try_acquire`: they are not merged into the step before.
    cases = {
        "mutex m\nevent never\nthread main {\n    let h = spawn b()\n    acquire m\n"
        "    release m\n    join h\n}\nfn b() {\n    let r = acquire m timeout\n"
        "    if r { release m } else { wait never }\n}\n": "deadlock",
        "fn t() { skip }\nthread main {\n    let h = spawn t()\n    let r = join h timeout\n"
        '    assert r, "j"\n}\n': "assertion",
        "fn t(tx) { skip }\nthread main {\n    let (tx, rx) = channel(1)\n"
        '    let h = spawn t(tx)\n    let v = recv rx timeout\n    assert is_ok(v), "t"\n}\n': "assertion",
        "mutex m\nvar x = 0\nthread main {\n    let h = spawn b()\n    acquire m\n    x = 1\n"
        "    release m\n    join h\n}\nfn b() {\n    await x == 1\n    let r = try_acquire m\n"
        '    assert r, "busy"\n}\n': "assertion",
    }
    for index, (text, verdict) in enumerate(cases.items()):
        spec = tmp_path / f"w{index}.gil"
        spec.write_text(text)
        result = cli("check", "--format", "json", str(spec))
        assert json.loads(result.stdout)["verdict"] == verdict, text
