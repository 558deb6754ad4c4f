"""The C API's explicit thread-state calls `acquire_gil` / `release_gil` (LANGUAGE.md v1.2)
through the CLI: verdicts, narration in the C API's words, misuses, `gil off`, wait-for
text, reductions, contextual keywords, spec errors, `fmt` and the export's refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPECS = "specs/v12/gil_api"
SCENARIOS = "tests/cases/scenarios"


@pytest.mark.parametrize(
    ("spec", "verdict", "code"),
    [
        (f"{SPECS}/restore_under_lock_buggy.gil", "deadlock", 1),
        (f"{SPECS}/restore_under_lock_fixed.gil", "ok", 0),
        (f"{SPECS}/double_restore_buggy.gil", "misuse", 1),
        (f"{SPECS}/double_restore_fixed.gil", "ok", 0),
        (f"{SPECS}/thread_exits_holding_buggy.gil", "deadlock", 1),
        (f"{SPECS}/thread_exits_holding_fixed.gil", "ok", 0),
        (f"{SPECS}/free_threaded_pause_buggy.gil", "deadlock", 1),
        (f"{SPECS}/free_threaded_pause_fixed.gil", "ok", 0),
        (f"{SCENARIOS}/gil_api_workers_buggy.gil", "deadlock", 1),
        (f"{SCENARIOS}/gil_api_workers_fixed.gil", "ok", 0),
    ],
)
def test_gil_api_specs_meet_their_expectation(spec: str, verdict: str, code: int, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", spec)
    assert result.code == code, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == verdict and report["matches"] is True


@pytest.mark.parametrize(
    "options", [("--no-por",), ("--no-symmetry",), ("--no-step-table",), ("--strategy", "dfs")]
)
@pytest.mark.parametrize(
    "spec",
    [
        f"{SPECS}/restore_under_lock_buggy.gil",
        f"{SPECS}/restore_under_lock_fixed.gil",
        f"{SCENARIOS}/gil_api_workers_buggy.gil",
        f"{SCENARIOS}/gil_api_workers_fixed.gil",
    ],
)
def test_reductions_keep_the_verdict(spec: str, options: tuple[str, ...], cli) -> None:  # type: ignore[no-untyped-def]
    plain = json.loads(cli("check", "--format", "json", spec).stdout)
    other = json.loads(cli("check", "--format", "json", *options, spec).stdout)
    assert other["verdict"] == plain["verdict"]


def test_symmetry_reduces_workers_that_give_the_gil_up(cli) -> None:  # type: ignore[no-untyped-def]
    spec = f"{SCENARIOS}/gil_api_workers_fixed.gil"
    reduced = json.loads(cli("check", "--format", "json", spec).stdout)
    full = json.loads(cli("check", "--format", "json", "--no-symmetry", spec).stdout)
    assert reduced["symmetry"] == ["w[3]"] and full["symmetry"] == []
    assert reduced["states"] < full["states"]


def test_the_trace_speaks_the_c_apis_words(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("check", f"{SPECS}/restore_under_lock_buggy.gil").stdout
    assert "releases the GIL (PyEval_SaveThread): saves a count of 2" in out
    assert "reader  waits for the GIL in `acquire_gil` (PyEval_RestoreThread), held by main" in out
    assert "Cycle: main -> reader -> main" in out


def test_a_double_acquire_says_what_cpython_does(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("check", f"{SPECS}/double_restore_buggy.gil").stdout
    assert "takes the GIL (PyEval_RestoreThread): restores a count of 2" in out
    assert (
        "`acquire_gil` (PyEval_RestoreThread) while the thread already holds the GIL: "
        "PyEval_RestoreThread is not reentrant (CPython <= 3.12 hangs, 3.13+ aborts)"
    ) in out


def test_a_thread_ending_with_the_gil_keeps_it_for_ever(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli("check", f"{SPECS}/thread_exits_holding_buggy.gil").stdout
    assert "takes the GIL (PyEval_AcquireThread): nothing was saved, count 1" in out
    assert "ends holding the GIL (taken by acquire_gil): it stays held for ever" in out
    assert "held for ever by library_thread, which ended holding it" in out


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "spec.gil"
    path.write_text(text)
    return str(path)


def _verdict(cli, path: str) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    report = json.loads(cli("check", "--format", "json", path).stdout)
    return report["verdict"], report["message"]


@pytest.mark.parametrize(
    ("body", "verdict", "says"),
    [
        # acquire_gil restores the count release_gil saved: both blocks end as usual
        ("with_gil {\n with_gil {\n release_gil\n acquire_gil\n }\n }", "ok", ""),
        # nested with_gil, a pyobj and printing one work while the GIL is given up
        (
            'with_gil {\n release_gil\n with_gil { skip }\n let o = pyobj("o")\n print o\n'
            " acquire_gil\n }",
            "ok",
            "",
        ),
        # with nothing saved, acquire_gil takes the GIL with a count of 1
        ("acquire_gil\n with_gil { skip }\n release_gil\n release_gil", "misuse", "without"),
        ("release_gil", "misuse", "`release_gil` (PyEval_SaveThread) without holding the GIL"),
        ("with_gil {\n release_gil\n }", "misuse", "`with_gil { }` ends after `release_gil`"),
        (
            "python {\n release_gil\n skip\n acquire_gil\n }",
            "misuse",
            "a statement of Python code runs after `release_gil`",
        ),
        ("python {\n release_gil\n acquire_gil\n }", "ok", ""),
        ("acquire_gil\n acquire_gil", "misuse", "CPython <= 3.12 hangs, 3.13+ aborts"),
        ("with_gil {\n atomic {\n release_gil\n }\n acquire_gil\n }", "ok", ""),
        # a thread state saved inside allow_threads and never restored is dropped at its end
        ("with_gil {\n allow_threads {\n acquire_gil\n release_gil\n }\n }", "ok", ""),
        (
            "with_gil {\n allow_threads {\n acquire_gil\n }\n }",
            "misuse",
            "`allow_threads { }` ends (Py_END_ALLOW_THREADS",
        ),
    ],
)
def test_the_rulings(cli, tmp_path: Path, body: str, verdict: str, says: str) -> None:  # type: ignore[no-untyped-def]
    got, message = _verdict(cli, _write(tmp_path, f"thread main {{\n {body}\n}}\n"))
    assert got == verdict, message
    assert says in message


def test_a_released_gil_lets_another_thread_run_python_code(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The native thread gives the GIL up and waits for the Python thread, which needs it.
    spec = (
        "expect ok\nvar ready = false\n"
        "thread main {\n with_gil {\n release_gil\n await ready\n acquire_gil\n }\n}\n"
        "thread py {\n python {\n ready = true\n }\n}\n"
    )
    assert _verdict(cli, _write(tmp_path, spec))[0] == "ok"
    held = spec.replace(" release_gil\n", "").replace(" acquire_gil\n", "")
    assert _verdict(cli, _write(tmp_path, held))[0] == "deadlock"


def test_gil_off_detaches_and_attaches(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = "gil off\nthread main {\n with_gil {\n release_gil\n release_gil\n }\n}\n"
    verdict, message = _verdict(cli, _write(tmp_path, spec))
    assert verdict == "misuse" and "`release_gil` (PyEval_SaveThread) without attached" in message
    out = cli("check", f"{SPECS}/free_threaded_pause_fixed.gil").stdout
    assert "verdict: ok" in out


def test_json_and_sarif_carry_the_misuse(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = f"{SPECS}/double_restore_buggy.gil"
    report = json.loads(cli("check", "--format", "json", spec).stdout)
    assert report["verdict"] == "misuse" and "not reentrant" in report["message"]
    # SARIF reports violations the spec does not expect
    unexpected = _write(tmp_path, Path(spec).read_text().replace("expect misuse", "expect ok"))
    log = json.loads(cli("check", "--format", "sarif", unexpected).stdout)
    (result,) = log["runs"][0]["results"]
    assert "not reentrant" in result["message"]["text"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region["startLine"] == 26  # `acquire_gil` in report_progress, second call


def test_the_words_stay_names_elsewhere(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "tests/cases/valid/gil_api_contextual_words.gil")
    assert result.code == 0, result.stdout + result.stderr


def test_spec_errors_are_located_and_helped(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "tests/cases/errors/gil_api_in_atomic.gil")
    assert result.code == 2
    assert "error[blocking-in-atomic]: `acquire_gil` can block" in result.stderr
    assert "gil_api_in_atomic.gil:13:13" in result.stderr
    result = cli("check", "tests/cases/errors/syntax_gil_api_operand.gil")
    assert result.code == 2
    assert "error[syntax-error]: `release_gil` takes no operand" in result.stderr
    assert "syntax_gil_api_operand.gil:4:21" in result.stderr
    assert "help: write `acquire_gil` as a statement of its own" in result.stderr


def test_fmt_keeps_the_statements(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = _write(tmp_path, "thread main {\nwith_gil {release_gil;   acquire_gil}\n}\n")
    cli("fmt", spec)
    assert Path(spec).read_text() == (
        "thread main {\n    with_gil {\n        release_gil\n        acquire_gil\n    }\n}\n"
    )


def test_the_export_translates_them_and_refuses_two_gil_counts_located(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    balanced = "thread main {\n    with_gil {\n        release_gil\n        acquire_gil\n    }\n}\n"
    assert cli("export", _write(tmp_path, balanced)).code == 0
    result = cli("export", "tests/cases/not_exportable/gil_count_differs.gil")
    assert result.code == 2
    assert "a statement reached both inside and outside" in result.stderr
    assert "gil_count_differs.gil:9:" in result.stderr


def test_finalization_goes_on_with_the_gil_main_holds(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = "host python\nthread main {\n    acquire_gil\n}\n"
    assert _verdict(cli, _write(tmp_path, spec))[0] == "ok"
    waiting = spec.replace("    acquire_gil\n", "    spawn w()\n    acquire_gil\n") + (
        "fn w() {\n    with_gil { skip }\n}\n"
    )
    assert _verdict(cli, _write(tmp_path, waiting))[0] == "deadlock"
