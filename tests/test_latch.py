"""The countdown latch (LANGUAGE.md v1.2) through the CLI: verdicts, the GIL, arrays,
symmetry, misuse, contextual keywords, spec errors and the export's refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SPECS = "specs/primitives"


@pytest.mark.parametrize(
    ("spec", "verdict", "code"),
    [
        (f"{SPECS}/latch_buggy.gil", "deadlock", 1),
        (f"{SPECS}/latch_fixed.gil", "ok", 0),
        (f"{SPECS}/latch_gil_buggy.gil", "deadlock", 1),
        (f"{SPECS}/latch_gil_fixed.gil", "ok", 0),
        ("tests/cases/scenarios/latch_countdown_under_lock_buggy.gil", "deadlock", 1),
        ("tests/cases/scenarios/latch_countdown_under_lock_fixed.gil", "ok", 0),
        ("tests/cases/scenarios/latch_python_wait_fixed.gil", "ok", 0),
        ("tests/cases/scenarios/latch_arrays_fixed.gil", "ok", 0),
    ],
)
def test_latch_specs_meet_their_expectation(spec: str, verdict: str, code: int, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", spec)
    assert result.code == code, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == verdict and report["matches"] is True


def test_a_missing_countdown_is_explained(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", f"{SPECS}/latch_buggy.gil")
    assert "counts latch done down: 4 -> 3" in result.stdout
    assert "waits for latch done (count 1), which no running thread can count down" in (
        result.stdout
    )


def test_a_wait_holding_the_gil_blocks_the_counting_thread(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", f"{SPECS}/latch_gil_buggy.gil")
    assert "waits for the GIL, held by main" in result.stdout
    assert "Cycle: worker -> main -> worker" in result.stdout


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "spec.gil"
    path.write_text(text)
    return str(path)


def test_countdown_below_zero_is_a_misuse(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = _write(tmp_path, "latch l = 1\nthread main {\n    countdown l\n    countdown l\n}\n")
    result = cli("check", spec)
    assert result.code == 1
    assert "verdict: misuse" in result.stdout
    assert "`countdown` takes latch `l` below zero" in result.stdout


def test_an_array_element_below_zero_is_named(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = _write(tmp_path, "latch l[2] = 0\nthread main {\n    countdown l[1]\n}\n")
    result = cli("check", spec)
    assert "`countdown` takes latch `l[1]` below zero" in result.stdout


def test_an_index_out_of_range_panics(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = _write(tmp_path, "latch l[2] = 1\nthread main {\n    countdown l[2]\n}\n")
    result = cli("check", spec)
    assert result.code == 1 and "verdict: panic" in result.stdout


def test_symmetry_reduces_an_array_counting_a_latch(cli) -> None:  # type: ignore[no-untyped-def]
    spec = "tests/cases/scenarios/latch_symmetric_fixed.gil"
    reduced = json.loads(cli("check", "--format", "json", spec).stdout)
    full = json.loads(cli("check", "--format", "json", "--no-symmetry", spec).stdout)
    assert reduced["verdict"] == full["verdict"] == "ok"
    assert reduced["symmetry"] == ["w[3]"] and full["symmetry"] == []
    assert reduced["states"] < full["states"]


def test_latch_and_countdown_stay_names_elsewhere(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "tests/cases/valid/latch_contextual_words.gil")
    assert result.code == 0, result.stdout + result.stderr


def test_wrong_kinds_and_operands_are_located_spec_errors(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "tests/cases/errors/latch_wrong_kinds.gil")
    assert result.code == 2
    err = result.stderr
    assert "error[wrong-kind]: `countdown` needs a latch, and `m` is a mutex" in err
    assert "latch_wrong_kinds.gil:7:15" in err
    assert "help: `countdown l` lowers a latch's count" in err
    assert "error[wrong-arity]: `wait` on a latch takes no mutex" in err
    assert "latch_wrong_kinds.gil:8:13" in err and "help: write `wait l`" in err
    assert "error[bad-constant]: a latch needs a count" in err


def test_a_declared_latch_is_exported_to_promela(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", f"{SPECS}/latch_fixed.gil")
    assert result.code == 0, result.stderr
    assert "int o_lat[" in result.stdout  # its count


def test_fmt_keeps_latch_statements(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = _write(tmp_path, "latch l=1\nthread main {\ncountdown   l\n  wait l\n}\n")
    cli("fmt", spec)
    assert Path(spec).read_text() == "latch l = 1\nthread main {\n    countdown l\n    wait l\n}\n"


def test_syntax_errors_name_contextual_words_as_written(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "s.gil"
    spec.write_text("thread main {\n skip\n = 2\n}\n")
    result = cli("check", str(spec))
    assert result.code == 2
    assert "`countdown`" in result.stderr and "sync_verb" not in result.stderr.lower()


def test_a_latch_made_at_run_time_counts_down_like_a_declared_one(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "s.gil"
    spec.write_text(
        "expect deadlock\nthread main {\n    let l = latch(2)\n    countdown l\n    wait l\n}\n"
    )
    result = cli("check", str(spec))
    assert result.code == 1, result.stdout + result.stderr
    assert "latch #1 (made at s.gil:3)" in result.stdout
