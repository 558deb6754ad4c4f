"""A folder given to `check` is walked for specs, leaving out hidden folders, virtual
environments and installed packages (where gilcheck's own models live)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT, SPECS


def test_a_walk_skips_environments_and_hidden_folders(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "specs").mkdir()
    shutil.copy(SPECS / "seed" / "buggy.gil", tmp_path / "specs" / "buggy.gil")
    for folder in (".venv/lib/gilcheck/models", "env/lib", "lib/site-packages/gilcheck", ".git"):
        (tmp_path / folder).mkdir(parents=True)
        shutil.copy(ROOT / "models" / "cpython.gil", tmp_path / folder / "cpython.gil")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    monkeypatch.chdir(tmp_path)
    done = cli("check", "--expect", ".")
    assert done.code == 0, done.stdout + done.stderr
    assert "1 spec" in done.stdout
    named = cli("check", "--expect", ".venv/lib/gilcheck/models")  # named: walked
    assert named.code == 2
    assert "cpython.gil: spec error" in named.stdout, named.stdout + named.stderr
