"""The wait-for graph of a final state as an inline SVG picture (no Graphviz needed)."""

from __future__ import annotations

import itertools
import math
import textwrap
from html import escape

from gilcheck.trace.model import Wait

_CHAR = 6.6  # the width of a character at the font size used, roughly
_LINE = 15


def _box(wait: Wait) -> list[str]:
    lines = [wait.thread]
    lines += textwrap.wrap(wait.waits_for, 38)
    if wait.holds:
        lines += textwrap.wrap("holds " + ", ".join(wait.holds), 38)
    return lines


def render_waitfor_svg(waits: tuple[Wait, ...], cycle: tuple[str, ...]) -> str:
    """Threads in a circle, each with what it waits for and holds; an arrow to each holder.

    Arrows on the wait-for cycle are red. Two threads waiting for each other get two
    curved arrows; a thread waiting for itself gets a loop.
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
    left = min(x - sizes[n][0] / 2 for n, (x, _) in centres.items()) - 40
    top = min(y - sizes[n][1] / 2 for n, (_, y) in centres.items()) - 60
    right = max(x + sizes[n][0] / 2 for n, (x, _) in centres.items()) + 40
    bottom = max(y + sizes[n][1] / 2 for n, (_, y) in centres.items()) + 40
    on_cycle = set(itertools.pairwise(cycle))
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
    for wait in waits:
        for holder in wait.holders:
            if holder not in centres:
                continue
            red = (wait.thread, holder) in on_cycle
            colour = "#c0392b" if red else "#555"
            marker = "red" if red else "grey"
            width = 2.2 if red else 1.2
            path = _edge_path(centres, sizes, wait.thread, holder)
            parts.append(
                f'<path class="edge{" cycle" if red else ""}" d="{path}" fill="none" '
                f'stroke="{colour}" stroke-width="{width}" marker-end="url(#arrow-{marker})">'
                f"<title>{escape(wait.thread)} waits for {escape(holder)}</title></path>"
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


def _edge_path(
    centres: dict[str, tuple[float, float]],
    sizes: dict[str, tuple[float, float]],
    source: str,
    target: str,
) -> str:
    (x1, y1), (x2, y2) = centres[source], centres[target]
    h = sizes[source][1]
    if source == target:  # a loop over the top of the box
        top = y1 - h / 2
        return (
            f"M{x1 - 20:.1f},{top:.1f} C{x1 - 40:.1f},{top - 50:.1f} "
            f"{x1 + 40:.1f},{top - 50:.1f} {x1 + 20:.1f},{top:.1f}"
        )
    # Bend every edge to its left: two opposite edges between a pair then stay apart.
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    cx = (x1 + x2) / 2 - dy / length * 40
    cy = (y1 + y2) / 2 + dx / length * 40
    sx, sy = _clip(x1, y1, cx, cy, *sizes[source])
    ex, ey = _clip(x2, y2, cx, cy, *sizes[target])
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}"


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
