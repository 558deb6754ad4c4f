"""Event loops (language v1.2): `eventloop lp`, `submit lp, g(a)`, tasks as coroutines of
the loop's thread, `suspend { }`, the ready order, spec errors, misuses and reports;
through the CLI as a user runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_json, write_spec

_spec = write_spec
_json = check_json


SELF_WAIT = """expect {verdict}
eventloop lp

fn inner() {{
    return 1
}}

fn outer() {{
    let f = submit lp, inner()
    {wait}
    return v
}}

thread main {{
    let f = submit lp, outer()
    let v = result f
    assert v == 1
}}
"""


@pytest.mark.parametrize(
    ("wait", "verdict"),
    [("let v = result f", "deadlock"), ("suspend { let v = result f }", "ok")],
)
def test_a_task_waiting_for_a_task_queued_on_its_own_loop(cli, tmp_path, wait, verdict) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, SELF_WAIT.format(wait=wait, verdict=verdict))
    for options in ((), ("--no-por",), ("--no-symmetry",), ("--strategy", "dfs")):
        report = _json(cli, spec, *options)
        assert (report["verdict"], report["matches"]) == (verdict, True), options


def test_the_report_says_the_task_holds_the_loop_it_waits_on(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, SELF_WAIT.format(wait="let v = result f", verdict="deadlock"))
    out = cli("check", spec).stdout
    assert (
        "lp.task#1  holds event loop lp while blocked in `result f`: the loop's thread waits "
        "for a task only it can run (inner, which would complete `f`, is queued on the same "
        "loop); `f` is future #2 (made at s.gil:9)" in out
    )
    assert "lp.task#2  waits for event loop lp, held by lp.task#1" in out
    assert "queues task lp.task#1 on event loop lp" in out
    assert (
        "Cycle: lp.task#1 waits for itself: it holds event loop lp, the only loop that can run "
        "inner, the task that would complete `f`" in out
    )


def test_suspend_gives_the_loop_back_only_at_the_first_statement_that_cannot_complete(
    cli, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
eventloop lp
var x = 0
fn other() { x = 2 }
fn task(f) {
    suspend {
        x = 1
        let v = result f
    }
    return v
}
thread main {
    let f = future()
    let t = submit lp, task(f)
    let o = submit lp, other()
    let w = result o
    complete f, 5
    let v = result t
    assert v == 5
}
""",
    )
    report = _json(cli, spec)
    assert (report["verdict"], report["matches"]) == ("ok", True)
    # `other` can only run once `task` waits in `result f`: x is 1 before it, never 0.
    trace = _spec(
        tmp_path,
        Path(spec).read_text().replace("x = 2", "assert x == 1\n    x = 2"),
        "t.gil",
    )
    assert _json(cli, trace)["verdict"] == "ok"


def test_suspend_skip_always_gives_the_loop_back(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect assertion
eventloop lp
var x = 0
fn first() {
    x = 1
    suspend { skip }
    assert x == 1, "no other task ran in between"
}
fn second() { x = 2 }
thread main {
    let a = submit lp, first()
    let b = submit lp, second()
    let v = result a
}
""",
    )
    result = cli("check", spec)
    assert result.code == 1
    assert "gives event loop lp back while it awaits" in result.stdout


def test_a_python_task_gives_the_gil_back_with_the_loop(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
eventloop lp
fn producer(f) {
    with_gil { let o = pyobj("x") }
    complete f, 1
}
fn coro(f) {
    python {
        suspend { let v = result f }
        let w = pyobj("after")
        return v
    }
}
thread main {
    let f = future()
    let t = submit lp, coro(f)
    spawn producer(f)
    let v = result t
    assert v == 1
}
""",
    )
    report = _json(cli, spec)
    assert (report["verdict"], report["matches"]) == ("ok", True)
    blocked = (
        Path(spec)
        .read_text()
        .replace("suspend { let v = result f }", "let v = 0\n        with_gil { v = result f }")
    )
    blocked = blocked.replace("expect ok", "expect deadlock").replace("assert v == 1", "")
    report = _json(cli, _spec(tmp_path, blocked, "b.gil"))
    assert (report["verdict"], report["matches"]) == ("deadlock", True)


def test_locks_of_tasks_belong_to_the_loop_thread(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rlock = _spec(
        tmp_path,
        """expect ok
eventloop lp
rlock r
fn first() { acquire r }
fn second() {
    acquire r
    release r
    release r
}
thread main {
    let a = submit lp, first()
    let x = result a
    let b = submit lp, second()
    let y = result b
}
""",
        "r.gil",
    )
    assert _json(cli, rlock)["verdict"] == "ok"
    mutex = _spec(tmp_path, Path(rlock).read_text().replace("rlock r", "mutex r"), "m.gil")
    result = cli("check", mutex)
    assert "verdict: deadlock" in result.stdout
    assert "waits for r, which it already holds" in result.stdout or "held by lp" in result.stdout


@pytest.mark.parametrize(("order", "verdict"), [("", "ok"), (": any_order", "assertion")])
def test_ready_tasks_run_in_order_unless_any_order(cli, tmp_path, order, verdict) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        f"""expect {verdict}
eventloop lp{order}
var log = 0
fn first() {{ if log == 0 {{ log = 1 }} }}
fn second() {{ if log == 0 {{ log = 2 }} }}
thread main {{
    let a = submit lp, first()
    let b = submit lp, second()
    let x = result a
    let y = result b
    assert log == 1
}}
""",
    )
    report = _json(cli, spec)
    assert (report["verdict"], report["matches"]) == (verdict, True)


def test_loop_arrays_and_program_end(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
host python
eventloop lp[2]
event never
fn forever() { wait never }
fn one() { return 1 }
thread main {
    let t = submit lp[0], forever()
    let f = submit lp[1], one()
    let v = result f
}
""",
    )
    report = _json(cli, spec)
    assert (report["verdict"], report["matches"]) == ("ok", True)


def test_suspend_outside_a_task_is_a_misuse(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, "expect misuse\nthread main {\n    suspend { skip }\n}\n")
    result = cli("check", spec)
    assert result.code == 1
    assert "`suspend` outside a task of an event loop" in result.stdout


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "with_gil {\n        suspend { skip }\n    }",
            "`suspend` cannot be inside `with_gil { }`",
        ),
        (
            "allow_threads {\n        suspend { skip }\n    }",
            "`suspend` cannot be inside `allow_threads { }`",
        ),
        ("suspend {\n        python { skip }\n    }", "`python { }` cannot be inside `suspend"),
        ("suspend {\n        with_gil { skip }\n    }", "`with_gil { }` cannot be inside"),
        ("suspend {\n        acquire_gil\n    }", "`acquire_gil` cannot be inside `suspend"),
        ("atomic {\n        suspend { skip }\n    }", "cannot be inside `atomic`"),
    ],
)
def test_suspend_spec_errors(cli, tmp_path, body: str, message: str) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path, f"eventloop lp\nfn g() {{\n    {body}\n}}\nthread main {{ submit lp, g() }}\n"
    )
    result = cli("check", spec)
    assert result.code == 2
    assert message in result.stderr and "^" in result.stderr


def test_a_fork_child_has_no_loop_thread(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
eventloop lp
fn g() { return 1 }
thread main {
    fork {
        let f = submit lp, g()
        let v = result f
    }
}
""",
    )
    result = cli("check", spec)
    assert "in the child process" in result.stdout
    assert "whose thread does not exist in this child process" in result.stdout


def test_a_task_queue_past_the_channel_bound_is_inconclusive(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect bound
eventloop lp
event never
fn block() { wait never }
fn g() { return 1 }
thread main {
    submit lp, block()
    loop { submit lp, g() }
}
""",
    )
    result = cli("check", spec, "--channel-bound", "2")
    assert result.code == 3
    assert "event loop lp grew past 2 tasks (--channel-bound)" in result.stdout


def test_fmt_and_words_that_are_names_elsewhere(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = """expect ok
eventloop lp[2]: any_order
var suspend = 1
fn eventloop(x) {
    return x
}
fn g() {
    suspend {
        skip
    }
    return suspend
}
thread main {
    let f = submit lp[1], g()
    let v = result f
    let w = call eventloop(v)
    assert w == 1
}
"""
    spec = _spec(tmp_path, text)
    assert cli("fmt", "--check", spec).code == 0
    report = _json(cli, spec)
    assert (report["verdict"], report["matches"]) == ("ok", True)


def test_promela_export_translates_event_loops(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Each task a proctype `K` gated by its loop (tests/test_export.py runs SPIN on such).
    spec = _spec(tmp_path, SELF_WAIT.format(wait="let v = result f", verdict="deadlock"))
    result = cli("export", spec)
    assert result.code == 0, result.stderr
    assert "proctype K(" in result.stdout and "lo_hold[lp] == me" in result.stdout


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            'let o = pyobj("a")\n    suspend {\n        print o\n    }',
            "`print` of a Python value inside `suspend { }`",
        ),
        (
            "with_gil {\n        call yielder()\n    }",
            "`suspend` reached inside `with_gil { }` (through a call)",
        ),
    ],
)
def test_what_needs_the_gil_inside_suspend_is_a_misuse_at_run_time(
    cli, tmp_path, task, message
) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        f"""expect misuse
eventloop lp
fn yielder() {{ suspend {{ skip }} }}
fn task() {{
    {task}
}}
thread main {{
    let f = submit lp, task()
    let v = result f
}}
""",
    )
    result = cli("check", spec)
    assert result.code == 1
    assert message in result.stdout


def test_a_suspend_reached_through_a_call_inside_another_is_a_nested_await(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
eventloop lp
fn helper(f) {
    suspend { let v = result f }
    return v
}
fn task(f) {
    suspend {
        let v = call helper(f)
        suspend { skip }
    }
    return v
}
fn other(f) { complete f, 7 }
thread main {
    let f = future()
    let t = submit lp, task(f)
    let o = submit lp, other(f)
    let v = result t
    assert v == 7
}
""",
    )
    for options in ((), ("--no-por",), ("--no-symmetry",)):
        report = _json(cli, spec, *options)
        assert (report["verdict"], report["matches"]) == ("ok", True), options
