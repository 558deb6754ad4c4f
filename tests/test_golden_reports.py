"""Every bundled spec and test case, checked through the CLI, against its golden report.

The text report and the JSON report of each file are kept under tests/golden/reports, with
what changes from run to run blanked (timings, the engine, the digest of gilcheck's code,
the checkout's folder).
They pin every verdict, trace, state count and message, so a change of shape in gilcheck is
proven to change no output; `pytest --update-golden` rewrites them on purpose.
A `# OPTS:` line in a case file gives the check options it runs with.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, relative

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

FILES = sorted(
    path for folder in ("specs", "tests/cases") for path in (ROOT / folder).rglob("*.gil")
)


def check_options(text: str) -> list[str]:
    """The options of a case's `# OPTS:` lines, in order."""
    found: list[str] = []
    for line in re.findall(r"^# OPTS:(.*)$", text, re.M):
        found.extend(shlex.split(line))
    return found


def _stable_text(text: str) -> str:
    text = text.replace(str(ROOT), "<ROOT>")  # model files are named by absolute path
    text = re.sub(r"\d+(\.\d+)? s\b", "X s", text)
    text = re.sub(r"[\d,.]+ (states|transitions)/s", r"N \1/s", text)
    text = re.sub(r"\(C extension\)|\(pure Python[^)]*\)", "(engine)", text)
    return text


def _stable_json(text: str) -> str:
    text = text.replace(str(ROOT), "<ROOT>")
    try:
        report = json.loads(text)
    except json.JSONDecodeError:
        return _stable_text(text)
    for one in report if isinstance(report, list) else [report]:
        if not isinstance(one, dict):
            continue
        if "seconds" in one:
            one["seconds"] = 0
        if "engine" in one:
            one["engine"] = "(engine)"
        if one.get("bytes_per_state") is not None:
            one["bytes_per_state"] = "(bytes)"
        proof = one.get("proof")
        if isinstance(proof, dict) and "implementation" in proof:
            proof["implementation"] = "(digest of gilcheck's code)"
    return json.dumps(report, indent=1, sort_keys=True) + "\n"


def _golden_name(path: Path) -> str:
    return "reports/" + str(path.relative_to(ROOT)).removesuffix(".gil")


@pytest.fixture
def checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The text and the JSON report of a spec come from one check: the CLI's second run
    gets the first run's result (the same spec, models and options; results are
    immutable), and renders its own report from it."""
    from gilcheck.cli import running

    check = running.check_spec
    done: dict[object, Any] = {}

    def once(loaded: Any, options: Any, progress: Any = None) -> Any:
        texts = tuple((m.path, loaded.sources.get(m.path).text) for m in loaded.modules)
        key = (texts, options)
        if key not in done:
            done[key] = check(loaded, options, progress)
        return done[key]

    monkeypatch.setattr(running, "check_spec", once)


@pytest.mark.parametrize("path", FILES, ids=[relative(p) for p in FILES])
def test_report_is_its_golden(path: Path, cli, golden, checked_once) -> None:  # type: ignore[no-untyped-def]
    options = check_options(path.read_text())
    text = cli("check", *options, relative(path))
    golden(
        _golden_name(path) + ".txt",
        f"exit {text.code}\n--- stdout\n{_stable_text(text.stdout)}--- stderr\n"
        f"{_stable_text(text.stderr)}",
    )
    report = cli("check", "--format", "json", *options, relative(path))
    assert report.code == text.code
    golden(_golden_name(path) + ".json", _stable_json(report.stdout))


def test_every_case_option_is_a_check_option(cli) -> None:  # type: ignore[no-untyped-def]
    """A mistyped `# OPTS:` fails the run instead of being ignored."""
    for path in FILES:
        options = check_options(path.read_text())
        if options:
            result = cli("check", "--format", "json", *options, relative(path))
            assert result.code in (0, 1, 3), (path, result.stderr)
