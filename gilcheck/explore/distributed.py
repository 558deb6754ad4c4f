"""The hash-partitioned search of parallel.py on a Ray cluster (`--backend ray`).

Each worker is a Ray actor that compiles the program itself (the IR travels, not the
engine) and owns the states whose hash falls to it (parallel.owner_of: a hash of ints,
the same in every process; the actors also run with one PYTHONHASHSEED, so that the
pools and the symmetry keys behave alike everywhere). Per depth the driver asks
every actor to expand its new states, which returns one batch per actor as a separate
object; each actor then absorbs the batches addressed to it straight from the object
store, so successors go from actor to actor without passing through the driver.

Ray is an optional extra: `pip install gilcheck[ray]`. With `--address` the search joins
an existing cluster (gilcheck must be installed on its nodes); without it, a local Ray
instance is started for the check and stopped after it.
"""

from __future__ import annotations

import importlib
import signal
import threading
import time
from array import array
from typing import Any

from gilcheck.explore.bfs import BreadthFirst, breadth_first
from gilcheck.explore.budget import Budget, Progress
from gilcheck.explore.exploration import Exploration
from gilcheck.explore.parallel import (
    LOOK_EVERY,
    Batch,
    LimitDuringDepth,
    ParallelExploration,
    _Level,
    coordinate,
    new_worker,
    plan_partition,
    stopped_before_search,
)
from gilcheck.explore.partition import Partition
from gilcheck.explore.strategy import Problem
from gilcheck.explore.symmetric import reduced_system
from gilcheck.explore.unavailable import RayUnavailable
from gilcheck.memory import peak_resident_bytes
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.system.model import Action
from gilcheck.system.state import State

HASH_SEED = "0"


class RayWorker:
    """The body of a Ray actor: one _Worker, built from the program where it runs."""

    def __init__(
        self,
        index: int,
        count: int,
        program: ir.Program,
        options: CheckOptions,
        partition: Partition,
    ):
        _, _, system = reduced_system(program, options)
        self.worker: Any = new_worker(index, count, system, options, partition)
        self.worker.seed(system.initial_state())

    def expand(self) -> list[Any]:
        """One batch per actor; this actor's own batch (every state it keeps) and the
        report stay here, for absorb, instead of going through Ray's object store."""
        report, outgoing = self.worker.expand()
        index = self.worker.index
        self.kept = (report, outgoing[index])
        return [None, *(None if i == index else b for i, b in enumerate(outgoing))]

    def absorb(self, _report: None, *batches: Batch) -> _Level:
        report, own = self.kept
        received = list(batches)
        received[self.worker.index] = own
        del self.kept
        absorbed: _Level = self.worker.absorb(report, received)
        absorbed.peak = peak_resident_bytes()
        return absorbed

    def number(self, numbers: array[int]) -> None:
        self.worker.numbered(numbers)

    def back(self, sid: int) -> tuple[int, int, Action | None, State | None]:
        answer: tuple[int, int, Action | None, State | None] = self.worker.step_back(sid)
        return answer

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.worker, method)(*args)

    def edges(self) -> tuple[bytes, bytes, bytes, bytes]:
        edges: tuple[bytes, bytes, bytes, bytes] = self.worker.edges()
        return edges

    def size(self) -> tuple[int, int]:
        return len(self.worker.store), peak_resident_bytes()


class _RayCluster:
    """Actors on a Ray cluster, driven like parallel.py's processes."""

    def __init__(
        self,
        ray: Any,
        program: ir.Program,
        options: CheckOptions,
        count: int,
        partition: Partition,
        budget: Budget | None = None,
    ) -> None:
        self.ray = ray
        self.count = count
        self.budget = budget
        actor = ray.remote(num_cpus=0)(RayWorker)
        self.actors = [actor.remote(i, count, program, options, partition) for i in range(count)]

    def level(self) -> list[_Level]:
        ray, count = self.ray, self.count
        outs = [a.expand.options(num_returns=count + 1).remote() for a in self.actors]
        finals = [
            self.actors[d].absorb.remote(outs[d][0], *[outs[s][1 + d] for s in range(count)])
            for d in range(count)
        ]
        # The time limit is looked at while the actors expand the depth (their memory only
        # after it: each reports its peak).
        while self.budget is not None:
            done, _ = ray.wait(finals, num_returns=count, timeout=LOOK_EVERY)
            if len(done) == count:
                break
            reason = self.budget.out_of_time(time.monotonic())
            if reason is not None:
                for actor in self.actors:
                    ray.kill(actor)
                raise LimitDuringDepth(reason)
        reports: list[_Level] = ray.get(finals)
        return reports

    def number(self, numbers: list[array[int]]) -> None:
        # An actor runs one caller's calls in order: its next expand comes after this.
        for actor, mine in zip(self.actors, numbers, strict=True):
            actor.number.remote(mine)

    def back(self, worker: int, sid: int) -> tuple[int, int, Action | None, State | None]:
        answer: tuple[int, int, Action | None, State | None] = self.ray.get(
            self.actors[worker].back.remote(sid)
        )
        return answer

    def call(self, worker: int, method: str, *args: Any) -> Any:
        return self.ray.get(self.actors[worker].call.remote(method, *args))

    def edges(self, worker: int) -> tuple[bytes, bytes, bytes, bytes]:
        answer: tuple[bytes, bytes, bytes, bytes] = self.ray.get(self.actors[worker].edges.remote())
        return answer

    def sizes(self) -> list[tuple[int, int]]:
        answer: list[tuple[int, int]] = self.ray.get([a.size.remote() for a in self.actors])
        return answer


class RaySearch:
    """The breadth-first search on `CheckOptions.workers` Ray actors (at `address`).

    As the parallel search (explore/parallel.py): programs with unknown values are searched
    in this process, and cycles are judged on a sequential search.
    """

    name = "ray"

    def explore(self, problem: Problem, budget: Budget) -> Exploration:
        if problem.system.symbolic:
            return breadth_first(problem.system, problem.options, budget)
        options = problem.options
        parallel = explore_ray(
            problem.program, options, options.workers, options.address, budget=budget
        )
        return parallel.whole()

    def sequential(self) -> BreadthFirst:
        return BreadthFirst()


def explore_ray(
    program: ir.Program,
    options: CheckOptions,
    workers: int,
    address: str | None,
    progress: Progress | None = None,
    budget: Budget | None = None,
) -> ParallelExploration:
    """Hash-partitioned breadth-first search on `workers` Ray actors (within `budget`, or
    one made of the options and `progress`)."""
    if budget is None:
        budget = Budget(options, progress)
    try:
        ray: Any = importlib.import_module("ray")
    except ImportError as error:
        raise RayUnavailable("the Ray backend needs Ray: pip install 'gilcheck[ray]'") from error
    own = not ray.is_initialized()
    if own:
        start_ray(ray, address, workers)
    try:
        # The partition is chosen here, once: the actors sampling for themselves could differ.
        try:
            partition = plan_partition(reduced_system(program, options)[2], options, workers)
        except KeyboardInterrupt:  # Ctrl-C, SIGTERM or the memory watch, before the search
            return stopped_before_search(budget)
        cluster = _RayCluster(ray, program, options, workers, partition, budget)
        return coordinate(cluster, options, budget)
    finally:
        if own:
            ray.shutdown()


def start_ray(ray: Any, address: str | None, workers: int) -> None:
    """Start a local Ray instance with `workers` CPUs, or connect to the cluster at
    `address`, as the search needs it (a check that finds Ray running uses that instead,
    and leaves it running)."""
    # Ray puts its own SIGTERM handler in place of gilcheck's (which stops the search as
    # Ctrl-C does, with a report): gilcheck's is put back.
    terminate = _sigterm_handler()
    try:
        ray.init(
            address=address,
            include_dashboard=False,
            log_to_driver=False,
            logging_level="ERROR",
            runtime_env={"env_vars": {"PYTHONHASHSEED": HASH_SEED}},
            **({} if address else {"num_cpus": workers}),
        )
    except Exception as error:  # Ray raises many kinds: connection, timeout, ...
        raise RayUnavailable(f"Ray could not start or connect: {error}") from error
    finally:
        _restore_sigterm(terminate)


def _sigterm_handler() -> Any:
    """The SIGTERM handler in force (None where there is none, or off the main thread)."""
    if not hasattr(signal, "SIGTERM") or threading.current_thread() is not threading.main_thread():
        return None
    return signal.getsignal(signal.SIGTERM)


def _restore_sigterm(handler: Any) -> None:
    """Put back the SIGTERM handler that was in force before Ray started."""
    if handler is not None and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)
