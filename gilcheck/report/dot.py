"""Graphviz DOT: the wait-for graph of a trace's final state, and the state graph of a spec."""

from __future__ import annotations

import itertools
import textwrap

from gilcheck.report.text import wait_label
from gilcheck.trace.model import CheckResult, GraphNode, Location, Snapshot, StateGraph

_FONT = 'fontname="Helvetica"'


def dot_string(text: str) -> str:
    """A DOT double-quoted string; `\\n` in `text` stays a line break of the label."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def _wrap(text: str, width: int = 48) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _short(location: str | Location) -> str:
    return str(location).rsplit("/", 1)[-1]


def _header(name: str, label: str, spacing: str = "") -> list[str]:
    return [
        f"digraph {name} {{",
        f"    graph [label={dot_string(label)}, labelloc=t,{spacing} {_FONT}, fontsize=12];",
        f"    node [shape=box, style=rounded, {_FONT}, fontsize=10];",
        f"    edge [{_FONT}, fontsize=9];",
    ]


def _title(spec: str, title: str | None, what: str) -> str:
    return f"{_short(spec)}{': ' + title if title else ''}\n{what}"


def render_waitfor_dot(result: CheckResult) -> str:
    """The final state of the shortest counterexample: threads, who waits for whom, who holds what.

    An edge goes from a waiting thread to each thread that holds what it waits for,
    labelled with what it waits for (`waits for stdout's lock`); the edges of the wait-for
    cycle are red. Without a wait (an ok spec, a failed assert) the
    graph shows the final state's threads, or only a note saying there is nothing to draw.
    """
    trace = result.trace
    # Two threads waiting for each other: dot puts the labels of the two edges side by side
    # between the pair, each right of its edge; the wider node spacing keeps the first
    # label clear of the second edge.
    title = _title(result.spec, result.title, f"verdict {result.verdict}")
    lines = _header("waitfor", title, " nodesep=0.6,")
    if trace is None or not trace.steps:
        note = (
            "no counterexample: no final state to draw"
            if result.verdict == "ok"
            else "no trace: no final state to draw"
        )
        lines.append(
            f"    note [shape=note, label={dot_string(_wrap(note + '. ' + result.message))}];"
        )
        return "\n".join(lines) + "\n}\n"
    if trace.waits:
        cycle = set(itertools.pairwise(trace.cycle))
        for wait in trace.waits:
            parts = [wait.thread]
            if wait.location:
                parts.append(_wrap(f"at {_short(wait.location)}: {wait.statement}"))
            parts.append(_wrap(wait.waits_for))
            if wait.holds:
                parts.append(_wrap("holds " + ", ".join(wait.holds)))
            lines.append(
                f"    {dot_string(wait.thread)} [label={dot_string(chr(10).join(parts))}];"
            )
        for wait in trace.waits:
            label = dot_string(_wrap(wait_label(wait), 28))
            for holder in dict.fromkeys(wait.holders):
                style = ', color="red", penwidth=2' if (wait.thread, holder) in cycle else ""
                edge = f"{dot_string(wait.thread)} -> {dot_string(holder)}"
                lines.append(f"    {edge} [label={label}{style}];")
    else:
        final = trace.steps[-1].after
        for thread in final.threads if final is not None else ():
            where = f"\nat {_short(thread.location)}" if thread.location else ""
            held = _held_by(final, thread.name) if final is not None else ""
            label = f"{thread.name}\n{thread.status}{where}{held}"
            lines.append(f"    {dot_string(thread.name)} [label={dot_string(label)}];")
    note = _wrap(f"{result.verdict}: {trace.final_note}")
    lines.append(f"    note [shape=note, label={dot_string(note)}];")
    return "\n".join(lines) + "\n}\n"


def _held_by(snapshot: Snapshot, thread: str) -> str:
    held = [h.name for h in snapshot.holdings if thread in h.holders]
    return "\n" + _wrap("holds " + ", ".join(held)) if held else ""


_NODE_STYLE = {
    "initial": "penwidth=2",
    "state": "",
    "end": 'peripheries=2, color="darkgreen"',
    "deadlock": 'style="rounded,filled", fillcolor="#f4b6b6", color="red"',
}


def _state_label(node: GraphNode) -> str:
    snapshot = node.snapshot
    if snapshot is None:
        return _wrap(f"{node.kind}: {node.note}", 40)
    parts = [f"s{node.id}" + (f" ({node.kind})" if node.kind != "state" else "")]
    for thread in snapshot.threads:
        where = f":{thread.line}" if thread.line else ""
        parts.append(f"{thread.name}{where} {thread.status}")
    for holding in snapshot.holdings:
        if holding.holders:
            parts.append(f"{holding.name}: {', '.join(holding.holders)}")
    for buffer in snapshot.buffers:
        if buffer.messages:
            parts.append(_wrap(f"{buffer.name}: [{', '.join(buffer.messages)}]", 40))
    return "\n".join(parts)


def render_state_graph_dot(graph: StateGraph) -> str:
    """Every state (threads and their next line, held locks, non-empty buffers) and step.

    The initial state has a thick border, states where the program has ended a double
    one, deadlocks are red; a step that violates leads to a red octagon with its message
    and a step past a limit to a yellow one; a shortest path to a violation is red.
    """
    count = sum(1 for n in graph.nodes if n.snapshot is not None)
    lines = _header("states", _title(graph.spec, graph.title, f"{count:,} states"))
    for node in graph.nodes:
        if node.snapshot is not None:
            style = _NODE_STYLE.get(node.kind, "")
        elif node.kind in ("bound", "inconclusive"):
            style = 'shape=octagon, style=filled, fillcolor="#fbe7a1"'
        else:
            style = 'shape=octagon, style=filled, fillcolor="#f4b6b6", color="red"'
        attributes = f"label={dot_string(_state_label(node))}" + (f", {style}" if style else "")
        lines.append(f"    s{node.id} [{attributes}];")
    for edge in graph.edges:
        label = _wrap(f"{edge.thread} {_short(edge.location)} {edge.statement}", 40)
        style = ', color="red", penwidth=2' if edge.on_trace else ""
        lines.append(f"    s{edge.source} -> s{edge.target} [label={dot_string(label)}{style}];")
    return "\n".join(lines) + "\n}\n"
