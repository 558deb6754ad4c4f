"""Case files: tests/cases/valid must compile; tests/cases/errors report exactly their marks."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CASES, expected_errors, relative

from gilcheck.diagnostics import SpecError
from gilcheck.pipeline import analyze_spec, parse_spec
from gilcheck.source import SourceMap

VALID = sorted((CASES / "valid").glob("*.gil"))
ERRORS = sorted((CASES / "errors").glob("*.gil"))


@pytest.mark.parametrize("path", VALID, ids=[p.name for p in VALID])
def test_valid_case_compiles(path: Path) -> None:
    program = analyze_spec(parse_spec(relative(path)))
    assert any(t.name == "main" for t in program.threads)


@pytest.mark.parametrize("path", ERRORS, ids=[p.name for p in ERRORS])
def test_error_case_reports_its_marks(path: Path) -> None:
    wanted = expected_errors(path.read_text())
    assert wanted, f"{path.name} has no `# error: [code]` mark"
    sources = SourceMap()
    with pytest.raises(SpecError) as info:
        analyze_spec(parse_spec(relative(path), sources))
    got = {(sources.line_of(d.span), d.code) for d in info.value.diagnostics}
    assert got == wanted, f"reported {sorted(got)}, marked {sorted(wanted)}"


SCENARIOS = sorted((CASES / "scenarios").glob("*.gil"))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_scenario_gives_its_expected_verdict_with_and_without_merging(path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Through the CLI, with every option of the case's `# OPTS:` lines (a wrong one fails)."""
    import json
    import re

    from test_golden_reports import check_options

    want = re.search(r"^\s*expect\s+([a-z]+)", path.read_text(), re.M)
    assert want is not None
    options = ["--format", "json", "--max-states", "200000", *check_options(path.read_text())]
    merged = cli("check", *options, relative(path))
    full = cli("check", "--no-merge", *options, relative(path))
    assert merged.code in (0, 1, 3), merged.stderr
    assert json.loads(merged.stdout)["verdict"] == want.group(1), merged.stdout
    assert json.loads(full.stdout)["verdict"] == want.group(1), full.stdout
