"""`[tool.gilcheck]` in pyproject.toml, through the CLI: found from the working folder up,
its settings under the command line's, its errors located; and folder walks that leave
out `.gitignore`d and excluded paths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SPECS

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
        ("timeout = 0\n", "at least 0.001", "5:1"),
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
    # Named explicitly, an ignored file is checked (its spec error shown).
    named = cli("check", "--expect", "-q", "build/a.gil")
    assert named.code == 2 and "build/a.gil: spec error" in named.stdout, named.stderr
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
    (project / "specs" / "messy.gil").write_text("thread main {\n  skip\n}\n")
    monkeypatch.chdir(project)
    done = cli("fmt", "--check")
    assert done.code == 1, done.stderr  # the configured folder's unformatted spec was found
    assert "specs/messy.gil" in done.stdout + done.stderr
    monkeypatch.chdir(tmp_path.parent)
    assert cli("fmt", "--isolated").code == 2


def _git(folder: Path) -> None:
    (folder / ".git").mkdir(parents=True)


def test_ignore_files_apply_inside_a_repository_only(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = tmp_path / "p"
    (project / "specs").mkdir(parents=True)
    shutil.copy(BUGGY, project / "specs" / "a.gil")
    (tmp_path / ".gitignore").write_text("*.gil\n")  # above, and no repository: not applied
    monkeypatch.chdir(project)
    done = cli("check", "--expect", "-q", ".")
    assert done.code == 0 and "1 spec" in done.stdout, done.stdout + done.stderr


def test_a_nested_repository_keeps_its_own_ignore_files(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _git(tmp_path)
    (tmp_path / ".gitignore").write_text("/*\n")  # the outer repository ignores everything
    project = tmp_path / "code" / "proj"
    for name in ("specs/a.gil", "build/b.gil"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(BUGGY, project / name)
    _git(project)
    (project / ".gitignore").write_text("build/\n")
    monkeypatch.chdir(project)
    done = cli("check", "--expect", "-q", ".")
    assert done.code == 0 and "1 spec" in done.stdout and "build" not in done.stdout
    # From a subfolder, `..` is the same walk.
    monkeypatch.chdir(project / "specs")
    up = cli("check", "--expect", "-q", "..")
    assert up.code == 0 and "1 spec" in up.stdout and "build" not in up.stdout, up.stdout


def test_a_path_is_judged_however_it_is_spelled(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "p").mkdir()
    project = _project(tmp_path / "p", 'extend-exclude = ["specs/sub/"]\nexpect = true\n')
    (project / "specs" / "sub").mkdir()
    shutil.copy(BUGGY, project / "specs" / "sub" / "x.gil")
    (tmp_path / "link").symlink_to(project)
    monkeypatch.chdir(project)
    for spelled in (
        str(project / "specs"),
        f"{project}/specs/../specs",
        str(tmp_path / "link" / "specs"),
        "../p/specs",
    ):
        done = cli("check", "-q", spelled)
        assert done.code == 0 and "1 spec" in done.stdout, (spelled, done.stdout, done.stderr)


def test_a_glob_in_an_excluded_folder_is_walked_as_the_folder_is(
    cli, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    _git(tmp_path)
    (tmp_path / ".gitignore").write_text("build/\n")
    (tmp_path / "build").mkdir()
    shutil.copy(BUGGY, tmp_path / "build" / "b.gil")
    monkeypatch.chdir(tmp_path)
    assert cli("check", "--expect", "-q", "build").code == 0
    assert cli("check", "--expect", "-q", "build/*.gil").code == 0
    above = cli("check", "--expect", "-q", ".")  # walked from above: ignored
    assert above.code == 2 and "no spec (*.gil)" in above.stderr, above.stdout + above.stderr


def test_force_exclude_leaves_out_named_files(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, 'extend-exclude = ["generated/"]\nforce-exclude = true\n')
    (project / "generated").mkdir()
    (project / "generated" / "bad.gil").write_text("thread main {\n    acquire nothing\n}\n")
    monkeypatch.chdir(project)
    done = cli("check", "--expect", "-q", "generated/bad.gil")
    assert done.code == 0 and "nothing to do" in done.stderr
    assert cli("check", "--expect", "-q", "generated/bad.gil", "specs/buggy.gil").code == 0


@pytest.mark.parametrize(
    "table",
    [
        'tool.gilcheck.paths = ["specs"]\ntool.gilcheck.expect = true\n',
        '[tool]\ngilcheck = { paths = ["specs"], expect = true }\n',
        '[tool]\ngilcheck.paths = ["specs"]\ngilcheck.expect = true\n',
    ],
)
def test_dotted_and_inline_forms_are_read(cli, tmp_path, monkeypatch, table) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "specs").mkdir()
    shutil.copy(BUGGY, tmp_path / "specs" / "buggy.gil")
    (tmp_path / "pyproject.toml").write_text(table)
    monkeypatch.chdir(tmp_path)
    done = cli("check", "-q")
    assert done.code == 0 and "every verdict matches" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("text", "message", "where"),
    [
        ("tool = 5\n", "`tool` must be a table", "cfg.toml:1:1"),
        ("[tool.gilcheck]\n[tool.gilcheck.walks]\nx = 1\n", "`walks` must be an integer", "2:1"),
        ("[tool.gilcheck]\n'max-statez' = 5\n", "unknown key `max-statez`", "cfg.toml:2:1"),
        ('[tool.gilcheck]\npaths = ["a",\n', "not valid TOML", "cfg.toml:2:"),
        ("[tool.gilcheck]\ntimeout = nan\n", "at least 0.001", "2:1"),
        ("[tool.gilcheck]\ntimeout = 1e-9\n", "at least 0.001", "2:1"),
    ],
)
def test_a_named_configuration_is_checked(cli, tmp_path, text, message, where) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "cfg.toml"
    config.write_text(text)
    done = cli("check", "--config", str(config), str(BUGGY))
    assert done.code == 2 and message in done.stderr and where in done.stderr, done.stderr
    assert "internal error" not in done.stderr


def test_cache_and_search_settings(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, 'cache = "proofs"\nexpect = true\n')
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    assert cli("check", "-q", "../specs/buggy.gil").code == 0
    assert (project / "proofs").is_dir()  # relative to the configuration's folder
    (project / "pyproject.toml").write_text(
        '[tool.gilcheck]\nstrategy = "dfs"\nmax-depth = 2\nexpect = true\n'
    )
    done = cli("check", "-q", "../specs/buggy.gil")
    assert done.code == 1 and "inconclusive" in done.stdout  # dfs stopped at depth 2


def test_a_cached_proof_keeps_the_expect_line_in_sarif(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(_project(tmp_path, 'cache = "proofs"\n'))
    runs = [json.loads(cli("check", "-q", "-f", "sarif", "specs/buggy.gil").stdout) for _ in "12"]
    lines = [
        run["runs"][0]["results"][0]["suppressions"][0]["location"]["physicalLocation"]["region"]
        for run in runs
    ]
    expect_line = BUGGY.read_text().splitlines().index("expect deadlock") + 1
    assert lines == [{"startLine": expect_line}] * 2


def test_the_help_names_the_table(cli) -> None:  # type: ignore[no-untyped-def]
    done = cli("check", "--help")
    assert "[tool.gilcheck]" in done.stdout and "[default: the" in done.stdout


def test_trace_reads_the_bounds(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(_project(tmp_path, "max-states = 3\n"))
    assert cli("trace", "specs/buggy.gil").code == 3
    assert cli("trace", "--max-states", "1000", "specs/buggy.gil").code == 1


def test_exclude_cannot_open_the_repository_folder(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project = _project(tmp_path, "exclude = []\nexpect = true\n")
    (project / ".git" / "objects").mkdir(parents=True)
    (project / ".git" / "objects" / "x.gil").write_text("not a spec\n")
    monkeypatch.chdir(project)
    done = cli("check", "-q", ".")
    assert done.code == 0 and "1 spec" in done.stdout, done.stdout + done.stderr


def test_explain_names_every_key(cli) -> None:  # type: ignore[no-untyped-def]
    from gilcheck.config import KEYS

    done = cli("explain", "bad-config")
    assert done.code == 0
    for key in KEYS:
        assert f"`{key}`" in done.stdout, key


def test_every_setting_reaches_a_parameter_of_check() -> None:
    """A setting whose parameter name matched no option would be dropped without a word."""
    import inspect

    from gilcheck.cli.check import check
    from gilcheck.config import _KEYS

    parameters = inspect.signature(check).parameters
    for key, (parameter, _) in _KEYS.items():
        assert parameter is None or parameter in parameters, key
