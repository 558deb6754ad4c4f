"""A thread pool (`pool p = 4`, `let p = pool(4)`, `submit p, g(a)`, `shutdown p`;
`ThreadPoolExecutor(max_workers=4)`, a rayon pool, tokio's blocking pool).

Its state is (shut, queue, idle, busy): whether it was shut down (OPEN, SHUT by `shutdown`,
EXITED by the interpreter's exit hook), the tasks not yet taken, oldest first, each
(function, arguments, future), and its workers: those waiting for a task and those running
one (sorted thread ids). Its count is the most workers it starts.

`submit` queues a task and starts a worker when no idle worker is left for it (each queued
task is promised to one waiting worker, as `ThreadPoolExecutor`'s idle semaphore does) and
fewer than the maximum exist; the engine makes the worker thread (system/engine/
handlers_pools.py). A worker takes the oldest task as a step of its own (`take`), runs it,
and is idle again once the task's future is complete (`finish`). `shutdown` marks the pool
shut down (a step, when it must then wait) and waits until no task is queued or running.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    STAY,
    Misuse,
    Moved,
    Namer,
    Obj,
    Phase,
    Site,
    Step,
    TidMap,
    Verb,
    WaitView,
    added,
    remap_ids,
    remove,
)
from gilcheck.sync.common import Counted

OPEN, SHUT, EXITED = range(3)
P_SHUT, P_QUEUE, P_IDLE, P_BUSY = range(4)
# The phase of a `shutdown` that has marked the pool shut down and waits for its tasks.
WAITING = 1


def _submit(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """Queue `partner` = (task, id of a new worker, or -1 when none may start): the value
    says whether the worker starts."""
    shut, queue, idle, busy = obj
    if shut == EXITED:
        return Misuse(
            "`submit` to pool {label} after the interpreter's exit hook shut it down "
            "(its process's main thread has returned): cannot schedule new futures after "
            "interpreter shutdown"
        )
    if shut:
        return Misuse("`submit` to pool {label} after it was shut down")
    task, new_worker = partner
    starts = (
        new_worker >= 0 and len(idle) <= len(queue) and len(idle) + len(busy) < (site.count or 1)
    )
    if starts:
        idle = added(idle, new_worker)
    return (Moved((shut, (*queue, task), idle, busy), value=starts),)


def _shutdown(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    shut, queue, idle, busy = obj
    if tid in busy:
        return Misuse(
            "`shutdown` of pool {label} from one of its own tasks: it would wait for its "
            "own worker (cannot join current thread)"
        )
    drained = not queue and not busy
    if drained:
        return (Moved((shut or SHUT, queue, idle, busy)),)
    if phase == 0 and not shut:
        return (Moved((SHUT, queue, idle, busy), phase=WAITING, advance=STAY),)
    return BLOCKED


def _take(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """A waiting worker takes the oldest task (the value)."""
    shut, queue, idle, busy = obj
    if not queue:
        return BLOCKED
    return (Moved((shut, queue[1:], remove(idle, tid), added(busy, tid)), value=queue[0]),)


def _finish(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    """A worker's task has ended: it waits for the next one."""
    shut, queue, idle, busy = obj
    return (Moved((shut, queue, added(idle, tid), remove(busy, tid))),)


def has_idle(obj: Obj, tid: int) -> bool:
    """Whether worker `tid` of a pool in state `obj` waits for a task with none queued."""
    return not obj[P_QUEUE] and tid in obj[P_IDLE]


def _remap_value(value: Any, f: TidMap) -> Any:
    """A value with every thread handle in it mapped by `f`."""
    if type(value) is not tuple or not value:
        return value
    if len(value) == 2 and value[0] == "thread" and type(value[1]) is int:
        return ("thread", f(value[1]))
    return tuple(_remap_value(item, f) for item in value)


class Pool(Counted):
    """The pool primitive."""

    kind = "pool"
    count_minimum: int | None = 1
    verbs: ClassVar[Mapping[str, Verb]] = {
        "submit": Verb(
            "submit",
            _submit,
            operand=True,
            yields=True,
            usage="`let f = submit p, g(a)` queues a task on a pool",
        ),
        "shutdown": Verb(
            "shutdown",
            _shutdown,
            blocks=True,
            usage="`shutdown p` waits for a pool's tasks and stops it",
        ),
        # A worker's own steps, written by no spec.
        "take": Verb("take", _take, blocks=True, yields=True),
        "finish": Verb("finish", _finish),
    }

    def initial(self, count: int | None) -> Obj:
        """Open, no task, no worker."""
        return (OPEN, (), (), ())

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """Workers (and thread handles among queued tasks' arguments) mapped by `f`."""
        shut, queue, idle, busy = obj
        if queue:
            queue = tuple(_remap_value(task, f) for task in queue)
        return (shut, queue, remap_ids(idle, f), remap_ids(busy, f))

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Open or shut down, its queue and its workers."""
        shut, queue, idle, busy = obj
        parts = ["open" if shut == OPEN else "shut down"]
        if queue:
            parts.append(f"{len(queue)} task{'s' if len(queue) != 1 else ''} queued")
        if busy:
            parts.append("running on " + ", ".join(name(t) for t in busy))
        if idle:
            parts.append("idle: " + ", ".join(name(t) for t in idle))
        return (), ", ".join(parts)

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """A task queued, taken or finished, or the pool shut down."""
        if len(new[P_QUEUE]) > len(old[P_QUEUE]):
            started = [t for t in new[P_IDLE] if t not in old[P_IDLE]]
            return f"queues a task on pool {label}" + (
                f" and starts worker {name(started[0])} for it" if started else ""
            )
        if len(new[P_QUEUE]) < len(old[P_QUEUE]):
            return f"takes the oldest task queued on pool {label}"
        if tid in old[P_BUSY] and tid not in new[P_BUSY]:
            return f"has finished its task of pool {label}: completes its future, then waits"
        if new[P_SHUT] != old[P_SHUT]:
            if new[P_SHUT] == EXITED:
                return f"the interpreter's exit hook shuts pool {label} down"
            return f"shuts pool {label} down: no new task is taken"
        return f"uses pool {label}"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A shutdown with nothing left to wait for."""
        return f"pool {name} has no task left: goes on" if verb == "shutdown" else None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """`shutdown` waits for the workers running the pool's tasks."""
        queue, busy = obj[P_QUEUE], obj[P_BUSY]
        if verb == "take":
            return f"is idle: waits for a task on pool {view.label}", []
        queued = f"{len(queue)} task{'s' if len(queue) != 1 else ''} queued"
        if busy:
            running = ", ".join(view.name(t) for t in busy)
            return (
                f"waits for the tasks of pool {view.label} to finish ({queued}, "
                f"running on {running})",
                list(busy),
            )
        return (
            f"waits for the tasks of pool {view.label} ({queued}), which no worker can run",
            [],
        )


PRIMITIVE = Pool()
