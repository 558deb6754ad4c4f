"""How many threads the C loop runs on: a fixed number, or (by default) as many as pay.

With `--threads 0` (the default) the loop may use one thread per usable core, but only
while that is faster than one: threads share the work of a round of states, and each round
waits for its slowest thread, so on a machine whose other processes take the cores, one
thread is faster. So the search measures: it runs on every core, and now and then a run of
states on the other count (one thread, or every core while one is in use); the rate
(states per second) of that run and of the last run before it are compared, and the
faster count is used until the next measurement, which comes later each time the count
in use stays the faster. The states, their ids and the trace are the same
whatever the count (tests/test_threads.py), so only the time changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

MEASURE_AT_LEAST = 1 << 14
"""A run of the C loop counts as a measurement only when it expanded this many states (a
short run, stopped early to let Python make entries, says little about the rate)."""

MEASURE_FIRST = 1 << 18
"""States on every core before the first measurement of one thread."""

MEASURE_EVERY = 1 << 20
"""States between two measurements of the count not in use, at first; the gap doubles each
time the count in use stays faster, up to MEASURE_EVERY_MOST."""

MEASURE_EVERY_MOST = 1 << 23


@dataclass
class ThreadCount:
    """The C loop's thread count for its next run, chosen by measuring when `adaptive`."""

    most: int
    adaptive: bool
    _using: int = field(init=False)
    _rates: dict[int, float] = field(default_factory=dict, init=False)
    _until_measure: int = field(default=MEASURE_FIRST, init=False)
    _every: int = field(default=MEASURE_EVERY, init=False)
    _measuring: bool = field(default=False, init=False)
    _started: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._using = self.most

    def next_run(self) -> int:
        """The thread count for the next run of the C loop (and its clock starts)."""
        self._started = time.perf_counter()
        if self.adaptive and self.most > 1 and self._until_measure <= 0:
            self._measuring = True
            return 1 if self._using > 1 else self.most
        self._measuring = False
        return self._using

    def ran(self, threads: int, expanded: int) -> None:
        """The run just made with `threads` threads expanded `expanded` states."""
        if not self.adaptive or self.most <= 1:
            return
        seconds = time.perf_counter() - self._started
        if expanded >= MEASURE_AT_LEAST and seconds > 0:
            self._rates[threads] = expanded / seconds
        self._until_measure -= expanded
        if self._measuring and expanded >= MEASURE_AT_LEAST:
            other = self._rates.get(threads)
            mine = self._rates.get(self._using)
            if other is not None and mine is not None and other > mine:
                self._using = threads
                self._every = MEASURE_EVERY
            else:
                self._every = min(self._every * 2, MEASURE_EVERY_MOST)
            self._until_measure = self._every

    @property
    def using(self) -> int:
        """The count in use between measurements."""
        return self._using
