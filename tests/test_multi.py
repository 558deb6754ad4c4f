"""`gilcheck check` over several specs, folders and globs, and `--expect` as a CI proof."""

from __future__ import annotations

import json
from pathlib import Path

BUGGY = "specs/primitives/barrier_buggy.gil"
FIXED = "specs/primitives/barrier_fixed.gil"


def test_several_specs_give_a_line_each_and_a_summary(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", BUGGY, FIXED)
    assert result.code == 1  # one of them has a violation
    assert f"{BUGGY}: deadlock (expected deadlock: matches)" in result.stdout
    assert f"{FIXED}: ok (expected ok: matches)" in result.stdout
    assert "2 specs" in result.stdout


def test_expect_mode_passes_when_every_verdict_matches(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--expect", "specs/seed", BUGGY)
    assert result.code == 0, result.stdout
    assert "every verdict matches its spec's expect" in result.stdout


def test_expect_mode_fails_and_lists_the_mismatch(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wrong = tmp_path / "wrong.gil"
    wrong.write_text("expect ok\nmutex m\nthread main {\n acquire m\n acquire m\n}\n")
    result = cli("check", "--expect", FIXED, str(wrong))
    assert result.code == 1
    assert "1 not as expected:" in result.stdout
    assert f"{wrong}: deadlock (expected ok)" in result.stdout


def test_a_bad_spec_among_several_is_exit_2_and_the_rest_still_run(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { aquire m }\n")
    result = cli("check", FIXED, str(bad))
    assert result.code == 2
    assert f"{FIXED}: ok" in result.stdout
    assert "error[syntax-error]" in result.stderr and "bad.gil:1:" in result.stderr
    assert f"{bad}: spec error (not checked)" in result.stdout


def test_globs_and_folders_expand_to_specs(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--expect", "specs/primitives/*_fixed.gil")
    assert result.code == 0
    assert result.stdout.count(": ok (expected ok: matches)") == 9


def test_json_for_several_specs(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", "--expect", BUGGY, FIXED)
    report = json.loads(result.stdout)
    assert report["schema"] == "gilcheck.results" and report["version"] == 1
    assert [r["verdict"] for r in report["results"]] == ["deadlock", "ok"]
    assert report["mismatches"] == []
    assert result.code == 0


def test_junit_has_a_case_per_spec_and_fails_the_mismatch(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import xml.etree.ElementTree as ET

    wrong = tmp_path / "wrong.gil"
    wrong.write_text("expect ok\nmutex m\nthread main {\n acquire m\n acquire m\n}\n")
    result = cli("check", "--format", "junit", BUGGY, FIXED, str(wrong))
    suite = ET.fromstring(result.stdout).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "0")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases[BUGGY].find("failure") is None  # a buggy spec that deadlocks as expected
    failure = cases[str(wrong)].find("failure")
    assert failure is not None and failure.get("type") == "deadlock"
    assert "acquire m" in (failure.text or "")


def test_output_writes_the_report_to_a_file(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "report.json"
    result = cli("check", "--format", "json", "--output", str(target), BUGGY)
    assert result.code == 1
    assert result.stdout == ""
    assert json.loads(target.read_text())["verdict"] == "deadlock"
    text = tmp_path / "report.txt"
    assert cli("check", "-o", str(text), FIXED).code == 0
    assert "verdict: ok" in text.read_text()
    assert "\x1b[" not in text.read_text()


def test_sarif_validates_and_locates_unexpected_violations(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import jsonschema
    from conftest import ROOT

    wrong = tmp_path / "wrong.gil"
    wrong.write_text("expect ok\nmutex m\nthread main {\n acquire m\n acquire m\n}\n")
    result = cli("check", "--format", "sarif", BUGGY, FIXED, str(wrong))
    log = json.loads(result.stdout)
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    findings = log["runs"][0]["results"]
    # The buggy spec deadlocks as it expects: a result suppressed in source by its
    # `expect` line (code scanning shows it closed); the wrong spec's is open.
    open_findings = [f for f in findings if "suppressions" not in f]
    (expected,) = [f for f in findings if "suppressions" in f]
    (suppression,) = expected["suppressions"]
    assert suppression["kind"] == "inSource" and suppression["status"] == "accepted"
    at = suppression["location"]["physicalLocation"]
    assert at["artifactLocation"]["uri"] == BUGGY
    expect_line = Path(BUGGY).read_text().splitlines().index("expect deadlock") + 1
    assert at["region"]["startLine"] == expect_line
    assert expected["ruleId"] == "deadlock"
    assert len(open_findings) == 1
    finding = open_findings[0]
    assert finding["ruleId"] == "deadlock"
    where = finding["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == str(wrong)
    assert where["region"]["startLine"] == 5  # the second `acquire m`, where main blocks
    flow = finding["codeFlows"][0]["threadFlows"][0]["locations"]
    assert [f["location"]["physicalLocation"]["region"]["startLine"] for f in flow] == [4]


def test_sarif_of_the_seed_points_at_both_blocked_threads(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "buggy.gil"
    spec.write_text(
        Path("specs/seed/buggy.gil").read_text().replace("expect deadlock", "expect ok")
    )
    finding = json.loads(cli("check", "-f", "sarif", str(spec)).stdout)["runs"][0]["results"][0]
    lines = [finding["locations"][0]] + finding["relatedLocations"]
    assert [loc["physicalLocation"]["region"]["startLine"] for loc in lines] == [15, 24]
    assert "main" in lines[0]["message"]["text"]
    assert "execute_loop" in lines[1]["message"]["text"]
