"""`gilcheck simulate` (one seeded random run) and `gilcheck replay` (a saved trace re-run)."""

from __future__ import annotations

import json
import re
from pathlib import Path

BUGGY = "specs/seed/buggy.gil"
FIXED = "specs/seed/fixed.gil"
STUCK = "specs/progress/stuck_worker_buggy.gil"
SELF_DEADLOCK = "expect deadlock\nmutex m\nthread main {\n    acquire m\n    acquire m\n}\n"


def test_a_seed_always_gives_the_same_run(cli) -> None:  # type: ignore[no-untyped-def]
    first = cli("simulate", FIXED, "--seed", "5")
    assert first.code == 0
    assert first.stdout == cli("simulate", FIXED, "--seed", "5").stdout
    assert "simulation with seed 5: ended after" in first.stdout
    assert "Trace (" in first.stdout and "  1  main" in first.stdout
    runs = {cli("simulate", FIXED, "--seed", str(seed)).stdout for seed in range(8)}
    assert len(runs) > 1  # the seed chooses among the interleavings


def test_a_run_without_a_seed_names_the_seed_that_repeats_it(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("simulate", FIXED)
    seed = re.search(r"simulation with seed (\d+):", run.stdout)
    assert seed is not None
    assert cli("simulate", FIXED, "--seed", seed.group(1)).stdout == run.stdout


def test_a_run_that_deadlocks_shows_the_final_state_and_exits_1(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("simulate", BUGGY, "--seed", "2")
    assert run.code == 1
    assert "simulation with seed 2: deadlock after 9 steps" in run.stdout
    assert "Final state: no thread can move" in run.stdout
    assert "Cycle: main -> execute_loop -> main" in run.stdout


def test_steps_bound_the_run(cli) -> None:  # type: ignore[no-untyped-def]
    run = cli("simulate", FIXED, "--seed", "1", "--steps", "3")
    assert run.code == 0
    assert "simulation with seed 1: stopped after 3 steps" in run.stdout
    numbered = [line for line in run.stdout.splitlines() if re.match(r"\s+\d+  ", line)]
    assert len(numbered) == 3


def test_a_failed_assert_and_a_bad_spec(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "assert.gil"
    spec.write_text('thread main {\n    assert 1 == 2, "never"\n}\n')
    run = cli("simulate", str(spec), "--seed", "0")
    assert run.code == 1 and "assertion after 1 step" in run.stdout and "never" in run.stdout
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { aquire m }\n")
    refused = cli("simulate", str(bad))
    assert refused.code == 2 and f"{bad}:1:22" in refused.stderr


def _save(cli, spec: str | Path, target: Path) -> Path:  # type: ignore[no-untyped-def]
    target.write_text(cli("check", "--format", "json", str(spec)).stdout)
    return target


def test_a_saved_deadlock_replays(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    trace = _save(cli, BUGGY, tmp_path / "trace.json")
    run = cli("replay", str(trace))
    assert run.code == 0, run.stdout + run.stderr
    assert "the trace applies and ends in deadlock again" in run.stdout
    assert "    9  main          buggy.gil:15  print ret" in run.stdout


def test_a_saved_stuck_thread_replays_its_cycle(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    trace = _save(cli, STUCK, tmp_path / "trace.json")
    run = cli("replay", str(trace))
    assert run.code == 0, run.stdout
    assert "the trace applies and ends in stuck again" in run.stdout
    assert "repeat for ever (stuck)" in run.stdout
    assert "from here the program can repeat this cycle for ever" in run.stdout


def test_a_changed_statement_is_named_with_its_step(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "buggy.gil"
    spec.write_text(Path(BUGGY).read_text())
    trace = _save(cli, spec, tmp_path / "trace.json")
    spec.write_text(Path(BUGGY).read_text().replace("send tx, err(e)", "send tx, ok(e)"))
    run = cli("replay", str(trace))
    assert run.code == 1
    assert "the trace no longer applies at step 7" in run.stdout
    assert "step 7 no longer applies: execute_loop cannot run `send tx, err(e)`" in run.stdout
    assert "execute_loop: send tx, ok(e) (line 23)" in run.stdout  # what can run there now
    assert "    6  execute_loop" in run.stdout  # the steps that still applied


def test_a_fix_that_ends_the_deadlock_is_reported(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "self.gil"
    spec.write_text(SELF_DEADLOCK)
    trace = _save(cli, spec, tmp_path / "trace.json")
    assert cli("replay", str(trace)).code == 0
    spec.write_text(SELF_DEADLOCK.replace("mutex m", "rlock m"))
    run = cli("replay", str(trace))
    assert run.code == 1
    assert "the trace no longer applies at step 1" in run.stdout
    assert (
        "after step 1 the program is not deadlocked: main can go on with `acquire m` (line 5)"
        in run.stdout
    )


def test_spec_option_replays_against_another_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    trace = _save(cli, BUGGY, tmp_path / "trace.json")
    moved = tmp_path / "moved.gil"
    moved.write_text(Path(BUGGY).read_text())
    run = cli("replay", str(trace), "--spec", str(moved))
    assert run.code == 0 and run.stdout.startswith(f"{moved}: ")
    assert cli("replay", str(trace), "--spec", str(tmp_path / "gone.gil")).code == 2


def test_files_that_are_not_saved_traces_are_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cases = {
        "text.json": "not json",
        "several.json": cli("check", "-f", "json", BUGGY, FIXED).stdout,
        "ok.json": cli("check", "-f", "json", FIXED).stdout,
    }
    report = json.loads(cli("check", "-f", "json", BUGGY).stdout)
    del report["steps"][0]["thread"]
    cases["field.json"] = json.dumps(report)
    reasons = {
        "text.json": "not JSON: Expecting value (line 1, column 1)",
        "several.json": "it holds the results of several specs",
        "ok.json": "it holds a `ok` result, with no trace to replay",
        "field.json": "`steps[0].thread` is missing or is not a string",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text)
        run = cli("replay", str(path))
        assert run.code == 2, name
        assert f"error[bad-trace-file]: `{path}`: {reasons[name]}" in run.stderr, run.stderr
        assert "Traceback" not in run.stderr
    missing = cli("replay", str(tmp_path / "missing.json"))
    assert missing.code == 2 and "No such file or directory" in missing.stderr


SPAWNED_TWICE = """channel c: bounded(1)
fn w() { send c, 1 }
thread main {
    let a = spawn w()
    let b = spawn w()
    join a
}
"""


def test_a_spawned_thread_is_replayed_by_its_number(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "twice.gil"
    spec.write_text(SPAWNED_TWICE)
    trace = _save(cli, spec, tmp_path / "trace.json")
    report = json.loads(trace.read_text())
    # Only the second thread spawned from w sends: main waits for the first one for ever.
    assert [s["thread"] for s in report["steps"]] == ["main", "main", "w#2", "w#2"]
    run = cli("replay", str(trace))
    assert run.code == 0, run.stdout
    assert "the trace applies and ends in deadlock again" in run.stdout
    assert "    3  w#2   twice.gil:2  fn w() { send c, 1 }" in run.stdout
    # The same steps by w#1 are another run: the one main joins ends, so no deadlock.
    for step in report["steps"][2:]:
        step["thread"] = "w#1"
    trace.write_text(json.dumps(report))
    run = cli("replay", str(trace))
    assert run.code == 1
    assert "    3  w#1   twice.gil:2" in run.stdout
    assert "main can go on with `join a` (line 6)" in run.stdout


ATOMIC_CHOICE = """var x = 0
thread main {
    atomic {
        choose {
            x = 1
        } or {
            x = 2
        }
    }
    assert x == 2, "the first branch was taken"
}
"""


def test_an_atomic_block_is_told_statement_by_statement_and_replayed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "atomic.gil"
    spec.write_text(ATOMIC_CHOICE)
    checked = cli("check", str(spec))
    assert checked.code == 1
    block = (
        "    1  main  atomic.gil:3   atomic {\n"
        "                            -> runs the atomic block as one step\n"
        "    +  main  atomic.gil:4   choose {\n"
        "                            -> chooses branch 1\n"
        "    +  main  atomic.gil:5   x = 1\n"
        "                            -> x = 1\n"
        "    2  main  atomic.gil:10  assert"
    )
    assert block in checked.stdout, checked.stdout
    trace = _save(cli, spec, tmp_path / "trace.json")
    run = cli("replay", str(trace))
    assert run.code == 0, run.stdout
    assert block in run.stdout
    # Replay follows the branch the trace took: told the second one, the assertion holds.
    report = json.loads(trace.read_text())
    report["steps"][1]["effects"] = ["chooses branch 2"]
    report["steps"][2].update(line=7, location="atomic.gil:7", statement="x = 2", effects=["x = 2"])
    trace.write_text(json.dumps(report))
    run = cli("replay", str(trace))
    assert run.code == 1, run.stdout
    assert "after step 2 the program does not show assertion" in run.stdout
    assert "    +  main  atomic.gil:7   x = 2" in run.stdout


def test_a_violation_inside_an_atomic_block_is_told_at_its_statement(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "inside.gil"
    spec.write_text(ATOMIC_CHOICE.replace("x = 2\n", 'assert x == 1, "second branch"\n'))
    checked = cli("check", str(spec))
    assert checked.code == 1
    assert (
        "    +  main  inside.gil:4  choose {\n"
        "                           -> chooses branch 2\n"
        '    +  main  inside.gil:7  assert x == 1, "second branch"\n'
        "                           -> assertion failed: second branch\n"
    ) in checked.stdout, checked.stdout
    trace = _save(cli, spec, tmp_path / "trace.json")
    assert cli("replay", str(trace)).code == 0


TWO_FINALIZERS = """host python
var x = 0
thread main {
    python {
        skip
        assert x != 2, "the second finalizer ran"
    }
}
finalizer {
    x = 1
}
finalizer {
    x = 2
}
"""


def test_a_step_the_text_tells_apart_too_little_is_found_by_trying_each(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "hooks.gil"
    spec.write_text(TWO_FINALIZERS)
    trace = _save(cli, spec, tmp_path / "trace.json")
    report = json.loads(trace.read_text())
    started = [s for s in report["steps"] if "starts here" in s["effects"][0]]
    # Of several blocks of one kind, the trace names the one that starts by its line.
    assert started and started[0]["effects"][0].startswith("the finalizer at line 12 (")
    assert cli("replay", str(trace)).code == 0
    # Without the line, both finalizers fit step 3: after the first one, step 4 (`x = 2`)
    # does not apply, so replay goes back and tries the second.
    for step in report["steps"]:
        step["effects"] = [e.replace(" at line 12", "") for e in step["effects"]]
    trace.write_text(json.dumps(report))
    run = cli("replay", str(trace))
    assert run.code == 0, run.stdout
    assert "    4  main  hooks.gil:13  x = 2" in run.stdout


def test_a_trace_saved_before_atomic_blocks_were_told_still_replays(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "atomic.gil"
    spec.write_text(ATOMIC_CHOICE)
    trace = _save(cli, spec, tmp_path / "trace.json")
    report = json.loads(trace.read_text())
    report["steps"] = [s for s in report["steps"] if not s["merged"]]
    report["steps"][0]["effects"] = ["runs the atomic block"]
    trace.write_text(json.dumps(report))
    run = cli("replay", str(trace))
    assert run.code == 0, run.stdout
    assert "    +  main  atomic.gil:5   x = 1" in run.stdout  # now told in full


def test_the_numbered_functions_are_read_from_thread_names_and_spawns() -> None:
    from gilcheck.analysis.retrace import numbered_functions
    from gilcheck.pipeline import analyze_spec, parse_text
    from gilcheck.trace.model import Location, Step

    text = 'fn w() { skip }\nfn v() { skip }\nthread main {\n    spawn w()\n    print "w#1"\n}\n'
    program = analyze_spec(parse_text("names.gil", text))

    def step(thread: str, effect: str) -> Step:
        return Step(1, thread, Location("names.gil", 4), 4, "spawn w()", (effect,), False)

    steps = (
        step("main", "spawns w"),
        step("main", "spawns v#1"),
        step("main", 'prints "w#1"'),  # a string, not a thread
        step("v#2", "does nothing (skip)"),
        step("worker#3", "does nothing (skip)"),  # not a function of the spec
    )
    assert numbered_functions(program, steps) == frozenset({"v"})


def test_a_trace_saved_with_no_por_says_how_to_replay_it(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saved = tmp_path / "t.json"
    saved.write_text(cli("check", "--no-por", "--format", "json", "specs/seed/buggy.gil").stdout)
    result = cli("replay", str(saved))
    assert result.code == 1
    assert "ran with --no-por: replay with it too" in result.stdout
    assert cli("replay", "--no-por", str(saved)).code == 0
