"""The lark parser for grammar.lark, built once per process, its tables cached.

Building the LALR tables takes about a quarter of a second; lark can save them to a file
and load them back in a fiftieth. The file is a pickle, so it is kept only in gilcheck's
private folder (gilcheck/private.py: the user's own, closed to others), named by a hash
of the grammar, the options and lark's version; without a usable private folder the
tables are built every time.
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from typing import Any

import lark
from lark import Lark

from gilcheck.private import NotPrivate, private_folder

_OPTIONS: dict[str, Any] = {
    "start": "module",
    "parser": "lalr",
    "lexer": "contextual",
    "propagate_positions": True,
    "maybe_placeholders": True,
}


@functools.cache
def parser() -> Lark:
    """The LALR parser of the grammar, with positions for spans."""
    grammar = resources.files("gilcheck.syntax").joinpath("grammar.lark").read_text("utf-8")
    cache = _cache_file(grammar)
    return Lark(grammar, cache=cache if cache is not None else False, **_OPTIONS)


def _cache_file(grammar: str) -> str | None:
    """Where the tables of this grammar are cached (None: no private folder to keep them)."""
    key = hashlib.sha256(
        f"{grammar}\0{sorted(_OPTIONS.items())}\0{lark.__version__}".encode()
    ).hexdigest()[:16]
    try:
        return str(private_folder() / f"grammar-{key}.lark")
    except NotPrivate:
        return None
