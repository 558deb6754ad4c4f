"""Symbolic data: `param` and wide `any` as z3 unknowns, conditions, witnesses, `expect when`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gilcheck.explore.bfs import explore
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, check_spec, parse_text
from gilcheck.semantics.values import Term, binary, render, unary
from gilcheck.symbolic.solver import Solver, conjoin, negate, show
from gilcheck.system.engine import Engine
from gilcheck.system.model import DECIDE

N = Term("param", (0, "n"))


def result_of(text: str, **options: object):  # type: ignore[no-untyped-def]
    return check_spec(parse_text("t.gil", text), CheckOptions(**options))  # type: ignore[arg-type]


def write(tmp_path: Path, text: str, name: str = "spec.gil") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ------------------------------------------------------------------ values and the solver


def test_operations_on_unknowns_build_terms_and_render_as_written() -> None:
    term = binary("==", binary("%", N, 65536), 4242)
    assert isinstance(term, Term)
    assert render(term) == "n % 65536 == 4242"
    assert render(binary("<", 2, N)) == "n > 2"
    assert render(unary("not", binary(">=", N, 3))) == "not n >= 3"
    assert binary("==", N, "text") is False and binary("!=", N, None) is True


def test_solver_decides_and_finds_a_witness() -> None:
    solver = Solver()
    domain = (Term("<=", (1, N)), Term("<", (N, 10**9)))
    magic = Term("==", (N, 123456789))
    assert solver.sat(conjoin(domain, magic))
    assert not solver.sat(conjoin(conjoin(domain, magic), negate(magic)))
    assert solver.witness(conjoin(domain, magic)) == {"n": 123456789}
    assert negate(Term(">=", (N, 10))) == Term("<", (N, 10))


def test_rust_division_truncates_toward_zero_for_unknowns() -> None:
    solver = Solver()
    x = Term("any", (0, "x"))
    rust = Term("==", (binary("%", x, 4), -3))  # -7 % 4 == -3 in Rust (not 1)
    assert solver.sat((Term("==", (x, -7)), rust))
    assert not solver.sat((Term("==", (x, -7)), Term("==", (binary("%", x, 4), 1))))


# ------------------------------------------------------------------ the engine


def test_an_await_on_an_unknown_splits_the_state_before_it_blocks() -> None:
    program = analyze_spec(
        parse_text("t.gil", "param n: int in 0..100\nthread main { await n >= 10 }")
    )
    engine = Engine(program, CheckOptions())
    steps = engine.transitions(engine.initial_state())
    assert [action[1] for action, _ in steps] == [DECIDE, DECIDE]
    blocked = next(state for action, state in steps if action[2] == 0)
    assert engine.transitions(blocked) == []  # a deadlock, for n < 10 only


def test_a_param_range_is_never_enumerated() -> None:
    spec = (
        "param n: int in 1..1_000_000_000\nmutex m\n"
        "thread main { if n == 123456789 { acquire m\n acquire m } }"
    )
    started = time.monotonic()
    result = result_of(spec)
    assert time.monotonic() - started < 10
    assert result.verdict == "deadlock" and result.condition == "n == 123456789"
    assert result.witness == (("n", 123456789),)
    assert result.stats.states < 20


def test_the_condition_is_every_value_the_verdict_holds_for() -> None:
    spec = (
        "param n: int in 0..10\nmutex m\n"
        "thread main { if n == 2 or n == 7 { acquire m\n acquire m } }"
    )
    result = result_of(spec)
    assert result.verdict == "deadlock"
    assert result.condition == "n == 2 or n == 7"


def test_an_assert_on_an_unknown_fails_only_where_it_can() -> None:
    spec = (
        "expect assertion when n == 3\nparam n: int in 0..5\n"
        'thread main { let x = n * 2\n assert x != 6, "three" }'
    )
    result = result_of(spec)
    assert result.verdict == "assertion" and result.condition == "n * 2 == 6"
    assert result.when_matches is True and result.matches is True  # n * 2 == 6 is n == 3
    assert result_of(spec.replace("x != 6", "x != 7")).verdict == "ok"


def test_a_wide_any_feeds_a_channel_and_a_branch_symbolically() -> None:
    spec = (
        "channel c: bounded(1)\nthread main { let x = any(0..2**31)\n send c, x }\n"
        'thread t { let v = recv c\n if v % 65536 == 4242 { panic "bad shard" } }'
    )
    result = result_of(spec)
    assert result.verdict == "panic"
    assert result.condition == "x % 65536 == 4242"
    assert dict(result.witness)["x"] % 65536 == 4242


def test_merging_keeps_the_verdicts_and_conditions_of_unknowns() -> None:
    spec = (
        "param n: int in 0..50\nvar x = 0\nmutex a\nmutex b\n"
        "thread t1 { let k = n + 1\n lock a { lock b { x = k } } }\n"
        "thread main { if n % 5 == 3 { lock b { lock a { skip } } } }"
    )
    merged, full = result_of(spec), result_of(spec, merge_local_steps=False)
    assert merged.verdict == full.verdict == "deadlock"
    assert merged.condition == full.condition == "n % 5 == 3"


def test_an_unknown_index_splits_by_element_and_out_of_range() -> None:
    spec = (
        "expect deadlock when n % 2 == 1\nparam n: int in 0..100\nmutex m[2]\n"
        "thread main { lock m[n % 2] { lock m[1] { skip } } }"
    )
    result = result_of(spec)
    assert result.verdict == "deadlock" and result.matches is True
    outside = result_of("param n: int in 0..5\nmutex m[3]\nthread main { acquire m[n] }")
    assert outside.verdict == "panic" and outside.condition == "n >= 3"


def test_division_by_an_unknown_that_can_be_zero_panics() -> None:
    spec = "expect panic when d == 0\nparam d: int in 0..10\nthread main { let q = 100 / d }"
    result = result_of(spec)
    assert result.verdict == "panic" and result.matches is True
    assert result_of(spec.replace("0..10", "1..10")).verdict == "ok"


def test_paths_that_never_hold_are_pruned_by_the_solver() -> None:
    program = analyze_spec(
        parse_text(
            "t.gil",
            "param n: int in 0..10\nmutex m\nthread main { if n > 20 { acquire m\n acquire m } }",
        )
    )
    found = explore(Engine(program, CheckOptions()), CheckOptions())
    assert found.deadlock < 0 and found.exhaustive


# ------------------------------------------------------------------ through the CLI


MAGIC = """scenario "magic"
expect deadlock when n == 123456789
param n: int in 1..1_000_000_000
mutex m
thread main {
    if n == 123456789 {
        acquire m
        acquire m
    }
}
"""


def test_cli_reports_the_condition_and_the_witness(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, MAGIC))
    assert result.code == 1
    assert (
        "verdict: deadlock when n == 123456789   (expected deadlock when n == 123456789: matches)"
        in result.stdout
    )
    assert "witness: n = 123456789" in result.stdout
    report = json.loads(cli("check", "-f", "json", write(tmp_path, MAGIC)).stdout)
    assert report["condition"] == "n == 123456789"
    assert report["witness"] == {"n": 123456789}
    assert report["expected_when"] == "n == 123456789" and report["matches"] is True


def test_cli_expect_when_mismatch_is_reported(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = MAGIC.replace("when n == 123456789", "when n == 7")
    result = cli("check", "--expect", write(tmp_path, spec))
    assert result.code == 1
    assert "(expected deadlock when n == 7: MISMATCH)" in result.stdout


def test_cli_ok_for_every_value(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    fixed = MAGIC.replace("expect deadlock when n == 123456789", "expect ok").replace(
        "        acquire m\n        acquire m", "        acquire m\n        release m"
    )
    result = cli("check", write(tmp_path, fixed))
    assert result.code == 0
    assert "no violation for any n in 1..1000000000" in result.stdout


@pytest.mark.parametrize("name", ["magic_value", "hash_bucket", "batch_size"])
def test_bundled_symbolic_pairs(name: str, cli) -> None:  # type: ignore[no-untyped-def]
    buggy = cli("check", "--expect", f"specs/symbolic/{name}_buggy.gil")
    fixed = cli("check", "--expect", f"specs/symbolic/{name}_fixed.gil")
    assert buggy.code == 0 and fixed.code == 0, buggy.stdout + fixed.stdout


LINTED = """expect ok
param n: int in 1..100
var x = 0
thread main {
    if n > 200 {
        x = 1
        x = 2
    }
    if n >= 1 {
        x = 3
    }
    assert n != 0, "never 0"
    if n % 2 == 0 {
        x = 4
    }
}
"""


def test_lints_from_the_constraints_through_the_cli(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", write(tmp_path, LINTED, "lint.gil"))
    assert result.code == 0
    out = result.stdout
    assert "warning[guard-never-true] lint.gil:5: `if n > 200` is never true" in out
    assert "warning[guard-always-true] lint.gil:9: `if n >= 1` is always true" in out
    assert "warning[assert-never-fails] lint.gil:12:" in out
    assert "warning[unreachable-code] lint.gil:6: no path reaches `x = 1`" in out
    assert "lint.gil:7" not in out  # one warning per run of unreached statements
    assert "lint.gil:13" not in out  # n % 2 == 0 can go either way
    report = json.loads(cli("check", "-f", "json", write(tmp_path, LINTED, "lint.gil")).stdout)
    codes = sorted(w["code"] for w in report["warnings"])
    assert codes == [
        "assert-never-fails",
        "guard-always-true",
        "guard-never-true",
        "unreachable-code",
    ]


def test_a_condition_mismatch_is_a_failure_in_junit_and_a_sarif_finding(
    tmp_path: Path, cli
) -> None:  # type: ignore[no-untyped-def]
    spec = write(tmp_path, MAGIC.replace("when n == 123456789", "when n == 7"))
    junit = cli("check", "-f", "junit", spec)
    assert "<failure" in junit.stdout
    sarif = json.loads(cli("check", "-f", "sarif", spec).stdout)
    (finding,) = sarif["runs"][0]["results"]
    assert (
        "deadlock when n == 123456789 (expected deadlock when n == 7)"
        in (finding["message"]["text"])
    )
    matching = write(tmp_path, MAGIC, "matching.gil")
    (expected,) = json.loads(cli("check", "-f", "sarif", matching).stdout)["runs"][0]["results"]
    assert expected["suppressions"][0]["kind"] == "inSource"  # expected: suppressed


def test_a_question_z3_cannot_answer_is_inconclusive_never_ok(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gilcheck.symbolic import solver as solver_module

    monkeypatch.setattr(solver_module, "SOLVER_TIMEOUT_MS", 1)
    monkeypatch.setattr(solver_module.Solver.__init__, "__defaults__", (1,))
    spec = (
        "param a: int in 1..1_000_000_000\nparam b: int in 1..1_000_000_000\n"
        "param c: int in 1..1_000_000_000\nmutex m\n"
        "thread main { if a * a * a + b * b * b == c * c * c { acquire m\n acquire m } }"
    )
    result = result_of(spec)
    assert result.verdict == "inconclusive"
    assert "z3 could not decide" in result.message


def test_conditions_are_shown_in_the_spec_words_not_z3s() -> None:
    import z3

    n = z3.Int("n")
    assert show(z3.Implies(n > 3, n < 9)) == "n <= 3 or n < 9"
    assert show(z3.And(z3.Implies(n > 3, n < 9), n > 0)) == "(n <= 3 or n < 9) and n > 0"
