"""Thread pools (language v1.2): `pool p = N`, `pool(N)`, `submit`, `shutdown`, workers,
idle workers, the exit hook, fork children, task queues under `--channel-bound`, symmetry,
spec errors and reports; through the CLI as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import check_json, write_spec

_spec = write_spec
_json = check_json


EXHAUSTION = """scenario "a task waits for a subtask queued on its own pool"
expect {verdict}
pool p = {workers}

fn part(x) {{
    return x * 2
}}

fn whole(x) {{
    let f = submit p, part(x)
    let v = result f
    return v + 1
}}

thread main {{
    let f = submit p, whole(20)
    let v = result f
    assert v == 41
    shutdown p
}}
"""


@pytest.mark.parametrize(("workers", "verdict"), [(1, "deadlock"), (2, "ok"), (3, "ok")])
def test_a_task_waiting_for_its_own_pool_deadlocks_only_without_a_free_worker(
    cli, tmp_path, workers: int, verdict: str
) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, EXHAUSTION.format(workers=workers, verdict=verdict))
    for options in ((), ("--no-por",), ("--no-symmetry",), ("--strategy", "dfs")):
        report = _json(cli, spec, *options)
        assert (report["verdict"], report["matches"]) == (verdict, True), options


def test_the_deadlock_report_tells_where_each_task_is(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, EXHAUSTION.format(workers=1, verdict="deadlock"))
    result = cli("check", spec)
    assert result.code == 1
    out = result.stdout
    assert "queues a task on pool p and starts worker p.worker for it" in out
    assert "runs the task whole" in out
    assert "its task whole runs on p.worker" in out
    assert (
        "its task part cannot start: 1 task queued on pool p, every worker blocked (p.worker), "
        "this one included" in out
    )
    assert "Cycle:" not in out
    assert "Pool exhausted: 1 task queued on pool p, every worker blocked (p.worker)" in out


def test_a_pool_made_at_run_time_and_passed_as_a_value(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
fn leaf() { return 1 }
fn mid(p) {
    let f = submit p, leaf()
    let v = result f
    return v
}
fn top(p) {
    let f = submit p, mid(p)
    let v = result f
    return v
}
thread main {
    let p = pool(2)
    let f = submit p, top(p)
    let v = result f
}
""",
    )
    assert _json(cli, spec)["verdict"] == "deadlock"
    fixed = _spec(tmp_path, Path(spec).read_text().replace("pool(2)", "pool(3)"), "f.gil")
    fixed_text = Path(fixed).read_text().replace("expect deadlock", "expect ok")
    Path(fixed).write_text(fixed_text)
    report = _json(cli, fixed)
    assert (report["verdict"], report["matches"]) == ("ok", True)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "let f = submit p, g()\n    shutdown p\n    let h = submit p, g()",
            "`submit` to pool p after it was shut down",
        ),
        (
            "let f = submit p, stop(p)\n    let v = result f",
            "`shutdown` of pool p from one of its own tasks",
        ),
        (
            "let f = submit p, g()\n    complete f, 1",
            "which `submit` made: its task completes it",
        ),
        (
            "let f = submit p, handle()\n    let v = result f",
            "a task returns a channel or thread handle",
        ),
        (
            "let m = mutex()\n    let q = m\n    submit q, g()",
            "`submit` needs a pool, and `q` is a mutex",
        ),
    ],
)
def test_pool_misuses(cli, tmp_path, body: str, message: str) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        f"""expect misuse
pool p = 2
fn g() {{ return 1 }}
fn stop(p) {{ shutdown p }}
fn handle() {{
    let (tx, rx) = channel(unbounded)
    return tx
}}
thread main {{
    {body}
}}
""",
    )
    result = cli("check", spec)
    assert result.code == 1
    assert "verdict: misuse   (expected misuse: matches)" in result.stdout
    assert message in result.stdout


def test_shutdown_twice_and_from_two_threads_waits_in_each(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
pool p = 1
var done = 0
fn work() { done = done + 1 }
fn closer(p) { shutdown p }
thread main {
    submit p, work()
    let h = spawn closer(p)
    shutdown p
    assert done == 1
    shutdown p
    join h
}
""",
    )
    report = _json(cli, spec)
    assert (report["verdict"], report["matches"]) == ("ok", True)


def test_idle_workers_are_never_stuck_and_end_with_the_program(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    running = _spec(
        tmp_path,
        """expect ok
pool p = 2
fn g() { return 1 }
thread main {
    let f = submit p, g()
    let v = result f
    loop { progress }
}
""",
        "running.gil",
    )
    assert _json(cli, running)["verdict"] == "ok"
    stuck = _spec(
        tmp_path,
        """expect stuck
pool p = 2
event never
fn g() { return 1 }
fn waiter() { wait never }
thread main {
    let f = submit p, g()
    spawn waiter()
    loop { progress }
}
""",
        "stuck.gil",
    )
    report = _json(cli, stuck)
    assert report["verdict"] == "stuck"
    assert "waiter" in report["message"] and "worker" not in report["message"]
    python = _spec(
        tmp_path,
        """expect ok
host python
pool p = 2
fn g() { return 1 }
thread main {
    let f = submit p, g()
}
""",
        "python.gil",
    )
    assert _json(cli, python)["verdict"] == "ok"


def test_the_exit_hook_shuts_pools_down_before_daemons_submit(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect misuse
host python
pool p = 1
fn g() { return 1 }
fn late(p) {
    let f = submit p, g()
}
thread main {
    spawn daemon late(p)
}
""",
    )
    result = cli("check", spec)
    assert result.code == 1
    assert "after the interpreter's exit hook shut it down" in result.stdout


def test_a_task_queue_past_the_channel_bound_is_inconclusive(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect bound
pool p = 1
event never
fn block() { wait never }
fn g() { return 1 }
thread main {
    submit p, block()
    loop { submit p, g() }
}
""",
    )
    result = cli("check", spec, "--channel-bound", "3")
    assert result.code == 3
    assert "the task queue of pool p grew past 3 tasks (--channel-bound)" in result.stdout


def test_interchangeable_workers_are_one_state_under_symmetry(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
pool p = 3
mutex m
fn work() {
    lock m { skip }
    return 1
}
thread main {
    let a = submit p, work()
    let b = submit p, work()
    let c = submit p, work()
    let x = result a
    let y = result b
    let z = result c
}
""",
    )
    reduced = _json(cli, spec)
    full = _json(cli, spec, "--no-symmetry")
    assert reduced["verdict"] == full["verdict"] == "ok"
    assert reduced["states"] < full["states"]


def test_a_fork_child_runs_no_task_on_workers_the_fork_left_behind(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
pool p = 2
fn g() { return 1 }
thread main {
    let f = submit p, g()
    let v = result f
    fork {
        let a = submit p, g()
        let b = result a
    }
}
""",
    )
    result = cli("check", spec)
    assert result.code == 1
    assert "in the child process" in result.stdout
    assert "which runs no task in this child process" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mutex m\nthread main {\n    submit m, g()\n}", "`submit` needs a pool"),
        ("pool p = 0\nthread main { skip }", "a pool count must be at least 1"),
        ("thread main {\n    let p = pool(0)\n}", "a pool count must be at least 1"),
        ("thread main {\n    let f = future()\n    shutdown f\n}", "`shutdown` needs a pool"),
        ("pool p = 1\nthread main {\n    submit p, nothing()\n}", "no function named"),
        ("pool p = 1\nthread main {\n    submit p, g(1)\n}", "takes 0 arguments"),
    ],
)
def test_pool_spec_errors_are_located(cli, tmp_path, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, "fn g() { return 1 }\n" + text)
    result = cli("check", spec)
    assert result.code == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "^" in result.stderr and "Traceback" not in result.stderr


def test_pool_words_are_names_elsewhere(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
var submit = 1
var shutdown = false
fn pool(x) { return x }
thread main {
    let v = call pool(submit)
    shutdown = true
    assert v == 1 and shutdown
}
""",
    )
    report = _json(cli, spec)
    assert (report["verdict"], report["matches"]) == ("ok", True)


def test_fmt_keeps_pool_statements(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = EXHAUSTION.format(workers=1, verdict="deadlock").replace(
        "pool p = 1", "pool p = 1\npool q[2] = 3"
    )
    spec = _spec(tmp_path, text)
    result = cli("fmt", "--check", spec)
    assert result.code == 0, result.stdout + result.stderr


def test_spawn_of_a_function_named_process_keeps_its_v1_meaning(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        "expect ok\nfn process(x) { skip }\nthread main {\n    let h = spawn process(1)\n"
        "    join h\n}\n",
    )
    assert _json(cli, spec)["verdict"] == "ok"


def test_json_names_the_workers_and_sarif_reports_the_deadlock(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, EXHAUSTION.format(workers=1, verdict="deadlock"))
    report = _json(cli, spec)
    assert "p.worker" in json.dumps(report["steps"]) + json.dumps(report["waits"])
    unexpected = _spec(tmp_path, Path(spec).read_text().replace("expect deadlock", ""), "u.gil")
    sarif = cli("check", "--format", "sarif", unexpected)
    assert sarif.code == 1 and json.loads(sarif.stdout)["runs"][0]["results"]


def test_promela_export_translates_pools(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Workers are a proctype `W` started by `submit` (tests/test_export.py runs SPIN on such).
    spec = _spec(tmp_path, EXHAUSTION.format(workers=1, verdict="deadlock"))
    result = cli("export", spec)
    assert result.code == 0, result.stderr
    assert "proctype W(" in result.stdout and "run W(nthreads, pk)" in result.stdout


def test_pool_arrays_used_per_thread_agree_with_and_without_symmetry(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
host python
pool p[2] = 1
mutex m
var n = 0
latch l = 2
fn t() { lock m { n = n + 1 } }
thread w[2] {
    let a = submit p[self], t()
    let f = submit p[self], t()
    countdown l
    let v = result f
}
thread main {
    wait l
}
atexit { assert n == 4, "all ran" }
""",
    )
    for options in ((), ("--no-symmetry",), ("--no-por",)):
        result = cli("check", "--format", "json", spec, *options)
        assert result.code == 0, (options, result.stdout[-500:], result.stderr[-500:])
        assert json.loads(result.stdout)["verdict"] == "ok"


def test_a_refused_submit_is_a_misuse_even_with_a_full_queue(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect misuse
pool p = 1
event started
event go
fn blocker() {
    set started
    wait go
}
fn work() { return 1 }
fn shut() { shutdown p }
thread main {
    let a = submit p, blocker()
    wait started
    let b = submit p, work()
    let c = submit p, work()
    spawn shut()
    let d = submit p, work()
    set go
}
""",
    )
    report = _json(cli, spec, "--channel-bound", "2")
    assert (report["verdict"], report["matches"]) == ("misuse", True)


def test_a_task_that_forks_leaves_its_pool_without_workers_in_the_child(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
pool p = 2
fn work() { return 1 }
fn forker() {
    fork {
        let g = submit p, work()
        let v = result g
    }
    return 0
}
thread main {
    let f = submit p, forker()
    let a = result f
}
""",
    )
    result = cli("check", spec)
    assert "verdict: deadlock   (expected deadlock: matches)" in result.stdout
    assert "in the child process" in result.stdout


def test_fmt_keeps_spawn_process(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "fn g(x) {\n    skip\n}\nthread main {\n    let h = spawn process g(1)\n"
        "    spawn daemon process g(2)\n    join h\n}\n"
    )
    spec = _spec(tmp_path, text)
    assert cli("fmt", "--check", spec).code == 0
    messy = _spec(tmp_path, text.replace("daemon process g(2)", "daemon   process  g(2)"), "m.gil")
    assert cli("fmt", messy).code == 0
    assert Path(messy).read_text() == text
    result = cli("check", spec)
    assert result.code == 0, result.stdout + result.stderr
