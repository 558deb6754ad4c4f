"""`gilcheck explain` knows every verdict and every rule id SARIF and `--format github`
report, and each example that is a spec gives the verdict it explains."""

from __future__ import annotations

import pytest

from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, parse_text
from gilcheck.report.json_schema import result_schema
from gilcheck.report.sarif import RULES
from gilcheck.report.verdict_info import VERDICTS
from gilcheck.source import SourceMap

NAMES = sorted({*RULES, *result_schema()["$defs"]["verdict"]["enum"]})


@pytest.mark.parametrize("name", NAMES)
def test_every_verdict_and_rule_is_explained(cli, name: str) -> None:  # type: ignore[no-untyped-def]
    done = cli("explain", name)
    assert done.code == 0
    assert done.stdout.startswith(f"{name}: ")


SPECS = [name for name, info in VERDICTS.items() if "thread main" in info.example]


@pytest.mark.parametrize("name", SPECS)
def test_each_example_spec_gives_its_verdict(name: str) -> None:
    loaded = parse_text("example.gil", VERDICTS[name].example + "\n", SourceMap())
    assert check_spec(loaded, CheckOptions(channel_bound=2)).verdict == name
