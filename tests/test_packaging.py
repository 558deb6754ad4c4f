"""The package as users get it: an sdist and a wheel built from this checkout, installed in
a fresh virtual environment without the dev extras, run from an unrelated folder; the
sdist installed where no C compiler can be found runs the pure-Python search and says so.

It builds with `python -m build` and installs from the package index (the dependencies),
so it takes a little while. It is one test: the sdist is built in the source tree, and two
workers building there at once would race.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from lsp_wire import LspClient

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

SPEC = """\
use "pyo3"
expect deadlock

thread main {
    let (tx, rx) = oneshot()
    spawn daemon finish(tx)
    with_gil {
        let v = call pyo3_attach_recv(rx)    # blocks on rx with the GIL held
    }
}

fn finish(tx) {
    with_gil { skip }
    send tx, 1
}
"""


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, code: int = 0) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == code, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_the_package_as_users_get_it(tmp_path_factory: pytest.TempPathFactory) -> None:
    dists = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "build", "--outdir", str(dists), str(ROOT)], cwd=dists)
    check_the_sdist_holds_what_the_wheel_is_built_from(dists)
    fresh_env = tmp_path_factory.mktemp("venv")
    venv.create(fresh_env)  # pip installs into it from outside (`pip --python`): no ensurepip
    wheel = next(dists.glob("gilcheck-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert all(name.startswith("gilcheck") for name in archive.namelist())
    _run([*_pip(fresh_env), "install", "-q", str(wheel)], cwd=fresh_env)
    check_the_installed_wheel_runs_from_an_unrelated_folder(
        fresh_env, tmp_path_factory.mktemp("user")
    )
    check_the_language_server_answers_a_client(fresh_env, wheel, tmp_path_factory.mktemp("lsp"))
    check_the_sdist_without_a_compiler_installs_the_pure_python_search(
        dists, fresh_env, tmp_path_factory.mktemp("nocc")
    )


def _bin(env: Path, name: str) -> Path:
    return env / ("Scripts" if os.name == "nt" else "bin") / name


def _pip(env: Path) -> list[str]:
    """pip acting on the environment `env` (made without a pip of its own)."""
    return [sys.executable, "-m", "pip", "--python", str(_bin(env, "python"))]


def _check_the_hang(gilcheck: str, folder: Path, env: dict[str, str]) -> tuple[Path, Any]:
    """`gilcheck check --format json` of SPEC written in `folder`: exit 1, the report."""
    spec = folder / "hang.gil"
    spec.write_text(SPEC)
    report = _run([gilcheck, "check", "--format", "json", str(spec)], folder, env, code=1)
    return spec, json.loads(report)


def _user_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["HOME"] = str(home)
    env["XDG_CACHE_HOME"] = str(home / ".cache")
    env.pop("GILCHECK_NATIVE", None)
    env.pop("GILCHECK_HOME", None)  # the private folder is the user's, under HOME
    return env


def check_the_sdist_holds_what_the_wheel_is_built_from(dists: Path) -> None:
    import tarfile

    sdist = next(dists.glob("gilcheck-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "setup.py",
        "pyproject.toml",
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "gilcheck/explore/_records.c",
        "gilcheck/syntax/grammar.lark",
        "models/pyo3.gil",
        "specs/seed/buggy.gil",
        # The VS Code extension and its grammar's test (tests/test_vscode_grammar.py).
        "editors/vscode/syntaxes/gil.tmLanguage.json",
        "editors/vscode/test/package-lock.json",
    ):
        assert needed in names, needed
    assert not any(name.endswith((".so", ".pyc")) for name in names)
    assert not any("node_modules" in name for name in names)


def check_the_installed_wheel_runs_from_an_unrelated_folder(
    fresh_env: Path, tmp_path: Path
) -> None:
    gilcheck = str(_bin(fresh_env, "gilcheck"))
    python = str(_bin(fresh_env, "python"))
    env = _user_env(tmp_path)
    pip_list = _run([*_pip(fresh_env), "list", "--format", "json"], tmp_path, env)
    installed = {entry["name"].lower() for entry in json.loads(pip_list)}
    assert "gilcheck" in installed
    assert not installed & {"pytest", "hypothesis", "mypy", "ruff"}, "dev extras installed"

    version = _run([gilcheck, "--version"], tmp_path, env)
    assert version.startswith("gilcheck ") and "(C extension)" in version
    assert _run([python, "-m", "gilcheck", "--version"], tmp_path, env) == version

    spec, report = _check_the_hang(gilcheck, tmp_path, env)
    assert report["verdict"] == "deadlock" and report["matches"] is True
    assert report["engine"] == "C extension"

    page = tmp_path / "trace.html"
    _run([gilcheck, "trace", "-f", "html", str(spec), "-o", str(page)], tmp_path, env, code=1)
    assert page.read_text().lstrip().lower().startswith("<!doctype html")

    schema = json.loads(_run([gilcheck, "schema"], tmp_path, env))
    assert "engine" in schema["$defs"]["result"]["properties"]

    # The bundled models are listed and found inside the installed package.
    assert "pyo3" in _run([gilcheck, "models"], tmp_path, env).split()
    folder = Path(_run([gilcheck, "models", "--path"], tmp_path, env).strip())
    assert folder.name == "bundled_models" and (folder / "pyo3.gil").is_file()
    pyo3 = _run([gilcheck, "models", "--path", "pyo3"], tmp_path, env).strip()
    assert Path(pyo3) == folder / "pyo3.gil"

    # Nothing was compiled at run time: the user's private folder holds only the parser's
    # tables (gilcheck/syntax/grammar.py).
    kept = sorted(p.name for p in (tmp_path / ".cache" / "gilcheck").iterdir())
    assert len(kept) == 1 and kept[0].startswith("grammar-"), kept


def check_the_language_server_answers_a_client(
    fresh_env: Path, wheel: Path, tmp_path: Path
) -> None:
    """`gilcheck lsp` without the extra names it; with it, answers an LSP client: a spec
    with an error opened, its diagnostic where `gilcheck check` reports it, a hover."""
    gilcheck = str(_bin(fresh_env, "gilcheck"))
    env = _user_env(tmp_path)
    done = subprocess.run(
        [gilcheck, "lsp"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done
    assert "pip install 'gilcheck[lsp]'" in done.stderr

    _run([*_pip(fresh_env), "install", "-q", f"{wheel}[lsp]"], tmp_path, env)
    spec = tmp_path / "typo.gil"
    spec.write_text("mutex m\nthread main {\n    acquire mm\n}\n")
    errors = json.loads(_run([gilcheck, "check", "-f", "json", str(spec)], tmp_path, env, code=2))
    (error,) = errors["errors"]
    client = LspClient([gilcheck, "lsp"], cwd=tmp_path, env=env)
    try:
        assert client.initialize(tmp_path)["capabilities"]["hoverProvider"]
        document = {"uri": spec.as_uri(), "languageId": "gil", "version": 1}
        client.notify(
            "textDocument/didOpen", {"textDocument": {**document, "text": spec.read_text()}}
        )
        (published,) = client.wait_for("textDocument/publishDiagnostics")["diagnostics"]
        assert published["code"] == error["code"] == "undefined-name"
        assert published["range"]["start"] == {
            "line": error["line"] - 1,
            "character": error["column"] - 1,
        }
        assert published["range"]["end"] == {"line": 2, "character": len("    acquire mm")}
        hover = client.request(
            "textDocument/hover",
            {"textDocument": {"uri": spec.as_uri()}, "position": {"line": 0, "character": 6}},
        )
        assert "**mutex** `m`" in hover["contents"]["value"]
    finally:
        assert client.close() == 0


def check_the_sdist_without_a_compiler_installs_the_pure_python_search(
    dists: Path, fresh_env: Path, tmp_path: Path
) -> None:
    sdist = next(dists.glob("gilcheck-*.tar.gz"))
    env = _user_env(tmp_path)
    missing = str(tmp_path / "no-such-compiler")
    env.update(CC=missing, CXX=missing, LDSHARED=missing, LDCXXSHARED=missing)
    _run(
        [*_pip(fresh_env), "install", "-q", "--no-deps", "--force-reinstall", str(sdist)],
        tmp_path,
        env,
    )
    gilcheck = str(_bin(fresh_env, "gilcheck"))
    version = _run([gilcheck, "--version"], tmp_path, env)
    assert "pure Python (the C extension was not built" in version, version
    _, report = _check_the_hang(gilcheck, tmp_path, env)
    assert report["verdict"] == "deadlock"
    assert report["engine"].startswith("pure Python")
