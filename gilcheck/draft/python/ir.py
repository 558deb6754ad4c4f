"""The drafted statements before they are written: lines and blocks (a block's head,
its body, and the `} or {` / `} else {` parts that follow), so that a block can be
filled in before its place is final (locals hoisted to the top of a function)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gilcheck.draft.model import Origin
from gilcheck.draft.writer import SpecWriter


@dataclass
class Line:
    """One statement."""

    text: str
    origin: Origin | None = None


@dataclass
class Block:
    """`head { body }`, then each `} word { body }` of `tails`."""

    head: str
    origin: Origin | None = None
    body: list[Node] = field(default_factory=list)
    tails: list[tuple[str, list[Node]]] = field(default_factory=list)


Node = Line | Block


def emit(writer: SpecWriter, nodes: list[Node]) -> None:
    """Write nodes into the writer's current block (an empty block body is `skip`)."""
    for node in nodes:
        if isinstance(node, Line):
            writer.stmt(node.text, node.origin)
            continue
        writer.open(node.head, node.origin)
        emit(writer, node.body or [Line("skip")])
        for word, body in node.tails:
            writer.close(word)
            emit(writer, body or [Line("skip")])
        writer.close()


def ends(nodes: list[Node]) -> bool:
    """Whether the last statement of `nodes` leaves the block for good (break, continue,
    return): code after it is dead."""
    if not nodes:
        return False
    last = nodes[-1]
    return isinstance(last, Line) and last.text.split(" ")[0] in ("break", "continue", "return")
