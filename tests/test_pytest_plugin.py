"""The pytest plugin as a user runs it: pytest in a folder of specs, with and without --gil."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
WRONG = "expect ok\nmutex m\nthread main {\n    acquire m\n    acquire m\n}\n"


@pytest.fixture
def specs(pytester: pytest.Pytester) -> pytest.Pytester:
    """A folder with a buggy spec that deadlocks as it expects, a spec whose verdict is not
    its `expect`, a spec with a syntax error and one with no `expect` that is ok."""
    (pytester.path / "buggy.gil").write_text((ROOT / "specs/seed/buggy.gil").read_text())
    (pytester.path / "wrong.gil").write_text(WRONG)
    (pytester.path / "bad.gil").write_text("thread main { aquire m }\n")
    (pytester.path / "plain.gil").write_text("thread main { skip }\n")
    return pytester


def test_specs_are_tests_of_their_expect_lines(specs: pytest.Pytester) -> None:
    result = specs.runpytest("--gil", "-v")
    result.assert_outcomes(passed=2, failed=1, errors=1)
    result.stdout.fnmatch_lines_random(
        [
            "bad.gil::bad ERROR*",
            "buggy.gil::buggy PASSED*",
            "plain.gil::plain PASSED*",
            "wrong.gil::wrong FAILED*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_mismatch_fails_with_the_trace(specs: pytest.Pytester) -> None:
    result = specs.runpytest("--gil", "wrong.gil")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*verdict deadlock, but the spec expects ok*",
            "verdict: deadlock   (expected ok: MISMATCH)",
            "Shortest trace (1 step;*",
            "    1  main  wrong.gil:4  acquire m",
            "*waits for m, which it already holds*",
            "FAILED wrong.gil::wrong - verdict deadlock, but the spec expects ok",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_bad_spec_is_an_error_with_the_located_message(specs: pytest.Pytester) -> None:
    result = specs.runpytest("--gil", "bad.gil")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["error[syntax-error]: unexpected name `m`", "*bad.gil:1:22"])
    assert "During handling" not in result.stdout.str()


def test_specs_are_not_collected_without_the_option(specs: pytest.Pytester) -> None:
    result = specs.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    result.stdout.fnmatch_lines(["collected 0 items*"])


def test_the_ini_setting_opts_in_and_sets_the_state_limit(specs: pytest.Pytester) -> None:
    specs.makeini("[pytest]\ngil_specs = true\n")
    result = specs.runpytest("buggy.gil", "plain.gil")
    result.assert_outcomes(passed=2)
    big = (ROOT / "bench/models/gil_workers_fixed_4.gil").read_text()
    (specs.path / "big.gil").write_text(big)
    specs.makeini("[pytest]\ngil_specs = true\ngil_max_states = 50\n")
    limited = specs.runpytest("big.gil")
    limited.assert_outcomes(failed=1)
    limited.stdout.fnmatch_lines(["*verdict inconclusive, but the spec expects ok*"])
    specs.makeini("[pytest]\ngil_specs = true\n")
    by_option = specs.runpytest("--gil-max-states", "50", "big.gil")
    by_option.assert_outcomes(failed=1)
    by_option.stdout.fnmatch_lines(["*stopped by the state limit of 50 states*"])


def test_the_plugin_does_not_import_gilcheck_until_a_spec_is_collected() -> None:
    code = (
        "import sys, gilcheck.pytest_plugin\n"
        "heavy = [m for m in ('lark', 'gilcheck.pipeline', 'gilcheck.system.engine') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_condition_other_than_expect_when_fails(pytester: pytest.Pytester) -> None:
    magic = (ROOT / "specs/symbolic/magic_value_buggy.gil").read_text()
    (pytester.path / "magic.gil").write_text(magic)
    (pytester.path / "other.gil").write_text(magic.replace("when n == 123456789", "when n == 5"))
    result = pytester.runpytest("--gil", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "magic.gil::magic PASSED*",
            "*verdict deadlock when n == 123456789, but the spec expects deadlock when n == 5*",
        ]
    )
