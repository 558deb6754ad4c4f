"""Each verdict through the CLI, exit codes, limits and the report's content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest


def write(tmp_path: Path, text: str, name: str = "spec.gil") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


SEED = """
scenario "seed"
expect deadlock
thread main {
    let (tx, rx) = oneshot()
    let (t, r) = channel(unbounded)
    spawn execute_loop(r)
    send t, tx
    let ret = recv rx
    print ret
}
fn execute_loop(r) {
    with_gil {
        loop {
            for tx in r {
                let e = pyerr("foo")
                send tx, err(e)
                print "after send"
            }
        }
    }
}
"""


def test_seed_deadlock_report_names_gil_main_and_worker(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, SEED))
    assert result.code == 1
    assert "verdict: deadlock" in result.stdout
    assert "main holds stdout's lock and waits for the GIL" in result.stdout
    assert "held by execute_loop" in result.stdout
    assert "Cycle: main -> execute_loop -> main" in result.stdout


@pytest.mark.parametrize(
    ("body", "verdict", "code"),
    [
        ('thread main { assert 1 == 2, "math" }', "assertion", 1),
        ('thread main { panic "boom" }', "panic", 1),
        ("thread main { let v = unwrap err(1) }", "panic", 1),
        ("mutex m\nthread main { release m }", "misuse", 1),
        ("mutex m\nthread main { acquire m\n acquire m }", "deadlock", 1),
        ("thread main { python { allow_threads { python { skip } } } }", "misuse", 1),
        ("var x[2] = 0\nthread main { x[2] = 1 }", "panic", 1),
        ("thread main { let x = 1 / 0 }", "panic", 1),
        ("channel c: unbounded\nthread main { loop { send c, 1 } }", "bound", 3),
        (
            "thread main { let (tx, rx) = channel(1)\n drop tx\n let v = recv rx\n assert is_none(v) }",
            "ok",
            0,
        ),
        (
            "thread main { let (tx, rx) = channel(1)\n drop rx\n let r = send tx, 5\n assert is_err(r) }",
            "ok",
            0,
        ),
        (
            "thread main { let (tx, rx) = channel(1)\n send tx, 1\n drop tx\n send tx, 2 }",
            "misuse",
            1,
        ),
    ],
)
def test_verdicts_and_exit_codes(tmp_path: Path, cli, body: str, verdict: str, code: int) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", write(tmp_path, body))
    report = json.loads(result.stdout)
    assert report["verdict"] == verdict, report["message"]
    assert result.code == code


def test_max_states_is_inconclusive(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = "var x = 0\nthread main { loop { choose { x = (x + 1) % 1000 } or { x = (x + 7) % 1000 } } }"
    result = cli("check", "--max-states", "50", write(tmp_path, spec))
    assert result.code == 3
    assert "verdict: inconclusive" in result.stdout
    assert "state limit" in result.stdout
    assert "NOT exhaustive" in result.stdout


def test_timeout_is_inconclusive(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = (
        "var x = 0\nvar y = 0\nthread a { loop { x = (x + 1) % 5000 } }\n"
        "thread main { loop { y = (y + 3) % 5000 } }"
    )
    result = cli("check", "--timeout", "0.5", write(tmp_path, spec))
    assert result.code == 3
    assert "time limit" in result.stdout


def test_channel_bound_option(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = (
        "thread main { let (tx, rx) = channel(unbounded)\n send tx, 1\n send tx, 2\n send tx, 3 }"
    )
    assert cli("check", "--channel-bound", "2", write(tmp_path, spec)).code == 3
    assert cli("check", "--channel-bound", "3", write(tmp_path, spec)).code == 0


def test_violation_wins_over_bound(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = """
channel c: unbounded
thread w { loop { send c, 1 } }
thread main { assert false, "boom" }
"""
    result = cli("check", "--format", "json", write(tmp_path, spec))
    assert json.loads(result.stdout)["verdict"] == "assertion"
    assert result.code == 1


def test_expect_mismatch_is_reported_but_exit_follows_verdict(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, "expect deadlock\nthread main { skip }"))
    assert result.code == 0
    assert "MISMATCH" in result.stdout


def test_host_rust_ends_with_main(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = "mutex m\nthread w { acquire m\n acquire m }\nthread main { skip }"
    assert cli("check", write(tmp_path, spec)).code == 0


def test_host_python_joins_non_daemon_threads(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = "host python\nmutex m\nthread w { acquire m\n acquire m }\nthread main { skip }"
    result = cli("check", write(tmp_path, spec))
    assert result.code == 1
    assert "exit join waits for non-daemon thread w" in result.stdout


def test_host_python_daemon_holding_gil_blocks_finalization(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = """
host python
mutex m
thread main {
    acquire m
    spawn daemon d()
    skip
}
fn d() { with_gil { acquire m } }
"""
    result = cli("check", write(tmp_path, spec))
    assert result.code == 1
    assert "finalization waits for the GIL, held by d" in result.stdout


def test_json_schema_fields(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(cli("check", "-f", "json", write(tmp_path, SEED)).stdout)
    assert report["schema"] == "gilcheck.result" and report["version"] == 1
    for key in (
        "verdict",
        "expected",
        "matches",
        "states",
        "transitions",
        "seconds",
        "steps",
        "waits",
        "exhaustive",
    ):
        assert key in report
    assert report["steps"][0]["thread"] == "main"
    assert {w["thread"] for w in report["waits"]} == {"main", "execute_loop"}


def test_bad_spec_exit_2_without_traceback(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, "thread main {\n  sned c, 1\n}\n"))
    assert result.code == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "did you mean `send`?" in result.stderr


def test_missing_file_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "no/such/spec.gil")
    assert result.code == 2
    assert "cannot read" in result.stderr


@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        # queue.Queue never closes: the third put blocks for ever once the consumer is gone
        (
            "host python\nthread main {\n let (tx, rx) = queue(1)\n spawn c(rx)\n"
            " python { send tx, 1\n send tx, 2\n send tx, 3 }\n}\n"
            "fn c(rx) { python { let v = recv rx } }",
            "deadlock",
        ),
        (
            "thread main { let (tx, rx) = queue(1)\n drop rx\n let r = send tx, 1\n"
            " assert is_ok(r) }",
            "ok",
        ),
        ("thread main { let (tx, rx) = oneshot()\n let t2 = clone tx }", "misuse"),
        (
            "thread main { let (tx, rx) = oneshot()\n drop rx\n let r = send tx, 1\n send tx, 2 }",
            "misuse",
        ),
        ("thread main { let (tx, rx) = queue(0)\n close rx }", "misuse"),
    ],
)
def test_queue_and_oneshot_rules(tmp_path: Path, cli, body: str, verdict: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", write(tmp_path, body))
    assert json.loads(result.stdout)["verdict"] == verdict


def test_close_on_a_global_queue_is_a_spec_error(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, "channel q: queue(2)\nthread main { close q }"))
    assert result.code == 2 and "never closes" in result.stderr


def test_json_errors_for_a_bad_spec(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "-f", "json", write(tmp_path, "thread main {\n sned c, 1\n}\n"))
    assert result.code == 2
    report = json.loads(result.stdout)
    assert report["verdict"] is None
    assert report["errors"][0]["code"] == "syntax-error"
    assert (report["errors"][0]["line"], report["errors"][0]["column"]) == (2, 2)


def test_json_exhaustive_is_false_after_a_violation(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(cli("check", "-f", "json", write(tmp_path, SEED)).stdout)
    assert report["exhaustive"] is False


def test_byte_order_mark_is_ignored(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bom.gil"
    path.write_bytes(b"\xef\xbb\xbfthread main { skip }\n")
    assert cli("check", str(path)).code == 0


def test_missing_main_suggests_a_near_thread(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, "thread mian { skip }"))
    assert result.code == 2 and "did you mean `main`?" in result.stderr


def test_global_channel_array_elements_are_named_in_traces(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = "channel c[2]: bounded(1)\nthread main { send c[1], 5\n send c[1], 6 }"
    result = cli("check", write(tmp_path, spec))
    assert "sends 5 on c[1]" in result.stdout
    assert "waits on c[1], full" in result.stdout


def test_closed_stdout_pipe_keeps_the_verdict_exit_code() -> None:
    import subprocess
    import sys

    script = (
        "import sys; sys.argv=['gilcheck','check','specs/seed/fixed.gil']; "
        "from gilcheck.cli import main; main()"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader went away, as with `| head -0`
    assert process.wait(timeout=60) == 0
