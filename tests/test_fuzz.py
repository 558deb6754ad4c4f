"""Fuzz regressions: every input of tests/fuzz_corpus through `gilcheck check` in process,
and a small hypothesis-driven fuzz of the front end (the mutators of bench/fuzz).

A corpus file's name states what it must give: `err-<code>-...` exit 2 with a located
`error[<code>]`, `ok-...` exit 0, `viol-...` exit 1, `inc-...` exit 3. Never exit 4, never
a traceback.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gilcheck.diagnostics import CODES

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

CORPUS = ROOT / "tests" / "fuzz_corpus"
FILES = sorted(CORPUS.glob("*.gil"))
LIMITS = ("--max-states", "2000", "--timeout", "5")
# Every code a spec's text can produce (not: unreadable-file, unwritable-output, and the
# codes of constructs that are refused or exported).
COVERED_CODES = [
    "syntax-error",
    "unexpected-character",
    "unterminated-string",
    "unexpected-end",
    "undefined-name",
    "undefined-function",
    "wrong-arity",
    "missing-main",
    "duplicate-definition",
    "duplicate-setting",
    "duplicate-local",
    "break-outside-loop",
    "continue-outside-loop",
    "return-outside-function",
    "wrong-kind",
    "unknown-use-file",
    "unknown-channel-kind",
    "unknown-verdict",
    "unknown-setting",
    "not-constant",
    "bad-constant",
    "not-an-array",
    "missing-index",
    "invalid-assignment",
    "blocking-in-atomic",
    "loop-in-atomic",
    "invalid-statement",
    "nesting-too-deep",
]
EXIT_FOR = {"err": 2, "ok": 0, "viol": 1, "inc": 3}


def _load_fuzzer() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("gilcheck_bench_fuzz", str(ROOT / "bench/fuzz"))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up
    loader.exec_module(module)
    return module


fuzz = _load_fuzzer()


def expectation(name: str) -> tuple[str, str | None]:
    """(kind, diagnostic code) stated by a corpus file's name."""
    kind = name.split("-", 1)[0]
    assert kind in EXIT_FOR, f"{name}: a corpus file starts with err-, ok-, viol- or inc-"
    if kind != "err":
        return kind, None
    codes = [c for c in CODES if name.startswith(f"err-{c}-") or name == f"err-{c}.gil"]
    assert codes, f"{name}: err-<code>-... needs a diagnostic code from `gilcheck codes`"
    return kind, max(codes, key=len)


def assert_no_crash(code: int, stdout: str, stderr: str) -> None:
    assert code in (0, 1, 2, 3), f"exit {code}\n{stderr[-3000:]}"
    for text in (stdout, stderr):
        assert "Traceback (most recent call last)" not in text, text[-3000:]
        assert "internal error" not in text, text[-3000:]


LOCATION = re.compile(r"^\s*--> (.+):(\d+):(\d+)$", re.M)
CARET = re.compile(r"^\s*\d*\s*\|[ \t]*\^+", re.M)


def assert_located(stderr: str, path: Path) -> None:
    """The first error names the file, a line and column inside it, and has a caret line."""
    found = LOCATION.search(stderr)
    assert found, f"no file:line:col in\n{stderr[:2000]}"
    assert found.group(1) == str(path), found.group(0)
    lines = path.read_bytes().count(b"\n") + 1
    assert 1 <= int(found.group(2)) <= lines, found.group(0)
    assert int(found.group(3)) >= 1, found.group(0)
    assert CARET.search(stderr), f"no caret line in\n{stderr[:2000]}"


def _params() -> list[object]:
    params: list[object] = []
    for path in FILES:
        params.append(pytest.param(path, id=path.name))
    return params


def test_corpus_covers_the_interesting_cases() -> None:
    assert 30 <= len(FILES) <= 80
    kinds = {expectation(p.name) for p in FILES}
    for code in COVERED_CODES:
        assert code in CODES, f"error[{code}] is not a diagnostic code any more"
        assert ("err", code) in kinds, f"no corpus input for error[{code}]"
    for kind in ("ok", "viol", "inc"):
        assert any(k == kind for k, _ in kinds), kind
    raw = b"".join(p.read_bytes() for p in FILES)
    for odd in (b"\x00", b"\xff", b"\r\n", b"\t", "\u202e".encode(), "\ufeff".encode()):
        assert odd in raw, odd


@pytest.mark.parametrize("path", _params())
def test_corpus_input(path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    kind, code = expectation(path.name)
    result = cli("check", *LIMITS, str(path))
    assert_no_crash(result.code, result.stdout, result.stderr)
    assert result.code == EXIT_FOR[kind], f"exit {result.code}\n{result.stdout}{result.stderr}"
    if kind == "err":
        assert f"error[{code}]" in result.stderr, result.stderr[:2000]
        assert_located(result.stderr, path)
    else:
        assert re.search(r"^verdict: [a-z]+", result.stdout, re.M), result.stdout
    report = json.loads(cli("check", "--format", "json", *LIMITS, str(path)).stdout)
    if kind == "err":
        assert report["verdict"] is None
        assert report["errors"][0]["line"] >= 1
        assert code in {e["code"] for e in report["errors"]}
    else:
        assert report["verdict"] in ("ok", "bound", "inconclusive") or kind == "viol"


DEEP = CORPUS / "err-nesting-too-deep-2100-mixed-blocks.gil"


def test_nesting_too_deep_is_located(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", *LIMITS, str(DEEP))
    assert result.code == 2
    assert_located(result.stderr, DEEP)


def test_nesting_too_deep_json_report(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", *LIMITS, str(DEEP))
    assert result.code == 2
    report = json.loads(result.stdout)
    assert report["errors"][0]["code"] == "nesting-too-deep"


# ----------------------------------------------------------------- hypothesis-driven fuzz

SEEDS = fuzz.seed_texts()
TOKENS = [*fuzz.WORDS, *fuzz.OPERATORS, *fuzz.NUMBERS, *fuzz.ODD, "x", "m", "main", "\n"]


def _token_soup() -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)


def _mutated() -> st.SearchStrategy[str]:
    return st.integers(0, 2**32).map(lambda seed: fuzz.mutate(random.Random(seed), SEEDS))


def _cheap(text: str) -> str:
    """Keep hypothesis inputs small enough to stay fast."""
    text = re.sub(r"[0-9_]{4000,}", lambda m: m.group(0)[:4000], text[:20_000])
    return text


@settings(
    max_examples=250,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.one_of(_token_soup(), _mutated()).map(_cheap))
def test_front_end_never_crashes(text: str) -> None:
    """parse_text + checkable_program: a valid program or a located spec error, nothing else."""
    data = fuzz.to_bytes(text)
    with cli_recursion_limit():
        code, findings = fuzz.run_pipeline(str(CORPUS / "generated.gil"), fuzz.as_read(data), False)
    assert code in (-1, 2), (code, findings)
    assert not findings, findings[0].detail


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "spec.gil"


@contextlib.contextmanager
def cli_recursion_limit() -> Iterator[None]:
    """The recursion limit `gilcheck.cli.main` sets. Hypothesis sets its own limit (its depth
    plus 2,000) around each example, so this is entered in the example's body; the limit
    hypothesis set is restored after it."""
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(max(before, 6000))
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(st.one_of(_mutated(), _token_soup()).map(_cheap), st.sampled_from(["text", "json"]))
def test_check_and_cli_agree_and_never_crash(scratch: Path, text: str, fmt: str) -> None:
    """check_spec with small limits and `gilcheck check` in process give the same exit code."""
    data = fuzz.to_bytes(text)
    scratch.write_bytes(data)
    with cli_recursion_limit():  # both run under the CLI's limit (restored after)
        expected, findings = fuzz.run_pipeline(str(scratch), fuzz.as_read(data), True)
        code, stdout, stderr, more = fuzz.run_cli(str(scratch), fmt)
    assert_no_crash(code, stdout, stderr)
    crashes = [f for f in findings + more if f.kind == "crash"]
    assert not crashes, crashes[0].detail
    if 3 not in (code, expected):  # a timeout may end one run and not the other
        assert code == expected, (stdout, stderr)


# ----------------------------------------------------------------- the fuzzer itself


def test_fuzzer_reports_a_crash_of_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gilcheck.cli.running

    def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    spec = tmp_path / "s.gil"
    spec.write_text("thread main { skip }\n")
    monkeypatch.setattr(gilcheck.cli.running, "check_spec", boom)
    code, _, stderr, findings = fuzz.run_cli(str(spec), "text")
    assert code == 4 and "internal error" in stderr
    assert any(f.kind == "crash" for f in findings)
    monkeypatch.setattr(fuzz, "check_spec", boom)
    code, findings = fuzz.run_pipeline(str(spec), spec.read_text(), True)
    assert code == 4 and findings[0].kind == "crash" and "RuntimeError" in findings[0].signature


def test_fuzzer_runs_and_counts(tmp_path: Path) -> None:
    runner = fuzz.Runner(tmp_path, None, 5, rng=random.Random(3))
    rng = random.Random(3)
    for _ in range(20):
        runner.one(_cheap(fuzz.mutate(rng, SEEDS)))
    stats = runner.stats
    assert stats.inputs == 20 and stats.full == 4
    assert sum(stats.pipeline_codes.values()) == 20
    assert sum(stats.cli_codes.values()) == 4
    assert all(0 <= c <= 3 for c in stats.cli_codes), stats.cli_codes
    assert fuzz.crlf_blank_run("x\r\n" + "\r\n" * 20 + "# c\r\n" + "\r\n" * 3) == 24


def test_blank_crlf_lines_do_not_hang_the_lexer(tmp_path: Path) -> None:
    spec = tmp_path / "crlf.gil"
    spec.write_bytes(b"var x = 0\r\n" + b"\r\n" * 40 + b"thread main { skip }\r\n")
    command = [sys.executable, "-m", "gilcheck.cli", "check", "--timeout", "2", str(spec)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail("`gilcheck check` on 40 blank CRLF lines gave no answer within 30 s")
    assert done.returncode == 0, done.stdout + done.stderr


def test_form_feed_in_a_comment_adds_no_cascade_error(cli) -> None:  # type: ignore[no-untyped-def]
    path = CORPUS / "err-unexpected-character-form-feed-in-comment.gil"
    result = cli("check", *LIMITS, str(path))
    assert result.code == 2
    assert "error[unexpected-character]" in result.stderr
    assert "the spec has 1 error;" in result.stderr, result.stderr
