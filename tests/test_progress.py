"""The progress display of long checks: on a terminal only, throttled, with sane numbers."""

from __future__ import annotations

import io
import os
import re
import select
import subprocess
import sys

import pytest
from rich.console import Console

from gilcheck.explore import native
from gilcheck.explore.bfs import SearchProgress
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, parse_spec
from gilcheck.progress import ProgressDisplay, progress_line

# 5,888 states without symmetry and partial-order reduction: the search reports after 1,024
LONG = "bench/models/gil_workers_5.gil"
SEED = "specs/seed/buggy.gil"


def _on_a_terminal(*args: str) -> str:
    """Run gilcheck with stdout and stderr on a pseudo-terminal; what the terminal shows."""
    pty = pytest.importorskip("pty")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "gilcheck.cli", *args],
        stdout=follower,
        stderr=follower,
        env={**os.environ, "COLUMNS": "200", "TERM": "xterm"},
    )
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closes when the process ends
            break
        if not data:
            break
        shown += data
    process.wait(timeout=60)
    os.close(leader)
    return shown.decode(errors="replace")


def test_a_terminal_shows_progress_with_the_spec_number() -> None:
    shown = _on_a_terminal("check", "--no-symmetry", "--no-por", LONG, SEED)
    assert re.search(r"\[1/2\] [0-9,]+ states \([0-9,]+/s\), frontier [0-9,]+, [0-9.]+ s", shown)
    assert LONG in shown
    assert "specs/seed/buggy.gil: deadlock (expected deadlock: matches)" in shown


def test_quiet_hides_the_progress_even_on_a_terminal() -> None:
    shown = _on_a_terminal("check", "--quiet", LONG)
    assert "verdict: deadlock" in shown
    assert "frontier" not in shown


def test_no_progress_when_stderr_is_not_a_terminal(cli) -> None:  # type: ignore[no-untyped-def]
    single = cli("check", LONG)
    assert single.code == 1 and single.stderr == ""
    several = cli("check", LONG, SEED)
    assert several.code == 1 and several.stderr == ""
    assert "frontier" not in single.stdout + several.stdout


def test_the_search_reports_sane_numbers() -> None:
    seen: list[SearchProgress] = []
    # One thread: where the C loop may use several, it runs up to 65,536 states between
    # looks (bfs.NATIVE_RUN).
    options = CheckOptions(symmetry=False, merge_local_steps=False, threads=1)
    result = check_spec(parse_spec(LONG), options, seen.append)
    assert len(seen) >= 2
    for k, progress in enumerate(seen, start=1):
        # Every state found is expanded or waits in the frontier; the search reports
        # after each 1,024 expansions.
        assert progress.states - progress.frontier == 1024 * k
        assert 0 < progress.frontier < progress.states <= result.stats.states
        assert progress.transitions >= 1024 * k - 1
    assert [p.seconds for p in seen] == sorted(p.seconds for p in seen)
    assert [p.states for p in seen] == sorted({p.states for p in seen})


def test_the_display_redraws_at_most_ten_times_a_second_and_erases_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(native, "native_module", lambda: object())  # the C loop is there
    screen = io.StringIO()
    display = ProgressDisplay(Console(file=screen, force_terminal=True, width=200))
    with display.spec("specs/x.gil", 2, 5) as update:
        for ms in range(2001):  # a report every millisecond for two seconds
            update(SearchProgress(1024 * (ms + 1), 2048 * (ms + 1), 10, ms / 1000))
    assert 20 <= display.redraws <= 21
    shown = screen.getvalue()
    assert "[2/5] 1,024 states (0/s), frontier 10, 0.0 s  specs/x.gil" in shown
    assert "[2/5] 103,424 states (1,034,240/s), frontier 10, 0.1 s  specs/x.gil" in shown
    assert shown.endswith("\x1b[1A\x1b[2K")  # the line is erased when the spec is done


def test_the_progress_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "native_module", lambda: object())  # the C loop is there
    line = progress_line("specs/x.gil", 3, 12, SearchProgress(120_000, 300_000, 4_500, 4.0))
    assert line == "[3/12] 120,000 states (30,000/s), frontier 4,500, 4.0 s  specs/x.gil"
    alone = progress_line("x.gil", 1, 1, SearchProgress(10, 9, 0, 0.0))
    assert alone == "10 states (0/s), frontier 0, 0.0 s  x.gil"


def test_the_progress_line_says_when_the_search_runs_in_pure_python(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GILCHECK_NATIVE", "0")
    line = progress_line("x.gil", 1, 1, SearchProgress(10, 9, 0, 1.0))
    assert line == "10 states (10/s), frontier 0, 1.0 s  x.gil  (pure Python: GILCHECK_NATIVE=0)"
