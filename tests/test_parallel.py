"""The partitioned search's protocol, driven in this process (workers called in turn, and
the Ray backend on a stand-in for Ray): the sequential search's trace."""

from __future__ import annotations

import sys
import time
import types
from array import array
from typing import Any

import pytest
from conftest import ROOT

from gilcheck.explore.bfs import explore
from gilcheck.explore.budget import Budget
from gilcheck.explore.distributed import explore_ray
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
        shared = coordinate(InProcess(system, options, count), options, Budget(options))
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


class _Ref:
    """A finished task's result, as Ray's object references name them."""

    def __init__(self, value: object) -> None:
        self.value = value


class _Method:
    def __init__(self, bound: Any, returns: int = 1) -> None:
        self.bound = bound
        self.returns = returns

    def options(self, num_returns: int) -> _Method:
        return _Method(self.bound, num_returns)

    def remote(self, *args: object) -> Any:
        # Tasks run at once, in the order they are called (Ray runs one caller's calls on
        # an actor in order).
        value = self.bound(*(a.value if isinstance(a, _Ref) else a for a in args))
        return _Ref(value) if self.returns == 1 else [_Ref(v) for v in value]


class _Actor:
    def __init__(self, body: object) -> None:
        self.body = body

    def __getattr__(self, name: str) -> _Method:
        return _Method(getattr(self.body, name))


class _FakeRay(types.ModuleType):
    """Just what distributed.py calls of Ray, run in this process."""

    def __init__(self) -> None:
        super().__init__("ray")

    def is_initialized(self) -> bool:
        return True

    def remote(self, num_cpus: int) -> Any:
        def wrap(cls: Any) -> Any:
            return types.SimpleNamespace(remote=lambda *args: _Actor(cls(*args)))

        return wrap

    def get(self, refs: Any) -> Any:
        return [r.value for r in refs] if isinstance(refs, list) else refs.value

    def wait(self, refs: list[_Ref], num_returns: int, timeout: float) -> Any:
        return refs, []  # the tasks ran at once

    def kill(self, actor: _Actor) -> None:
        raise AssertionError("no actor is killed in a search within its limits")


class _StuckRay(_FakeRay):
    """Ray whose tasks never finish within a wait: a depth that takes for ever."""

    def __init__(self) -> None:
        super().__init__()
        self.killed: list[_Actor] = []

    def wait(self, refs: list[_Ref], num_returns: int, timeout: float) -> Any:
        time.sleep(timeout)
        return [], refs

    def kill(self, actor: _Actor) -> None:
        self.killed.append(actor)


def test_the_ray_backend_keeps_the_time_limit_within_a_depth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stuck = _StuckRay()
    monkeypatch.setitem(sys.modules, "ray", stuck)
    options = CheckOptions(timeout=0.5)
    program = analyze_spec(parse_spec(str(ROOT / SPECS[0])))
    started = time.monotonic()
    result = explore_ray(program, options, 2, None)
    assert result.found.stopped == "the time limit of 0.5 s"
    assert time.monotonic() - started < 5 and len(stuck.killed) == 2


@pytest.mark.parametrize("spec", SPECS[:4])
def test_the_ray_backend_finds_the_sequential_path(
    spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", _FakeRay())
    options = CheckOptions()
    program = analyze_spec(parse_spec(str(ROOT / spec)))
    alone = explore(reduced_system(program, options)[2], options)
    end = alone.deadlock if alone.deadlock >= 0 else alone.violation_from
    found = explore_ray(program, options, 3, None).found
    last = len(found.store) - 1
    assert found.store.path_to(last) == alone.store.path_to(end)
    assert found.violation == alone.violation
