"""Start-up: `gilcheck --version` answers without loading the commands, and the parser's
tables are cached in the private folder (bench/startup measures the times)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def _python(code: str, home: Path) -> str:
    env = {**os.environ, "GILCHECK_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_version_loads_no_command(tmp_path: Path) -> None:
    code = (
        "import sys; sys.argv = ['gilcheck', '--version']\n"
        "from gilcheck.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('gilcheck.cli.', 'lark', 'z3'))))"
    )
    out = _python(code, tmp_path / "home")
    assert out.startswith("gilcheck ")
    assert out.splitlines()[-1] == "[]"


def test_the_parsers_tables_are_cached_in_the_private_folder(tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = (
        "from gilcheck.syntax.grammar import parser\n"
        "print(parser().parse('thread main {\\n    skip\\n}\\n').data)"
    )
    assert _python(code, home).strip() == "module"
    cached = list(home.glob("grammar-*.lark"))
    assert len(cached) == 1
    assert _python(code, home).strip() == "module"  # loaded from the cache
    assert list(home.glob("grammar-*.lark")) == cached
