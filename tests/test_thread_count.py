"""The C loop's thread count: fixed, or measured as the search runs (`--threads 0`)."""

from __future__ import annotations

import itertools

import pytest

from gilcheck.explore import thread_count
from gilcheck.explore.thread_count import (
    MEASURE_AT_LEAST,
    MEASURE_FIRST,
    MEASURE_RUNS_MOST,
    ThreadCount,
)


class _Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    fake = _Clock()
    monkeypatch.setattr(thread_count.time, "perf_counter", fake)
    return fake


def _run(counter: ThreadCount, clock: _Clock, rates: dict[int, float], states: int) -> int:
    """One run of the C loop of `states` states at the rate its thread count has."""
    threads = counter.next_run()
    clock.now += states / rates[threads]
    counter.ran(threads, states)
    return threads


def test_a_fixed_count_is_kept(clock: _Clock) -> None:
    counter = ThreadCount(4, adaptive=False)
    assert {_run(counter, clock, {4: 1.0, 1: 100.0}, 1 << 16) for _ in range(100)} == {4}


def test_one_core_means_one_thread(clock: _Clock) -> None:
    counter = ThreadCount(1, adaptive=True)
    assert {_run(counter, clock, {1: 1.0}, 1 << 16) for _ in range(100)} == {1}


def test_a_small_model_runs_on_one_thread(clock: _Clock) -> None:
    # Fewer states than the first measurement: the default explores as one thread does.
    counter = ThreadCount(2, adaptive=True)
    used = [_run(counter, clock, {2: 2e6, 1: 1e6}, 1 << 12) for _ in range(MEASURE_FIRST >> 12)]
    assert used == [1] * (MEASURE_FIRST >> 12)


def test_every_core_is_taken_and_kept_while_it_is_faster(clock: _Clock) -> None:
    counter = ThreadCount(2, adaptive=True)
    used = [_run(counter, clock, {2: 2e6, 1: 1e6}, 1 << 16) for _ in range(200)]
    assert used[: MEASURE_FIRST >> 16] == [1] * (MEASURE_FIRST >> 16)
    assert used[MEASURE_FIRST >> 16] == 2  # the first measurement of every core
    assert counter.using == 2
    # The gap between measurements of one thread grows while every core stays the faster.
    ones = [i for i, threads in enumerate(used) if threads == 1][MEASURE_FIRST >> 16 :]
    gaps = [b - a for a, b in itertools.pairwise(ones)]
    assert gaps == sorted(gaps) and gaps[-1] > gaps[0]
    assert used.count(1) < len(used) // 10


def test_one_thread_is_kept_when_the_cores_are_busy(clock: _Clock) -> None:
    # Other processes take the cores: several threads are slower than one.
    counter = ThreadCount(2, adaptive=True)
    used = [_run(counter, clock, {2: 0.7e6, 1: 1e6}, 1 << 16) for _ in range(200)]
    measured = [i for i, threads in enumerate(used) if threads == 2]
    assert measured[0] == MEASURE_FIRST >> 16
    assert counter.using == 1
    # The next measurement comes twice as late each time one thread stays the faster.
    gaps = [b - a for a, b in itertools.pairwise(measured)]
    assert gaps[:4] == [3, 5, 9, 17]  # (the measurement, then 2, 4, 8, 16 runs)
    assert len(measured) < len(used) // 20
    # ...and every core is taken once they are free.
    more = [_run(counter, clock, {2: 2e6, 1: 1e6}, 1 << 16) for _ in range(200)]
    assert counter.using == 2 and more[-1] == 2


def test_a_model_whose_first_depths_favour_one_thread_soon_takes_every_core(
    clock: _Clock,
) -> None:
    # Narrow first depths: every core is slower there, faster later.
    counter = ThreadCount(2, adaptive=True)
    for _ in range(2):
        _run(counter, clock, {2: 0.9e6, 1: 1e6}, 1 << 16)
    used = [_run(counter, clock, {2: 2e6, 1: 1e6}, 1 << 16) for _ in range(8)]
    assert counter.using == 2 and used[-1] == 2  # after 2^18 more states at most


def test_short_runs_are_measured_together(clock: _Clock) -> None:
    # Runs stop early wherever Python makes entries: a measurement adds up consecutive
    # runs, and the measured count runs only for that long.
    short = MEASURE_AT_LEAST // 3
    counter = ThreadCount(4, adaptive=True)
    used = [_run(counter, clock, {4: 4e6, 1: 1e6}, short) for _ in range(1000)]
    assert counter.using == 4
    assert 0 < used.count(1) < len(used) // 20
    counter = ThreadCount(4, adaptive=True)
    used = [_run(counter, clock, {4: 0.5e6, 1: 1e6}, short) for _ in range(1000)]
    assert counter.using == 1 and used[-1] == 1


def test_a_measurement_that_gets_only_tiny_runs_is_given_up(clock: _Clock) -> None:
    counter = ThreadCount(2, adaptive=True)
    for _ in range(MEASURE_FIRST // 1000 + 1):
        _run(counter, clock, {2: 2e6, 1: 1e6}, 1000)
    # The first measurement: 16 runs of 1,000 states are not enough to decide.
    used = [_run(counter, clock, {2: 2e6, 1: 1e6}, 1000) for _ in range(MEASURE_RUNS_MOST)]
    assert used == [2] * MEASURE_RUNS_MOST
    assert counter.using == 1
    assert _run(counter, clock, {2: 2e6, 1: 1e6}, 1000) == 1
