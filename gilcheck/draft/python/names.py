"""Spec names for Python names: a source name is kept where the spec language allows it,
and gets a suffix where it is a keyword or is already taken."""

from __future__ import annotations

import re

from gilcheck.syntax.keywords import KEYWORDS, OPERANDLESS_STATEMENTS

# Words that are keywords of the spec language only in context (LANGUAGE.md, v1.2): a
# drafted spec avoids them as names all the same, so that it reads without doubt.
_CONTEXTUAL = (
    "result",
    "shutdown",
    "submit",
    "complete",
    "countdown",
    "process",
    "timeout",
    "pool",
    "eventloop",
    "latch",
    "future",
    "suspend",
    "bounded",
    "unbounded",
    "rendezvous",
    "channel",
    "try_acquire",
    "is_ok",
    "is_err",
    "is_none",
    "is_done",
    "len",
    "ok",
    "err",
    "pyobj",
    "pyerr",
    "main",
)
RESERVED = frozenset(KEYWORDS) | frozenset(OPERANDLESS_STATEMENTS) | frozenset(_CONTEXTUAL)
_LEGAL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def legal(name: str) -> str:
    """`name` made a legal, unreserved spec name (`lock` -> `lock_`, `é` -> `_`)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    if not _LEGAL.match(name):
        name = "_" + name
    if name in RESERVED or name.startswith("cpython_") or name.startswith("CPYTHON_"):
        name += "_"
    return name


class Namer:
    """Hands out names unique within a scope: the legal form of the source name, then
    `name_2`, `name_3`, ... when it is taken. A scope nested in another (a function's
    locals in the spec's globals) also avoids every name its parent has now or takes
    later, and the parent avoids every name any of its nested scopes took."""

    def __init__(self, taken: set[str] | None = None, parent: Namer | None = None) -> None:
        self.taken: set[str] = set(taken or ())
        self.parent = parent
        self.nested: set[str] = set()

    def _used(self, name: str) -> bool:
        if name in self.taken or name in self.nested:
            return True
        return self.parent is not None and name in self.parent.taken

    def fresh(self, name: str) -> str:
        """A new name based on `name`, marked taken."""
        base = legal(name)
        out, n = base, 1
        while self._used(out):
            n += 1
            out = f"{base}_{n}"
        self.taken.add(out)
        if self.parent is not None:
            self.parent.nested.add(out)
        return out

    def reserve(self, names: list[str]) -> None:
        """Mark names taken (a function's parameters)."""
        self.taken.update(names)
        if self.parent is not None:
            self.parent.nested.update(names)

    def child(self) -> Namer:
        """A scope nested in this one."""
        return Namer(parent=self)
