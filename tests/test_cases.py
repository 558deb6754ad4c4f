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
