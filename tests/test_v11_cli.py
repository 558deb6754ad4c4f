"""The v1.1 additions through the CLI: verdicts, and reports that explain each mechanism."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FORK = """scenario "fork while a worker holds the logging lock"
expect deadlock
host python
mutex logging_lock
thread main {
    python {
        spawn worker()
        fork {
            lock logging_lock { skip }
        }
    }
}
fn worker() {
    python {
        lock logging_lock { skip }
    }
}
"""

FINALIZER = """expect deadlock
host python
mutex q_lock
thread main {
    python {
        acquire q_lock
        skip
        release q_lock
    }
}
finalizer {
    acquire q_lock
    release q_lock
}
"""

RWLOCK = """expect deadlock
rwlock cache
thread main {
    read cache {
        read cache { skip }
    }
}
thread writer {
    write cache { skip }
}
"""

ATEXIT = """expect deadlock
event stop
thread main { skip }
thread worker {
    with_gil { wait stop }
}
atexit {
    with_gil { set stop }
}
"""


def write(tmp_path: Path, text: str, name: str = "app.gil") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_fork_report_says_the_deadlock_is_in_the_child(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, FORK))
    assert result.code == 1
    out = result.stdout
    assert "in the child process forked at app.gil:8: no thread can move" in out
    assert "forks: this path follows the child process" in out
    assert "waits for logging_lock, held by worker (worker does not exist in the child)" in out
    assert "worker  does not exist in the child (what it held stays held)" in out
    fixed = FORK.replace("expect deadlock", "expect ok").replace(
        "            lock logging_lock { skip }\n        }", "            skip\n        }"
    )
    assert cli("check", write(tmp_path, fixed, "fixed.gil")).code == 0


def test_fork_verdict_in_json_names_the_child(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(cli("check", "-f", "json", write(tmp_path, FORK)).stdout)
    assert report["verdict"] == "deadlock"
    assert report["message"].startswith("in the child process forked at app.gil:8")


def test_finalizer_report_says_where_it_started(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, FINALIZER))
    assert result.code == 1
    assert "the finalizer (`__del__` or a weakref callback" in result.stdout
    assert (
        "it runs the finalizer, which started inside `python { }` at app.gil:7 on main"
        in result.stdout
    )
    fixed = FINALIZER.replace("mutex q_lock", "rlock q_lock").replace("deadlock", "ok")
    assert cli("check", write(tmp_path, fixed, "fixed.gil")).code == 0


def test_signal_runs_only_on_main(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    on_worker = FINALIZER.replace("finalizer {", "signal {").replace("thread main", "thread w")
    on_worker += "thread main { skip }\n"
    assert cli("check", write(tmp_path, on_worker.replace("deadlock", "ok"))).code == 0
    on_main = FINALIZER.replace("finalizer {", "signal {")
    result = cli("check", write(tmp_path, on_main, "main.gil"))
    assert result.code == 1 and "the signal handler starts here" in result.stdout


def test_rwlock_report_explains_writer_preference(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, RWLOCK))
    assert result.code == 1
    assert "waits as a writer (new readers block)" in result.stdout
    assert "new readers wait while a writer waits (writer-preferring)" in result.stdout
    assert "(holds a read lock on cache)" in result.stdout
    fixed = RWLOCK.replace(
        "    read cache {\n        read cache { skip }\n    }",
        "    read cache { skip }\n    read cache { skip }",
    ).replace("deadlock", "ok")
    assert cli("check", write(tmp_path, fixed, "fixed.gil")).code == 0


@pytest.mark.parametrize("host", ["rust", "python"])
def test_atexit_runs_at_the_end_and_can_deadlock(tmp_path: Path, cli, host: str) -> None:  # type: ignore[no-untyped-def]
    spec = f"host {host}\n" + ATEXIT
    if host == "python":  # the worker must not hold up the exit join: make it a daemon
        spec = spec.replace("thread worker {", "fn worker() {").replace(
            "thread main { skip }", "thread main { spawn daemon worker() }"
        )
    result = cli("check", write(tmp_path, spec))
    assert result.code == 1, result.stdout
    narration = (
        "returns; the atexit handlers run"
        if host == "rust"
        else "the exit join completes; the atexit handlers run"
    )
    assert narration in result.stdout
    fixed = spec.replace("with_gil { wait stop }", "allow_threads { wait stop }")
    fixed = fixed.replace("expect deadlock", "expect ok")
    assert cli("check", "--expect", write(tmp_path, fixed, "fixed.gil")).code == 0


def test_v11_specs_the_promela_export_translates(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    for text in (FORK, FINALIZER, RWLOCK, ATEXIT):  # docs/promela.md
        result = cli("export", write(tmp_path, text))
        assert result.code == 0, result.stderr
