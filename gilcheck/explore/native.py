"""The C form of the store's records and of the search's inner loop, if it was built.

`_records.c` is compiled when gilcheck is built and installed (see `setup.py`), into the
extension module `gilcheck.explore._records`. Nothing is compiled or loaded at run time
from a cache or a temporary folder. Where the build had no compiler, or with
`GILCHECK_NATIVE=0`, the pure-Python store and loop run instead: the same states with the
same ids and the same results, several times slower.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

MODULE = "gilcheck.explore._records"

_loaded: ModuleType | None = None
_tried = False
why_not: str | None = None  # why the C form is not in use, once tried


def native_module() -> ModuleType | None:
    """The compiled module, or None where it is not in use (see `why_not`)."""
    global _loaded, _tried, why_not
    if os.environ.get("GILCHECK_NATIVE", "1") == "0":
        why_not = "GILCHECK_NATIVE=0"
        return None
    if not _tried:
        _tried = True
        _loaded = _load()
    return _loaded


def _load() -> ModuleType | None:
    global why_not
    try:
        module = importlib.import_module(MODULE)
    except ModuleNotFoundError:
        why_not = "the C extension was not built when gilcheck was installed"
        return None
    except Exception as error:  # a broken build: ImportError, SystemError, ...
        why_not = f"the C extension does not load: {type(error).__name__}: {error}"
        return None
    if not _is_ours(module):
        why_not = "the C extension is not gilcheck's own"
        return None
    configure = module.configure
    from gilcheck.explore.steptable import _INTERPRET
    from gilcheck.explore.store import StoreFull

    try:
        configure(StoreFull, _INTERPRET)
    except Exception as error:
        why_not = f"the C extension does not start: {type(error).__name__}: {error}"
        return None
    return module


def _is_ours(module: ModuleType) -> bool:
    """Whether a module loaded as the extension is gilcheck's own (not a stray file)."""
    return hasattr(module, "configure") and hasattr(module, "Records")


def engine_description() -> str:
    """Which form of the search runs here, in words: for `--version` and JSON `engine`.
    Before a search has loaded the extension (`--version`), it is looked at without being
    started, which would load the whole search."""
    if not _tried and os.environ.get("GILCHECK_NATIVE", "1") != "0":
        try:
            module = importlib.import_module(MODULE)
        except Exception:  # a missing or broken build: say why, as a search would
            return f"pure Python ({why_not})" if native_module() is None else "C extension"
        if _is_ours(module):
            return "C extension"
    if native_module() is not None:
        return "C extension"
    return f"pure Python ({why_not})"
