"""The drafted statements of one spec body (a thread or a function), kept as a list of
operations and laid out later through the shared `SpecWriter`."""

from __future__ import annotations

from dataclasses import dataclass, field

from gilcheck.draft.model import Origin
from gilcheck.draft.writer import SpecWriter


@dataclass(frozen=True, slots=True)
class Op:
    """One line: a statement (`stmt`), a block opening (`open`), or a block end (`close`,
    with `text` the word that continues it: `or`, `else`)."""

    kind: str
    text: str = ""
    origin: Origin | None = None


@dataclass
class Body:
    """The statements of one thread or function, in order."""

    header: str
    origin: Origin | None = None
    ops: list[Op] = field(default_factory=list)
    depth: int = 0

    def stmt(self, text: str, origin: Origin | None = None) -> None:
        """A statement in the current block."""
        self.ops.append(Op("stmt", text, origin))

    def open(self, text: str, origin: Origin | None = None) -> None:
        """Open a block (`with_gil`, `choose`, `for v in rx`)."""
        self.ops.append(Op("open", text, origin))
        self.depth += 1

    def close(self, after: str = "") -> None:
        """Close the current block, or continue it with `} or {` / `} else {`."""
        self.ops.append(Op("close", after))
        if not after:
            self.depth -= 1

    def mark(self) -> int:
        """Where the next statement will go (for `empty_since`)."""
        return len(self.ops)

    def empty_since(self, mark: int) -> bool:
        """No statement was written since `mark`."""
        return not any(op.kind == "stmt" for op in self.ops[mark:])

    def fill_empty_blocks(self) -> None:
        """Put `skip` in every block that holds no statement (the language wants one)."""
        out: list[Op] = []
        for op in self.ops:
            if (
                op.kind == "close"
                and out
                and (out[-1].kind == "open" or (out[-1].kind == "close" and out[-1].text))
            ):
                out.append(Op("stmt", "skip", out[-1].origin))  # the code the block stands for
            out.append(op)
        self.ops = out

    def write(self, writer: SpecWriter) -> None:
        """Lay the body out through the writer."""
        self.fill_empty_blocks()
        if not self.ops:
            self.ops.append(Op("stmt", "skip", self.origin))
        writer.open(self.header, self.origin)
        for op in self.ops:
            if op.kind == "stmt":
                writer.stmt(op.text, op.origin)
            elif op.kind == "open":
                writer.open(op.text, op.origin)
            else:
                writer.close(op.text)
        writer.close()
