"""CheckOptions: every limit and switch a check runs with (frozen, passed through the pipeline)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal, get_args

# The search strategies (explore/strategies.py builds each): breadth-first, bounded
# depth-first, seeded random walks, and the breadth-first search on several processes or
# on Ray actors.
StrategyName = Literal["bfs", "dfs", "random", "parallel", "ray"]
STRATEGY_NAMES: tuple[StrategyName, ...] = get_args(StrategyName)

MOST_WORKERS = 255
"""The most workers a search on several processes takes (`--workers`; one per core is
capped here): the exchange names a worker in a byte, 255 for none."""


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Limits and switches of one check."""

    # None: no fixed state limit; the memory limit (`max_memory_mb`, by default 70% of the
    # memory this process may use) ends a search that outgrows it.
    max_states: int | None = None
    timeout: float | None = None
    channel_bound: int = 8
    # Objects made at run time alive at once, beyond which a path ends with `bound`.
    object_bound: int = 32
    max_call_depth: int = 64
    merge_local_steps: bool = True  # partial-order reduction: merged local steps, ample sets
    # Persistent (stubborn) sets of threads whose next steps touch objects no other thread
    # can touch first (`--stubborn-sets`): off by default, since they need the interpreter.
    stubborn_sets: bool = False
    symmetry: bool = True  # one state per orbit of permuted symmetric thread arrays
    workers: int = 1  # processes of a hash-partitioned search (1: search in this process)
    # Threads of the C loop in one process (0: up to one per usable core, while that is
    # faster than one: explore/thread_count.py); the same states with the same ids
    # whatever the number.
    threads: int = 0
    backend: str = "processes"  # where the workers run: "processes" (forked) or "ray"
    address: str | None = None  # the Ray cluster to join (None: start a local one)
    spurious_wakeups: bool = False
    step_table: bool = True  # successors patched from a table of each thread's steps
    native: bool = True  # the store and the inner loop in C, where it can be built
    graph_analysis: bool = True  # keep every edge for the stuck and livelock analyses
    # Hash compaction (`--fingerprint`): each state kept as a 64-bit fingerprint, records
    # only until expanded; an `ok` then may miss states (p(miss) is reported) and counts
    # as proved only with `accept_fingerprint` (`--accept-fingerprint`).
    fingerprint: bool = False
    accept_fingerprint: bool = False
    # Peak resident memory of the process, checked as it runs; None: the default memory
    # limit when there is no state limit either, else none.
    max_memory_mb: int | None = None
    # The search strategy; `bfs` with `workers` > 1 or the Ray backend is the parallel or
    # Ray search, as before strategies were named (see `effective_strategy`).
    strategy: StrategyName = "bfs"
    max_depth: int | None = None  # `dfs`: the depth bound; `random`: the steps of a walk
    seed: int = 0  # `random`: the seed of the walks (the same seed, the same walks)
    walks: int = 100  # `random`: how many walks to take

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGY_NAMES:
            raise ValueError(f"unknown search strategy {self.strategy!r}")


def effective_strategy(options: CheckOptions) -> StrategyName:
    """The strategy a check runs: the one named, where `bfs` with the Ray backend is `ray`
    and with several workers `parallel` (the `--workers`/`--backend` options)."""
    if options.strategy == "bfs":
        if options.backend == "ray":
            return "ray"
        if options.workers > 1:
            return "parallel"
    return options.strategy


def search_threads(options: CheckOptions) -> int:
    """How many threads the C loop may use: `threads`, or one per core this process may
    run on."""
    if options.threads > 0:
        return options.threads
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
