"""The lark parser for grammar.lark, built once."""

from __future__ import annotations

import functools
from importlib import resources

from lark import Lark


@functools.cache
def parser() -> Lark:
    """The LALR parser of the grammar, with positions for spans."""
    grammar = resources.files("gilcheck.syntax").joinpath("grammar.lark").read_text("utf-8")
    return Lark(
        grammar,
        start="module",
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=True,
    )
