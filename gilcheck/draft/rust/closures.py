"""Free-variable analysis of closures and async blocks: which variables of the enclosing
function a closure uses (they become the parameters of the spec `fn` it is drafted to)."""

from __future__ import annotations

from collections.abc import Iterable

from tree_sitter import Node

from gilcheck.draft.rust.macros import format_args
from gilcheck.draft.rust.parse import named, text, walk

_NOT_VARIABLES = ("scoped_identifier", "scoped_type_identifier", "field_expression")


def mentioned(node: Node) -> list[str]:
    """Identifiers used as values under `node`, in order of first use, including names
    captured by format strings (`println!("{x}")`) and macro arguments."""
    out: list[str] = []
    for n in walk(node):
        if n.type == "identifier":
            parent = n.parent
            if (
                parent is not None
                and parent.type in _NOT_VARIABLES
                and (parent.type != "field_expression" or parent.child_by_field_name("value") != n)
            ):
                continue
            out.append(text(n))
        elif n.type == "macro_invocation":
            fmt = format_args(n)
            out.extend(fmt.names)
            for a in fmt.args:
                out.extend(mentioned(a))
    return list(dict.fromkeys(out))


def bound_inside(node: Node) -> set[str]:
    """Names a closure binds itself: its parameters and its `let`/`for`/`while let`
    patterns (an approximation that ignores shadowing order)."""
    out: set[str] = set()
    params = node.child_by_field_name("parameters")
    if params is not None:
        out.update(_pattern_names(params))
    for n in walk(node):
        if n.type in ("let_declaration", "for_expression", "let_condition", "match_arm"):
            pat = n.child_by_field_name("pattern")
            if pat is not None:
                out.update(_pattern_names(pat))
    return out


def _pattern_names(node: Node) -> Iterable[str]:
    for n in walk(node):
        if n.type == "identifier" and (n.parent is None or n.parent.type not in _NOT_VARIABLES):
            name = text(n)
            if name not in ("Some", "None", "Ok", "Err") and not name[:1].isupper():
                yield name


def captured(closure: Node, in_scope: Iterable[str]) -> list[str]:
    """The variables of the enclosing scope `closure` uses, in order of first use."""
    scope = set(in_scope)
    inner = bound_inside(closure)
    body = closure.child_by_field_name("body") or closure
    return [n for n in mentioned(body) if n in scope and n not in inner]


def closure_params(closure: Node) -> list[str]:
    """A closure's own parameter names (`|py|`, `|x|`, `|s|`)."""
    params = closure.child_by_field_name("parameters")
    if params is None:
        return []
    out: list[str] = []
    for p in named(params):
        out.extend(_pattern_names(p))
    return out
