"""`gilcheck draft` and `gilcheck check --source` as a user runs them: a file drafted and
checked, its lines in the trace, `--update` keeping hand edits, errors in the user's source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import CASES

RUST = CASES / "draft" / "rust"


@pytest.fixture
def seed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seed's Rust program as `main.rs` in the working folder."""
    shutil.copy(RUST / "seed_buggy.rs", tmp_path / "main.rs")
    monkeypatch.chdir(tmp_path)
    return Path("main.rs")


def test_check_source_finds_the_seeds_deadlock_in_main_rs(cli, seed: Path) -> None:
    done = cli("check", "--source", str(seed))
    assert done.code == 1
    assert "verdict: deadlock" in done.stdout
    assert "main.draft.gil:11 (main.rs:16)  print ret" in done.stdout
    assert "holds stdout's lock and waits for the GIL" in done.stdout
    assert "at main.draft.gil:20 (main.rs:24): print send_   (holds the GIL)" in done.stdout
    assert "drafted in memory from main.rs" in done.stdout


def test_check_source_reports_in_every_format(cli, seed: Path) -> None:
    report = json.loads(cli("check", "--source", str(seed), "-f", "json").stdout)
    assert report["verdict"] == "deadlock"
    assert {w["where"]["origin"]["file"] for w in report["waits"]} == {"main.rs"}
    github = cli("check", "--source", str(seed), "-f", "github").stdout
    assert github.startswith("::error file=main.rs,line=")
    sarif = json.loads(cli("check", "--source", str(seed), "-f", "sarif").stdout)
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "main.rs"


def test_draft_writes_a_spec_that_checks_and_update_keeps_hand_edits(cli, seed: Path) -> None:
    done = cli("draft", str(seed), "-o", "seed.gil")
    assert done.code == 0, done.stderr
    assert "drafted seed.gil from 1 file" in done.stderr
    spec = Path("seed.gil")
    text = spec.read_text()
    assert "#@ draft main.rs\n" in text
    assert "print ret                               #@ main.rs:16:5 ~" in text
    spec.write_text(
        text.replace("host rust\n", "host rust\nexpect deadlock   # keep\n").replace(
            'scenario "', 'scenario "the seed"   # keep\n# scenario "'
        )
    )
    assert cli("check", "--expect", str(spec)).code == 0
    # The source moves down two lines: the spec drifts, `--expect` fails, --update mends it.
    seed.write_text("// a comment\n// another\n" + seed.read_text())
    drifted = cli("check", "--expect", str(spec))
    assert drifted.code == 1
    assert "main.rs: the code drafted from lines 11-24 moved 2 lines down" in drifted.stderr
    updated = cli("draft", "--update", str(spec))
    assert updated.code == 0, updated.stderr
    assert "2 lines kept" in updated.stderr
    after = spec.read_text()
    assert "expect deadlock   # keep" in after and 'scenario "the seed"   # keep' in after
    assert "#@ main.rs:18:5 ~" in after
    assert cli("check", "--expect", str(spec)).code == 0


def test_draft_to_stdout(cli, seed: Path) -> None:
    done = cli("draft", str(seed))
    assert done.code == 0
    assert done.stdout.startswith("# Drafted from main.rs")
    assert "with_gil {" in done.stdout


def test_source_that_does_not_parse_is_located_with_a_caret(cli, tmp_path: Path) -> None:
    broken = tmp_path / "lib.rs"
    broken.write_text("fn main() {\n    let x = ;\n}\n")
    done = cli("check", "--source", str(broken))
    assert done.code == 2
    assert "error[source-syntax]" in done.stderr
    assert f"{broken.name}:2:" in done.stderr and "^" in done.stderr


def test_draft_refuses_what_it_cannot_read(cli, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    done = cli("draft", str(notes))
    assert done.code == 2 and "error[draft-language]" in done.stderr
    assert cli("draft", str(tmp_path / "missing.py")).code == 2
    assert cli("draft").code == 2
    spec = tmp_path / "hand.gil"
    spec.write_text("thread main {\n    skip\n}\n")
    no_line = cli("draft", "--update", str(spec))
    assert no_line.code == 2 and "has no `#@ draft` line" in no_line.stderr


def test_a_module_that_starts_nothing_says_so(cli, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("lib.py").write_text(
        "import threading\nlock = threading.Lock()\n\n\ndef f():\n    with lock:\n        pass\n"
    )
    done = cli("check", "--source", "lib.py")
    assert done.code == 0
    assert "nothing in the drafted program runs beside main" in done.stdout
    named = cli("check", "--source", "lib.py", "--entry", "f", "--entry", "f")
    assert "nothing in the drafted program" not in named.stdout
