"""How many threads the C loop runs on: a fixed number, or (by default) as many as pay.

With `--threads 0` (the default) the loop may use one thread per usable core, but only
while that is faster than one: threads share the work of a round of states, and each round
waits for its slowest thread, so on a small model, or on a machine whose other processes
take the cores, one thread is faster. So the search measures: it starts on one thread (a
model of fewer than MEASURE_FIRST states is explored as `--threads 1` explores it), and now
and then runs of the C loop on the other count (every core while one thread is in use, or
one thread) adding up to MEASURE_AT_LEAST states; their rate (states per second) and that
of the runs just before them are compared, and the faster count is used until the next
measurement, which comes later each time the count in use stays the faster. The states,
their ids and the trace are the same whatever the count (tests/test_threads.py), so only
the time changes.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

MEASURE_AT_LEAST = 1 << 14
"""A rate is measured over at least this many states: over consecutive runs of the C loop
(a run stops early wherever Python makes entries, and at each depth's end)."""

MEASURE_RUNS_MOST = 16
"""Runs of the other count, at most, before a measurement that has not reached
MEASURE_AT_LEAST states is given up (the count in use stays)."""

SWITCH_MARGIN = 1.15
"""The other count is taken when its rate beats the count in use by this factor: a run's
rate varies (the index grows in some runs), and a switch on noise costs more than it
saves."""

MEASURE_FIRST = 1 << 16
"""States on one thread before the first measurement of every core; while one thread stays
the faster, the gap to the next measurement doubles from here (a model's first depths are
narrow, and there threads gain least), up to MEASURE_EVERY_MOST."""

MEASURE_EVERY = 1 << 20
"""States between two measurements of one thread once every core is in use, at first; the
gap doubles each time every core stays the faster, up to MEASURE_EVERY_MOST."""

MEASURE_EVERY_MOST = 1 << 23


@dataclass
class _Rate:
    """States and seconds of consecutive runs with one count (with `window`, only the last
    runs that together reach MEASURE_AT_LEAST states are kept)."""

    window: bool = False
    states: int = 0
    seconds: float = 0.0
    runs: deque[tuple[int, float]] = field(default_factory=deque)

    def add(self, states: int, seconds: float) -> None:
        self.states += states
        self.seconds += seconds
        self.runs.append((states, seconds))
        while self.window and self.states - self.runs[0][0] >= MEASURE_AT_LEAST:
            dropped, took = self.runs.popleft()
            self.states -= dropped
            self.seconds -= took

    @property
    def per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0


@dataclass
class ThreadCount:
    """The C loop's thread count for its next run, chosen by measuring when `adaptive`."""

    most: int
    adaptive: bool
    _using: int = field(init=False)
    # the count in use, lately
    _recent: _Rate = field(default_factory=lambda: _Rate(window=True), init=False)
    _other: _Rate | None = field(default=None, init=False)  # the measurement under way
    _until_measure: int = field(default=MEASURE_FIRST, init=False)
    _every: int = field(default=MEASURE_FIRST, init=False)
    _started: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._using = 1 if self.adaptive else self.most

    def _measured(self) -> int:
        """The count a measurement runs with: the other one."""
        return 1 if self._using > 1 else self.most

    def next_run(self) -> int:
        """The thread count for the next run of the C loop (and its clock starts)."""
        self._started = time.perf_counter()
        if self.adaptive and self.most > 1 and self._until_measure <= 0:
            if self._other is None:
                self._other = _Rate()
            return self._measured()
        return self._using

    def ran(self, threads: int, expanded: int) -> None:
        """The run just made with `threads` threads expanded `expanded` states."""
        if not self.adaptive or self.most <= 1:
            return
        seconds = time.perf_counter() - self._started
        if self._other is None or threads == self._using:
            self._until_measure -= expanded
            self._recent.add(expanded, seconds)
            return
        self._other.add(expanded, seconds)
        if self._other.states < MEASURE_AT_LEAST and len(self._other.runs) < MEASURE_RUNS_MOST:
            return
        other, mine = self._other, self._recent
        self._other = None
        if (
            other.states >= MEASURE_AT_LEAST
            and mine.states > 0
            and other.per_second > mine.per_second * SWITCH_MARGIN
        ):
            self._using = threads
            self._every = MEASURE_EVERY
            self._recent = _Rate(window=True)
            for states, took in other.runs:
                self._recent.add(states, took)
        else:
            self._every = min(self._every * 2, MEASURE_EVERY_MOST)
        self._until_measure = self._every

    @property
    def using(self) -> int:
        """The count in use between measurements."""
        return self._using
