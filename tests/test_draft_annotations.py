"""Origin and assumption annotations through the CLI: origins beside spec lines in every
report, an `ok` under assumptions (exit 3 unless accepted), drift, and `--update`'s merge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from conftest import CASES

from gilcheck.draft.model import code_digest, digest
from gilcheck.draft.update import merge_kept
from gilcheck.report.json_schema import result_schema
from gilcheck.source import SourceFile
from gilcheck.syntax.annotations import scan_annotations

ANNOTATED = CASES / "draft" / "annotated"


@pytest.fixture
def drafted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the annotated specs and the source they name, in the working folder."""
    for f in ANNOTATED.iterdir():
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.chdir(tmp_path)
    return Path()


def test_scan_reads_origins_assumptions_and_the_draft_line() -> None:
    text = (
        "#@ draft app.py --entry one\n"
        '#@ assume "my app.py":8:13 ~e8cd4aea "assumed not to block: `x()`"\n'
        "thread main {\n"
        "    skip   #@ app.py:4 ~0123abcd\n"
        '    print "#@ not one" # a comment #@ not one either\n'
        "}\n"
    )
    found, errors = scan_annotations(SourceFile("s.gil", text))
    assert errors == []
    assert found.command == ("app.py", "--entry", "one")
    assert [(str(a.where), a.where.column, a.text) for a in found.assumptions] == [
        ("my app.py:8", 13, "assumed not to block: `x()`")
    ]
    assert {n: (str(o), o.hash) for n, o in found.origins.items()} == {4: ("app.py:4", "0123abcd")}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    skip   #@ app.py", "is not an annotation"),
        ("#@ app.py:3", "follows the statement"),
        ('    skip  #@ assume app.py:3 "x"', "on a line of its own"),
        ("    skip   #@ app.py:0", "count from 1"),
        ("    skip   #@ app.py:3:0", "count from 1"),
        ("    skip   #@ app.py:3 ~12ab", "is not an annotation"),
        ("#@ source app.py", "names a file and its hash"),
    ],
)
def test_a_malformed_annotation_is_a_located_error(
    cli, tmp_path: Path, line: str, message: str
) -> None:
    spec = tmp_path / "s.gil"
    spec.write_text(f"thread main {{\n{line}\n    skip\n}}\n")
    done = cli("parse", str(spec))
    assert done.code == 2
    assert "error[bad-annotation]" in done.stderr
    assert message in done.stderr
    assert f"{spec}:2:" in done.stderr and "^" in done.stderr


def test_the_trace_shows_the_users_lines_beside_the_specs(cli, drafted: Path) -> None:
    done = cli("check", str(drafted / "deadlock.gil"))
    assert done.code == 1
    assert "deadlock.gil:22 (app.py:6)   lock a {" in done.stdout
    assert "at deadlock.gil:23 (app.py:7): lock b {" in done.stdout
    assert "1. assumed not to block: `client.fetch()` at app.py:8" in done.stdout


def test_json_names_origins_and_assumptions_and_follows_the_schema(cli, drafted: Path) -> None:
    done = cli("check", str(drafted / "deadlock.gil"), "--format", "json")
    report = json.loads(done.stdout)
    jsonschema.validate(report, result_schema())
    origins = [s["where"].get("origin") for s in report["steps"]]
    assert {"file": "app.py", "line": 6, "column": 5} in origins
    assert report["assumptions"] == [
        {"text": "assumed not to block: `client.fetch()`", "file": "app.py", "line": 8}
    ]


def test_an_ok_under_assumptions_is_inconclusive_until_accepted(cli, drafted: Path) -> None:
    spec = str(drafted / "ok_assumed.gil")
    done = cli("check", spec)
    assert done.code == 3
    assert "verdict: ok under 1 assumption\n" in done.stdout
    assert "pass --accept-assumptions" in done.stdout
    accepted = cli("check", spec, "--accept-assumptions")
    assert accepted.code == 0
    assert "verdict: ok under 1 assumption (accepted)" in accepted.stdout
    many = cli("check", spec, spec)
    assert many.code == 3


def test_sarif_and_github_point_at_the_users_source(cli, drafted: Path) -> None:
    sarif = json.loads(cli("check", str(drafted / "deadlock.gil"), "-f", "sarif").stdout)
    where = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "app.py"
    assert where["region"]["startLine"] in (7, 12)
    github = cli("check", str(drafted / "deadlock.gil"), "-f", "github")
    assert github.code == 1
    first = github.stdout.splitlines()[0]
    assert first.startswith("::error file=app.py,line=")
    assert "title=gilcheck%3A deadlock" in first
    ok = cli("check", str(drafted / "ok_assumed.gil"), "-f", "github").stdout
    assert "::warning file=app.py,line=8,title=gilcheck%3A assumed by the draft::" in ok


def test_a_changed_source_is_drift_and_fails_expect(cli, drafted: Path) -> None:
    spec = drafted / "ok_assumed.gil"
    assert "changed since the draft" not in cli("check", str(spec)).stderr
    app = drafted / "app.py"
    app.write_text(app.read_text().replace("client.fetch()", "client.fetch(timeout=1)"))
    done = cli("check", str(spec), "--accept-assumptions")
    assert done.code == 0
    assert "app.py:8 changed since the draft: now `client.fetch(timeout=1)`" in done.stderr
    assert "gilcheck draft --update" in done.stderr
    spec.write_text(spec.read_text().replace('scenario "', 'expect ok\nscenario "'))
    proved = cli("check", str(spec), "--expect", "--accept-assumptions")
    assert proved.code == 1
    assert "its source changed since the draft" in proved.stdout
    app.write_text("\n\n" + app.read_text())
    moved = cli("check", str(spec), "--accept-assumptions", "-f", "json")
    messages = [d["message"] for d in json.loads(moved.stdout)["drift"]]
    assert messages == [
        "app.py: the code drafted from lines 2-12 moved 2 lines down",
        "app.py:10 changed since the draft: now `client.fetch(timeout=1)`",
    ]


def test_draft_options_go_with_source_only(cli, drafted: Path) -> None:
    done = cli("check", str(drafted / "deadlock.gil"), "--entry", "one")
    assert done.code == 2 and "go with `--source`" in done.stderr
    both = cli("check", str(drafted / "deadlock.gil"), "--source", str(drafted / "app.py"))
    assert both.code == 2 and "not both" in both.stderr
    assert cli("check").code == 2


def test_an_origin_may_carry_a_keep_comment() -> None:
    found, errors = scan_annotations(
        SourceFile("s.gil", "thread main {\n    skip   #@ app.py:4 ~0123abcd   # keep\n}\n")
    )
    assert errors == [] and str(found.origins[2]) == "app.py:4"


def test_a_swap_of_two_lines_is_a_change_not_a_move(cli, drafted: Path) -> None:
    app = drafted / "app.py"
    lines = app.read_text().splitlines()
    lines[10], lines[11] = "    with a:", "        with b:"  # two() now takes a then b
    app.write_text("\n".join(lines) + "\n")
    done = cli("check", "deadlock.gil", "-f", "json")
    messages = [d["message"] for d in json.loads(done.stdout)["drift"]]
    assert "app.py:11 changed since the draft: now `with a:`" in messages
    assert not any("moved" in m for m in messages)


def test_a_change_in_code_no_statement_names_is_drift(cli, drafted: Path) -> None:
    spec = drafted / "ok_assumed.gil"
    spec.write_text(
        spec.read_text().replace(
            "#@ draft app.py\n",
            "#@ draft app.py\n#@ source app.py ~"
            + code_digest((drafted / "app.py").read_text())
            + "\n",
        )
    )
    app = drafted / "app.py"
    app.write_text(app.read_text() + "\n# a comment, and a blank line above\n")
    assert "changed" not in cli("check", str(spec)).stderr
    app.write_text(app.read_text() + "t = threading.Thread(target=one)\n")
    done = cli("check", str(spec))
    assert "app.py changed since the draft, in code no drafted statement names" in done.stderr


def test_digest_ignores_indentation() -> None:
    assert digest("    with a:") == digest("with a:") != digest("with b:")


def test_merge_keeps_hand_edits() -> None:
    old = (
        "# header\n"
        "expect deadlock   # keep\n"
        "thread main {\n"
        "    acquire a   #@ app.py:3 ~aaaa1111\n"
        "    let t = 1   # keep\n"
        "    wait e timeout   #@ app.py:5 ~bbbb2222   # keep\n"
        "}\n"
    )
    new = (
        "# header\n"
        "thread main {\n"
        "    skip   #@ app.py:2 ~cccc3333\n"
        "    acquire a   #@ app.py:4 ~aaaa1111\n"
        "    wait e   #@ app.py:6 ~bbbb2222\n"
        "}\n"
    )
    merged = merge_kept(old, new)
    assert merged.kept == 3 and merged.unplaced == ()
    assert merged.text == (
        "# header\n"
        "expect deadlock   # keep\n"
        "thread main {\n"
        "    skip   #@ app.py:2 ~cccc3333\n"
        "    acquire a   #@ app.py:4 ~aaaa1111\n"
        "    let t = 1   # keep\n"
        "    wait e timeout   #@ app.py:6 ~bbbb2222   # keep\n"
        "}\n"
    )


def test_merge_keeps_each_edit_in_its_own_function() -> None:
    old = (
        "event reply   # keep\n"
        "thread main {\n"
        "    python {\n"
        "        skip   #@ svc.py:2 ~aaaa1111\n"
        "    }\n"
        "}\n"
        "fn fetch() {\n"
        "    python {\n"
        "        wait reply   # keep\n"
        "        skip   #@ svc.py:4 ~bbbb2222   # keep\n"
        "    }\n"
        "}\n"
        "fn other() {\n"
        "    python {\n"
        "        skip   #@ svc.py:4 ~bbbb2222\n"
        "    }\n"
        "}\n"
    )
    new = old.replace("        wait reply   # keep\n", "").replace("   # keep", "")
    new = new.replace("event reply\n", "")
    merged = merge_kept(old, new)
    assert merged.text == old and merged.unplaced == ()


def test_merge_reads_origins_as_the_parser_does() -> None:
    """A quoted path (a file name with a space) is an origin like any other: the kept
    edit replaces the line drafted from the same source text, its origin updated."""
    old = 'thread main {\n    wait e timeout   #@ "my app.py":5 ~bbbb2222   # keep\n}\n'
    new = 'thread main {\n    skip   #@ "my app.py":2 ~cccc3333\n    wait e   #@ "my app.py":7 ~bbbb2222\n}\n'
    merged = merge_kept(old, new)
    assert merged.unplaced == ()
    assert merged.text == (
        "thread main {\n"
        '    skip   #@ "my app.py":2 ~cccc3333\n'
        '    wait e timeout   #@ "my app.py":7 ~bbbb2222   # keep\n'
        "}\n"
    )
