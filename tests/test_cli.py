"""The CLI as a user runs it: parse and its dumps, explain, codes, version, usage errors."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gilcheck.diagnostics import CODES


def test_parse_ok_and_dumps(cli) -> None:  # type: ignore[no-untyped-def]
    ok = cli("parse", "specs/seed/buggy.gil")
    assert ok.code == 0 and "ok (1 thread, 1 function" in ok.stdout
    tree = cli("parse", "specs/seed/buggy.gil", "--dump", "ast")
    assert tree.code == 0 and "ThreadDecl name=main" in tree.stdout and "FnDecl" in tree.stdout
    code = cli("parse", "specs/seed/buggy.gil", "--dump", "ir")
    assert code.code == 0 and "code 0: fn execute_loop(r)" in code.stdout
    assert "GilEnter" in code.stdout and "Recv channel=r%0 target=tx%1 exit_target=" in code.stdout


def test_explain_every_code(cli) -> None:  # type: ignore[no-untyped-def]
    for code in CODES:
        result = cli("explain", code)
        assert result.code == 0, code
        for heading in ("What", "Why", "Example"):
            assert f"\n{heading}\n" in "\n" + result.stdout, (code, heading)


def test_explain_unknown_code_suggests(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("explain", "undefined-nam")
    assert result.code == 2 and "did you mean `undefined-name`?" in result.stderr


def test_codes_and_version(cli) -> None:  # type: ignore[no-untyped-def]
    assert "missing-main" in cli("codes").stdout
    assert cli("--version").stdout.startswith("gilcheck ")


def test_usage_error_exit_2(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("check", "--max-states", "zero", "x.gil").code == 2
    assert cli("check").code == 2


def test_very_deep_nesting_never_gives_a_traceback(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    deep = tmp_path / "deep.gil"
    deep.write_text("const X = " + "1 + " * 20000 + "1\nthread main { skip }\n")
    result = cli("check", str(deep))
    assert result.code in (0, 2)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_memory_limit_ends_inconclusive_with_what_was_explored(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "check", "--max-memory", "16", "--no-symmetry", "bench/models/gil_workers_fixed_5.gil"
    )
    assert result.code == 3
    assert "verdict: inconclusive" in result.stdout
    assert "stopped by the memory limit of 16 MB after" in result.stdout
    assert "NOT exhaustive" in result.stdout


def test_there_is_no_fixed_state_limit_by_default_only_the_memory_limit(cli) -> None:  # type: ignore[no-untyped-def]
    from gilcheck.explore.budget import Budget
    from gilcheck.memory import default_memory_limit_mb
    from gilcheck.options import CheckOptions

    report = json.loads(cli("check", "--format", "json", "specs/seed/fixed.gil").stdout)
    assert report["proof"]["settings"]["max_states"] is None
    budget = Budget(CheckOptions())
    assert budget.out_of_states(10**12) is None
    assert budget.max_memory_mb == default_memory_limit_mb()  # a search always has a limit
    assert Budget(CheckOptions(max_states=10)).max_memory is None
    assert Budget(CheckOptions(max_states=10)).out_of_states(10) is not None
    # A state limit still stops a search when it is given.
    limited = cli(
        "check", "--max-states", "1000", "--no-symmetry", "bench/models/gil_workers_fixed_5.gil"
    )
    assert limited.code == 3 and "the state limit of 1,000 states" in limited.stdout


def test_the_json_report_gives_the_store_s_bytes_per_state_by_part(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--format", "json", "--no-por", "--no-symmetry", "--max-states", "20000",
               "bench/models/gil_workers_fixed_4.gil")  # fmt: skip
    storage = json.loads(done.stdout)["storage"]
    assert set(storage) == {"records", "index", "trace links", "edge log"}
    # five threads: 2 + 4 * 5 + 17 bytes of record each, an index at most half full
    assert storage["records"] == 39.0
    assert 8 <= storage["index"] <= 16.1 and storage["trace links"] == 8.0


def test_sigterm_ends_a_long_check_inconclusive_with_a_summary() -> None:
    import signal
    import subprocess
    import time

    process = subprocess.Popen(
        [sys.executable, "-m", "gilcheck.cli", "check", "--format", "json", "--no-symmetry", "--no-por",
         "bench/models/gil_workers_fixed_5.gil"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    # Signal it once it is exploring (2 s of CPU time), however loaded the machine is.
    ticks = os.sysconf("SC_CLK_TCK")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        if (int(fields[11]) + int(fields[12])) / ticks >= 2.0:
            break
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 3, stderr
    report = json.loads(stdout)
    assert report["verdict"] == "inconclusive"
    assert report["states"] > 0
    assert "interruption" in report["message"]
    assert "Traceback" not in stderr


def test_line_100_and_user_strings_are_printed_verbatim(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "emoji.gil"
    spec.write_text(
        "mutex m\n" + "\n" * 96 + 'thread main {\n    assert 1 == 2, "oops :smile: :100:"\n}\n'
    )
    result = cli("check", str(spec))
    assert "emoji.gil:99" in result.stdout
    assert "oops :smile: :100:" in result.stdout
    bad = tmp_path / "bad.gil"
    bad.write_text("\n" * 99 + "thread main { acquire nosuch }\n")
    assert "bad.gil:100:23" in cli("check", str(bad)).stderr


def test_a_command_without_its_arguments_is_a_usage_error(cli) -> None:  # type: ignore[no-untyped-def]
    # Some typer and click versions turned a missing argument into None (exit 4).
    for command in (
        "explain",
        "trace",
        "replay",
        "parse",
        "export",
        "realize",
        "simulate",
        "fmt",
        "check",
    ):
        result = cli(command)
        assert result.code == 2, (command, result.stderr)
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr
        assert "None" not in result.stderr, (command, result.stderr)
