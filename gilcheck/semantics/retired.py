"""Helpers of the bundled models that no longer exist, and what to write instead: calling one
is a spec error that names its replacement."""

from __future__ import annotations

RETIRED_HELPERS: dict[str, str] = {
    "cpython_semaphore_init": "make the semaphore with its count: `let s = semaphore(2)` "
    "(or `semaphore s = 2` at the top), then `call cpython_semaphore_acquire(s)`",
    "cpython_barrier_init": "make the barrier with its parties: `let b = barrier(3)` "
    "(or `barrier b = 3` at the top), then `call cpython_barrier_wait(b)`",
    "cpython_condition_acquire": "a Condition is a condvar and its lock: "
    "`call cpython_rlock_acquire(lock)` (or `acquire lock` inside `python { }`)",
    "cpython_condition_release": "a Condition is a condvar and its lock: "
    "`call cpython_rlock_release(lock)`",
    "cpython_shared_queue_put": "declare the queue (`channel jobs: queue(0)`) and pass it: "
    "`call cpython_queue_put(jobs, v)`",
    "cpython_shared_queue_get": "declare the queue (`channel jobs: queue(0)`) and pass it: "
    "`let v = call cpython_queue_get(jobs)`",
}
