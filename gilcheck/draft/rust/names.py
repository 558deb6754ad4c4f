"""Spec names for Rust names: keep the source's name where the spec language allows it,
rename keywords and clashes with a suffix, and make fresh names for temporaries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from gilcheck.syntax.keywords import KEYWORDS, OPERANDLESS_STATEMENTS

_RESERVED = (
    frozenset(KEYWORDS)
    | frozenset(OPERANDLESS_STATEMENTS)
    | {
        "main",
        "pyerr",
        "pyobj",
        "len",
        "is_ok",
        "is_err",
        "is_none",
        "is_done",
        "future",
        "pool",
        "latch",
        "result",
        "submit",
        "shutdown",
        "complete",
        "countdown",
        "suspend",
        "try_acquire",
        "process",
        "timeout",
    }
)


def legal(name: str) -> str:
    """`name` made a legal spec name: characters outside `[A-Za-z0-9_]` become `_`, a
    leading digit gets `_`, a reserved word gets the suffix `_`."""
    out = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    if out[0].isdigit():
        out = "_" + out
    if out in _RESERVED:
        out += "_"
    return out


@dataclass
class NameTable:
    """The names used in one spec: functions and globals are unique across the spec,
    fresh locals (`tmp_1`) are unique too."""

    used: set[str] = field(default_factory=set)
    counters: dict[str, int] = field(default_factory=dict)

    def claim(self, name: str) -> str:
        """A legal, not yet used top-level name close to `name`."""
        base = legal(name)
        out = base
        n = 1
        while out in self.used:
            n += 1
            out = f"{base}_{n}"
        self.used.add(out)
        return out

    def fresh(self, stem: str) -> str:
        """A new name `stem_N` (for temporaries, closures, handles)."""
        base = legal(stem)
        while True:
            n = self.counters.get(base, 0) + 1
            self.counters[base] = n
            out = f"{base}_{n}"
            if out not in self.used:
                self.used.add(out)
                return out
