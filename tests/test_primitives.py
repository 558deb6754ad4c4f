"""Blocking and waking rules of condvar, once, event, semaphore and barrier."""

from __future__ import annotations

import json
from pathlib import Path

from gilcheck.explore.bfs import explore
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.system.engine import Engine
from gilcheck.system.model import STEP
from gilcheck.system.state import NO_THREAD, S_LOCKS, S_THREADS, T_PHASE


def engine_for(text: str, **options: object) -> Engine:
    return Engine(analyze_spec(parse_text("t.gil", text)), CheckOptions(**options))  # type: ignore[arg-type]


def verdict(text: str, **options: object) -> str:
    engine = engine_for(text, **options)
    found = explore(engine, engine.options)
    if found.violation is not None:
        return found.violation.verdict.value
    return "deadlock" if found.deadlock >= 0 else "ok"


def test_condvar_wait_releases_the_mutex_and_sleeps() -> None:
    engine = engine_for(
        "mutex m\ncondvar cv\nthread main { acquire m\n wait cv, m }", merge_local_steps=False
    )
    state = engine.initial_state()
    ((_, state),) = engine.transitions(state)  # acquire m
    ((_, state),) = engine.transitions(state)  # wait: releases m, sleeps
    mutex, condvar = state[S_LOCKS]
    assert mutex == NO_THREAD and condvar == ((0,), ())
    assert state[S_THREADS][0][T_PHASE] == ("cv", 1)
    assert engine.transitions(state) == []  # no notify will come


def test_notify_wakes_one_waiter_each_way_and_notify_all_wakes_all() -> None:
    two = """
mutex m
condvar cv
var n = 0
thread a { lock m { n = n + 1
 wait cv, m } }
thread b { lock m { n = n + 1
 wait cv, m } }
thread main {
    await n == 2
    lock m { NOTIFY cv }
}
"""
    assert verdict(two.replace("NOTIFY", "notify_all")) == "ok"
    # a single notify leaves one waiter asleep; host rust: main returns, so no deadlock
    assert verdict(two.replace("NOTIFY", "notify")) == "ok"
    python_host = "host python\n" + two
    assert verdict(python_host.replace("NOTIFY", "notify")) == "deadlock"
    assert verdict(python_host.replace("NOTIFY", "notify_all")) == "ok"


def test_wait_without_holding_the_mutex_is_misuse() -> None:
    assert verdict("mutex m\ncondvar cv\nthread main { wait cv, m }") == "misuse"


def test_spurious_wakeups_are_explored_only_when_asked() -> None:
    spec = """
mutex m
condvar cv
var ready = false
var seen = false
thread main {
    spawn notifier()
    lock m {
        if not ready {
            wait cv, m
            assert ready, "woke up before ready was set"
        }
    }
}
fn notifier() { lock m { ready = true
 notify cv } }
"""
    assert verdict(spec) == "ok"
    assert verdict(spec, spurious_wakeups=True) == "assertion"


def test_once_runs_once_and_others_wait() -> None:
    spec = """
once o
var runs = 0
thread a { call_once o { runs = runs + 1 } }
thread main {
    call_once o { runs = runs + 1 }
    join a
    assert runs == 1
}
"""
    assert verdict(spec) == "ok"


def test_event_set_clear_wait() -> None:
    assert verdict("event e\nthread main { set e\n wait e\n clear e }") == "ok"
    assert verdict("host python\nevent e\nthread main { set e\n clear e\n wait e }") == "deadlock"


def test_semaphore_counts_and_release_above_initial_is_allowed() -> None:
    assert (
        verdict(
            "semaphore s = 2\nthread main { acquire s\n acquire s\n release s\n"
            " release s\n release s\n acquire s\n acquire s\n acquire s }"
        )
        == "ok"
    )
    assert verdict("semaphore s = 1\nthread main { acquire s\n acquire s }") == "deadlock"


def test_barrier_lets_all_parties_through_together() -> None:
    spec = """
barrier b = 2
var before = 0
thread a { before = before + 1
 wait b
 assert before == 2 }
thread main { before = before + 1
 wait b
 join a }
"""
    assert verdict(spec) == "ok"


def test_barrier_waiting_phase_is_recorded() -> None:
    engine = engine_for("barrier b = 2\nthread a { wait b }\nthread main { wait b }")
    state = engine.initial_state()
    first = next(t for a, t in engine.transitions(state) if a == (0, STEP, 0))
    assert first[S_THREADS][0][T_PHASE] == ("barrier", 0)
    assert first[S_LOCKS][0] == (1, 0, 0)  # arrived, generation, still to leave


def test_spurious_wakeups_flag_through_the_cli(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "cv.gil"
    spec.write_text(
        "mutex m\ncondvar cv\nvar ready = false\nthread main {\n spawn f()\n lock m {\n"
        "  if not ready {\n   wait cv, m\n   assert ready\n  }\n }\n}\n"
        "fn f() { lock m { ready = true\n notify cv } }\n"
    )
    assert json.loads(cli("check", "-f", "json", str(spec)).stdout)["verdict"] == "ok"
    result = cli("check", "-f", "json", "--spurious-wakeups", str(spec))
    assert json.loads(result.stdout)["verdict"] == "assertion"
    assert result.code == 1


def test_spurious_wakeups_never_hide_a_deadlock_or_a_stuck_waiter(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    lone = tmp_path / "lone.gil"
    lone.write_text("mutex m\ncondvar cv\nthread main {\n lock m { wait cv, m }\n}\n")
    waiter = tmp_path / "waiter.gil"
    waiter.write_text(
        "mutex m\ncondvar cv\nvar ready = false\n"
        "thread worker {\n lock m {\n  while not ready { wait cv, m }\n }\n}\n"
        "thread main {\n loop { progress }\n}\n"
    )
    for spec, want in ((lone, "deadlock"), (waiter, "stuck")):
        for extra in ([], ["--no-merge"]):
            result = cli("check", "-f", "json", "--spurious-wakeups", *extra, str(spec))
            assert json.loads(result.stdout)["verdict"] == want
            assert result.code == 1


def test_gil_off_attached_threads_do_not_exclude_each_other() -> None:
    spec = (
        "gil off\nvar n = 0\nthread a { with_gil { await n == 1 } }\n"
        "thread main { with_gil { n = 1 } }"
    )
    assert verdict(spec) == "ok"
    assert verdict(spec.replace("gil off\n", "")) == "deadlock"


def test_gil_off_pause_waits_for_attached_threads_blocked_in_native_code() -> None:
    from gilcheck.system.model import PAUSE_END, PAUSE_START

    spec = (
        "gil off\nvar go = 0\nthread a { with_gil { await go == 1 } }\n"
        "thread main { python { skip\n skip }\n go = 1 }"
    )
    assert verdict(spec) == "deadlock"
    engine = engine_for("gil off\nthread main { python { skip\n skip } }", merge_local_steps=False)
    state = engine.initial_state()
    ((_, state),) = engine.transitions(state)  # attaches, enters Python code
    kinds = {a[1]: t for a, t in engine.transitions(state)}
    assert PAUSE_START in kinds and STEP in kinds
    paused = kinds[PAUSE_START]
    ((action, _),) = engine.transitions(paused)
    assert action[1] == PAUSE_END  # nobody else is attached: the pause ends at once


def test_gil_off_python_code_blocked_is_detached() -> None:
    spec = (
        "gil off\nmutex m\nthread a { python { acquire m\n release m } }\n"
        "thread main { acquire m\n python { skip\n skip }\n release m }"
    )
    assert verdict(spec) == "ok"


def test_gil_off_a_thread_blocked_in_python_code_starts_no_pause_so_it_deadlocks() -> None:
    # A blocked statement is not a statement boundary: no stop-the-world pauses for ever
    # (which would look like a livelock) from a thread that cannot go on.
    spec = "gil off\nmutex q\nthread main {\n python {\n  lock q { lock q { skip } }\n }\n}"
    assert verdict(spec) == "deadlock"
    finalizer = "gil off\nhost python\nmutex q\nthread main { python { lock q { skip } } }\n"
    assert verdict(finalizer + "finalizer { lock q { skip } }") == "deadlock"
