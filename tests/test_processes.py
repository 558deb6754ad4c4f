"""Processes (language v1.2): `spawn process` and `spawn daemon process`, each with its own
GIL, stdout lock and globals; what is shared by passing it; the ends of a child and of the
program; deadlock judged per process; misuses and reports; through the CLI as a user runs
it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_json, write_spec

_spec = write_spec
_json = check_json

# The options a verdict must not depend on.
OPTION_SETS = [(), ("--no-por",), ("--strategy", "dfs"), ("--no-symmetry",)]


SHARED_LOCK = """expect {verdict}
mutex m

fn child(lk) {{
    lock lk {{
        skip
    }}
}}

thread main {{
    acquire m
    let h = spawn process child({arg})
    {order}
}}
"""


@pytest.mark.parametrize("options", OPTION_SETS)
@pytest.mark.parametrize(
    ("arg", "order", "verdict"),
    [
        ("m", "join h\n    release m", "deadlock"),  # the same lock in both processes
        ("m", "release m\n    join h", "ok"),
        ("", "join h\n    release m", "ok"),  # the child's own copy of m: not shared
    ],
)
def test_a_passed_lock_is_shared_and_a_global_one_is_a_copy(
    cli, tmp_path, arg: str, order: str, verdict: str, options: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    text = SHARED_LOCK.format(arg=arg, order=order, verdict=verdict)
    if not arg:
        text = text.replace("fn child(lk)", "fn child()").replace("lock lk", "lock m")
    result = cli("check", *options, _spec(tmp_path, text))
    assert f"verdict: {verdict}   (expected {verdict}: matches)" in result.stdout, result.stdout


def test_each_process_has_its_own_gil(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect {verdict}
host python
fn work() {{
    with_gil {{
        skip
    }}
}}
thread main {{
    with_gil {{
        let h = {spawn}
        join h
    }}
}}
"""
    thread = cli("check", _spec(tmp_path, text.format(verdict="deadlock", spawn="spawn work()")))
    assert "(expected deadlock: matches)" in thread.stdout
    process = cli(
        "check", _spec(tmp_path, text.format(verdict="ok", spawn="spawn process work()"), "p.gil")
    )
    assert "(expected ok: matches)" in process.stdout, process.stdout


@pytest.mark.parametrize(("spawn", "verdict"), [("spawn", "deadlock"), ("spawn process", "ok")])
def test_each_process_has_its_own_stdout_lock(cli, tmp_path, spawn: str, verdict: str) -> None:  # type: ignore[no-untyped-def]
    # The seed's second deadlock: `printer` holds stdout's lock while it waits for the GIL
    # main keeps while joining `child`, which prints. A thread shares that lock; a process
    # has its own.
    text = f"""expect {verdict}
host python
fn printer(o) {{
    print o
}}
fn child() {{
    print "child"
}}
thread main {{
    let o = pyobj("x")
    with_gil {{
        let t = spawn printer(o)
        let h = {spawn} child()
        join h
    }}
}}
"""
    result = cli("check", _spec(tmp_path, text))
    assert f"(expected {verdict}: matches)" in result.stdout, result.stdout


def test_a_global_queue_is_a_copy_in_the_child(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """channel results: queue(0)
fn worker() {
    send results, 42
}
thread main {
    let h = spawn process worker()
    let v = recv results
    join h
}
"""
    data = _json(cli, _spec(tmp_path, text))
    assert data["verdict"] == "deadlock"
    assert data["message"].startswith("process main is deadlocked")
    assert "other processes still run" in data["message"]
    assert [w["thread"] for w in data["waits"]] == ["main"]


def test_a_child_deadlocked_while_main_runs_is_reported_in_the_child(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """host rust
mutex m
fn child() {
    acquire m
    acquire m
}
fn more() {
    skip
}
thread main {
    spawn process child()
    call more()
}
"""
    result = cli("check", _spec(tmp_path, text))
    assert result.code == 1
    assert "process child is deadlocked" in result.stdout
    assert "in process child: waits for m of process child, which it already holds" in (
        result.stdout
    )
    assert "starts process child (its own GIL, stdout lock and globals)" in result.stdout


def test_a_child_that_another_process_can_wake_is_not_deadlocked(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The child waits on an event main can still set: dropped by the fixpoint rule.
    text = """expect ok
host python
event e
fn child(ev) {
    wait ev
}
fn slow() {
    skip
}
thread main {
    let h = spawn process child(e)
    call slow()
    call slow()
    set e
    join h
}
"""
    for options in OPTION_SETS:
        result = cli("check", *options, _spec(tmp_path, text))
        assert "(expected ok: matches)" in result.stdout, (options, result.stdout)


@pytest.mark.parametrize(
    ("make", "arg", "words"),
    [
        ("let x = future()", "x", "is a future, which cannot be passed to a process"),
        ("let x = once()", "x", "is a once, which cannot be passed"),
        ("let x = rwlock()", "x", "is a rwlock, which cannot be passed"),
        ("let x = spawn helper()", "x", "holds a thread or process handle"),
    ],
)
def test_unpicklable_arguments_are_a_misuse(cli, tmp_path, make: str, arg: str, words: str) -> None:  # type: ignore[no-untyped-def]
    text = f"""fn helper() {{
    skip
}}
fn child(v) {{
    skip
}}
thread main {{
    {make}
    spawn process child({arg})
}}
"""
    result = cli("check", _spec(tmp_path, text))
    assert "verdict: misuse" in result.stdout, result.stdout
    assert words in result.stdout


def test_a_daemon_process_cannot_start_processes(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """fn inner() {
    skip
}
fn child() {
    spawn process inner()
}
thread main {
    spawn daemon process child()
}
"""
    result = cli("check", _spec(tmp_path, text))
    assert "verdict: misuse" in result.stdout
    assert "a daemon process cannot start processes" in result.stdout


def test_exit_terminates_daemon_children_and_joins_the_others(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect {verdict}
host python
event go
fn child(ev) {{
    wait ev
}}
thread main {{
    spawn {daemon}process child(go)
}}
"""
    daemon = cli("check", _spec(tmp_path, text.format(verdict="ok", daemon="daemon ")))
    assert "(expected ok: matches)" in daemon.stdout, daemon.stdout
    joined = cli("check", _spec(tmp_path, text.format(verdict="deadlock", daemon=""), "j.gil"))
    assert "(expected deadlock: matches)" in joined.stdout, joined.stdout
    assert "has returned; it joins its child process child" in joined.stdout


def test_a_terminated_daemon_child_leaves_what_it_held_held(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # atexit runs before children are terminated; finalization after. The killed child's
    # lock stays held, as a multiprocessing.Lock of a killed process does.
    text = """expect deadlock
host python
mutex m
event never
fn child(lk, ev) {
    acquire lk
    wait ev
}
thread main {
    let h = spawn daemon process child(m, never)
    let held = false
    while not held {
        let r = try_acquire m
        if r {
            release m
        } else {
            held = true
        }
    }
}
atexit {
    acquire m
}
"""
    result = cli("check", _spec(tmp_path, text))
    assert "(expected deadlock: matches)" in result.stdout, result.stdout


def test_join_timeout_on_a_process(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect ok
host python
event go
fn child(ev) {
    wait ev
}
thread main {
    let h = spawn process child(go)
    let done = join h timeout
    set go
    join h
}
"""
    result = cli("check", _spec(tmp_path, text))
    assert "(expected ok: matches)" in result.stdout, result.stdout


def test_python_values_are_pickled_under_the_parents_gil(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # `holder` keeps the GIL (native code) while it waits for main: main cannot pickle a
    # Python value for the child until then; a plain value needs no GIL.
    text = """expect {verdict}
host python
event ready
fn holder() {{
    with_gil {{
        wait ready
    }}
}}
fn child(o) {{
    skip
}}
thread main {{
    let o = {value}
    let t = spawn holder()
    let h = spawn process child(o)
    set ready
    join t
}}
"""
    pickled = cli("check", _spec(tmp_path, text.format(verdict="deadlock", value='pyobj("x")')))
    assert "(expected deadlock: matches)" in pickled.stdout, pickled.stdout
    plain = cli("check", _spec(tmp_path, text.format(verdict="ok", value="1"), "n.gil"))
    assert "(expected ok: matches)" in plain.stdout, plain.stdout


def test_the_finalizer_may_run_once_in_each_process(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The assertion fails only when the finalizer ran in main and then again in the child:
    # once per process, not once per run.
    text = """expect assertion
host python
var runs = 0
finalizer {
    runs = runs + 1
}
fn child(rx) {
    let theirs = recv rx
    python {
        skip
        skip
    }
    assert not (theirs == 1 and runs == 1)
}
thread main {
    let (tx, rx) = channel(unbounded)
    let h = spawn process child(rx)
    python {
        skip
        skip
    }
    send tx, runs
    join h
}
"""
    result = cli("check", _spec(tmp_path, text))
    assert "(expected assertion: matches)" in result.stdout, result.stdout


def test_gil_off_pauses_stay_in_their_process(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect ok
gil off
fn child() {
    python {
        skip
    }
}
thread main {
    with_gil {
        let h = spawn process child()
        join h
    }
}
"""
    result = cli("check", _spec(tmp_path, text))
    assert "(expected ok: matches)" in result.stdout, result.stdout


def test_spawn_process_inside_atomic_is_a_spec_error(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "fn g() {\n    skip\n}\nthread main {\n    atomic {\n        spawn process g()\n    }\n}\n"
    )
    result = cli("check", _spec(tmp_path, text))
    assert result.code == 2
    assert "`spawn process` cannot be inside `atomic`" in result.stderr
    assert "^" in result.stderr and "help:" in result.stderr


def test_the_promela_export_translates_processes_but_with_event_loops(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = "fn g() {\n    skip\n}\nthread main {\n    let h = spawn process g()\n    join h\n}\n"
    result = cli("export", _spec(tmp_path, text))
    assert result.code == 0
    assert "proctype P_g(byte me; byte px)" in result.stdout
    result = cli("export", _spec(tmp_path, "pool p = 1\n" + text))
    assert result.code == 0  # each process has its own copy of the pool
    assert "pl_px[1] = 1;" in result.stdout
    result = cli("export", _spec(tmp_path, "eventloop lp\n" + text))
    assert result.code == 2
    assert (
        "`spawn process` in a spec with event loops cannot be exported to Promela yet"
        in result.stderr
    )


def test_a_global_channel_passed_by_name_is_shared(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect {verdict}
channel results: bounded(1)
channel cs[2]: queue(0)
fn worker(q, r) {{
    send q, 1
    send q, 2
    let v = recv r
}}
thread main {{
    let h = spawn process worker(results, cs[1])
    send cs[1], 5
    {order}
}}
"""
    hang = cli(
        "check",
        _spec(
            tmp_path,
            text.format(
                verdict="deadlock",
                order="join h\n    let a = recv results\n    let b = recv results",
            ),
        ),
    )
    assert "(expected deadlock: matches)" in hang.stdout, hang.stdout
    assert "waits on results, full (1 of 1)" in hang.stdout
    fine = cli(
        "check",
        _spec(
            tmp_path,
            text.format(
                verdict="ok", order="let a = recv results\n    let b = recv results\n    join h"
            ),
            "f.gil",
        ),
    )
    assert "(expected ok: matches)" in fine.stdout, fine.stdout


POOL_IN_CHILD = """expect {verdict}
host python
pool p = {workers}
fn inner() {{
    return 1
}}
fn outer() {{
    let f = submit p, inner()
    let v = result f
    return v
}}
fn child() {{
    let f = submit p, outer()
    let v = result f
}}
thread main {{
    let h = spawn process child()
    join h
}}
"""


@pytest.mark.parametrize(("workers", "verdict"), [(1, "deadlock"), (2, "ok")])
def test_a_child_process_has_its_own_copy_of_a_declared_pool(
    cli, tmp_path, workers: int, verdict: str
) -> None:  # type: ignore[no-untyped-def]
    text = POOL_IN_CHILD.format(workers=workers, verdict=verdict)
    result = cli("check", _spec(tmp_path, text))
    assert f"(expected {verdict}: matches)" in result.stdout, result.stdout
    if verdict == "deadlock":
        assert "queued on pool p of process child, every worker blocked" in result.stdout


def test_a_child_process_shuts_its_pools_down_at_its_end(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The child's pool is shut down when its `g` returns: a thread of the child that
    # submits afterwards is refused (misuse), as CPython's exit hook does.
    text = """expect misuse
host python
event go
fn work() {
    return 1
}
fn late(ex, ev) {
    wait ev
    let f = submit ex, work()
}
fn child(ev) {
    let ex = pool(1)
    spawn late(ex, ev)
}
thread main {
    let h = spawn process child(go)
    set go
    join h
}
"""
    result = cli("check", _spec(tmp_path, text))
    assert "(expected misuse: matches)" in result.stdout, result.stdout


def test_a_child_process_copy_of_a_loop_runs_no_task(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect {verdict}
host python
eventloop lp
fn task() {{
    return 1
}}
fn child() {{
    {body}
}}
thread main {{
    let h = spawn process child()
    let f = submit lp, task()
    let v = result f
    join h
}}
"""
    hang = cli(
        "check",
        _spec(
            tmp_path,
            text.format(verdict="deadlock", body="let f = submit lp, task()\n    let v = result f"),
        ),
    )
    assert "(expected deadlock: matches)" in hang.stdout, hang.stdout
    assert "which has no thread in a child process (its tasks never run)" in hang.stdout
    fine = cli("check", _spec(tmp_path, text.format(verdict="ok", body="skip"), "f.gil"))
    assert "(expected ok: matches)" in fine.stdout, fine.stdout


def test_fork_in_a_child_process_forks_that_child(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect {verdict}
host python
mutex log
fn helper() {{
    python {{
        lock log {{
            skip
        }}
    }}
}}
fn child() {{
    python {{
        {before}
        fork {{
            lock log {{
                skip
            }}
        }}
    }}
}}
thread main {{
    let h = spawn process child()
    join h
}}
"""
    hang = cli("check", _spec(tmp_path, text.format(verdict="deadlock", before="spawn helper()")))
    assert "(expected deadlock: matches)" in hang.stdout, hang.stdout
    assert "in the child process forked at" in hang.stdout
    assert "helper does not exist in it" in hang.stdout or "helper do not exist" in hang.stdout
    fine = cli("check", _spec(tmp_path, text.format(verdict="ok", before="skip"), "f.gil"))
    assert "(expected ok: matches)" in fine.stdout, fine.stdout


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        ("python {\n        skip\n        skip\n    }", "assertion"),  # the child's main: may run
        ("let t = spawn worker()\n    join t", "ok"),  # another thread of the child: never
    ],
)
def test_signal_runs_on_each_process_main_thread(cli, tmp_path, body: str, verdict: str) -> None:  # type: ignore[no-untyped-def]
    text = f"""expect {verdict}
host python
var got = 0
signal {{
    got = 1
}}
fn worker() {{
    python {{
        skip
        skip
    }}
}}
fn child() {{
    {body}
    assert got == 0
}}
thread main {{
    let h = spawn process child()
    join h
}}
"""
    result = cli("check", _spec(tmp_path, text))
    assert f"(expected {verdict}: matches)" in result.stdout, result.stdout


CASES = sorted((Path(__file__).parent / "cases" / "processes").glob("*.gil"))


@pytest.mark.parametrize("options", [(), ("--no-por",), ("--strategy", "dfs")])
@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_process_cases_give_their_expected_verdict(
    cli, case: Path, options: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    # Regression cases: a condvar waiter is not woken by whoever shares its mutex; a thread
    # waiting for its own process's GIL; `host rust` children outliving main; an `await`
    # on a channel another process fills; the exit order with atexit and children.
    result = cli("check", *options, str(case))
    assert "matches)" in result.stdout, result.stdout


def test_the_trace_says_children_are_joined_after_atexit(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "check", str(Path(__file__).parent / "cases" / "processes" / "atexit_then_children.gil")
    )
    assert "the atexit handlers are done: child processes are joined" in result.stdout
    assert "the program ends" not in result.stdout


def test_a_lock_left_by_a_terminated_process_says_so(cli) -> None:  # type: ignore[no-untyped-def]
    case = Path(__file__).parent / "cases" / "processes" / "killed_grandchild_holds_lock.gil"
    result = cli("check", str(case))
    assert "its process has ended; what it held stays held" in result.stdout, result.stdout


def test_a_time_limit_holds_with_slow_states(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Each process spawns the next: states grow slower; the clock is still read.
    text = (
        "fn g() {\n    let h = spawn process g()\n    join h\n}\nthread main {\n    call g()\n}\n"
    )
    result = cli("check", "--object-bound", "1000", "--timeout", "2", _spec(tmp_path, text))
    assert result.code == 3
    assert "stopped by the time limit" in result.stdout, result.stdout


def test_processes_count_toward_the_object_bound(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (
        "fn g() {\n    let h = spawn process g()\n    join h\n}\nthread main {\n    call g()\n}\n"
    )
    result = cli("check", _spec(tmp_path, text))
    assert result.code == 3
    assert "more than 32 processes are running (--object-bound)" in result.stdout


QUEUED = """\
expect {verdict}
fn helper() {{
    skip
}}
fn child(rx) {{
    let v = recv rx
}}
thread main {{
    let (tx, rx) = channel(unbounded)
    {make}
    let h = spawn {process}child(rx)
    send tx, x
    join h
}}
"""


@pytest.mark.parametrize(
    ("make", "words"),
    [
        ("let x = future()", "`x` holds a future, sent on a channel passed to a process"),
        ("let x = mutex()", "a mutex passes to another process only as an argument"),
        ("let x = pool(1)", "a pool cannot be pickled"),
        ("let x = spawn helper()", "a thread or process handle cannot be pickled"),
        ("let (x, other) = channel(unbounded)", "a channel handle passes to another process"),
        ("let f = future()\n    let x = ok(f)", "`x` holds a future"),
    ],
)
def test_a_queue_between_processes_carries_no_objects(cli, tmp_path, make: str, words: str) -> None:  # type: ignore[no-untyped-def]
    """A channel another process can reach is a multiprocessing queue: what it carries is
    pickled, so sending a resource, future, pool, handle is a misuse at the send, located
    there; between threads of one process the same send is fine."""
    text = QUEUED.format(verdict="misuse", make=make, process="process ")
    result = cli("check", _spec(tmp_path, text))
    assert result.code == 1
    assert "verdict: misuse   (expected misuse: matches)" in result.stdout, result.stdout
    assert words in result.stdout
    last_step = [line for line in result.stdout.splitlines() if "s.gil:" in line][-1]
    assert last_step.endswith("send tx, x"), result.stdout
    threads = QUEUED.format(verdict="ok", make=make, process="")
    fine = cli("check", _spec(tmp_path, threads, "threads.gil"))
    assert "verdict: ok   (expected ok: matches)" in fine.stdout, fine.stdout


@pytest.mark.parametrize("value", ["7", "ok(true)", 'pyobj("a")'])
def test_a_queue_between_processes_carries_data_and_python_values(
    cli, tmp_path, value: str
) -> None:  # type: ignore[no-untyped-def]
    text = QUEUED.format(verdict="ok", make=f"let x = {value}", process="process ")
    result = cli("check", _spec(tmp_path, text))
    assert "verdict: ok   (expected ok: matches)" in result.stdout, result.stdout


def test_a_child_cannot_send_a_future_back(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect misuse
fn child(tx) {
    let f = future()
    complete f, 1
    send tx, f
}
thread main {
    let (tx, rx) = channel(unbounded)
    let h = spawn process child(tx)
    let f = recv rx
    join h
}
"""
    result = _json(cli, _spec(tmp_path, text))
    assert result["verdict"] == "misuse"
    assert "holds a future, sent on a channel passed to a process" in result["message"]


QUEUED_FIRST = """\
expect misuse
fn child(rx) {
    let f = recv rx
    let v = result f
}
thread main {
    let (tx, rx) = channel(unbounded)
    let f = future()
    send tx, f
    complete f, 1
    let h = spawn process child(rx)
    join h
}
"""


@pytest.mark.parametrize("received", [False, True])
def test_a_queue_passed_to_a_process_must_have_carried_only_data(
    cli, tmp_path, received: bool
) -> None:  # type: ignore[no-untyped-def]
    """A channel ever passed to a process was a multiprocessing queue from its creation: an
    object it carried before is lost as well (CPython pickles it in the queue's feeder
    thread), even when it was received again before the spawn; the misuse is at the
    `spawn process`."""
    text = QUEUED_FIRST
    if received:
        text = text.replace("    complete f, 1\n", "    let g = recv rx\n    complete g, 1\n")
        text = text.replace(
            "fn child(rx) {\n    let f = recv rx\n    let v = result f\n}",
            "fn child(rx) {\n    skip\n}",
        )
        assert "let g = recv rx" in text and "skip" in text
    result = cli("check", _spec(tmp_path, text))
    assert "verdict: misuse   (expected misuse: matches)" in result.stdout, result.stdout
    assert (
        "`rx` is passed to a process after its channel carried a resource, future, pool"
        in result.stdout
    )
    last_step = [line for line in result.stdout.splitlines() if "s.gil:" in line][-1]
    assert last_step.endswith("let h = spawn process child(rx)"), result.stdout


BLOCKED = """\
expect deadlock
fn child(rx, e) {
    wait e
    let v = recv rx
}
thread main {
    let (tx, rx) = channel(1)
    let e = event()
    let h = spawn process child(rx, e)
    send tx, 1
    let m = mutex()
    send tx, m
    set e
    join h
}
"""


def test_a_send_that_cannot_complete_is_judged_only_when_it_can(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A full multiprocessing queue blocks `put` before it pickles anything: the program
    deadlocks, and the object it would send is never looked at."""
    result = cli("check", _spec(tmp_path, BLOCKED))
    assert "verdict: deadlock   (expected deadlock: matches)" in result.stdout, result.stdout


STILL_SHARED = """\
expect misuse
fn child(t, e, done) {{
    send t, 1
    {drop}
    set e
    wait done
}}
thread main {{
    let (tx, rx) = channel(unbounded)
    let t2 = clone tx
    let e = event()
    let done = event()
    let h = spawn process child(t2, e, done)
    wait e
    let a = recv rx
    let f = future()
    send tx, f
    let g = recv rx
    set done
    join h
}}
"""


@pytest.mark.parametrize("drop", ["skip", "drop t"])
@pytest.mark.parametrize("options", OPTION_SETS)
def test_a_queue_stays_a_multiprocessing_queue(
    cli, tmp_path, drop: str, options: tuple[str, ...]
) -> None:  # type: ignore[no-untyped-def]
    """Once passed to a process, a channel is a multiprocessing queue for good, whoever
    still holds its handles: the verdict is the same with every reduction."""
    result = cli("check", *options, _spec(tmp_path, STILL_SHARED.format(drop=drop)))
    assert "verdict: misuse   (expected misuse: matches)" in result.stdout, result.stdout
    assert "holds a future, sent on a channel passed to a process" in result.stdout


def test_a_declared_channel_passed_by_name_is_named_as_written(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect misuse
mutex m
channel results: unbounded
fn child(r) {
    let v = recv r
}
thread main {
    send results, m
    let got = recv results
    let h = spawn process child(results)
    send results, 1
    join h
}
"""
    result = _json(cli, _spec(tmp_path, text))
    assert result["verdict"] == "misuse"
    assert result["message"].startswith(
        "`results` is passed to a process after its channel carried a resource, future"
    ), result["message"]


RACE = """\
expect ok
host python
fn child(r) {
    let v = recv r
}
fn snd(tx, v) {
    send tx, v
}
fn drain(rx) {
    let u = recv rx
    let v = recv rx
    let w = recv rx
}
thread main {
    let (tx, rx) = channel(unbounded)
    let t2 = clone tx
    let t3 = clone tx
    let keep = clone tx
    let m = mutex()
    let f = future()
    let e = event()
    let a = spawn snd(tx, m)
    let b = spawn snd(t2, f)
    let c = spawn snd(t3, e)
    let k = spawn drain(rx)
    join a
    join b
    join c
    join k
    let (ta, ra) = channel(unbounded)
    let h = spawn process child(ra)
    send ta, 1
    join h
    send keep, 0
}
"""


def test_which_object_a_channel_carried_first_is_not_kept(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A channel not yet passed to a process keeps only whether it carried an object, not
    which: three threads racing to send a mutex, a future and an event leave one mark
    whatever the order (a mark per kind kept 221 states apart where there are 191)."""
    from gilcheck.explore.bfs import explore
    from gilcheck.options import CheckOptions
    from gilcheck.pipeline import analyze_spec, parse_text
    from gilcheck.system.engine import Engine
    from gilcheck.system.engine.handlers_processes import CARRIED
    from gilcheck.system.state import C_PROCESSES, S_CHANS

    result = _json(cli, _spec(tmp_path, RACE))
    assert (result["verdict"], result["states"]) == ("ok", 191), result
    engine = Engine(analyze_spec(parse_text("race.gil", RACE)), CheckOptions())
    found = explore(engine, engine.options)
    marks = {
        chan[C_PROCESSES]
        for sid in range(len(found.store))
        for chan in found.store.decode(sid)[S_CHANS]
    }
    assert marks == {False, True, CARRIED}
