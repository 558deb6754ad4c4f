"""The budget every search strategy runs within: its limits, its progress display, and how
it is interrupted.

One `Budget` per search: it starts the clock and notes the memory in use when made, and
answers "must the search stop now, and why" in the words the reports print (the time,
memory and state limits). Strategies ask it at their own cadence (the breadth-first
search every 1024 states and every half second, the parallel search every depth); a
progress callback may raise `StopSearch` (Ctrl-C, SIGTERM), which a strategy turns into
`interrupted()`.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gilcheck.explore.store import StoreFull
from gilcheck.memory import (
    default_memory_limit_mb,
    memory_limit_reason,
    peak_resident_bytes,
    resident_bytes,
)
from gilcheck.options import CheckOptions

if TYPE_CHECKING:
    from gilcheck.explore.exploration import Exploration


class StopSearch(Exception):
    """Raised by a progress callback to end the search early (Ctrl-C, SIGTERM)."""


@dataclass(frozen=True, slots=True)
class SearchProgress:
    """How far a search has come: what a progress display shows."""

    states: int  # states found so far
    transitions: int  # transitions of the states expanded so far
    frontier: int  # states found but not expanded yet
    seconds: float  # since the search started


Progress = Callable[[SearchProgress], None]


def search_memory_limit_mb(options: CheckOptions) -> int | None:
    """The memory limit, in megabytes, a search with these options runs under: the one
    given, or with neither it nor a state limit given the default (a search always has a
    limit); None for none."""
    if options.max_memory_mb is None and options.max_states is None:
        return default_memory_limit_mb()
    return options.max_memory_mb


class Budget:
    """The limits of one search (states, time, memory), its progress callback and its clock."""

    def __init__(self, options: CheckOptions, progress: Progress | None = None) -> None:
        self.started = time.monotonic()
        self.resident_before, self.peak_before = resident_bytes(), peak_resident_bytes()
        self.options = options
        self.progress = progress
        self.max_states = options.max_states
        self.deadline = self.started + options.timeout if options.timeout else None
        memory_mb = search_memory_limit_mb(options)
        self.max_memory_mb = memory_mb
        self.max_memory = memory_mb * 1024 * 1024 if memory_mb else None

    def report(self, states: int, transitions: int, frontier: int) -> float:
        """Show progress (when there is a display); the time now."""
        now = time.monotonic()
        if self.progress is not None:
            self.progress(SearchProgress(states, transitions, frontier, now - self.started))
        return now

    def out_of_time(self, now: float) -> str | None:
        """The time limit, when it has passed."""
        if self.deadline is not None and now > self.deadline:
            return f"the time limit of {self.options.timeout:g} s"
        return None

    def out_of_memory(self, used: int | None = None, where: str = "") -> str | None:
        """The memory limit, when `used` bytes (by default this process's resident memory)
        exceed it; `where` says whose memory was counted."""
        if self.max_memory is None:
            return None
        if (resident_bytes() if used is None else used) > self.max_memory:
            return f"the memory limit of {self.max_memory_mb:,} MB{where}"
        return None

    def out_of_states(self, states: int) -> str | None:
        """The state limit, when `states` states have reached it."""
        if self.max_states is not None and states >= self.max_states:
            return f"the state limit of {self.max_states:,} states"
        return None

    def checkpoint(self, states: int, transitions: int, frontier: int) -> str | None:
        """Show progress; why the search must stop now (time, memory), if it must."""
        now = self.report(states, transitions, frontier)
        return self.out_of_time(now) or self.out_of_memory()

    @contextmanager
    def guarded(self, found: Exploration, pause_collector: bool = True) -> Iterator[None]:
        """Run a search loop: an interruption, the memory limit or a full store ends it, with
        `found.stopped` saying which. With `pause_collector`, the garbage collector is off
        meanwhile: the search makes no reference cycles, but millions of long-lived objects
        (the store's pools, the step table) that the collector would walk again and again."""
        collecting = pause_collector and gc.isenabled()
        if collecting:
            gc.disable()
        try:
            yield
        except (StopSearch, KeyboardInterrupt):
            found.stopped = self.interrupted()
        except MemoryError:
            found.stopped = "the memory limit"
        except StoreFull as full:
            found.stopped = f"the state store's capacity: {full}"
        finally:
            if collecting:
                gc.enable()

    @staticmethod
    def interrupted() -> str:
        """Why a search that was interrupted stopped (the memory watch may have done it)."""
        return memory_limit_reason() or "an interruption (Ctrl-C or SIGTERM)"

    def seconds(self) -> float:
        """Seconds since the search started."""
        return time.monotonic() - self.started

    def memory_growth(self) -> int:
        """How much the resident memory grew during the search: to the process's peak when
        this search raised it, else (an earlier run in this process peaked higher) to now."""
        peak = peak_resident_bytes()
        grown = peak if peak > self.peak_before else resident_bytes()
        return max(0, grown - self.resident_before)
