"""Every trace replays: each violation trace of every bundled spec, test case spec and docs
example, in each mode, saved as `gilcheck check --format json` prints it and replayed as
`gilcheck replay` reads and replays it (in process: the CLI's own steps, without its
argument parsing, which would cost more than the checks).

Specs that `expect ok` have no trace and are left out. A mode runs the specs it can give
another trace: `--no-por` all of them, `--workers 2` every fifth (whose trace must be the
one a single process reports), `--no-symmetry` those that symmetry reduces,
`--no-step-table` those the step table runs. Each mode also gives the verdict the spec
expects (every reduction off keeps it).
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from typing import Any

import pytest
from conftest import CASES, ROOT, SPECS

from gilcheck.analysis.retrace import retrace
from gilcheck.analysis.verdicts import check_program
from gilcheck.diagnostics import SpecError
from gilcheck.explore.bfs import BreadthFirst
from gilcheck.explore.steptable import StepTable
from gilcheck.explore.strategies import strategy_for
from gilcheck.explore.symmetric import reduced_system
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_text
from gilcheck.report.json import render_json
from gilcheck.report.json_read import read_result
from gilcheck.semantics import ir
from gilcheck.source import SourceMap

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```gil\n(.*?)```", re.S)


def _specs() -> list[tuple[str, str]]:
    """(name, text) of every spec with a thread that may have a trace: bundled specs, test
    case specs (not the ones made to fail to compile) and the examples of the docs."""
    paths = [*sorted(SPECS.rglob("*.gil")), *sorted(CASES.rglob("*.gil"))]
    found = [
        (str(path.relative_to(ROOT)), path.read_text())
        for path in paths
        if CASES / "errors" not in path.parents
    ]
    files = {text.rstrip("\n") for _, text in found}
    for doc in DOCS:
        for index, text in enumerate(BLOCK.findall(doc.read_text())):
            if text.rstrip("\n") not in files:  # a spec file a doc shows is replayed as a file
                found.append((f"{doc.name}#{index}", text))
    return [
        (name, text)
        for name, text in found
        if re.search(r"^\s*thread\b", text, re.M) and not re.search(r"^expect ok\b", text, re.M)
    ]


SPEC_TEXTS = _specs()


@cache
def _compiled(number: int) -> tuple[ir.Program, SourceMap] | None:
    """A spec's program and sources (None for a spec with errors: a docs fragment)."""
    name, text = SPEC_TEXTS[number]
    sources = SourceMap()
    try:
        return analyze_spec(parse_text(name, text, sources)), sources
    except SpecError:
        return None


def _base_options(text: str) -> CheckOptions:
    """What the check runs with: `# OPTS: --spurious-wakeups` in a case file asks for it."""
    spurious = "--spurious-wakeups" in " ".join(re.findall(r"^# OPTS:(.*)$", text, re.M))
    return CheckOptions(max_states=200_000, spurious_wakeups=spurious)


def _relevant(mode: str, program: ir.Program) -> bool:
    """Whether a mode can give this program another trace than the default mode does."""
    if mode not in ("no-symmetry", "no-step-table"):
        return True
    _, canonical, system = reduced_system(program, CheckOptions())
    if mode == "no-symmetry":
        return canonical is not None
    return canonical is None and StepTable.supports(system)


MODES: dict[str, dict[str, Any]] = {
    "default": {},
    "no-por": {"merge_local_steps": False},
    "no-symmetry": {"symmetry": False},
    "no-step-table": {"step_table": False},
    "workers-2": {"workers": 2},
}
# How many traces each mode replays at least (so that the test cannot pass vacuously).
# Programs that make channels or objects at run time have no step table.
AT_LEAST = {"no-symmetry": 20, "no-step-table": 100, "workers-2": 35}
# `--workers 2` forks two processes per spec: every fifth spec (in a fixed order) is enough
# to show that a parallel search's trace is the sequential one's and replays, beside the
# property test of tests/test_properties.py that compares them on generated specs.
WORKERS_SAMPLE = 5


@pytest.mark.parametrize("mode", MODES)
def test_every_trace_replays(mode: str) -> None:
    replayed: list[str] = []
    failures: list[str] = []
    for number, (name, text) in enumerate(SPEC_TEXTS):
        if mode == "workers-2" and number % WORKERS_SAMPLE:
            continue
        compiled = _compiled(number)
        if compiled is None or not _relevant(mode, compiled[0]):
            continue
        program, sources = compiled
        options = dataclasses.replace(_base_options(text), **MODES[mode])
        result = check_program(program, sources, options, strategy_for(options))
        expected = re.search(r"^expect (\w+)", text, re.M)
        if expected is not None and result.verdict != "inconclusive":
            # Each reduction off (or workers) keeps the verdict the spec expects.
            assert result.verdict == expected[1], (name, mode)
        if result.trace is None or not result.trace.steps:
            continue
        if mode == "workers-2":  # one trace per spec, whatever the number of workers
            alone = check_program(program, sources, _base_options(text), BreadthFirst())
            assert result.trace == alone.trace, name
        saved = read_result(render_json(result))
        assert saved.verdict == result.verdict
        # `gilcheck replay` is given --no-por and --spurious-wakeups as the check ran.
        again = CheckOptions(
            merge_local_steps=options.merge_local_steps,
            spurious_wakeups=options.spurious_wakeups,
        )
        done = retrace(program, sources, again, saved.steps, saved.verdict, saved.loop_from)
        replayed.append(name)
        if not done.applies:
            failures.append(f"{name} ({saved.verdict}): {done.message}")
    assert not failures, "\n".join(failures)
    assert len(replayed) >= AT_LEAST.get(mode, 200), len(replayed)


def test_the_specs_include_every_kind_of_trace() -> None:
    """Deadlocks, violations, stuck threads, livelocks and limits, from every source."""
    names = [name for name, _ in SPEC_TEXTS]
    assert any(name.startswith("specs/") for name in names)
    assert any(name.startswith("tests/cases/") for name in names)
    assert any(".md#" in name for name in names)
    text = "\n".join(body for _, body in SPEC_TEXTS)
    for verdict in ("deadlock", "assertion", "panic", "misuse", "stuck", "livelock", "bound"):
        assert re.search(rf"^expect {verdict}\b", text, re.M), verdict
