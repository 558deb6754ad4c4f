"""CheckOptions: every limit and switch a check runs with (frozen, passed through the pipeline)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CheckOptions:
    """Limits and switches of one check."""

    max_states: int = 5_000_000
    timeout: float | None = None
    channel_bound: int = 8
    max_call_depth: int = 64
    merge_local_steps: bool = True  # partial-order reduction: merged local steps, ample sets
    symmetry: bool = True  # one state per orbit of permuted symmetric thread arrays
    workers: int = 1  # processes of a hash-partitioned search (1: search in this process)
    backend: str = "processes"  # where the workers run: "processes" (forked) or "ray"
    address: str | None = None  # the Ray cluster to join (None: start a local one)
    spurious_wakeups: bool = False
    step_table: bool = True  # successors patched from a table of each thread's steps
    native: bool = True  # the store and the inner loop in C, where it can be built
    graph_analysis: bool = True  # keep every edge for the stuck and livelock analyses
    max_memory_mb: int | None = None  # peak resident memory of the process, checked as it runs
