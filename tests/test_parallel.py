"""The partitioned search's protocol, driven in this process: the sequential search's trace."""

from __future__ import annotations

import time
from array import array

import pytest
from conftest import ROOT

from gilcheck.explore.bfs import explore
from gilcheck.explore.parallel import Batch, _Level, _Worker, coordinate
from gilcheck.explore.symmetric import reduced_system
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_spec
from gilcheck.system.model import Action, TransitionSystem
from gilcheck.system.state import State


class InProcess:
    """Workers called one after the other, as the coordinator drives Ray actors."""

    def __init__(self, system: TransitionSystem, options: CheckOptions, count: int) -> None:
        self.count = count
        self.workers = [_Worker(i, count, system, options) for i in range(count)]
        for worker in self.workers:
            worker.seed(system.initial_state())

    def level(self) -> list[_Level]:
        expanded = [worker.expand() for worker in self.workers]
        reports: dict[int, _Level] = {}
        for w in reversed(range(self.count)):  # the workers absorb in any order
            batches = [out[w] for _, out in expanded]
            reports[w] = self.workers[w].absorb(expanded[w][0], batches)
        return [reports[w] for w in range(self.count)]

    def number(self, numbers: list[array[int]]) -> None:
        for worker, mine in zip(self.workers, numbers, strict=True):
            worker.numbered(mine)

    def back(self, worker: int, sid: int) -> tuple[int, int, Action | None, State]:
        return self.workers[worker].step_back(sid)

    def edges(self, worker: int) -> tuple[bytes, bytes, bytes, bytes]:
        return self.workers[worker].edges()

    def sizes(self) -> list[tuple[int, int]]:
        return [(len(worker.store), 0) for worker in self.workers]


SPECS = [
    "specs/seed/buggy.gil",
    "specs/semantics/choose_lock_order_buggy.gil",
    "specs/semantics/lost_update_buggy.gil",
    "specs/symmetric/spawned_pool_buggy.gil",
    "tests/cases/scenarios/21_philosophers_buggy.gil",
    "tests/cases/models/pyo3/gil_once_cell_race_assertion.gil",
]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("symmetry", [True, False])
def test_any_number_of_workers_finds_the_sequential_path(spec: str, symmetry: bool) -> None:
    options = CheckOptions(symmetry=symmetry)
    program = analyze_spec(parse_spec(str(ROOT / spec)))
    _, _, system = reduced_system(program, options)
    alone = explore(system, options)
    end = alone.deadlock if alone.deadlock >= 0 else alone.violation_from
    assert end >= 0
    for count in (1, 2, 3, 5):
        shared = coordinate(InProcess(system, options, count), options, time.monotonic(), None)
        found = shared.found
        assert (found.deadlock >= 0) == (alone.deadlock >= 0)
        last = len(found.store) - 1
        assert found.store.path_to(last) == alone.store.path_to(end), count
        assert found.store.states[last] == alone.store.states[end]
        assert found.violation_action == alone.violation_action
        assert found.violation == alone.violation


def test_batches_carry_the_key_of_each_successor() -> None:
    """(state, parent id, the parent's number, the step's place, action, mark)."""
    program = analyze_spec(parse_spec(str(ROOT / "specs/seed/buggy.gil")))
    options = CheckOptions()
    _, _, system = reduced_system(program, options)
    worker = _Worker(0, 1, system, options)
    worker.seed(system.initial_state())
    report, outgoing = worker.expand()
    batch: Batch = outgoing[0]
    assert [(parent, number, place) for _, parent, number, place, _, _ in batch] == [
        (0, 0, place) for place in range(len(batch))
    ]
    worker.absorb(report, outgoing)
    assert list(report.key_parent) == [0] * report.new
