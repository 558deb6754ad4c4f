"""Rendered reports as golden files: the seed's text and JSON reports, and a few others."""

from __future__ import annotations

import json
import re

import pytest

CASES = [
    "specs/seed/buggy.gil",
    "specs/seed/fixed_published.gil",
    "specs/semantics/join_under_gil_buggy.gil",
    "specs/semantics/lost_update_buggy.gil",
    "specs/semantics/python_handover_buggy.gil",
    "specs/semantics/finalization_buggy.gil",
]


def _stable(text: str) -> str:
    """Timings vary between runs: blank them."""
    return re.sub(r"\d+\.\d\d s \(", "X.XX s (", text)


@pytest.mark.parametrize("spec", CASES)
def test_text_report(spec: str, cli, golden) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", spec)
    assert result.code == 1
    golden("traces/" + spec.replace("/", "_").removesuffix(".gil") + ".txt", _stable(result.stdout))


def test_json_report_of_the_seed(cli, golden) -> None:  # type: ignore[no-untyped-def]
    report = json.loads(cli("check", "--format", "json", "specs/seed/buggy.gil").stdout)
    report["seconds"] = 0
    assert report["engine"] == "C extension" or report["engine"].startswith("pure Python (")
    report["engine"] = "(engine)"  # depends on the installation
    report["proof"]["implementation"] = "(digest of gilcheck's code)"  # changes with it
    golden("traces/seed_buggy.json", json.dumps(report, indent=2) + "\n")
