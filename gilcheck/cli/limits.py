"""What every command shares about its limits: the default memory limit, and the spec
being worked on (for the messages of a stop)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

working_on: list[str] = []  # the spec being read or checked, for messages


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
