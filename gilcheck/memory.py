"""How much memory this process holds: now, and at its peak.

Portable: `/proc` on Linux, `resource` on the other Unix systems, psutil where neither
exists (Windows). Nothing here is imported at start-up unless a limit is checked.
"""

from __future__ import annotations

import _thread
import contextlib
import functools
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any


def _resource() -> Any | None:
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    return resource


def _psutil_process(pid: int | None = None) -> Any | None:
    """psutil's view of a process (this one by default); None without psutil, or where
    the process is gone or not ours to read."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        return psutil.Process(os.getpid() if pid is None else pid)
    except psutil.Error:
        return None


def _current_rss(pid: int | None = None) -> int | None:
    """A process's resident memory now (this one by default), from /proc or psutil; None
    where neither tells."""
    try:
        with open(f"/proc/{'self' if pid is None else pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _page_size()
    except (OSError, ValueError, IndexError):
        pass
    process = _psutil_process(pid)
    if process is None:
        return None
    import psutil  # (there: _psutil_process found it)

    try:
        return int(process.memory_info().rss)
    except psutil.Error:  # the process ended meanwhile
        return None


def resident_bytes() -> int:
    """The process's resident memory now (Linux, psutil), else its peak so far; 0 where
    nothing tells."""
    now = _current_rss()
    return peak_resident_bytes() if now is None else now


def resident_bytes_of(pid: int) -> int:
    """Another process's resident memory now (Linux, psutil); 0 where nothing tells (or
    the process is gone)."""
    return _current_rss(pid) or 0


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


@functools.cache
def _page_size() -> int:
    return os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class MemoryWatch:
    """Watches the process's resident memory from a thread of its own and, while it is above
    `limit` bytes, interrupts the main thread (a KeyboardInterrupt there) and remembers why:
    so a limit also ends work that never reaches a periodic check (reading a huge spec,
    expanding one enormous state). An interrupt can be lost (raised where Python ignores
    it, in a finalizer), so it is repeated every `repeat` seconds until `stop()`."""

    def __init__(
        self, limit: int, describe: str, interval: float = 0.05, repeat: float = 1.0
    ) -> None:
        self.limit = limit
        self.describe = describe  # e.g. "the memory limit of 1,024 MB"
        self.interval = interval
        self.repeat = repeat
        self.fired = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> MemoryWatch:
        """Start watching (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="gilcheck-memory", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (what it found is kept)."""
        self._stop.set()

    def _run(self) -> None:
        last = -self.repeat
        while not self._stop.wait(self.interval):
            now = time.monotonic()
            if now - last >= self.repeat and resident_bytes() > self.limit:
                self.fired = True
                last = now
                if not self._stop.is_set():
                    _interrupt_main()


def _interrupt_main() -> None:
    """A KeyboardInterrupt in the main thread, through a signal Python handles: SIGTERM when
    gilcheck's handler is installed (SIGINT is ignored in background jobs), else SIGINT."""
    terminate = getattr(signal, "SIGTERM", None)
    if terminate is not None and callable(signal.getsignal(terminate)):
        _thread.interrupt_main(terminate)
    else:
        _thread.interrupt_main()


_current: list[MemoryWatch] = []
WATCH_HEADROOM = 64 * 1024 * 1024


def watch_memory(limit_mb: int | None) -> MemoryWatch | None:
    """Watch this process against `limit_mb` megabytes from now on (None: no watch); the
    watch in force before, and what it found, are dropped."""
    for old in _current:
        old.stop()
    _current.clear()
    if not limit_mb:
        return None
    # A limit below what the process already holds (gilcheck itself takes 40-60 MB) is
    # left to the search's own periodic check, which reports what it explored: the watch
    # allows some growth past the current footprint first.
    limit = max(limit_mb * 1024 * 1024, resident_bytes() + WATCH_HEADROOM)
    watch = MemoryWatch(limit, f"the memory limit of {limit_mb:,} MB").start()
    _current.append(watch)
    return watch


def pause_memory_watch() -> None:
    """Stop interrupting (the work the limit covers is over), keeping what was found."""
    for watch in _current:
        watch.stop()


def memory_limit_reason() -> str | None:
    """Why the main thread was interrupted by the memory watch in force, if it was."""
    return next((w.describe for w in _current if w.fired), None)


def default_memory_limit_mb() -> int | None:
    """70% of the memory this process may use: the machine's, or its cgroup's if lower."""
    limits = []
    with contextlib.suppress(ValueError, OSError, AttributeError):
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            limits.append(int(text))
    return int(min(limits) * 0.7) // (1024 * 1024) if limits else None
