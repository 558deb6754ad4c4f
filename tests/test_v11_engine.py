"""The v1.1 additions in the successor function: rwlock preference, `atexit` ordering, fork
copies and interrupt placement, checked step by step on small specs and hand-built states."""

from __future__ import annotations

from gilcheck.explore.bfs import explore
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.system.engine import Engine
from gilcheck.system.model import EXIT_JOIN_DONE, FORK_CHILD, INTERRUPT, STEP
from gilcheck.system.state import (
    ENDED,
    EXIT_JOIN,
    F_CODE,
    FINALIZING,
    GONE,
    NO_THREAD,
    RUNNING,
    S_ENDED,
    S_FORK,
    S_GIL,
    S_INTERRUPTS,
    S_LOCKS,
    S_THREADS,
    T_FRAMES,
    T_PHASE,
    T_STATUS,
    State,
)


def engine_for(text: str, **options: object) -> Engine:
    program = analyze_spec(parse_text("t.gil", text))
    options.setdefault("merge_local_steps", False)
    return Engine(program, CheckOptions(**options))  # type: ignore[arg-type]


def only(engine: Engine, state: State, tid: int) -> list[tuple[tuple[int, int, object], State]]:
    return [(a, t) for a, t in engine.transitions(state) if a[0] == tid]


def run(engine: Engine, state: State, tid: int, steps: int = 1) -> State:
    """Take `steps` steps of thread `tid`, each the thread's only step."""
    for _ in range(steps):
        ((_, state),) = only(engine, state, tid)
    return state


def with_lock(state: State, lid: int, value: object) -> State:
    locks = list(state[S_LOCKS])
    locks[lid] = value
    return (*state[:S_LOCKS], tuple(locks), *state[S_LOCKS + 1 :])


# ------------------------------------------------------------------ rwlock

RW = """rwlock l
thread main { acquire_read l
 release l }
thread w { acquire_write l
 release l }
"""


def test_rwlock_readers_share_and_a_writer_excludes() -> None:
    engine = engine_for(RW)
    init = engine.initial_state()
    main, writer = 0, 1
    read = run(engine, init, main)
    assert read[S_LOCKS][0] == (NO_THREAD, (main,), ())
    # The writer cannot take it: its step registers it as waiting (phase "rw").
    waiting = run(engine, read, writer)
    assert waiting[S_LOCKS][0] == (NO_THREAD, (main,), (writer,))
    assert waiting[S_THREADS][writer][T_PHASE] == ("rw",)
    assert only(engine, waiting, writer) == []  # blocked while main reads
    released = run(engine, waiting, main)
    assert released[S_LOCKS][0] == (NO_THREAD, (), (writer,))
    took = run(engine, released, writer)
    assert took[S_LOCKS][0] == (writer, (), ())
    assert took[S_THREADS][writer][T_PHASE] == 0


def test_rwlock_new_readers_wait_while_a_writer_waits() -> None:
    engine = engine_for(RW)
    init = engine.initial_state()
    # Hand-built: another thread (1) waits to write, nobody holds the lock: main may not read.
    pending = with_lock(init, 0, (NO_THREAD, (), (1,)))
    assert only(engine, pending, 0) == []
    # Without a waiting writer the read goes through.
    assert len(only(engine, init, 0)) == 1


def test_rwlock_release_of_two_read_locks_releases_one() -> None:
    engine = engine_for("rwlock l\nthread main { acquire_read l\n release l }")
    held_twice = with_lock(engine.initial_state(), 0, (NO_THREAD, (0, 0), ()))
    ((_, after),) = only(engine, run(engine, held_twice, 0), 0)
    assert after[S_LOCKS][0] == (NO_THREAD, (0, 0), ())  # acquired a third, released one


def test_rwlock_release_not_held_is_a_misuse() -> None:
    engine = engine_for("rwlock l\nthread main { release l }")
    ((_, target),) = engine.transitions(engine.initial_state())
    assert getattr(target, "verdict", None) is not None
    assert target.verdict.value == "misuse"  # type: ignore[union-attr]


def test_rwlock_read_reentry_under_a_waiting_writer_deadlocks() -> None:
    spec = "rwlock l\nthread main { read l { read l { skip } } }\nthread w { write l { skip } }"
    found = explore(engine_for(spec), CheckOptions())
    assert found.deadlock >= 0
    fine = spec.replace("read l { read l { skip } }", "read l { skip }\n read l { skip }")
    found = explore(engine_for(fine), CheckOptions())
    assert found.deadlock < 0 and found.violation is None


# ------------------------------------------------------------------ atexit


def test_atexit_runs_after_the_exit_join_as_python_code_holding_the_gil() -> None:
    engine = engine_for("host python\nvar x = 0\nthread main { skip }\natexit { x = 1 }")
    state = run(engine, engine.initial_state(), 0, 2)  # skip, end
    assert state[S_THREADS][0][T_STATUS] == EXIT_JOIN
    ((action, state),) = engine.transitions(state)
    assert action[1] == EXIT_JOIN_DONE
    assert state[S_THREADS][0][T_STATUS] == RUNNING
    atexit = engine.atexit_codes[0]
    assert state[S_THREADS][0][T_FRAMES][0][F_CODE] == atexit
    state = run(engine, state, 0)  # takes the GIL (Python code)
    assert state[S_GIL] == 0
    state = run(engine, state, 0, 3)  # x = 1, leaves Python code, end of the block
    assert state[S_THREADS][0][T_STATUS] == FINALIZING and state[S_GIL] == NO_THREAD
    assert not state[S_ENDED]


def test_atexit_with_host_rust_runs_when_main_returns_as_native_code() -> None:
    engine = engine_for("var x = 0\nthread main { skip }\natexit { x = 1 }")
    state = run(engine, engine.initial_state(), 0, 2)
    assert state[S_THREADS][0][T_STATUS] == RUNNING and not state[S_ENDED]
    assert state[S_GIL] == NO_THREAD
    state = run(engine, state, 0, 2)  # x = 1, end of the block: the program ends
    assert state[S_ENDED] and state[S_THREADS][0][T_STATUS] == ENDED


# ------------------------------------------------------------------ fork


FORK = """mutex m
var x = 0
thread main { fork { x = 1 }
 x = 2 }
thread worker { acquire m }
"""


def test_fork_parent_goes_on_and_child_is_a_copy_with_only_the_forking_thread() -> None:
    engine = engine_for(FORK)
    init = engine.initial_state()
    held = run(engine, init, 1)  # worker takes m
    (parent_action, parent), (child_action, child) = only(engine, held, 0)
    assert parent_action == (0, STEP, 0) and child_action == (0, FORK_CHILD, 0)
    assert parent[S_FORK] == () and parent[S_THREADS][1][T_STATUS] == RUNNING
    # The child: worker is gone, m stays held by it, main runs the block.
    assert child[S_THREADS][1][T_STATUS] == GONE
    assert child[S_LOCKS] == held[S_LOCKS]
    assert child[S_FORK] == ((0, held[S_THREADS][0][T_FRAMES][0][F_CODE], 0),)
    assert only(engine, child, 1) == []
    after_block = run(engine, child, 0, 2)  # x = 1, end of the block: the child ends
    assert after_block[S_ENDED] and after_block[S_THREADS][0][T_STATUS] == ENDED
    # The parent skipped the block.
    assert run(engine, parent, 0)[2] == (2,)


def test_a_child_blocked_on_a_lock_its_gone_owner_held_is_a_deadlock() -> None:
    spec = "mutex m\nthread main { fork { acquire m } }\nthread worker { acquire m }"
    found = explore(engine_for(spec), CheckOptions())
    assert found.deadlock >= 0
    assert found.store.states[found.deadlock][S_FORK]
    fixed = "mutex m\nthread main { fork { skip } }\nthread worker { acquire m }"
    found = explore(engine_for(fixed), CheckOptions())
    assert found.deadlock < 0


# ------------------------------------------------------------------ interrupts


def test_finalizer_may_start_only_at_a_python_boundary_holding_the_gil() -> None:
    engine = engine_for("var x = 0\nthread main { skip\n python { x = 1 } }\nfinalizer { x = 2 }")
    state = engine.initial_state()
    assert all(a[1] != INTERRUPT for a, _ in engine.transitions(state))  # native code
    state = run(engine, state, 0, 2)  # skip, takes the GIL
    steps = only(engine, state, 0)
    kinds = [a[1] for a, _ in steps]
    assert kinds == [STEP, INTERRUPT]
    _, interrupted = steps[1]
    assert interrupted[S_INTERRUPTS] == 1
    frames = interrupted[S_THREADS][0][T_FRAMES]
    assert len(frames) == 2 and engine.codes[frames[-1][F_CODE]].kind == "finalizer"
    # It runs to its end, then main goes on where it was; it never starts again.
    resumed = run(engine, interrupted, 0, 2)
    assert resumed[S_THREADS][0][T_FRAMES] == state[S_THREADS][0][T_FRAMES]
    assert resumed[2] == (2,)
    assert all(a[1] != INTERRUPT for a, _ in engine.transitions(resumed))


def test_signal_starts_only_on_main() -> None:
    spec = "thread worker { python { skip } }\nthread main { skip }\nsignal { skip }"
    engine = engine_for(spec)
    state = run(engine, engine.initial_state(), 0)  # worker takes the GIL
    assert all(a[1] != INTERRUPT for a, _ in engine.transitions(state))
    spec_main = "thread main { python { skip } }\nsignal { skip }"
    engine = engine_for(spec_main)
    state = run(engine, engine.initial_state(), 0)
    assert [a[1] for a, _ in engine.transitions(state)] == [STEP, INTERRUPT]


def test_a_finalizer_reentering_a_held_lock_deadlocks_an_rlock_does_not() -> None:
    spec = (
        "host python\nmutex q\nthread main { python { acquire q\n skip\n release q } }\n"
        "finalizer { acquire q\n release q }"
    )
    assert explore(engine_for(spec), CheckOptions()).deadlock >= 0
    fixed = spec.replace("mutex q", "rlock q")
    found = explore(engine_for(fixed), CheckOptions())
    assert found.deadlock < 0 and found.violation is None


def test_several_atexit_blocks_run_last_declared_first() -> None:
    spec = (
        "var order = 0\nthread main { skip }\n"
        'atexit { assert order == 1, "second"\n order = 2 }\n'
        'atexit { assert order == 0, "first"\n order = 1 }'
    )
    found = explore(engine_for(spec), CheckOptions())
    assert found.violation is None and found.deadlock < 0
    ended = [s for s in found.store.states if s[S_ENDED]]
    assert ended and all(s[2] == (2,) for s in ended)


def test_several_finalizers_each_start_at_most_once() -> None:
    spec = (
        "var a = 0\nvar b = 0\nthread main { python { skip\n skip } }\n"
        "finalizer { a = a + 1 }\nfinalizer { b = b + 1 }"
    )
    found = explore(engine_for(spec), CheckOptions())
    ended = {s[2] for s in found.store.states if s[S_ENDED]}
    assert ended == {(0, 0), (1, 0), (0, 1), (1, 1)}
