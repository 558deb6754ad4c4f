"""Shared test helpers: running the CLI in process, golden files, case files."""

from __future__ import annotations

import difflib
import gc
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# The suite starts about a hundred Python processes (the CLI, search workers, Ray's, the
# bench scripts). Where PYTHONDONTWRITEBYTECODE is set, each would compile gilcheck's
# modules afresh (most of a second each): the tests write bytecode, as Python does by
# default, so that the first process to import a module compiles it for the others.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Thousands of checks run in each test process, each making many short-lived objects:
# the collector's youngest generation is walked less often (as mypy does for itself).
gc.set_threshold(50_000, 20, 20)

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "cases"
GOLDEN = ROOT / "tests" / "golden"
SPECS = ROOT / "specs"
TCC = shutil.which("tcc")


@pytest.fixture(autouse=True)
def _private_gilcheck_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests never read or write the user's own gilcheck folder (the proof cache's key)."""
    monkeypatch.setenv("GILCHECK_HOME", str(tmp_path_factory.getbasetemp() / "gilcheck-home"))
    monkeypatch.delenv("GILCHECK_PROOF_KEY", raising=False)
    # SPIN's models in the tests are small: pan's smaller hash table starts faster.
    monkeypatch.setenv("SPINDIFF_HASH_BITS", "18")
    # ... and build faster with tcc where it is installed (.ci/run installs it).
    if TCC is not None and "SPINDIFF_CC" not in os.environ:
        monkeypatch.setenv("SPINDIFF_CC", TCC)


# Tests that take several seconds each, started first so that pytest-xdist's workers end
# together instead of one of them finishing a long test alone at the end.
LONG_FIRST = (
    "tests/test_packaging.py",
    "tests/test_ray.py",
    "tests/test_replay_every_trace.py",
    "tests/test_hostile.py",
    "tests/test_properties.py",
    "tests/test_strategies.py::test_an_exhaustive_strategy_gives_the_breadth_first_verdict[ray",
    "tests/test_determinism.py",
    "tests/test_export.py::test_gilcheck_and_spin_agree",
    "tests/test_realize.py",
    "tests/test_golden_reports.py",
    "tests/test_steptable.py",
    "tests/test_export.py::test_spin",
    "tests/test_spin_liveness.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long tests first (a stable sort: the same order on every worker)."""
    items.sort(key=lambda item: not item.nodeid.startswith(LONG_FIRST))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite golden files from current output"
    )


@dataclass
class CliResult:
    """What a CLI run printed and its exit code."""

    code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run `gilcheck ARGS...` in process, exactly as the console script does."""
    from gilcheck.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["gilcheck", *args])
        monkeypatch.setenv("COLUMNS", "200")
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def stores_alive(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Every state store made from now on, by weak reference, with the cyclic garbage
    collector off: `stores_alive()` is how many are still alive, which reference counting
    alone frees once nothing holds them (no cycle keeps a search's records)."""
    import gc
    import weakref

    from gilcheck.explore import store as stores

    made: list[weakref.ref[object]] = []
    for kind in (stores.StateStore, stores.NativeStateStore):
        init = kind.__init__

        def keeping(self: object, *args: object, init=init, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
            init(self, *args, **kwargs)
            made.append(weakref.ref(self))

        monkeypatch.setattr(kind, "__init__", keeping)
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield lambda: (len(made), sum(ref() is not None for ref in made))
    finally:
        if enabled:
            gc.enable()


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compare text with a golden file under tests/golden (rewrite with --update-golden)."""
    update = request.config.getoption("--update-golden")

    def check(name: str, actual: str) -> None:
        path = GOLDEN / name
        if update or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(actual)
            if not update:
                pytest.fail(f"golden file {path} did not exist; written now, review it")
            return
        expected = path.read_text()
        if actual != expected:
            diff = "".join(
                difflib.unified_diff(
                    expected.splitlines(True), actual.splitlines(True), str(path), "actual"
                )
            )
            pytest.fail(f"output differs from {path}:\n{diff}\n(run pytest --update-golden)")

    return check


ERROR_MARK = re.compile(r"#\s*error:\s*\[([a-z0-9-]+)\]")


def expected_errors(text: str) -> set[tuple[int, str]]:
    """The (line, code) pairs a case file announces with `# error: [code]`."""
    found: set[tuple[int, str]] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        for match in ERROR_MARK.finditer(line):
            found.add((number, match.group(1)))
    return found


def write_spec(tmp_path: Path, text: str, name: str = "s.gil") -> str:
    """Write a spec into a test's folder; its path."""
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def check_json(cli, *args: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
    """`gilcheck check --format json ARGS`, as a dict."""
    import json

    result = cli("check", "--format", "json", *args)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def relative(path: Path) -> str:
    """A path relative to the repository root, for stable messages."""
    return str(path.relative_to(ROOT))


def pytest_collection_finish(session: pytest.Session) -> None:
    """What the imports and the collection made lives as long as the run: the collector
    leaves it alone from now on."""
    gc.freeze()
