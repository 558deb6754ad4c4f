"""Pools' and event loops' queues of tasks as a report tells them."""

from __future__ import annotations

from typing import Any

from gilcheck.analysis.layout import StateLayout
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
