"""The whole reachable state graph of a small spec, for drawing: a search that never stops early."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from gilcheck.system.model import Action, LimitHit, TransitionSystem, Violation
from gilcheck.system.state import State


class GraphTooLarge(Exception):
    """The state graph has more states than may be drawn."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit:,} states")
        self.limit = limit


@dataclass
class FullGraph:
    """States by id (breadth-first order), and every step: (source id, action, target)."""

    states: list[State] = field(default_factory=list)
    parent: list[int] = field(default_factory=list)
    steps: list[tuple[int, Action, int | Violation | LimitHit]] = field(default_factory=list)


def full_graph(system: TransitionSystem, limit: int) -> FullGraph:
    """Every reachable state and step, past violations too (raises GraphTooLarge)."""
    graph = FullGraph()
    ids: dict[State, int] = {}
    initial = system.initial_state()
    ids[initial] = 0
    graph.states.append(initial)
    graph.parent.append(-1)
    queue: deque[int] = deque([0])
    while queue:
        sid = queue.popleft()
        for action, target in system.transitions(graph.states[sid]):
            if type(target) is not tuple:
                graph.steps.append((sid, action, target))  # type: ignore[arg-type]
                continue
            known = ids.get(target)
            if known is None:
                if len(graph.states) >= limit:
                    raise GraphTooLarge(limit)
                known = ids[target] = len(graph.states)
                graph.states.append(target)
                graph.parent.append(sid)
                queue.append(known)
            graph.steps.append((sid, action, known))
    return graph
