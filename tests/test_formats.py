"""The one table of output formats, the renderer protocol, and structured locations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gilcheck.report import formats
from gilcheck.report.formats import (
    REPORTS,
    CheckFormat,
    RenderContext,
    ReportFormat,
    SpecFailure,
    TraceFormat,
)
from gilcheck.report.json_read import location_from, read_result
from gilcheck.report.json_schema import result_schema
from gilcheck.trace.model import NOWHERE, CheckResult, Location

SEED = "specs/seed/buggy.gil"
WRONG = "expect ok\nmutex m\nthread main {\n acquire m\n acquire m\n}\n"


def test_every_format_has_a_renderer() -> None:
    assert set(REPORTS) == set(ReportFormat)
    for offered in (CheckFormat, TraceFormat):
        assert {f.value for f in offered} <= {f.value for f in ReportFormat}
        for fmt in offered:
            assert formats.report_for(fmt) is REPORTS[ReportFormat(fmt.value)]


def test_a_format_without_a_renderer_fails_at_import(monkeypatch: pytest.MonkeyPatch) -> None:
    partial = {f: r for f, r in REPORTS.items() if f is not ReportFormat.SARIF}
    monkeypatch.setattr(formats, "REPORTS", partial)
    with pytest.raises(ImportError, match="sarif"):
        formats._check_table()


def test_the_check_command_offers_the_table_s_formats(cli) -> None:  # type: ignore[no-untyped-def]
    help_text = cli("check", "--help").stdout
    assert "text|json|junit|sarif" in help_text.replace("\n", "").replace(" ", "")
    bad = cli("check", "--format", "mermaid", SEED)
    assert bad.code == 2


def _seed_result() -> CheckResult:
    from gilcheck.options import CheckOptions
    from gilcheck.pipeline import check_spec, parse_spec
    from gilcheck.source import SourceMap

    return check_spec(parse_spec(SEED, SourceMap()), CheckOptions())


@pytest.mark.parametrize("fmt", list(ReportFormat))
def test_every_renderer_renders_one_result_and_a_spec_failure(fmt: ReportFormat) -> None:
    result = _seed_result()
    render = REPORTS[fmt].render
    context = RenderContext(many=REPORTS[fmt].collection, sources={SEED: Path(SEED).read_text()})
    assert render([result], context).strip()
    failure = SpecFailure("bad.gil", {"schema": "gilcheck.result", "verdict": None}, "boom")
    assert isinstance(render([failure], context), str)


@pytest.mark.parametrize("fmt", [f for f in ReportFormat if REPORTS[f].collection])
def test_collections_render_several_specs(fmt: ReportFormat) -> None:
    result = _seed_result()
    failure = SpecFailure("bad.gil", {"verdict": None}, None)
    assert REPORTS[fmt].render([result, failure], RenderContext(many=True)).strip()


def test_the_text_report_is_coloured_only_on_a_terminal() -> None:
    result = _seed_result()
    render = REPORTS[ReportFormat.TEXT].render
    assert "\x1b[" not in render([result], RenderContext())
    assert "\x1b[" in render([result], RenderContext(color_system="standard"))


def test_sarif_regions_have_columns(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wrong = tmp_path / "wrong.gil"
    wrong.write_text(WRONG)
    log = json.loads(cli("check", "--format", "sarif", str(wrong)).stdout)
    finding = log["runs"][0]["results"][0]
    region = finding["locations"][0]["physicalLocation"]["region"]
    # ` acquire m` on line 5: from column 2 to just past its last character
    assert region == {"startLine": 5, "startColumn": 2, "endLine": 5, "endColumn": 11}
    flow = finding["codeFlows"][0]["threadFlows"][0]["locations"]
    assert flow[0]["location"]["physicalLocation"]["region"]["startColumn"] == 2


def _where_objects(report: dict[str, Any]) -> list[tuple[str, Any]]:
    items = report["steps"] + report["waits"] + report["warnings"]
    return [(item["location"], item["where"]) for item in items]


def test_json_where_objects_validate_and_match_the_location(cli) -> None:  # type: ignore[no-untyped-def]
    validator = jsonschema.Draft202012Validator(result_schema())
    report = json.loads(cli("check", "--format", "json", SEED).stdout)
    assert list(validator.iter_errors(report)) == []
    found = _where_objects(report)
    assert found
    for location, where in found:
        if not location:
            assert where is None
            continue
        assert f"{where['file']}:{where['line']}" == location
        assert where["column"] >= 1 and (where["end_line"], where["end_column"]) > (
            where["line"],
            where["column"],
        )
    broken = json.loads(json.dumps(report))
    broken["steps"][0]["where"]["column"] = "5"
    assert list(validator.iter_errors(broken))


def test_a_saved_report_reads_back_its_structured_locations(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = cli("check", "--format", "json", SEED).stdout
    saved = read_result(text)
    first = json.loads(text)["steps"][0]
    assert saved.steps[0].location == Location(**first["where"])
    # A location edited by hand (its `where` not) is read from its text.
    assert location_from("a.gil:7", first["where"]) == Location("a.gil", 7)
    assert location_from("", None) is not None and not location_from("", None)


def test_a_location_prints_as_path_and_line() -> None:
    where = Location("specs/a.gil", 12, 5, 12, 9)
    assert str(where) == "specs/a.gil:12" and where.short == "a.gil:12"
    assert str(NOWHERE) == "" and not NOWHERE


def test_cli_modules_stay_small() -> None:
    package = Path(__file__).resolve().parent.parent / "gilcheck" / "cli"
    sizes = {p.name: len(p.read_text().splitlines()) for p in package.glob("*.py")}
    assert sizes and max(sizes.values()) < 500, sizes
