"""`[tool.gilcheck]` in pyproject.toml, through the CLI: found from the working folder up,
its settings under the command line's, its errors located; and folder walks that leave
out `.gitignore`d and excluded paths."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, SPECS

BUGGY = SPECS / "seed" / "buggy.gil"


def _project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "specs").mkdir()
    shutil.copy(BUGGY, tmp_path / "specs" / "buggy.gil")
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\n\n[tool.gilcheck]\n{table}'
    )
    return tmp_path


def test_paths_and_expect_come_from_the_nearest_pyproject(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, 'paths = ["specs"]\nexpect = true\n')
    (project / "sub" / "deeper").mkdir(parents=True)
    # A pyproject.toml without the table is passed over, as ruff does.
    (project / "sub" / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    monkeypatch.chdir(project / "sub" / "deeper")
    done = cli("check", "-q")
    assert done.code == 0, done.stdout + done.stderr
    assert "../../specs/buggy.gil: deadlock (expected deadlock: matches)" in done.stdout
    assert "every verdict matches" in done.stdout


def test_the_command_line_wins(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(_project(tmp_path, 'paths = ["specs"]\nmax-states = 3\nformat = "json"\n'))
    limited = cli("check", "-q")
    assert limited.code == 3 and '"verdict": "inconclusive"' in limited.stdout
    given = cli("check", "-q", "--max-states", "1000", "--format", "text")
    assert given.code == 1 and "buggy.gil: deadlock" in given.stdout


def test_a_switch_the_configuration_turns_on_is_turned_off_by_its_no_option(
    cli, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(_project(tmp_path, "expect = true\naccept-assumptions = true\n"))
    assert cli("check", "-q", "specs/buggy.gil").code == 0  # as expected
    off = cli("check", "-q", "--no-expect", "--no-accept-assumptions", "specs/buggy.gil")
    assert off.code == 1 and "verdict: deadlock" in off.stdout


def test_isolated_and_named_configurations(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(_project(tmp_path, "max-states = 3\n"))
    assert cli("check", "-q", "specs/buggy.gil").code == 3
    assert cli("check", "-q", "--isolated", "specs/buggy.gil").code == 1
    other = tmp_path / "other.toml"
    other.write_text("[tool.gilcheck]\nmax-states = 100000\n")
    assert cli("check", "-q", "--config", str(other), "specs/buggy.gil").code == 1
    both = cli("check", "--isolated", "--config", str(other), "specs/buggy.gil")
    assert both.code == 2 and "--isolated" in both.stderr


@pytest.mark.parametrize(
    ("table", "message", "where"),
    [
        ("max-state = 10\n", "unknown key `max-state`", "pyproject.toml:5:1"),
        ('max-states = "many"\n', '`max-states` must be an integer, not "many"', "5:1"),
        ('  paths = "specs"\n', "`paths` must be a list of strings", "pyproject.toml:5:3"),
        ("timeout = 0\n", "greater than 0", "5:1"),
        ('strategy = "best"\n', '"bfs", "dfs", "random"', "5:1"),
        ("expect = 1\n", "`expect` must be true or false, not 1", "5:1"),
        ("expect = tru\n", "is not valid TOML", "pyproject.toml:5:"),
    ],
)
def test_a_wrong_setting_is_located(cli, tmp_path, monkeypatch, table, message, where) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(_project(tmp_path, table))
    done = cli("check", "specs/buggy.gil")
    assert done.code == 2
    assert "error[bad-config]" in done.stderr and message in done.stderr
    assert where in done.stderr and "^" in done.stderr
    assert "the configuration has 1 error" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_key_gets_a_suggestion(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(_project(tmp_path, "channel_bound = 4\n"))
    done = cli("check", "specs/buggy.gil")
    assert done.code == 2 and "help: did you mean `channel-bound`?" in done.stderr


def test_walks_leave_out_gitignored_and_excluded_paths(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, 'paths = ["."]\nextend-exclude = ["generated/"]\nexpect = true\n')
    (project / ".git" / "info").mkdir(parents=True)
    (project / ".git" / "info" / "exclude").write_text("scratch/\n")
    (project / ".gitignore").write_text("build/\n*.tmp.gil\n")
    (project / "specs" / ".gitignore").write_text("!keep.tmp.gil\n")
    bad = "thread main:\n    acquire nothing\n"  # a spec error, were it checked
    for name in ("build/a.gil", "scratch/b.gil", "specs/generated/c.gil", "specs/d.tmp.gil"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(bad)
    shutil.copy(BUGGY, project / "specs" / "keep.tmp.gil")
    (project / "venv").mkdir()
    (project / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / "venv" / "e.gil").write_text(bad)
    monkeypatch.chdir(project)
    done = cli("check", "-q")
    assert done.code == 0, done.stdout + done.stderr
    assert "2 specs" in done.stdout
    assert "specs/keep.tmp.gil" in done.stdout  # re-included by the nested .gitignore
    # Named explicitly, an ignored file is checked.
    assert cli("check", "--expect", "-q", "build/a.gil").code == 2
    # A quoted glob is a walk: its finds are judged by the same rules.
    globbed = cli("check", "--expect", "-q", "**/*.gil")
    assert globbed.code == 0 and "2 specs" in globbed.stdout, globbed.stdout + globbed.stderr


def test_respect_gitignore_off_and_exclude_replacing_the_defaults(
    cli, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, "respect-gitignore = false\nexclude = []\nexpect = true\n")
    (project / ".gitignore").write_text("ignored/\n")
    (project / "ignored").mkdir()
    shutil.copy(BUGGY, project / "ignored" / "x.gil")
    (project / ".hidden").mkdir()
    shutil.copy(BUGGY, project / ".hidden" / "y.gil")
    monkeypatch.chdir(project)
    done = cli("check", "-q", ".")
    assert done.code == 0 and "3 specs" in done.stdout, done.stdout + done.stderr


def test_fmt_reads_the_configuration(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, 'paths = ["specs"]\n')
    (project / "specs" / "buggy.gil").write_text(
        (ROOT / "specs" / "seed" / "buggy.gil").read_text()
    )
    monkeypatch.chdir(project)
    done = cli("fmt", "--check")
    assert done.code in (0, 1), done.stderr
    assert "nothing to format" not in done.stderr
    monkeypatch.chdir(tmp_path.parent)
    assert cli("fmt", "--isolated").code == 2
