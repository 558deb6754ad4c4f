"""gilcheck imports and runs where Unix-only modules do not exist (Windows): none of them
is imported at start-up or by a check; memory is measured by other means there."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from conftest import ROOT

UNIX_ONLY = ("resource", "fcntl", "pwd", "grp", "termios", "tty", "pty", "syslog", "crypt")

PROGRAM = textwrap.dedent(
    """
    import importlib, pkgutil, sys

    class NoUnixModules:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
            return None

    BLOCKED = set(sys.argv[1].split(","))
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    sys.meta_path.insert(0, NoUnixModules())

    import gilcheck
    for info in pkgutil.walk_packages(gilcheck.__path__, "gilcheck."):
        if info.name.endswith(("pytest_plugin", "distributed")):
            continue  # need pytest / ray, which are not gilcheck's to import
        importlib.import_module(info.name)

    from gilcheck.memory import peak_resident_bytes, resident_bytes
    assert resident_bytes() >= 0 and peak_resident_bytes() >= 0

    from gilcheck.cli import main
    sys.argv = ["gilcheck", "check", "--max-memory", "4000", sys.argv[2]]
    main()
    """
)


def test_gilcheck_runs_without_unix_only_modules(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROGRAM,
            ",".join(UNIX_ONLY),
            str(ROOT / "specs" / "seed" / "buggy.gil"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # the seed deadlocks
    assert "verdict: deadlock" in done.stdout
    assert "Traceback" not in done.stderr
