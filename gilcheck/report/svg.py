"""The wait-for graph of a final state as an inline SVG picture (no Graphviz needed)."""

from __future__ import annotations

import itertools
import math
import textwrap
from dataclasses import dataclass
from html import escape

from gilcheck.report.text import wait_label
from gilcheck.trace.model import Wait

_CHAR = 6.6  # the width of a character at the font size used, roughly
_LINE = 15
_LABEL = 44  # an arrow's label is cut to this many characters (the whole in the arrow's tooltip)


def _box(wait: Wait) -> list[str]:
    lines = [wait.thread]
    lines += textwrap.wrap(wait.waits_for, 38)
    if wait.holds:
        lines += textwrap.wrap("holds " + ", ".join(wait.holds), 38)
    return lines


def render_waitfor_svg(waits: tuple[Wait, ...], cycle: tuple[str, ...]) -> str:
    """Threads in a circle, each with what it waits for and holds; an arrow to each holder.

    Each arrow says what its thread waits for (`waits for the GIL`); arrows on the
    wait-for cycle are red. Two threads waiting for each other get two curved arrows; a
    thread waiting for itself gets a loop.
    """
    if not waits:
        return ""
    count = len(waits)
    boxes = {w.thread: _box(w) for w in waits}
    sizes: dict[str, tuple[float, float]] = {
        name: (max(len(line) for line in lines) * _CHAR + 20, len(lines) * _LINE + 12)
        for name, lines in boxes.items()
    }
    radius = 0.0 if count == 1 else max(150.0, 70.0 * count)
    centres: dict[str, tuple[float, float]] = {}
    for i, wait in enumerate(waits):
        angle = math.pi + 2 * math.pi * i / count  # the first thread on the left
        centres[wait.thread] = (radius * 1.6 * math.cos(angle), radius * math.sin(angle))
    on_cycle = set(itertools.pairwise(cycle))
    edges = [
        _Edge(wait.thread, holder, wait_label(wait), (wait.thread, holder) in on_cycle)
        for wait in waits
        for holder in dict.fromkeys(wait.holders)
        if holder in centres
    ]
    drawn = [(edge, *_edge_path(centres, sizes, edge.source, edge.target)) for edge in edges]
    # The frame holds every box and every label (a label is as wide as its text, roughly).
    xs = [x + sign * sizes[n][0] / 2 for n, (x, _) in centres.items() for sign in (-1, 1)]
    ys = [y + sign * sizes[n][1] / 2 for n, (_, y) in centres.items() for sign in (-1, 1)]
    for edge, _, (lx, ly, anchor) in drawn:
        width = len(_short_label(edge.label)) * _CHAR
        start = {"start": lx, "middle": lx - width / 2, "end": lx - width}[anchor]
        xs += [start, start + width]
        ys += [ly - _LINE, ly + 4]
    left, right = min(xs) - 40, max(xs) + 40
    top, bottom = min(ys) - 60, max(ys) + 40
    parts = [
        f'<svg class="waitfor" role="img" '
        f'viewBox="{left:.0f} {top:.0f} {right - left:.0f} {bottom - top:.0f}" '
        f'width="{right - left:.0f}" height="{bottom - top:.0f}">',
        "<title>wait-for graph of the final state</title>",
        "<defs>",
        *(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
            f'markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
            "</marker>"
            for name, colour in (("grey", "#555"), ("red", "#c0392b"))
        ),
        "</defs>",
    ]
    for edge, path, (lx, ly, anchor) in drawn:
        colour = "#c0392b" if edge.red else "#555"
        marker = "red" if edge.red else "grey"
        width = 2.2 if edge.red else 1.2
        said = escape(f"{edge.source} → {edge.target}: {edge.source} {edge.label}")
        parts.append(
            f'<path class="edge{" cycle" if edge.red else ""}" d="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}" marker-end="url(#arrow-{marker})">'
            f"<title>{said}</title></path>"
        )
        parts.append(
            f'<text class="edge-label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" '
            f'font-size="10" fill="{colour}" stroke="#fafafa" stroke-width="3" '
            f'paint-order="stroke">{escape(_short_label(edge.label))}</text>'
        )
    for wait in waits:
        x, y = centres[wait.thread]
        w, h = sizes[wait.thread]
        parts.append(
            f'<g class="node" data-thread="{escape(wait.thread)}">'
            f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
            'rx="6" fill="#fff8e6" stroke="#8a6d3b"/>'
        )
        for row, line in enumerate(boxes[wait.thread]):
            weight = ' font-weight="bold"' if row == 0 else ""
            ty = y - h / 2 + 6 + _LINE * (row + 0.8)
            parts.append(
                f'<text x="{x:.1f}" y="{ty:.1f}" text-anchor="middle" font-size="11"{weight}>'
                f"{escape(line)}</text>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)


@dataclass(frozen=True)
class _Edge:
    """An arrow from a waiting thread to a holder of what it waits for, and its words."""

    source: str
    target: str
    label: str
    red: bool


def _short_label(label: str) -> str:
    return label if len(label) <= _LABEL else label[: _LABEL - 1].rstrip() + "…"


def _edge_path(
    centres: dict[str, tuple[float, float]],
    sizes: dict[str, tuple[float, float]],
    source: str,
    target: str,
) -> tuple[str, tuple[float, float, str]]:
    """The arrow's path, and where its label goes: (x, y, text-anchor)."""
    (x1, y1), (x2, y2) = centres[source], centres[target]
    h = sizes[source][1]
    if source == target:  # a loop over the top of the box, its label above it
        top = y1 - h / 2
        path = (
            f"M{x1 - 20:.1f},{top:.1f} C{x1 - 40:.1f},{top - 50:.1f} "
            f"{x1 + 40:.1f},{top - 50:.1f} {x1 + 20:.1f},{top:.1f}"
        )
        return path, (x1, top - 44, "middle")
    # Bend every edge to its left: two opposite edges between a pair then stay apart, and
    # so do their labels, each by its own curve.
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    nx, ny = -dy / length, dx / length  # the edge's left
    cx = (x1 + x2) / 2 + nx * 40
    cy = (y1 + y2) / 2 + ny * 40
    sx, sy = _clip(x1, y1, cx, cy, *sizes[source])
    ex, ey = _clip(x2, y2, cx, cy, *sizes[target])
    # The middle of the curve, then a little further out.
    mx = (sx + 2 * cx + ex) / 4 + nx * 6
    my = (sy + 2 * cy + ey) / 4 + ny * 6
    # The label grows away from the curve: rightwards from a point right of it, upwards
    # from a point above it, and so on.
    anchor = "start" if nx > 0.3 else "end" if nx < -0.3 else "middle"
    label = (mx, my + (12 if ny > 0.3 else -4 if ny < -0.3 else 4), anchor)
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}", label


def _clip(
    x: float, y: float, towards_x: float, towards_y: float, w: float, h: float
) -> tuple[float, float]:
    """Where the segment from a box's centre towards a point leaves the box."""
    dx, dy = towards_x - x, towards_y - y
    scale = min(
        (w / 2) / abs(dx) if dx else math.inf,
        (h / 2) / abs(dy) if dy else math.inf,
    )
    if scale == math.inf:
        return x, y
    return x + dx * scale, y + dy * scale
