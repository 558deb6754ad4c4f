"""The shipped JSON Schema describes exactly what `gilcheck check --format json` prints."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gilcheck.report.json_schema import result_schema

SEED = "specs/seed/buggy.gil"
OK = "specs/primitives/barrier_fixed.gil"
STUCK = "specs/progress/stuck_worker_buggy.gil"
LIVELOCK = "specs/progress/polite_spin_buggy.gil"
BOUND = "tests/cases/valid/verdict_bound.gil"
BIG = "bench/models/gil_workers_fixed_4.gil"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = result_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _report(cli, *args: str, code: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", *args)
    assert result.code == code, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _errors(validator: jsonschema.Draft202012Validator, report: object) -> list[str]:
    return [error.message for error in validator.iter_errors(report)]


def test_the_seed_deadlock_validates(cli, validator) -> None:  # type: ignore[no-untyped-def]
    report = _report(cli, SEED, code=1)
    assert report["verdict"] == "deadlock" and report["waits"] and report["cycle"]
    assert _errors(validator, report) == []


@pytest.mark.parametrize(
    ("spec", "verdict", "code"),
    [(OK, "ok", 0), (STUCK, "stuck", 1), (LIVELOCK, "livelock", 1), (BOUND, "bound", 3)],
)
def test_other_verdicts_validate(cli, validator, spec: str, verdict: str, code: int) -> None:  # type: ignore[no-untyped-def]
    report = _report(cli, spec, code=code)
    assert report["verdict"] == verdict
    assert _errors(validator, report) == []


def test_an_inconclusive_run_validates(cli, validator) -> None:  # type: ignore[no-untyped-def]
    report = _report(cli, "--max-states", "5", BIG, code=3)
    assert report["verdict"] == "inconclusive" and report["limit"]
    assert _errors(validator, report) == []


def test_a_bad_spec_validates(cli, validator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { aquire m }\nthread main { skip }\n")
    report = _report(cli, str(bad), code=2)
    assert report["verdict"] is None and report["errors"][0]["line"] == 1
    assert _errors(validator, report) == []


def test_several_specs_validate_with_bad_and_missing_ones(cli, validator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { aquire m }\n")
    missing = tmp_path / "missing.gil"
    report = _report(cli, "--expect", SEED, OK, str(bad), str(missing), code=2)
    assert report["schema"] == "gilcheck.results"
    assert [r["verdict"] for r in report["results"]] == ["deadlock", "ok", None, None]
    assert report["results"][3]["errors"][0]["code"] == "unreadable-file"
    assert report["mismatches"] == [str(bad), str(missing)]
    assert _errors(validator, report) == []


def test_a_wrong_field_fails_validation(cli, validator) -> None:  # type: ignore[no-untyped-def]
    report = _report(cli, SEED, code=1)
    mutations = [
        lambda r: r.update(extra=1),
        lambda r: r.update(verdict="hang"),
        lambda r: r.update(version=2),
        lambda r: r.update(states=-1),
        lambda r: r.pop("exhaustive"),
        lambda r: r["steps"][0].update(thread=3),
        lambda r: r["steps"][0].update(note="x"),
        lambda r: r["waits"][0].pop("holders"),
        lambda r: r.update(expected="inconclusive"),
    ]
    for mutate in mutations:
        changed = copy.deepcopy(report)
        mutate(changed)
        assert _errors(validator, changed), changed


def test_wrong_errors_or_results_objects_fail(cli, validator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { aquire m }\n")
    errors = _report(cli, str(bad), code=2)
    for mutate in (
        lambda r: r.update(errors=[]),
        lambda r: r.update(verdict="ok"),
        lambda r: r["errors"][0].update(severity="fatal"),
    ):
        changed = copy.deepcopy(errors)
        mutate(changed)
        assert _errors(validator, changed), changed
    several = _report(cli, SEED, OK, code=1)
    changed = copy.deepcopy(several)
    changed["results"][0]["schema"] = "gilcheck.results"
    assert _errors(validator, changed)


def test_the_schema_command_prints_the_shipped_schema(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("schema")
    assert result.code == 0
    assert json.loads(result.stdout) == result_schema()
    assert json.loads(result.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_a_result_with_unknown_values_and_lints_validates(cli, validator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "param.gil"
    spec.write_text(
        "expect deadlock when n == 7\nparam n: int in 0..100\nmutex m\n"
        "thread main {\n    if n == 7 {\n        acquire m\n        acquire m\n    }\n"
        '    assert n < 1000, "small"\n}\n'
    )
    report = json.loads(cli("check", "--format", "json", str(spec)).stdout)
    assert report["condition"] == "n == 7" and report["witness"] == {"n": 7}
    assert report["warnings"]
    validator.validate(report)


def test_a_run_with_persistent_sets_validates(cli, validator) -> None:  # type: ignore[no-untyped-def]
    report = _report(cli, "--stubborn-sets", "bench/models/philosophers_native_5.gil", code=1)
    assert report["verdict"] == "deadlock"
    assert report["proof"]["settings"]["stubborn_sets"] is True
    assert _errors(validator, report) == []
