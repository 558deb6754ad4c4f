"""The state graph of a small spec as plain data: a snapshot per state, a statement per step."""

from __future__ import annotations

from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.locations import NOWHERE, Location, location_of
from gilcheck.analysis.snapshots import Snapshotter
from gilcheck.analysis.statements import statement_text
from gilcheck.explore.graph import FullGraph, full_graph
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.source import SourceMap
from gilcheck.system.engine import Engine
from gilcheck.system.model import Action
from gilcheck.system.state import F_CODE, F_PC, S_THREADS, T_FRAMES, State
from gilcheck.trace.model import GraphEdge, GraphNode, StateGraph


def state_graph(
    program: ir.Program, sources: SourceMap, options: CheckOptions, limit: int
) -> StateGraph:
    """Explore every state of a program (raises GraphTooLarge past `limit` states)."""
    engine = Engine(program, options)
    graph = full_graph(engine, limit)
    layout = StateLayout(engine)
    layout.naming_state = max(graph.states, key=lambda s: len(s[S_THREADS]))
    snapshots = Snapshotter(engine, layout, sources, graph.states)
    leaving = [0] * len(graph.states)
    for source, _, _ in graph.steps:
        leaving[source] += 1
    nodes: list[GraphNode] = []
    for sid, state in enumerate(graph.states):
        if sid == 0:
            kind = "initial"
        elif engine.has_ended(state):
            kind = "end"
        elif leaving[sid] == 0:
            kind = "deadlock"
        else:
            kind = "state"
        nodes.append(GraphNode(sid, kind, snapshots.snapshot(state)))
    on_trace = _shortest_violation_path(graph, nodes)
    edges: list[GraphEdge] = []
    for number, (source, action, target) in enumerate(graph.steps):
        if isinstance(target, int):
            target_id = target
        else:
            target_id = len(nodes)
            nodes.append(GraphNode(target_id, target.verdict.value, None, target.message))
        before = graph.states[source]
        location, statement = _statement(engine, sources, before, action)
        edges.append(
            GraphEdge(
                source,
                target_id,
                layout.thread_name(before, action[0]),
                location,
                statement,
                number in on_trace,
            )
        )
    return StateGraph(program.path, program.title, tuple(nodes), tuple(edges))


def _statement(
    engine: Engine, sources: SourceMap, state: State, action: Action
) -> tuple[Location, str]:
    th = state[S_THREADS][action[0]]
    if not th[T_FRAMES]:
        return NOWHERE, "(program end)"
    frame = th[T_FRAMES][-1]
    instr = engine.codes[frame[F_CODE]].instrs[frame[F_PC]]
    return location_of(sources, instr), statement_text(sources, instr)


def _shortest_violation_path(graph: FullGraph, nodes: list[GraphNode]) -> set[int]:
    """The numbers of the steps on a shortest path to a deadlock or a violating step."""
    depth = [0] * len(graph.states)
    for sid in range(1, len(graph.states)):
        depth[sid] = depth[graph.parent[sid]] + 1
    best: tuple[int, int, int] | None = None  # (steps, kind: deadlock 0 / violation 1, number)
    for node in nodes:
        if node.kind == "deadlock":
            best = min(best or (depth[node.id], 0, node.id), (depth[node.id], 0, node.id))
    for number, (source, _, target) in enumerate(graph.steps):
        if not isinstance(target, int):
            candidate = (depth[source] + 1, 1, number)
            best = min(best or candidate, candidate)
    if best is None:
        return set()
    marked: set[int] = set()
    sid = best[2] if best[1] == 0 else graph.steps[best[2]][0]
    if best[1] == 1:
        marked.add(best[2])
    first_step: dict[tuple[int, int], int] = {}
    for number, (source, _, target) in enumerate(graph.steps):
        if isinstance(target, int):
            first_step.setdefault((source, target), number)
    while sid > 0:
        parent = graph.parent[sid]
        marked.add(first_step[(parent, sid)])
        sid = parent
    return marked
