"""The successor function on small specs: exact states and transitions, and hand-checked steps."""

from __future__ import annotations

import pytest

from gilcheck.explore.bfs import explore
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.system.engine import Engine
from gilcheck.system.model import STEP
from gilcheck.system.state import NO_THREAD, S_ENDED, S_GIL, S_LOCKS, S_THREADS, S_VARS


def engine_for(text: str, **options: object) -> Engine:
    program = analyze_spec(parse_text("t.gil", text))
    return Engine(program, CheckOptions(**options))  # type: ignore[arg-type]


def counts(text: str, **options: object) -> tuple[int, int]:
    engine = engine_for(text, **options)
    found = explore(engine, engine.options)
    return len(found.store), found.transitions


def test_single_skip() -> None:
    # main at skip -> main at end -> program ended
    assert counts("thread main { skip }") == (3, 2)


def test_two_increments_interleave() -> None:
    spec = "var x = 0\nthread a { x = x + 1 }\nthread main { x = x + 1 }"
    engine = engine_for(spec)
    init = engine.initial_state()
    steps = engine.transitions(init)
    assert [action for action, _ in steps] == [(0, STEP, 0), (1, STEP, 0)]
    for _, target in steps:
        assert target[S_VARS] == (1,)
    # a: assign, end; main: assign, end (main's end ends the program: host rust)
    assert counts(spec) == (6, 6)  # a's end is merged into its assignment
    assert counts(spec, merge_local_steps=False) == (9, 10)


def test_with_gil_takes_and_releases_the_gil() -> None:
    unmerged = engine_for("thread main { with_gil { skip } }", merge_local_steps=False)
    state = unmerged.initial_state()
    ((_, after_enter),) = unmerged.transitions(state)
    assert after_enter[S_GIL] == 0
    ((_, after_skip),) = unmerged.transitions(after_enter)
    ((_, after_exit),) = unmerged.transitions(after_skip)
    assert after_skip[S_GIL] == 0 and after_exit[S_GIL] == NO_THREAD
    # With merging, the skip and the release join the acquiring step (Lipton's reduction).
    merged = engine_for("thread main { with_gil { skip } }")
    ((_, after_block),) = merged.transitions(merged.initial_state())
    assert after_block[S_GIL] == NO_THREAD
    assert counts("thread main { with_gil { skip } }") == (3, 2)
    assert counts("thread main { with_gil { skip } }", merge_local_steps=False) == (5, 4)


def test_a_thread_blocked_holding_the_gil_blocks_the_other() -> None:
    spec = "mutex m\nthread a { with_gil { acquire m } }\nthread main { acquire m\n with_gil { skip } }"
    engine = engine_for(spec)
    state = engine.initial_state()
    by_thread = {action[0]: target for action, target in engine.transitions(state)}
    after_a = by_thread[0]
    after_main = engine.transitions(after_a)
    main_lock = [t for a, t in after_main if a[0] == 1][0]
    assert main_lock[S_LOCKS] == (1,)
    # a holds the GIL and waits for m; main holds m and waits for the GIL: nothing moves
    assert engine.transitions(main_lock) == []
    assert not engine.has_ended(main_lock)


def test_mutex_reacquire_deadlocks_rlock_does_not() -> None:
    mutex = engine_for("mutex m\nthread main { acquire m\n acquire m }")
    assert explore(mutex, mutex.options).deadlock >= 0
    rlock = engine_for("rlock m\nthread main { acquire m\n acquire m\n release m\n release m }")
    found = explore(rlock, rlock.options)
    assert found.deadlock < 0 and found.violation is None


def test_host_python_program_end_steps() -> None:
    engine = engine_for("host python\nthread main { skip }")
    found = explore(engine, engine.options)
    last = found.store.states[-1]
    assert last[S_ENDED] == 1 and last[S_GIL] == 0  # finalization holds the GIL
    # start, after skip, main returned (exit join), join done, finalized
    assert len(found.store) == 5


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("specs/seed/buggy.gil", (13, 14)),
        ("specs/seed/fixed.gil", (17, 18)),
        ("specs/seed/ok_value.gil", None),
        ("bench/models/gil_workers_5.gil", None),
    ],
)
def test_pinned_counts_of_bundled_specs(spec: str, expected: tuple[int, int] | None) -> None:
    from pathlib import Path

    text = Path(spec).read_text()
    got = counts(text.replace('use "pyo3"', ""))
    if expected is not None:
        assert got == expected
    else:
        assert got[0] > 0


def test_rendezvous_send_waits_for_the_receiver() -> None:
    spec = (
        "thread main {\n let (tx, rx) = channel(rendezvous)\n spawn f(rx)\n"
        " let r = send tx, 1\n assert is_ok(r)\n}\nfn f(rx) { let v = recv rx }"
    )
    engine = engine_for(spec)
    found = explore(engine, engine.options)
    assert found.deadlock < 0 and found.violation is None
    lonely = "thread main {\n let (tx, rx) = channel(rendezvous)\n send tx, 1\n}"
    alone = engine_for(lonely)
    assert explore(alone, alone.options).deadlock >= 0


def test_states_are_hashable_plain_tuples() -> None:
    engine = engine_for("var x = 0\nthread main { x = 1 }")
    state = engine.initial_state()
    assert type(state) is tuple and hash(state) == hash(tuple(state))
    assert type(state[S_THREADS][0]) is tuple


def test_python_code_blocked_on_a_lock_releases_the_gil_and_takes_it_back() -> None:
    from gilcheck.system.model import GIL_BACK, GIL_RELEASE_TO_BLOCK
    from gilcheck.system.state import GIL_BLOCKING, GIL_LOST, T_GILMODE

    main, w = 0, 1
    spec = (
        "mutex m\nthread main { acquire m\n skip\n release m }\n"
        "thread w { python { acquire m\n skip } }"
    )
    engine = engine_for(spec, merge_local_steps=False)

    def step(state: tuple, tid: int, kind: int = STEP) -> tuple:  # type: ignore[type-arg]
        return next(t for a, t in engine.transitions(state) if a[0] == tid and a[1] == kind)

    state = step(engine.initial_state(), main)  # main takes m
    state = step(state, w)  # w takes the GIL to run Python code
    state = step(state, w, GIL_RELEASE_TO_BLOCK)  # m is held: w releases the GIL to wait
    assert state[S_GIL] == NO_THREAD and state[S_THREADS][w][T_GILMODE] == GIL_BLOCKING
    state = step(step(state, main), main)  # main skips, then releases m
    state = step(state, w)  # w takes m, without the GIL
    assert state[S_THREADS][w][T_GILMODE] == GIL_LOST and state[S_GIL] == NO_THREAD
    ((action, back),) = [(a, t) for a, t in engine.transitions(state) if a[0] == w]
    assert action[1] == GIL_BACK and back[S_GIL] == w
