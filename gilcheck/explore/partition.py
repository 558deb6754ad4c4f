"""Which process of a search on several processes owns a state (explore/native_cluster.py).

The owner is a hash of part of the state's control: the places of the threads at some
positions (each thread's status, code, pc and depth), and perhaps the GIL, with stdout and
the end always. A step that changes nothing hashed keeps its successor with the process
that took it; any other step sends the successor to another process (one time in
`count`-1 of `count`) and leaves a copy behind. Hashing every thread and the GIL spreads
the states most evenly but sends almost every state; hashing one thread that seldom
moves sends few but can leave one process with most of the work. `choose` weighs the two
on a sample made on one process before the search proper: its first depths, and random
runs of the program to its end (the later depths, where threads that ran early have
ended or wait, are where a partition can leave one process with most of the work).

The choice changes only which process stores and expands a state, never the states found,
their numbers or the trace (every partition is a function of the state).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

EVERY_POSITION = (1 << 64) - 1
HIGHEST_BIT = 63  # bit 63 stands for every position from 63 on
LARGEST_SUBSET = 3  # subsets of thread positions tried, by size
POSITIONS_TRIED = 12  # the first positions subsets are drawn from
SEND_COST = 1.0  # a step sent to another process, in steps expanded at home
TOLERATED_IMBALANCE = 1.1  # of the last depths sampled: beyond it, a subset is not taken
RECENT_STATES = 256  # per process: the last depths sampled hold at least this many states


@dataclass(frozen=True)
class Partition:
    """What a state's owner hashes: threads at the positions `mask` names (bit i: position
    i; bit 63: positions 63 on), and the GIL if `gil`."""

    mask: int = EVERY_POSITION
    gil: bool = True

    def positions(self) -> tuple[int, ...]:
        """The positions hashed, below 63 (bit 63 stands for every one beyond)."""
        return tuple(i for i in range(HIGHEST_BIT) if self.mask >> i & 1)


EVERY_THREAD = Partition()


@dataclass(frozen=True)
class Sample:
    """What the first depths of a search show of a program's states and steps.

    `changes`: how many sampled steps change exactly these positions (a mask as in
    Partition; bit 63: a position from 63 on, the thread count, stdout or the end, which
    every partition hashes), and whether they change the GIL. `levels`: the records of
    the states sampled, by depth (the last depths the sample reached); `walked`: the
    records of states random runs passed through, by where in its run each was (from
    the start to the end of the program)."""

    changes: dict[tuple[int, bool], int]
    levels: Sequence[Sequence[bytes]]
    positions: int
    walked: Sequence[Sequence[bytes]] = ()


def mask_of(positions: Sequence[int]) -> int:
    """The mask naming these positions."""
    mask = 0
    for position in positions:
        mask |= 1 << min(position, HIGHEST_BIT)
    return mask


def sent_fraction(sample: Sample, partition: Partition, count: int) -> float:
    """The share of the sampled steps whose successor another process would own."""
    total = sum(sample.changes.values())
    if not total or count == 1:
        return 0.0
    always = 1 << HIGHEST_BIT
    moved = sum(
        n
        for (changed, gil), n in sample.changes.items()
        if changed & (partition.mask | always) or (gil and partition.gil)
    )
    return moved / total * (count - 1) / count


Busiest = Callable[[Sequence[Sequence[bytes]], Partition], int]
"""Given depths of records and a partition: the sum over the depths of the most states one
process owns (native_cluster.py counts them in C)."""


def imbalance(
    levels: Sequence[Sequence[bytes]], busiest: Busiest, partition: Partition, count: int
) -> float:
    """The busiest process's share of each depth, over a fair share (1.0: even)."""
    fair = sum(len(level) for level in levels) / count
    return busiest(levels, partition) / fair if fair else 1.0


def recent(levels: Sequence[Sequence[bytes]], states: int) -> Sequence[Sequence[bytes]]:
    """The last depths that hold at least `states` states between them (all if fewer)."""
    held = 0
    for back, level in enumerate(reversed(levels)):
        held += len(level)
        if held >= states:
            return levels[len(levels) - back - 1 :]
    return levels


def choose(sample: Sample, busiest: Busiest, count: int) -> Partition:
    """The partition with the least estimated cost: the busiest process's share times the
    steps it takes and sends. Subsets of up to LARGEST_SUBSET thread positions are tried
    (without the GIL), against every thread and the GIL; one whose last sampled depths,
    or any part of the random runs, are spread worse than TOLERATED_IMBALANCE is not
    taken (a thread that has ended or waits where most states are would put them on one
    process)."""
    if count == 1 or not sample.levels:
        return EVERY_THREAD
    # The same lists of depths for every candidate (busiest may prepare each once).
    last = recent(sample.levels, RECENT_STATES * count)
    parts_of_runs = [[phase] for phase in sample.walked]
    candidates = [EVERY_THREAD, Partition(gil=False)]
    tried = min(sample.positions, POSITIONS_TRIED)
    for size in range(1, min(LARGEST_SUBSET, tried) + 1):
        candidates.extend(Partition(mask_of(s), False) for s in combinations(range(tried), size))
    sends = {p: sent_fraction(sample, p, count) for p in candidates}
    best, best_cost = EVERY_THREAD, float("inf")
    for partition in sorted(candidates, key=lambda p: (sends[p], -p.mask.bit_count())):
        floor = 1 + SEND_COST * sends[partition]
        if floor >= best_cost:
            break  # every later one costs at least this much
        if imbalance(last, busiest, partition, count) > TOLERATED_IMBALANCE:
            continue
        phases = [imbalance(part, busiest, partition, count) for part in parts_of_runs]
        if max(phases, default=1.0) > TOLERATED_IMBALANCE:
            continue
        walked = imbalance(sample.walked, busiest, partition, count)
        cost = max(imbalance(sample.levels, busiest, partition, count), walked) * floor
        if cost < best_cost:
            best, best_cost = partition, cost
    return best
