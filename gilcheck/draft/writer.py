"""Writing a drafted spec: indentation, origin annotations after statements, and the header
that lists what the draft assumed."""

from __future__ import annotations

from dataclasses import dataclass, field

from gilcheck.draft.model import Assumption, Origin

_ANNOTATION_COLUMN = 44  # origin annotations line up here when the statement is shorter


@dataclass
class SpecWriter:
    """Builds the text of a drafted spec, top to bottom.

    `comment` and `item` write top-level lines; `open`/`close` a block (a thread, a
    function, `with_gil { }`, ...), `stmt` a statement in the current block. A statement
    drafted from the source carries its `Origin`, written as an annotation at the end of its
    line; `assume` records an assumption, written in the header by `render` (the statement
    that stands for what was assumed is written by the caller, with the same origin).
    """

    indent: str = "    "
    _header: list[str] = field(default_factory=list)
    _body: list[str] = field(default_factory=list)
    _depth: int = 0
    assumptions: list[Assumption] = field(default_factory=list)

    def header(self, text: str) -> None:
        """A top-level line before everything else (`scenario "..."`, `host python`, a
        comment)."""
        self._header.append(text)

    def item(self, text: str, origin: Origin | None = None) -> None:
        """A top-level item (`mutex m`, `var x = 0`, `channel q: queue(0)`)."""
        self._line(text, origin, depth=0)

    def blank(self) -> None:
        """An empty line (between items)."""
        self._body.append("")

    def comment(self, text: str) -> None:
        """A comment line at the current depth (`# ...`)."""
        self._body.append(self.indent * self._depth + "# " + text)

    def stmt(self, text: str, origin: Origin | None = None) -> None:
        """A statement in the current block."""
        self._line(text, origin, depth=self._depth)

    def open(self, text: str, origin: Origin | None = None) -> None:
        """A line that opens a block (`text` without its `{`): `thread main`, `with_gil`."""
        self._line(text + " {", origin, depth=self._depth)
        self._depth += 1

    def close(self, after: str = "") -> None:
        """`}`, or `} after` (`} or {` of a `choose`, `} else {`): with `after` the block
        continues at the same depth."""
        self._depth -= 1
        if after:
            self._body.append(self.indent * self._depth + "} " + after + " {")
            self._depth += 1
        else:
            self._body.append(self.indent * self._depth + "}")

    def assume(self, origin: Origin, text: str) -> None:
        """Record an assumption (listed in the header, once per origin and text)."""
        found = Assumption(origin, text)
        if found not in self.assumptions:
            self.assumptions.append(found)

    @property
    def depth(self) -> int:
        """How deep the current block is (0: top level)."""
        return self._depth

    def _line(self, text: str, origin: Origin | None, depth: int) -> None:
        line = self.indent * depth + text
        if origin is not None:
            line = line.ljust(_ANNOTATION_COLUMN - 1) + " " + annotation(origin)
        self._body.append(line)

    def render(self) -> str:
        """The spec's text: header, the assumptions (as `#@ assume` annotations), body."""
        if self._depth != 0:
            raise ValueError(f"{self._depth} block(s) left open")
        out = list(self._header)
        if self.assumptions:
            out.append("")
            out.append(
                f"# What this draft assumes ({len(self.assumptions)}): a verdict of `ok` "
                "holds only under these."
            )
            for a in self.assumptions:
                out.append(f"#@ assume {annotation(a.origin)[3:]} {_quoted(a.text)}")
        out.append("")
        out.extend(self._body)
        while out and out[-1] == "":
            out.pop()
        return "\n".join(out) + "\n"


def annotation(origin: Origin) -> str:
    """The origin annotation written after a drafted statement: `#@ app.py:41:5 ~3fa2c1d0`."""
    path = origin.path if _plain(origin.path) else _quoted(origin.path)
    where = f"{path}:{origin.line}" + (f":{origin.column}" if origin.column else "")
    return f"#@ {where}" + (f" ~{origin.hash}" if origin.hash else "")


def _plain(path: str) -> bool:
    return bool(path) and all(ch.isalnum() or ch in "._-/+\\" for ch in path)


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
