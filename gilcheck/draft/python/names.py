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
    `name_2`, `name_3`, ... when it is taken."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken: set[str] = set(taken or ())

    def fresh(self, name: str) -> str:
        """A new name based on `name`, marked taken."""
        base = legal(name)
        out, n = base, 1
        while out in self.taken:
            n += 1
            out = f"{base}_{n}"
        self.taken.add(out)
        return out

    def child(self) -> Namer:
        """A scope nested in this one: it avoids this scope's names."""
        return Namer(self.taken)
