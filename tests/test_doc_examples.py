"""The example specs in the README and docs/ give the verdict their `expect` line states."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ROOT

from gilcheck.sync import registry

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```gil\n(.*?)```", re.S)
EXIT_FOR = {"ok": 0, "bound": 3, "inconclusive": 3}


# A block that shows a spec file of specs/ in full is checked with that file (tests/
# test_specs.py); test_shown_spec_files_are_shown_as_they_are keeps the two the same.
SHOWN_FILE = re.compile(r"`(specs/[\w/.-]+\.gil)`:\n\n```gil\n(.*?)```", re.S)


def examples() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        text_of_doc = doc.read_text()
        shown = {body for _, body in SHOWN_FILE.findall(text_of_doc)}
        for index, text in enumerate(BLOCK.findall(text_of_doc)):
            if re.search(r"^expect\s", text, re.M) and text not in shown:
                found.append((f"{doc.name}#{index}", text))
    return found


def test_shown_spec_files_are_shown_as_they_are() -> None:
    shown = [pair for doc in DOCS for pair in SHOWN_FILE.findall(doc.read_text())]
    assert len(shown) >= 20  # the cookbook shows its buggy specs in full
    for path, body in shown:
        assert (ROOT / path).read_text().rstrip("\n") == body.rstrip("\n"), path


EXAMPLES = examples()


def test_the_examples_page_covers_every_primitive_and_verdict() -> None:
    text = "\n".join(body for _, body in EXAMPLES)
    for verdict in ("ok", "deadlock", "stuck", "livelock", "assertion", "panic", "misuse", "bound"):
        assert re.search(rf"^expect {verdict}\b", text, re.M), verdict
    for primitive in registry.LISTED:
        assert re.search(rf"^{primitive}\s", text, re.M), primitive
    for construct in ("gil off", "host python", "queue(", "bounded(", "python {", "allow_threads"):
        assert construct in text, construct
    for addition in ("rwlock ", "atexit {", "fork {", "finalizer {", "signal {"):
        assert addition in text, addition


@pytest.mark.parametrize(("name", "text"), EXAMPLES, ids=[name for name, _ in EXAMPLES])
def test_example_gives_its_expected_verdict(name: str, text: str, tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "example.gil"
    spec.write_text(text)
    want = re.search(r"^expect\s+([a-z]+)", text, re.M).group(1)  # type: ignore[union-attr]
    result = cli("check", "--format", "json", str(spec))
    report = json.loads(result.stdout)
    assert (report["verdict"], report["matches"]) == (want, True), report["message"]
    assert result.code == EXIT_FOR.get(want, 1)
