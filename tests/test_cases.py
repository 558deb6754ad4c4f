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
def test_scenario_gives_its_expected_verdict_with_and_without_merging(path: Path) -> None:
    import re

    from gilcheck.options import CheckOptions
    from gilcheck.pipeline import check_spec

    want = re.search(r"^\s*expect\s+([a-z]+)", path.read_text(), re.M)
    assert want is not None
    text = path.read_text()
    # `# OPTS: --spurious-wakeups` runs the case with that option.
    spurious = "--spurious-wakeups" in (re.findall(r"^# OPTS:(.*)$", text, re.M) or [""])[0]
    loaded = parse_spec(relative(path))
    merged = check_spec(loaded, CheckOptions(max_states=200_000, spurious_wakeups=spurious))
    full = check_spec(
        loaded,
        CheckOptions(max_states=200_000, merge_local_steps=False, spurious_wakeups=spurious),
    )
    assert merged.verdict == want.group(1), merged.message
    assert full.verdict == merged.verdict
