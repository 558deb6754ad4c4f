"""Workers on records (explore/native_cluster.py): the search on several processes with the
C loop in each and records exchanged, driven in this process (so that 8 and 32 workers,
each with its own numbers for threads and parts, exchange batches as processes would),
and through the CLI (`--workers`)."""

from __future__ import annotations

import json
import os
import signal
import struct
import time
from array import array
from typing import Any

import pytest
from conftest import ROOT

from gilcheck.explore import native_cluster, parallel
from gilcheck.explore.bfs import explore
from gilcheck.explore.budget import Budget
from gilcheck.explore.native import native_module
from gilcheck.explore.parallel import (
    WorkerFailed,
    _Level,
    coordinate,
    explore_parallel,
    new_worker,
    plan_partition,
)
from gilcheck.explore.partition import EVERY_THREAD, Partition, mask_of
from gilcheck.explore.symmetric import reduced_system
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, parse_spec
from gilcheck.system.model import TransitionSystem
from gilcheck.system.state import S_THREADS, T_STATUS

pytestmark = pytest.mark.skipif(native_module() is None, reason="needs the C extension")


class InProcess:
    """Workers called one after the other, as the coordinator drives processes. With
    `shift`, worker i first numbers i made-up threads and parts, so that no two workers
    number a thread alike and every record must be translated."""

    def __init__(
        self,
        system: TransitionSystem,
        options: CheckOptions,
        count: int,
        shift: bool = False,
        partition: Partition | None = None,
    ) -> None:
        self.count = count
        if partition is None:
            partition = plan_partition(system, options, count)
        self.workers: list[Any] = [
            new_worker(i, count, system, options, partition) for i in range(count)
        ]
        initial = system.initial_state()
        for i, worker in enumerate(self.workers):
            if shift:  # a thread and a part no state has, numbered first
                for k in range(i):
                    thread = initial[S_THREADS][0]
                    made_up = (*thread[:T_STATUS], ("made up", k), *thread[T_STATUS + 1 :])
                    worker.store.thread_number(made_up)
                    worker.store.part_number(("made up", i, k))
            worker.seed(initial)
        self.batches: list[Any] = []

    def level(self) -> list[_Level]:
        expanded = [worker.expand() for worker in self.workers]
        self.batches = [out for _, out in expanded]
        reports: dict[int, _Level] = {}
        for w in reversed(range(self.count)):  # in any order
            reports[w] = self.workers[w].absorb(expanded[w][0], [out[w] for _, out in expanded])
        return [reports[w] for w in range(self.count)]

    def number(self, numbers: list[array[int]]) -> None:
        for worker, mine in zip(self.workers, numbers, strict=True):
            worker.numbered(mine)

    def back(self, worker: int, sid: int) -> Any:
        return self.workers[worker].step_back(sid)

    def edges(self, worker: int) -> tuple[bytes, bytes, bytes, bytes]:
        return self.workers[worker].edges()  # type: ignore[no-any-return]

    def sizes(self) -> list[tuple[int, int]]:
        return [(len(worker.store), 0) for worker in self.workers]

    def call(self, worker: int, method: str, *args: Any) -> Any:
        return getattr(self.workers[worker], method)(*args)


SPECS = [
    "specs/seed/buggy.gil",
    "specs/seed/fixed.gil",
    "specs/semantics/choose_lock_order_buggy.gil",
    "specs/semantics/choose_lock_order_fixed.gil",
    "specs/semantics/lost_update_buggy.gil",
    "specs/semantics/double_release_buggy.gil",
    "specs/progress/stuck_worker_buggy.gil",
    "specs/progress/polite_spin_buggy.gil",
    "specs/cookbook/09_timeout_retry_buggy.gil",
    "tests/cases/scenarios/21_philosophers_buggy.gil",
]


def _system(spec: str, options: CheckOptions) -> TransitionSystem:
    program = analyze_spec(parse_spec(str(ROOT / spec)))
    return reduced_system(program, options)[2]


def _edges(graph: Any) -> list[tuple[int, int]]:
    n, starts, targets = graph
    out = []
    for s in range(n):
        end = starts[s + 1] if s + 1 < n else len(targets)
        out.extend((s, t) for t in targets[starts[s] : end])
    return sorted(out)


@pytest.mark.parametrize("spec", SPECS)
def test_workers_on_records_find_what_one_process_finds(spec: str) -> None:
    options = CheckOptions(symmetry=False)
    system = _system(spec, options)
    assert native_cluster.supports(system, options)
    alone = explore(system, options)
    end = alone.deadlock if alone.deadlock >= 0 else alone.violation_from
    one_thread = Partition(mask_of([0]), gil=False)  # most steps stay where they are found
    beyond = Partition(mask_of([63]), gil=True)  # no thread hashed: all on one process
    for count, shift, partition in (
        (1, False, None),
        (2, True, None),
        (2, True, EVERY_THREAD),
        (3, True, one_thread),
        (8, True, None),
        (8, False, beyond),
        (32, True, EVERY_THREAD),
    ):
        cluster = InProcess(system, options, count, shift, partition)
        assert all(isinstance(w, native_cluster.NativeWorker) for w in cluster.workers)
        shared = coordinate(cluster, options, Budget(options))
        found = shared.found
        if end >= 0:  # the same shortest trace, step by step, and the same violation
            last = len(found.store) - 1
            assert (found.deadlock >= 0) == (alone.deadlock >= 0), count
            assert found.store.path_to(last) == alone.store.path_to(end), count
            assert found.store.states[last] == alone.store.states[end], count
            assert found.violation == alone.violation, count
        else:  # the same states, and the same graph by number
            assert shared.states == len(alone.store), count
            assert alone.edges is not None and shared.graph is not None
            assert _edges(shared.graph) == sorted(
                zip(alone.edges.src, alone.edges.dst, strict=True)
            ), count


def test_records_travel_translated_between_workers() -> None:
    """Batches are bytes; a worker that numbers threads differently still stores each
    state once (every state sent is a record translated to its own numbers)."""
    options = CheckOptions(symmetry=False)
    system = _system("specs/semantics/choose_lock_order_fixed.gil", options)
    cluster = InProcess(system, options, 3, shift=True)
    shared = coordinate(cluster, options, Budget(options))
    assert shared.states == len(explore(system, options).store)
    assert sum(sent for _, sent in shared.rounds) > 0
    for worker in cluster.workers:
        for sender, received in enumerate(worker.received):
            if sender != worker.index and received:
                assert list(worker.thread_map[sender]) != list(
                    range(len(worker.thread_map[sender]))
                )
    for outgoing in cluster.batches:
        assert all(isinstance(b if isinstance(b, bytes) else b[2], bytes) for b in outgoing)
    # Every state stored once across the workers as its owner's, besides the copies sent.
    copies = sum(len(sent) for w in cluster.workers for sent in w.sent)
    assert copies > 0
    assert sum(len(w.store) for w in cluster.workers) - copies == shared.states


def test_a_state_limit_and_a_stop_are_kept() -> None:
    options = CheckOptions(symmetry=False, max_states=10)
    system = _system("specs/semantics/choose_lock_order_fixed.gil", options)
    shared = coordinate(InProcess(system, options, 4, True), options, Budget(options))
    assert shared.found.stopped is not None and "10" in shared.found.stopped


def test_malformed_batches_are_refused() -> None:
    module = native_module()
    assert module is not None
    records = module.Records()
    records.intern(b"\x00\x00" + bytes(17), -1, -1)
    places = array("i")
    with pytest.raises(ValueError, match="malformed"):
        records.merge([(1, b"\x01\x00\x00\x00", array("i"), array("i"))], 0, places)
    with pytest.raises(ValueError, match="maps"):
        records.merge([(0, b"\x00" * 8, array("i"), array("i"))], 0, places)
    with pytest.raises(ValueError, match="no such range"):
        records.split(5, 0, 2, array("Q"), array("q"))
    with pytest.raises(ValueError, match="without a key or a parent"):
        records.split(0, 0, 1, array("Q"), array("q", [0]))  # the initial state: no parent
    batches, got = records.split(1, 0, 2, array("Q"), array("q", [0]))
    assert batches == [b"\x00" * 8] * 2 and got == b""
    # a record naming a thread the sender never told of
    record = b"\x01\x00" + bytes(21)
    batch = struct.pack("<IIIqqii", 1, len(record), len(record), 0, 0, 0, 0) + record
    with pytest.raises(ValueError, match="unknown number"):
        records.merge([(1, batch, array("i"), array("i", [0]))], 0, places)
    assert len(records) == 1
    # what a batch names that its receiver was not told of: once
    told_threads, told_parts = bytearray(1), bytearray(2)
    assert module.untold(batch, told_threads, told_parts) == (
        array("I", [0]).tobytes(),
        array("I", [0]).tobytes(),
    )
    assert module.untold(batch, told_threads, told_parts) == (b"", b"")
    with pytest.raises(ValueError, match="beyond"):
        module.untold(batch, bytearray(), bytearray(1))
    numbers = array("q", [5, 6, 7])
    assert module.gather(numbers, array("i", [2, 0])) == array("q", [7, 5]).tobytes()
    module.scatter(numbers, array("i", [1]), array("q", [9]))
    assert list(numbers) == [5, 9, 7]
    with pytest.raises(IndexError):
        module.gather(numbers, array("i", [3]))
    with pytest.raises(ValueError):
        module.scatter(numbers, array("i", [0, 1]), array("q", [1]))


@pytest.mark.parametrize("spec", ["specs/seed/buggy.gil", "specs/progress/polite_spin_buggy.gil"])
def test_workers_give_the_one_process_report_through_the_cli(cli: Any, spec: str) -> None:
    alone = json.loads(cli("check", "-f", "json", "--no-symmetry", spec).stdout)
    shared = cli("check", "-f", "json", "--no-symmetry", "--workers", "3", spec)
    on_three = json.loads(shared.stdout)
    assert on_three["verdict"] == alone["verdict"]
    assert on_three["steps"] == alone["steps"]
    assert shared.code == (1 if alone["verdict"] != "ok" else 0)


def _failing_expand(error: BaseException) -> Any:
    """An `expand` that fails in worker 1 (forked workers take it with them)."""
    real = native_cluster.NativeWorker.expand

    def expand(self: Any) -> Any:
        if self.index == 1:
            raise error
        return real(self)

    return expand


def test_a_worker_that_fails_ends_the_search_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The others wait for its batches: the first failure is read whatever the order, and
    the workers are stopped (no hang); a bug is raised, a lack of memory is a limit."""
    options = CheckOptions(symmetry=False)
    system = _system("specs/semantics/choose_lock_order_fixed.gil", options)
    monkeypatch.setattr(native_cluster.NativeWorker, "expand", _failing_expand(KeyError("x")))
    with pytest.raises(WorkerFailed, match="KeyError"):
        explore_parallel(system, options, 3, Budget(options))
    monkeypatch.setattr(native_cluster.NativeWorker, "expand", _failing_expand(MemoryError()))
    stopped = explore_parallel(system, options, 3, Budget(options)).found.stopped
    assert stopped == "a worker's lack of memory"


def test_more_workers_than_the_exchange_names_are_refused(cli: Any) -> None:
    done = cli("check", "--workers", "256", "specs/seed/fixed.gil")
    assert done.code == 2 and "0<=x<=255" in done.stderr


def _slow_expand(seconds: float) -> Any:
    """An `expand` that takes `seconds` longer in worker 1 (forked workers take it along)."""
    real = native_cluster.NativeWorker.expand

    def expand(self: Any) -> Any:
        if self.index == 1:
            time.sleep(seconds)
        return real(self)

    return expand


def test_limits_are_kept_in_the_middle_of_a_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """A depth can take long and grow large: the time and memory limits are looked at while
    the workers expand it, and stop them there."""
    system = _system("specs/semantics/choose_lock_order_fixed.gil", CheckOptions())
    monkeypatch.setattr(native_cluster.NativeWorker, "expand", _slow_expand(30))
    options = CheckOptions(symmetry=False, timeout=1.0)
    started = time.monotonic()
    stopped = explore_parallel(system, options, 2, Budget(options)).found.stopped
    assert stopped == "the time limit of 1 s" and time.monotonic() - started < 10
    monkeypatch.setattr(parallel, "resident_bytes_of", lambda pid: 1 << 40)
    options = CheckOptions(symmetry=False, max_memory_mb=10_000)
    stopped = explore_parallel(system, options, 2, Budget(options)).found.stopped
    assert stopped is not None and stopped.startswith("the memory limit of 10,000 MB (all workers)")


def test_a_worker_the_system_kills_is_a_lack_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIGKILL (the kernel's out-of-memory killer) ends the search inconclusive, not as a bug."""
    real = native_cluster.NativeWorker.expand

    def killed(self: Any) -> Any:
        if self.index == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self)

    system = _system("specs/semantics/choose_lock_order_fixed.gil", CheckOptions())
    monkeypatch.setattr(native_cluster.NativeWorker, "expand", killed)
    options = CheckOptions(symmetry=False)
    stopped = explore_parallel(system, options, 2, Budget(options)).found.stopped
    assert stopped == "a worker's lack of memory"


def test_an_interrupt_while_the_partition_is_chosen_is_a_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(native_cluster, "choose_partition", interrupted)
    options = CheckOptions(symmetry=False)
    system = _system("specs/semantics/choose_lock_order_fixed.gil", options)
    result = explore_parallel(system, options, 2, Budget(options))
    assert result.states == 0 and result.found.stopped == "an interruption (Ctrl-C or SIGTERM)"


@pytest.mark.parametrize(
    ("method", "spec"),
    [
        ("copy_numbers", "specs/semantics/choose_lock_order_fixed.gil"),  # the graph
        ("step_back", "specs/seed/buggy.gil"),  # the trace
    ],
)
def test_a_worker_killed_after_the_search_is_a_stop_not_a_bug(
    monkeypatch: pytest.MonkeyPatch, method: str, spec: str
) -> None:
    """The trace and the graph are asked of the workers after the last depth: a worker the
    system kills then (SIGKILL) ends the search inconclusive, with no trace and no graph."""
    real = getattr(native_cluster.NativeWorker, method)

    def killed(self: Any, *args: Any) -> Any:
        if self.index == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(self, *args)

    options = CheckOptions(symmetry=False)
    system = _system(spec, options)
    monkeypatch.setattr(native_cluster.NativeWorker, method, killed)
    found = explore_parallel(system, options, 2, Budget(options)).found
    assert found.stopped == "a worker's lack of memory"
    assert len(found.store) == 0 and found.deadlock < 0 and found.violation is None


def test_a_worker_that_ends_otherwise_is_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    real = native_cluster.NativeWorker.expand

    def ended(self: Any) -> Any:
        if self.index == 1:
            os._exit(7)
        return real(self)

    options = CheckOptions(symmetry=False)
    system = _system("specs/semantics/choose_lock_order_fixed.gil", options)
    monkeypatch.setattr(native_cluster.NativeWorker, "expand", ended)
    with pytest.raises(WorkerFailed, match="exit code 7"):
        explore_parallel(system, options, 2, Budget(options))


def test_an_interrupt_while_the_graph_is_gathered_reports_what_was_explored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*_: Any) -> Any:
        raise KeyboardInterrupt

    options = CheckOptions(symmetry=False)
    system = _system("specs/semantics/choose_lock_order_fixed.gil", options)
    monkeypatch.setattr(parallel, "_whole_graph_of_records", interrupted)
    result = explore_parallel(system, options, 2, Budget(options))
    assert result.found.stopped == "an interruption (Ctrl-C or SIGTERM)"
    assert result.states == len(explore(system, options).store) and result.graph is None
