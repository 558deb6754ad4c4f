"""Parsing Rust source with tree-sitter-rust, and small helpers over its syntax nodes."""

from __future__ import annotations

from collections.abc import Iterator

import tree_sitter_rust
from tree_sitter import Language, Node, Parser, Tree

from gilcheck.draft.model import DraftError, Origin, SourceText

_LANGUAGE = Language(tree_sitter_rust.language())


def parse_rust(src: SourceText) -> Tree:
    """Parse one Rust file; a tree with a syntax error raises `DraftError` (code
    `source-syntax`, not refused) at the first error's line and column."""
    tree = Parser(_LANGUAGE).parse(src.text.encode())
    bad = first_error(tree.root_node)
    if bad is not None:
        line, column = bad.start_point.row + 1, bad.start_point.column + 1
        what = "missing " + bad.type if bad.is_missing else "unexpected `" + text(bad)[:30] + "`"
        raise DraftError(
            f"Rust syntax error: {what}",
            src.path,
            line,
            column,
            hint="fix the source so that it compiles, then draft again",
            refused=False,
            code="source-syntax",
        )
    return tree


def parse_fragment(code: str) -> Node:
    """Parse a small piece of Rust made by the drafter (a macro's arguments as a call)."""
    return Parser(_LANGUAGE).parse(code.encode()).root_node


def first_error(node: Node) -> Node | None:
    """The first ERROR or MISSING node in source order, if any."""
    if not node.has_error:
        return None
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return node


def text(node: Node | None) -> str:
    """A node's source text."""
    if node is None or node.text is None:
        return ""
    return node.text.decode()


def origin(src: SourceText, node: Node) -> Origin:
    """The origin of a drafted statement that comes from `node`."""
    return src.origin(node.start_point.row + 1, node.start_point.column + 1)


def named(node: Node) -> list[Node]:
    """A node's named children, comments left out."""
    return [c for c in node.named_children if c.type not in ("line_comment", "block_comment")]


def walk(node: Node) -> Iterator[Node]:
    """Every node under `node` (itself included), in source order."""
    yield node
    for child in node.children:
        yield from walk(child)


def unwrap_parens(node: Node) -> Node:
    """The expression inside parentheses, references and `?`/`.unwrap()`-free wrappers."""
    while node.type in ("parenthesized_expression", "reference_expression", "try_expression"):
        inner = named(node)
        if not inner:
            break
        node = inner[-1]
    return node
