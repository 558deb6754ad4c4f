"""The C form of the store's records and of the search's inner loop, built on first use.

`_records.c` is compiled once per Python version and source, with the compiler Python was
built with, into a cache folder (`GILCHECK_NATIVE_DIR`, else `$XDG_CACHE_HOME/gilcheck` or
`~/.cache/gilcheck`), and loaded from there. Without a compiler or Python's headers, or
with `GILCHECK_NATIVE=0`, the pure-Python store and loop run instead: the same states with
the same ids and the same results, several times slower.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType

SOURCE = Path(__file__).with_name("_records.c")
MODULE = "_gilcheck_records"

_loaded: ModuleType | None = None
_tried = False
why_not: str | None = None  # why the C form is not in use, once tried


def native_module() -> ModuleType | None:
    """The compiled module, built first if needed; None where it cannot be (see `why_not`)."""
    global _loaded, _tried, why_not
    if os.environ.get("GILCHECK_NATIVE", "1") == "0":
        why_not = "GILCHECK_NATIVE=0"
        return None
    if not _tried:
        _tried = True
        try:
            _loaded = _load()
        except (OSError, ImportError, subprocess.SubprocessError) as error:
            why_not = str(error).strip().splitlines()[-1] if str(error).strip() else repr(error)
            _loaded = None
        if _loaded is not None:
            from gilcheck.explore.steptable import _INTERPRET
            from gilcheck.explore.store import StoreFull

            _loaded.configure(StoreFull, _INTERPRET)
    return _loaded


def _load() -> ModuleType:
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    source = SOURCE.read_bytes()
    tag = hashlib.sha256(source + sys.version.encode() + suffix.encode()).hexdigest()[:16]
    folder = _cache_folder()
    target = folder / f"{MODULE}-{tag}{suffix}"
    if not target.exists():
        _compile(target)
    loader = importlib.machinery.ExtensionFileLoader(MODULE, str(target))
    spec = importlib.util.spec_from_file_location(MODULE, target, loader=loader)
    if spec is None:
        raise ImportError(f"cannot load {target}")
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def _cache_folder() -> Path:
    chosen = os.environ.get("GILCHECK_NATIVE_DIR")
    if chosen:
        folder = Path(chosen)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "gilcheck"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    user = os.getuid() if hasattr(os, "getuid") else 0
    fallback = Path(tempfile.gettempdir()) / f"gilcheck-{user}"
    fallback.mkdir(parents=True, exist_ok=True)
    return fallback


def _compile(target: Path) -> None:
    """Build the module into `target` (atomically: concurrent builds each write their own
    file and the last rename wins)."""
    linker = sysconfig.get_config_var("LDSHARED")
    include = sysconfig.get_paths()["include"]
    if not linker or not Path(include, "Python.h").exists():
        raise ImportError("no C compiler setup or Python headers for extension modules")
    handle, partial = tempfile.mkstemp(dir=target.parent, suffix=target.suffix)
    os.close(handle)
    command = [
        *shlex.split(linker),
        "-O2",
        "-fPIC",
        f"-I{include}",
        str(SOURCE),
        "-o",
        partial,
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise ImportError(f"compiling {SOURCE.name} failed: {done.stderr.strip()[-400:]}")
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.unlink(partial)
