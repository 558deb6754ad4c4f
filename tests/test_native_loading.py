"""The C extension is built at install time and imported as part of the package: no check
compiles code, and nothing is loaded from a cache or temporary folder, whatever is planted
there."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGE = ROOT / "gilcheck"

PLANTED = r"""
#include <Python.h>
#include <stdio.h>
static PyObject *planted(void) {
    FILE *f = fopen(getenv("PLANTED_MARKER"), "w");
    if (f) { fputs("loaded", f); fclose(f); }
    static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "planted", NULL, -1, NULL};
    return PyModule_Create(&def);
}
PyMODINIT_FUNC PyInit__gilcheck_records(void) { return planted(); }
PyMODINIT_FUNC PyInit__records(void) { return planted(); }
"""


def _code_words(path: Path) -> str:
    """A module's names and attributes, without its string constants: `gilcheck realize`
    writes programs that use ctypes (their text is a string of gilcheck.realize.runtime),
    but gilcheck itself never runs them."""
    import ast

    words = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, ast.alias):
            words.append(node.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            words.append(node.module)
    return " ".join(words)


def test_no_code_is_compiled_or_loaded_at_run_time() -> None:
    forbidden = ("ExtensionFileLoader", "spec_from_file_location", "LDSHARED", "ctypes", "CDLL")
    for path in PACKAGE.rglob("*.py"):
        realize = path.relative_to(PACKAGE).parts[0] == "realize"
        text = _code_words(path) if realize else path.read_text()
        for word in forbidden:
            assert word not in text, f"{path.relative_to(ROOT)} uses {word}"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler to build the plant")
def test_a_module_planted_where_modules_were_once_cached_is_never_loaded(tmp_path: Path) -> None:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    include = sysconfig.get_paths()["include"]
    source = tmp_path / "planted.c"
    source.write_text(PLANTED)
    plant = tmp_path / f"planted{suffix}"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", f"-I{include}", str(source), "-o", str(plant)], check=True
    )
    # Every place and name the run-time build once used, and the package's own name.
    old_source = (PACKAGE / "explore" / "_records.c").read_bytes()
    tag = hashlib.sha256(old_source + sys.version.encode() + suffix.encode()).hexdigest()[:16]
    uid = os.getuid() if hasattr(os, "getuid") else 0
    tmp, home, native = tmp_path / "tmp", tmp_path / "home", tmp_path / "native"
    folders = [tmp / f"gilcheck-{uid}", home / ".cache" / "gilcheck", native, tmp_path / "work"]
    for folder in folders:
        folder.mkdir(parents=True)
        for name in (
            f"_gilcheck_records-{tag}{suffix}",
            f"_records{suffix}",
            f"_gilcheck_records{suffix}",
        ):
            shutil.copy(plant, folder / name)
    marker = tmp_path / "marker"
    spec = tmp_path / "work" / "spec.gil"
    spec.write_text("expect ok\nmutex m\nthread main {\n    lock m { skip }\n}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GILCHECK_")}
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        XDG_CACHE_HOME=str(home / ".cache"),
        GILCHECK_NATIVE_DIR=str(native),
        PLANTED_MARKER=str(marker),
    )
    done = subprocess.run(
        [sys.executable, "-m", "gilcheck", "check", "--format", "json", str(spec)],
        cwd=tmp_path / "work",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), "a planted module was loaded"
    engine = json.loads(done.stdout)["engine"]
    from gilcheck.explore.native import engine_description

    assert engine == engine_description()  # the package's own build, or pure Python
