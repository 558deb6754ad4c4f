"""The wait-for graph of a stuck state: its real cycles, a thread that waits for itself, and
a pool's exhaustion.

An edge goes from a waiting thread to a holder of what it waits for. Most waits are for each
of their holders (a lock's owner, the threads a join or the exit join waits for); some are
for any one of them (`any_of`: the threads that may set an event or send on a channel), and
such a wait is part of a cycle only when every one of its holders waits, in turn, on it: one
of them moving would free it otherwise. A thread among its own holders waits for itself only
when the wait says why (`itself`: a lock it holds, the loop it holds); a pool whose workers
are all busy is told as its exhaustion (`exhausted`), never as a cycle.
"""

from __future__ import annotations

from gilcheck.sync.base import Obj
from gilcheck.trace.model import Wait

# The kinds of lock a thread can hold while it waits for that very lock.
_LOCKS = ("mutex", "rlock")


def held_words(kind: str, obj: Obj, tid: int, label: str) -> str:
    """Why a thread waiting on an object waits for itself, in words (`it holds lock m`);
    "" when its own name among the holders says nothing sure."""
    if kind in _LOCKS:
        return f"it holds {label}" if label.startswith(f"{kind} #") else f"it holds lock {label}"
    if kind == "once":
        return f"it is running once {label}"
    if kind == "rwlock":
        writer = obj[0]
        if writer == tid:
            return f"it holds the write lock on {label}"
        return f"it holds a read lock on {label}"
    return ""


def find_cycle(waits: list[Wait] | tuple[Wait, ...]) -> tuple[str, ...]:
    """A real cycle of the wait-for graph, as thread names with the first repeated at the
    end: one of two threads or more, else a thread waiting for itself (its `itself` says
    why); () when there is none."""
    import networkx as nx  # imported when needed: it takes a tenth of a second

    waiting = {w.thread for w in waits}
    edges: dict[str, list[str]] = {}
    alternatives: dict[str, list[str]] = {}
    for wait in waits:
        others = [h for h in wait.holders if h != wait.thread]
        if wait.exhausted:
            continue
        if wait.any_of:
            alternatives[wait.thread] = others
        else:
            edges[wait.thread] = others
    changed = True
    while changed:  # accept the waits whose every alternative waits on them
        changed = False
        for thread, others in list(alternatives.items()):
            if others and all(h in waiting and _reaches(edges, h, thread) for h in others):
                edges[thread] = others
                del alternatives[thread]
                changed = True
    graph = nx.DiGraph()
    for wait in waits:
        graph.add_node(wait.thread)
        for holder in edges.get(wait.thread, ()):
            graph.add_edge(wait.thread, holder)
    try:
        found = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        found = []
    if found:
        return tuple(u for u, _ in found) + (found[0][0],)
    for wait in waits:
        if wait.itself:
            return (wait.thread, wait.thread)
    return ()


def _reaches(edges: dict[str, list[str]], start: str, goal: str) -> bool:
    """Whether `goal` is reached from `start` along `edges`."""
    seen = {start}
    todo = [start]
    while todo:
        current = todo.pop()
        if current == goal:
            return True
        for nxt in edges.get(current, ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
