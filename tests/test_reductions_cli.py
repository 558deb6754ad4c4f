"""Symmetry and partial-order reduction as a user meets them: `--no-symmetry`, `--no-por`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

WORKERS_FIXED = "bench/models/gil_workers_fixed_4.gil"
WORKERS = "bench/models/gil_workers_5.gil"
PHILOSOPHERS = "bench/models/philosophers_5.gil"

# The seed's lock-order inversion with three identical workers: each takes its own lock,
# then `shared`, then the GIL, while main holds the GIL and waits for `shared`. Which
# worker main meets does not matter, so symmetry keeps one state for all three.
SYMMETRIC_DEADLOCK = """\
const N = 3
mutex own[N]
mutex shared
channel done: unbounded

thread worker[N] {
    lock own[self] {
        lock shared {
            with_gil {
                skip
            }
        }
    }
    send done, self
}

thread main {
    with_gil {
        lock shared {
            skip
        }
    }
    let a = recv done
    let b = recv done
    let c = recv done
}
"""

SYMMETRIC_FIXED = SYMMETRIC_DEADLOCK.replace(
    "    with_gil {\n        lock shared {\n            skip\n        }\n    }",
    "    lock shared {\n        with_gil {\n            skip\n        }\n    }",
)

# Workers that loop for ever while main waits for ever: `stuck`, judged on the full graph.
SYMMETRIC_LIVELOCK = """\
const N = 2
mutex m[N]
thread worker[N] {
    while true {
        lock m[self] {
            skip
        }
    }
}
channel never: unbounded
thread main {
    let x = recv never
}
"""


def _states(text: str) -> int:
    line = next(line for line in text.splitlines() if " states, " in line)
    return int(line.split(" states")[0].replace(",", ""))


def test_symmetry_is_on_by_default_and_off_with_no_symmetry(cli) -> None:  # type: ignore[no-untyped-def]
    reduced = cli("check", WORKERS_FIXED)
    full = cli("check", "--no-symmetry", WORKERS_FIXED)
    assert reduced.code == full.code == 0
    assert "one state per permutation of worker[4]" in reduced.stdout
    assert "permutation" not in full.stdout
    assert _states(full.stdout) == 16_270
    assert _states(reduced.stdout) * 10 < _states(full.stdout)


def test_no_por_keeps_every_intermediate_state(cli) -> None:  # type: ignore[no-untyped-def]
    spec = "specs/symmetric/own_lock_twice_fixed.gil"
    default = cli("check", "--no-symmetry", spec)
    no_por = cli("check", "--no-symmetry", "--no-por", spec)
    old_name = cli("check", "--no-symmetry", "--no-merge", spec)
    assert default.code == no_por.code == 0
    assert _states(no_por.stdout) > _states(default.stdout)
    assert _states(old_name.stdout) == _states(no_por.stdout)


def test_a_reduced_deadlock_has_a_real_shortest_trace(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "symmetric.gil"
    spec.write_text(SYMMETRIC_DEADLOCK)
    reduced = cli("check", "--format", "json", str(spec))
    full = cli("check", "--format", "json", "--no-symmetry", str(spec))
    assert reduced.code == full.code == 1
    mine, theirs = json.loads(reduced.stdout), json.loads(full.stdout)
    assert mine["verdict"] == theirs["verdict"] == "deadlock"
    assert mine["symmetry"] == ["worker[3]"] and theirs["symmetry"] == []
    assert mine["states"] < theirs["states"]
    depth = {s["index"] for s in mine["steps"]}
    assert len(depth) == len({s["index"] for s in theirs["steps"]})
    # The trace is a run of the real program: replay re-runs it step by step.
    saved = tmp_path / "trace.json"
    saved.write_text(reduced.stdout)
    again = cli("replay", str(saved))
    assert again.code == 0, again.stdout + again.stderr
    assert "ends in deadlock again" in again.stdout


def test_the_fixed_form_is_proven_with_and_without_symmetry(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "fixed.gil"
    spec.write_text(SYMMETRIC_FIXED)
    for extra in ((), ("--no-symmetry",), ("--no-por",), ("--no-por", "--no-symmetry")):
        run = cli("check", *extra, str(spec))
        assert run.code == 0, (extra, run.stdout)
        assert "no violation in the whole state space" in run.stdout


def test_a_ring_is_reduced_by_rotations(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # forks[(self + 1) % N]: only rotations of the philosophers map runs to runs.
    reduced = json.loads(cli("check", "--format", "json", PHILOSOPHERS).stdout)
    full = json.loads(cli("check", "--format", "json", "--no-symmetry", PHILOSOPHERS).stdout)
    assert reduced["symmetry"] == ["philosopher[5] (rotations)"]
    assert full["symmetry"] == []
    assert reduced["verdict"] == full["verdict"] == "deadlock"
    assert reduced["states"] * 4 < full["states"]
    text = cli("check", PHILOSOPHERS).stdout
    assert "one state per rotation of philosopher[5]" in text
    # the trace is a real run: it replays
    saved = tmp_path / "trace.json"
    saved.write_text(json.dumps(reduced))
    again = cli("replay", str(saved))
    assert again.code == 0, again.stdout + again.stderr
    assert "ends in deadlock again" in again.stdout


def test_an_offset_that_can_overflow_is_not_a_rotation(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # `self + K` overflows (a panic) for every thread but the first: not a rotation.
    spec = tmp_path / "huge.gil"
    spec.write_text(
        "const N = 3\nconst P = 2**2047 * 2**2047 * 2\nconst K = P + (P - 1)\nmutex g\n"
        "var done = 0\nthread w[N] {\n    lock g {\n        done = done + 1\n"
        "        if done == N {\n            let r = (self + K) % N\n        }\n    }\n"
        "    await done == 100\n}\nthread main {\n    await done == N\n}\n"
    )
    data = json.loads(cli("check", "--format", "json", str(spec)).stdout)
    assert data["symmetry"] == []
    assert data["verdict"] == "panic"


def test_self_in_other_arithmetic_is_not_reduced(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "ring.gil"
    spec.write_text(
        "const N = 3\nmutex m[N]\nthread w[N] {\n    let j = (self + 1) % N\n"
        "    if j < self {\n        skip\n    }\n    lock m[j] {\n        skip\n    }\n}\n"
        "thread main {\n    skip\n}\n"
    )
    run = cli("check", "--format", "json", str(spec))
    assert json.loads(run.stdout)["symmetry"] == []  # `j < self` reveals the order


def test_cycles_are_judged_on_the_full_graph(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "loop.gil"
    spec.write_text(SYMMETRIC_LIVELOCK)
    run = cli("check", "--format", "json", str(spec))
    data = json.loads(run.stdout)
    full = json.loads(cli("check", "--format", "json", "--no-symmetry", str(spec)).stdout)
    assert data["verdict"] == full["verdict"] == "stuck" and data["symmetry"] == []


def test_json_reports_bytes_per_state_on_large_runs(cli) -> None:  # type: ignore[no-untyped-def]
    small = json.loads(cli("check", "--format", "json", WORKERS).stdout)
    assert small["bytes_per_state"] is None  # too few states to measure
    # In a process of its own, as a user runs it: the tests' process reuses freed memory.
    run = subprocess.run(
        [sys.executable, "-m", "gilcheck.cli", "check", "--format", "json", PHILOSOPHERS],
        capture_output=True,
        text=True,
        check=False,
    )
    large = json.loads(run.stdout)
    assert isinstance(large["bytes_per_state"], int) and 20 < large["bytes_per_state"] < 400


def test_workers_give_the_same_verdict_and_a_real_shortest_trace(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "symmetric.gil"
    spec.write_text(SYMMETRIC_DEADLOCK)
    alone = json.loads(cli("check", "--format", "json", "--no-symmetry", str(spec)).stdout)
    run = cli("check", "--format", "json", "--workers", "2", "--no-symmetry", str(spec))
    shared = json.loads(run.stdout)
    assert run.code == 1 and shared["verdict"] == alone["verdict"] == "deadlock"
    assert len({s["index"] for s in shared["steps"]}) == len({s["index"] for s in alone["steps"]})
    saved = tmp_path / "trace.json"
    saved.write_text(run.stdout)
    assert cli("replay", str(saved)).code == 0
    proven = cli("check", "--workers", "0", "--no-symmetry", WORKERS_FIXED)
    assert proven.code == 0 and _states(proven.stdout) == 16_270


def test_workers_judge_cycles_on_the_whole_graph(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "loop.gil"
    spec.write_text(SYMMETRIC_LIVELOCK)
    run = cli("check", "--format", "json", "--workers", "2", str(spec))
    assert json.loads(run.stdout)["verdict"] == "stuck"


def test_workers_with_symmetry_rebuild_a_real_trace(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Representatives are the same in every worker process, so the path of
    # representatives walked back across workers is one the driver can make real.
    run = cli(
        "check", "--format", "json", "--workers", "2", "specs/symmetric/own_lock_twice_buggy.gil"
    )
    data = json.loads(run.stdout)
    assert run.code == 1 and data["verdict"] == "deadlock" and data["symmetry"] == ["worker[3]"]
    saved = tmp_path / "trace.json"
    saved.write_text(run.stdout)
    assert cli("replay", str(saved)).code == 0


# Specs whose traces once depended on how the states were shared among the workers.
ONE_TRACE = [
    "specs/semantics/choose_lock_order_buggy.gil",
    "specs/symmetric/spawned_pool_buggy.gil",
    "specs/realworld/rw_polars_to_pandas_rwlock_buggy.gil",
    "tests/cases/scenarios/21_philosophers_buggy.gil",
]


@pytest.mark.parametrize("spec", ONE_TRACE)
def test_workers_give_the_trace_one_process_gives(cli, spec: str) -> None:  # type: ignore[no-untyped-def]
    alone = cli("check", spec)
    shared = cli("check", "--workers", "2", spec)
    assert alone.code == shared.code == 1
    # Everything but the last line (states counted, seconds) is the same, trace included.
    assert alone.stdout.splitlines()[:-1] == shared.stdout.splitlines()[:-1], shared.stdout
    three = json.loads(cli("check", "--format", "json", "--workers", "3", spec).stdout)
    assert three["steps"] == json.loads(cli("check", "--format", "json", spec).stdout)["steps"]


# Specs that once fooled the symmetry analysis: `self` naming a thread of another array,
# and the result of `send c, self` (`err(self)` once `c` is closed) kept in a local.
LEAKS = sorted(Path("tests/cases/symmetry").glob("*.gil"))


@pytest.mark.parametrize("spec", LEAKS, ids=[p.stem for p in LEAKS])
def test_uses_of_self_the_permutation_cannot_follow_are_not_reduced(cli, spec: Path) -> None:  # type: ignore[no-untyped-def]
    reduced = json.loads(cli("check", "--format", "json", str(spec)).stdout)
    full = json.loads(cli("check", "--format", "json", "--no-symmetry", str(spec)).stdout)
    assert reduced["symmetry"] == [] and reduced["verdict"] == full["verdict"] != "ok"


def test_identical_spawned_threads_are_reduced_and_agree(cli) -> None:  # type: ignore[no-untyped-def]
    for name, verdict in (("spawned_pool_buggy", "deadlock"), ("spawned_pool_fixed", "ok")):
        path = f"specs/symmetric/{name}.gil"
        reduced = json.loads(cli("check", "--format", "json", path).stdout)
        full = json.loads(cli("check", "--format", "json", "--no-symmetry", path).stdout)
        assert reduced["verdict"] == full["verdict"] == verdict
        assert reduced["symmetry"] == ["spawned threads"] and full["symmetry"] == []
        assert reduced["states"] * 3 < full["states"]
        assert len(reduced["steps"] or []) == len(full["steps"] or [])
    text = cli("check", "specs/symmetric/spawned_pool_fixed.gil").stdout
    assert "one state per permutation of spawned threads" in text


def _spawner(functions: list[str], one_local: bool = False) -> str:
    """main spawns each of `functions` once, in straight-line code, then joins them all
    (each handle in a local of its own, or all in one local, joined once the last is in)."""
    lines = ['scenario "spawned in turn"', "mutex a", "mutex b", "var n = 0"]
    for name, first, second in (("f", "a", "b"), ("g", "b", "a")):
        lines += [f"fn {name}() {{", f"    lock {first} {{", f"        lock {second} {{",
                  "            n = n + 1", "        }", "    }", "}"]  # fmt: skip
    lines.append("thread main {")
    if one_local:
        lines.append(f"    let h = spawn {functions[0]}()")
        lines += [f"    h = spawn {name}()" for name in functions[1:]]
        lines.append("    join h")
    else:
        lines += [f"    let h{i} = spawn {name}()" for i, name in enumerate(functions)]
        lines += [f"    join h{i}" for i in range(len(functions))]
    lines.append("}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("functions", "one_local", "reduced"),
    [
        (["f", "g"], False, False),
        (["f", "g", "f"], False, False),
        (["f", "f"], False, False),
        (["f", "f"], True, True),
        (["f", "g", "f"], True, True),
    ],
)
def test_spawned_threads_that_cannot_trade_places_are_not_permuted(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, functions: list[str], one_local: bool, reduced: bool
) -> None:
    """Threads spawned once each from one thread's straight-line code can never trade
    places when each runs another function, or when each handle stays in a local of its
    own (a renumbering would move the handles between locals): symmetry would merge no
    state and is not used (it would also keep the C loop from the spec). Two spawns of
    one function whose handles share a local can."""
    spec = tmp_path / "spawner.gil"
    spec.write_text(_spawner(functions, one_local))
    with_symmetry = json.loads(cli("check", "--format", "json", str(spec)).stdout)
    without = json.loads(cli("check", "--format", "json", "--no-symmetry", str(spec)).stdout)
    verdict = "deadlock" if {"f", "g"} <= set(functions) else "ok"  # a and b taken both ways
    assert with_symmetry["verdict"] == without["verdict"] == verdict
    assert with_symmetry["symmetry"] == (["spawned threads"] if reduced else [])
    if not reduced:
        assert with_symmetry["states"] == without["states"]
        assert with_symmetry["steps"] == without["steps"]


def test_spawned_threads_told_apart_by_their_holders_are_not_stored_twice(cli) -> None:  # type: ignore[no-untyped-def]
    path = "tests/cases/scenarios/spawned_holders.gil"
    for extra in ([], ["--no-por"]):
        reduced = json.loads(cli("check", "--format", "json", *extra, path).stdout)
        full = json.loads(cli("check", "--format", "json", "--no-symmetry", *extra, path).stdout)
        assert reduced["verdict"] == full["verdict"] == "ok"
        assert reduced["states"] <= full["states"]


INDEX_RECEIVED = """\
const N = 2
mutex m[N]
channel c: unbounded
{first}
{second}
"""
RECEIVER = "thread main {\n    let a = recv c\n    lock m[a] { skip }\n}"
SENDERS = "thread worker[N] {\n    lock m[self] { send c, self }\n}"


@pytest.mark.parametrize("receiver_first", [True, False])
def test_an_index_received_is_an_index_whatever_the_order_of_declarations(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, receiver_first: bool
) -> None:
    # main locks the element a worker's index names, having received it: the array is
    # symmetric whether main is declared before the workers (whose send makes `c` carry
    # indexes) or after them.
    first, second = (RECEIVER, SENDERS) if receiver_first else (SENDERS, RECEIVER)
    spec = tmp_path / "received.gil"
    spec.write_text(INDEX_RECEIVED.format(first=first, second=second))
    reduced = json.loads(cli("check", "--format", "json", str(spec)).stdout)
    full = json.loads(cli("check", "--format", "json", "--no-symmetry", str(spec)).stdout)
    assert reduced["symmetry"] == ["worker[2]"]
    assert reduced["verdict"] == full["verdict"] == "ok"
    assert reduced["states"] < full["states"]
