"""Terminal strongly connected components of the state graph, for `stuck` and `livelock`.

networkx computes them (condensation, then the components nothing leaves); for very large
graphs, where networkx's dict-of-dicts would take gigabytes, an iterative Tarjan over
compact arrays gives the same components.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from gilcheck.explore.native import native_module

NETWORKX_EDGE_LIMIT = 1_000_000


@dataclass(frozen=True, slots=True)
class Component:
    """A terminal strongly connected component: no edge leaves it."""

    states: tuple[int, ...]  # sorted: the first is the one closest to the initial state
    has_step: bool  # at least one edge inside it (a cycle)
    progress: bool  # some edge inside it runs `progress`


def terminal_components(
    n_states: int,
    src: Sequence[int],
    dst: Sequence[int],
    progress: Sequence[int],
    *,
    edge_limit: int = NETWORKX_EDGE_LIMIT,
) -> list[Component]:
    """Every terminal SCC, ordered by its first state."""
    if len(src) <= edge_limit:
        groups = _networkx_terminal(n_states, src, dst)
    else:
        groups = _compact_terminal(n_states, src, dst)
    member: dict[int, int] = {}
    for index, group in enumerate(groups):
        for s in group:
            member[s] = index
    has_step = [False] * len(groups)
    has_progress = [False] * len(groups)
    for a, b, marks in zip(src, dst, progress, strict=True):
        which = member.get(a)
        if which is not None and member.get(b) == which:
            has_step[which] = True
            if marks:
                has_progress[which] = True
    components = [
        Component(tuple(sorted(g)), has_step[i], has_progress[i]) for i, g in enumerate(groups)
    ]
    return sorted(components, key=lambda c: c.states[0])


def sinks_if_all_reach_one(
    n: int, starts: Sequence[int], dst: Sequence[int], passes: int = 64
) -> list[int] | None:
    """The states with no step, if every state surely reaches one of them; else None.

    `starts[s]` is where state s's targets begin in `dst` (states from len(starts) on
    have no step). A state that reaches no step-less state stays for ever among states
    with a step, in a terminal component with a cycle; when every state reaches one,
    there is no such component and the terminal components are the step-less states.
    Sweeps in reverse id order settle breadth-first graphs, whose edges mostly go to later
    states, in a few passes; a pass that reaches no new state ends them (the rest reach
    no such state). None also when `passes` do not settle it: the components are then
    computed. The C extension's form of it (explore/_records.c) runs where the edges are
    the edge log's arrays.
    """
    native = native_module()
    if native is not None and _compact(starts) and _compact(dst):
        found: list[int] | None = native.sinks_if_all_reach_one(n, starts, dst, passes)
        return found
    expanded = len(starts)
    reach = bytearray(n)
    sinks: list[int] = []
    for s in range(n):
        if s >= expanded or (starts[s + 1] if s + 1 < expanded else len(dst)) == starts[s]:
            reach[s] = 1
            sinks.append(s)
    left = n - len(sinks)
    for _ in range(passes):
        if not left:
            return sinks
        before = left
        for s in range(expanded - 1, -1, -1):
            if reach[s]:
                continue
            end = starts[s + 1] if s + 1 < expanded else len(dst)
            for i in range(starts[s], end):
                if reach[dst[i]]:
                    reach[s] = 1
                    left -= 1
                    break
        if left == before:
            return None
    return sinks if not left else None


def _compact(values: Sequence[int]) -> bool:
    """Whether a sequence is an array of 4-byte integers (what the C form reads)."""
    return isinstance(values, array) and values.typecode in ("i", "I") and values.itemsize == 4


def _networkx_terminal(n: int, src: Sequence[int], dst: Sequence[int]) -> list[list[int]]:
    import networkx as nx  # imported when needed: it takes a tenth of a second

    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    graph.add_edges_from(zip(src, dst, strict=True))
    condensed = nx.condensation(graph)
    return [
        list(condensed.nodes[c]["members"]) for c in condensed.nodes if condensed.out_degree(c) == 0
    ]


def _compact_terminal(n: int, src: Sequence[int], dst: Sequence[int]) -> list[list[int]]:
    """Iterative Tarjan over a CSR adjacency; then the components nothing leaves."""
    offsets = array("i", [0]) * (n + 1)
    for a in src:
        offsets[a + 1] += 1
    for i in range(n):
        offsets[i + 1] += offsets[i]
    targets = array("i", [0]) * len(src)
    fill = array("i", offsets[:n])
    for a, b in zip(src, dst, strict=True):
        targets[fill[a]] = b
        fill[a] += 1
    index = array("i", [-1]) * n
    low = array("i", [0]) * n
    comp = array("i", [-1]) * n
    on_stack = bytearray(n)
    stack: list[int] = []
    counter = 0
    n_comps = 0
    for root in range(n):
        if index[root] != -1:
            continue
        work = [(root, offsets[root])]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack[root] = 1
        while work:
            v, at = work[-1]
            if at < offsets[v + 1]:
                work[-1] = (v, at + 1)
                w = targets[at]
                if index[w] == -1:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack[w] = 1
                    work.append((w, offsets[w]))
                elif on_stack[w]:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on_stack[w] = 0
                    comp[w] = n_comps
                    if w == v:
                        break
                n_comps += 1
    leaves = bytearray(n_comps)
    for a, b in zip(src, dst, strict=True):
        if comp[a] != comp[b]:
            leaves[comp[a]] = 1
    groups: dict[int, list[int]] = {}
    for s in range(n):
        if not leaves[comp[s]]:
            groups.setdefault(comp[s], []).append(s)
    return list(groups.values())
