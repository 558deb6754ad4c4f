"""`gilcheck realize` as a user runs it: realize a spec, run the program it writes with a
timeout, and read what it did (0 finished, 3 hang, 4 assertion, 5 panic, 6 misuse)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data" / "realize"
HANG = "1"  # the watchdog's timeout for a run that should hang
FINISH = "10"  # ... for a run that should finish (generous: a loaded machine is slow)


@pytest.fixture(autouse=True)
def _in_process_cli(cli) -> None:  # type: ignore[no-untyped-def]
    """`gilcheck` runs in process (the realized programs run as real processes)."""
    global _CLI
    _CLI = cli


_CLI = None


def gilcheck(*args: str) -> subprocess.CompletedProcess[str]:
    assert _CLI is not None
    done = _CLI(*args)
    return subprocess.CompletedProcess(args, done.code, done.stdout, done.stderr)


def realize(spec: str, out: Path, *, steer: bool = False, timeout: str = FINISH) -> Path:
    """Realize `spec` into `out` (steered along gilcheck's own counterexample)."""
    args = ["realize", spec, "-o", str(out), "--timeout", timeout]
    if steer:
        checked = gilcheck("check", spec, "--format", "json", "--no-por")
        trace = out.with_suffix(".json")
        trace.write_text(checked.stdout)
        args += ["--steer", str(trace)]
    made = gilcheck(*args)
    assert made.returncode == 0, made.stderr
    return out


def run(program: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, timeout=30
    )


def test_a_buggy_spec_hangs_when_steered_and_its_fix_always_finishes(tmp_path: Path) -> None:
    buggy = realize(
        "specs/cookbook/08_lock_per_account_buggy.gil", tmp_path / "b.py", steer=True, timeout=HANG
    )
    hung = run(buggy)
    assert hung.returncode == 3
    assert "hang" in hung.stdout
    # The threads' stacks, dumped by faulthandler: each waits in `threading.Lock.acquire`
    # (Python code waits in the standard library's own objects).
    assert hung.stderr.count("in lock_acquire") == 2, hung.stderr
    fixed = realize("specs/cookbook/08_lock_per_account_fixed.gil", tmp_path / "f.py")
    assert run(fixed).returncode == 0  # bench/conformance runs each program several times


def test_native_code_keeps_the_real_gil_while_it_waits(tmp_path: Path) -> None:
    program = realize(
        "tests/data/realize/gil_kept_buggy.gil", tmp_path / "b.py", steer=True, timeout=HANG
    )
    hung = run(program)
    assert hung.returncode == 3
    # main waits for `m` inside `with_gil`: through PyDLL, holding the real GIL.
    main = hung.stderr[hung.stderr.index("Current thread") :]
    assert "park_keeping_the_gil" in main.split("\n\n")[0]
    # The worker, in Python code, waits for the GIL without holding it.
    assert "park_releasing_the_gil" in hung.stderr


def test_releasing_the_gil_before_waiting_fixes_it(tmp_path: Path) -> None:
    program = realize("tests/data/realize/gil_kept_fixed.gil", tmp_path / "f.py")
    for _ in range(3):
        assert run(program).returncode == 0


def test_an_assertion_spec_fails_its_assertion_when_steered(tmp_path: Path) -> None:
    program = realize("specs/semantics/lost_update_buggy.gil", tmp_path / "a.py", steer=True)
    failed = run(program)
    assert failed.returncode == 4
    assert "assertion failed at line 23: an increment was lost" in failed.stderr


def test_refusals_name_every_construct_where_it_is_written(golden) -> None:  # type: ignore[no-untyped-def]
    refused = gilcheck("realize", "tests/data/realize/refused.gil")
    assert refused.returncode == 2
    assert refused.stdout == ""
    golden("errors/not_realizable.txt", refused.stderr)


def test_host_rust_and_gil_off_are_refused() -> None:
    refused = gilcheck("realize", "specs/seed/buggy.gil")
    assert refused.returncode == 2
    assert "error[not-realizable]: `host rust` cannot be realized" in refused.stderr
    assert gilcheck("explain", "not-realizable").returncode == 0


def test_a_steering_file_that_is_not_a_trace_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    refused = gilcheck("realize", "tests/data/realize/gil_kept_fixed.gil", "--steer", str(bad))
    assert refused.returncode == 2
    assert "error[bad-trace-file]" in refused.stderr


@pytest.mark.slow
def test_a_slice_of_the_conformance_bench_agrees() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "bench/conformance/run",
            "--runs",
            "1",
            "--timeout",
            "1",
            "--jobs",
            "2",
            "semantics/rlock_reentry",
            "primitives/event",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 realized" in done.stdout
    assert "4 of the 4 compared agree" in done.stdout


@pytest.mark.slow
def test_a_fork_child_keeps_a_lock_another_thread_held(tmp_path: Path) -> None:
    # The child's hang is the program's: the parent waits for its forked children.
    buggy = realize(
        "specs/cookbook/16_fork_lock_held_buggy.gil", tmp_path / "b.py", steer=True, timeout=HANG
    )
    assert run(buggy).returncode == 3
    fixed = realize("specs/cookbook/16_fork_lock_held_fixed.gil", tmp_path / "f.py")
    assert run(fixed).returncode == 0


@pytest.mark.slow
def test_pools_futures_and_timed_waits_finish_when_the_spec_is_ok(tmp_path: Path) -> None:
    for n, spec in enumerate(
        [
            "specs/v12/pools/exit_hook_fixed.gil",  # the executors' exit hook waits
            "specs/cookbook/09_timeout_retry_fixed.gil",  # `acquire .. timeout` and retry
            "specs/realworld/rw_polars_to_pandas_rwlock_fixed.gil",  # rwlock, GIL lent
        ]
    ):
        program = realize(spec, tmp_path / f"p{n}.py")
        assert run(program).returncode == 0, spec


def test_a_misuse_exits_6_when_steered(tmp_path: Path) -> None:
    program = realize("specs/semantics/double_release_buggy.gil", tmp_path / "m.py", steer=True)
    failed = run(program)
    assert failed.returncode == 6
    assert "misuse: main releases state_lock, which is free" in failed.stderr


@pytest.mark.slow
def test_a_blocking_call_in_a_coroutine_hangs_the_loop(tmp_path: Path) -> None:
    spec = "specs/cookbook/04_blocking_get_in_coroutine_buggy.gil"
    assert run(realize(spec, tmp_path / "b.py", steer=True, timeout=HANG)).returncode == 3
    fixed = realize(spec.replace("_buggy", "_fixed"), tmp_path / "f.py")
    assert run(fixed).returncode == 0


@pytest.mark.slow
def test_a_finalizer_started_where_the_trace_starts_it_deadlocks(tmp_path: Path) -> None:
    spec = "specs/cookbook/18_del_takes_lock_buggy.gil"
    assert run(realize(spec, tmp_path / "b.py", steer=True, timeout=HANG)).returncode == 3
    fixed = realize(spec.replace("_buggy", "_fixed"), tmp_path / "f.py")
    assert run(fixed).returncode == 0


def test_steering_follows_a_trace_across_processes(tmp_path: Path) -> None:
    # Unsteered, the child process starts too late to take `b` between main's two
    # acquires; steered, it does, and both processes hang.
    spec = "tests/data/realize/processes_lock_order_buggy.gil"
    assert run(realize(spec, tmp_path / "u.py")).returncode == 0
    hung = run(realize(spec, tmp_path / "b.py", steer=True, timeout=HANG))
    assert hung.returncode == 3, hung.stderr
    assert "_process_main" in hung.stderr  # the child's stacks are dumped too
    assert "steering lost" not in hung.stderr
    fixed = realize(spec.replace("_buggy", "_fixed"), tmp_path / "f.py")
    assert run(fixed).returncode == 0


def test_a_verdict_in_a_child_process_is_the_programs(tmp_path: Path) -> None:
    failed = run(realize("tests/data/realize/process_assertion_buggy.gil", tmp_path / "a.py"))
    assert failed.returncode == 4
    assert "the child got the wrong value" in failed.stderr
    misuse = run(realize("tests/data/realize/process_future_misuse.gil", tmp_path / "m.py"))
    assert misuse.returncode == 6
    assert "cannot be passed to a process" in misuse.stderr


def test_processes_share_what_is_passed_and_nothing_else(tmp_path: Path) -> None:
    # A reply handle passed to the child (sent over the queue it would be lost); a Python
    # value sent back; the child keeps its own GIL.
    spec = "tests/data/realize/process_reply_handle_fixed.gil"
    done = run(realize(spec, tmp_path / "r.py"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "<answer>"
    assert "leaked" not in done.stderr  # no named semaphore outlives the run
    condvar = "tests/data/realize/process_condvar_buggy.gil"  # a notify before the wait
    assert run(realize(condvar, tmp_path / "c.py", steer=True, timeout=HANG)).returncode == 3


def test_a_full_queue_blocks_and_a_queue_never_closes(tmp_path: Path) -> None:
    # `queue(N)` is a `queue.Queue(maxsize=N)`: each program hangs in its own put or get.
    for name, where in (
        ("queue_full", "queue_put_really"),
        ("queue_never_closes", "in get"),
        ("queue_receiver_dropped", "queue_put_really"),
    ):
        spec = f"tests/data/realize/{name}_buggy.gil"
        hung = run(realize(spec, tmp_path / f"{name}.py", timeout=HANG))
        assert hung.returncode == 3, name
        assert where in hung.stderr, hung.stderr


REVIEWED = "tests/data/realize"


def test_ok_specs_of_the_review_finish(tmp_path: Path) -> None:
    # A process started by a fork child; a condvar wait releasing an rlock held twice; a
    # mutex passed to a process beside a queue that carries data; a child process ending while
    # its daemon threads poll the shared state (it must not die holding its lock).
    for name in (
        "fork_then_process",
        "rlock_condvar",
        "queued_mutex_shared",
        "child_daemon_threads",
    ):
        program = realize(f"{REVIEWED}/{name}_fixed.gil", tmp_path / f"{name}.py")
        for _ in range(2):
            done = run(program)
            assert done.returncode == 0, (name, done.stderr)


def test_steering_takes_the_traces_values_and_wakes(tmp_path: Path) -> None:
    # `any` takes the trace's value; `notify` wakes the waiter the trace wakes; the end of
    # `allow_threads` taking the GIL back is an ordinary step of the trace.
    spec = f"{REVIEWED}/any_steered_buggy.gil"
    assert run(realize(spec, tmp_path / "a.py", steer=True)).returncode == 4
    for name in ("notify_younger", "allow_threads_end"):
        hung = run(
            realize(
                f"{REVIEWED}/{name}_buggy.gil", tmp_path / f"{name}.py", steer=True, timeout=HANG
            )
        )
        assert hung.returncode == 3, (name, hung.stderr)
        assert "steering lost" not in hung.stderr


def test_misuses_of_handles_and_daemon_processes(tmp_path: Path) -> None:
    # (a channel handle, and a mutex, on a multiprocessing queue: CPython's queue drops
    # them, "Queue objects should only be shared between processes through inheritance")
    for name in (
        "thread_handle_moved_misuse",
        "daemon_process_spawns_misuse",
        "process_reply_handle_misuse",
        "queued_mutex_shared_misuse",
    ):
        failed = run(realize(f"{REVIEWED}/{name}.gil", tmp_path / f"{name}.py", steer=True))
        assert failed.returncode == 6, (name, failed.stderr)


def test_an_unsteered_pool_is_a_thread_pool_executor(tmp_path: Path) -> None:
    # Unsteered, `pool p = N` is a real `concurrent.futures.ThreadPoolExecutor`: an
    # exhausted pool hangs in the executor's own worker threads.
    spec = "specs/cookbook/01_pool_exhaustion_buggy.gil"
    hung = run(realize(spec, tmp_path / "p.py", timeout=HANG))
    assert hung.returncode == 3
    assert "concurrent/futures/thread.py" in hung.stderr, hung.stderr


QUEUED_OBJECTS = {
    "queue_carries_future_buggy": 6,
    "queue_carries_future_fixed": 0,
    "queue_holds_future_when_passed_buggy": 6,
    "queue_holds_future_when_passed_fixed": 0,
    "queue_carries_lock_by_name_buggy": 6,
    "queue_carries_lock_by_name_fixed": 0,
    "queue_within_a_child_carries_a_future": 0,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", QUEUED_OBJECTS)
def test_a_queue_passed_to_a_process_carries_only_data(tmp_path: Path, name: str) -> None:
    """The realized program stops with a misuse (6) where `gilcheck check` reports one for
    an object on a multiprocessing queue, and finishes where it says ok."""
    spec = f"tests/cases/processes/{name}.gil"
    done = run(realize(spec, tmp_path / "p.py"))
    assert done.returncode == QUEUED_OBJECTS[name], done.stdout + done.stderr
    if QUEUED_OBJECTS[name]:
        assert "multiprocessing queue pickles what it carries" in done.stderr
    verdict = "misuse" if QUEUED_OBJECTS[name] else "ok"
    assert f"verdict: {verdict}   (expected {verdict}: matches)" in gilcheck("check", spec).stdout
