"""Pools' and event loops' queues of tasks as a report tells them: each task, and why the
tasks of a pool do not start."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gilcheck.analysis.layout import StateLayout
from gilcheck.sync.pool import P_BUSY, P_IDLE, P_QUEUE
from gilcheck.system.engine import Engine
from gilcheck.system.engine.common import HEAP
from gilcheck.system.state import State


def task_text(
    engine: Engine,
    layout: StateLayout,
    state: State,
    function: int,
    args: Any,
    future: Any = None,
) -> str:
    """A task as the spec writes its call, with the future it completes if given: `inner(1)
    (future #3)`."""
    name = engine.codes[function].name
    shown = ", ".join(layout.value(a, state) for a in (args or ()))
    text = f"{name}({shown})"
    if type(future) is tuple and len(future) == 2 and future[0] == "obj":
        text += f" ({layout.object_short(state, (HEAP, int(future[1])))})"
    return text


def plural(count: int, noun: str) -> str:
    """`1 task`, `2 tasks`."""
    return f"{count} {noun}{'s' if count != 1 else ''}"


def pool_backlog(
    engine: Engine,
    layout: StateLayout,
    state: State,
    key: tuple[int, int],
    blocked: Callable[[int], bool],
) -> tuple[str, list[int]]:
    """Why the tasks queued on a pool do not start, and its busy workers: `2 tasks queued on
    pool p, every worker blocked (p.worker#1, p.worker#2)`; its workers are all busy ("blocked"
    when none of them can move), it has none, or (in a `fork` child) it runs no task."""
    obj = engine.object_state(state, key)
    label = layout.object_label(state, key)
    head = layout.tidy(f"{plural(len(obj[P_QUEUE]), 'task')} queued on pool {label}")
    if engine.has_fork and engine.forked_workers(state, obj):
        return (
            f"{head}, which runs no task in this child process (it had started workers "
            "before the fork)",
            [],
        )
    busy = list(obj[P_BUSY])
    if not busy:
        return f"{head}, which has no worker to run them", []
    if obj[P_IDLE]:
        return head, busy
    names = ", ".join(layout.thread_name(state, t) for t in busy)
    how = "blocked" if all(blocked(t) for t in busy) else "busy"
    return f"{head}, every worker {how} ({names})", busy
