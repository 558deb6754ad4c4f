"""How much memory this process holds: now, and at its peak.

Portable: `/proc` on Linux, `resource` on the other Unix systems, psutil where neither
exists (Windows). Nothing here is imported at start-up unless a limit is checked.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def _resource() -> Any | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource


def _psutil_process() -> Any | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process(os.getpid())


def resident_bytes() -> int:
    """The process's resident memory now (Linux, psutil), else its peak so far; 0 where
    nothing tells."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _page_size()
    except (OSError, ValueError, IndexError):
        pass
    process = _psutil_process()
    if process is not None:
        return int(process.memory_info().rss)
    return peak_resident_bytes()


def peak_resident_bytes() -> int:
    """The process's peak resident memory so far; 0 where nothing tells."""
    resource = _resource()
    if resource is not None:
        peak = int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
        return peak if sys.platform == "darwin" else peak * 1024  # KiB on Linux and BSDs
    process = _psutil_process()
    if process is not None:
        info = process.memory_info()
        return int(getattr(info, "peak_wset", info.rss))
    return 0


_PAGE: list[int] = []


def _page_size() -> int:
    if not _PAGE:
        _PAGE.append(os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096)
    return _PAGE[0]
