"""The live progress line of long checks on a terminal: states, rate, frontier, time, which spec.

The search reports every 1,024 expanded states; the line is redrawn at most ten times a
second, so that drawing never costs the search anything measurable. It is transient:
once a spec is checked the line is erased and the report prints in its place.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.live import Live
from rich.text import Text

from gilcheck.explore import native
from gilcheck.explore.budget import Progress, SearchProgress

REDRAW_INTERVAL = 0.1  # seconds between two redraws at most


def progress_line(spec: str, index: int, total: int, progress: SearchProgress) -> str:
    """`[2/5] 120,000 states (31,000/s), frontier 4,500, 3.9 s  specs/x.gil` (the numbers
    first: a narrow terminal cuts the end of the line)."""
    rate = progress.states / progress.seconds if progress.seconds > 0 else 0.0
    count = f"[{index}/{total}] " if total > 1 else ""
    # Without the C loop (no compiler, or GILCHECK_NATIVE=0) a long search says why.
    slow = f"  (pure Python: {native.why_not})" if native.native_module() is None else ""
    return (
        f"{count}{progress.states:,} states ({rate:,.0f}/s), frontier {progress.frontier:,}, "
        f"{progress.seconds:.1f} s  {spec}{slow}"
    )


class ProgressDisplay:
    """Draws the progress of one spec's check at a time on a console (stderr)."""

    def __init__(self, console: Console, interval: float = REDRAW_INTERVAL) -> None:
        self.console = console
        self.interval = interval
        self.redraws = 0

    @contextmanager
    def spec(self, spec: str, index: int = 1, total: int = 1) -> Iterator[Progress]:
        """The progress callback for checking one spec; the line is erased at the end."""
        last = -self.interval
        live = Live(
            console=self.console,
            auto_refresh=False,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )

        def update(progress: SearchProgress) -> None:
            nonlocal last
            if progress.seconds - last < self.interval:
                return
            last = progress.seconds
            self.redraws += 1
            line = progress_line(spec, index, total, progress)
            live.update(Text(line, no_wrap=True, overflow="ellipsis"), refresh=True)

        with live:
            yield update
