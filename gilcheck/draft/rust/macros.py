"""The arguments of formatting macros (`println!`, `format!`, `write!`, ...): the format
string, the names it captures inline (`{ret:?}`) and the positional arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from gilcheck.draft.rust.parse import named, parse_fragment, text

PRINT_MACROS = ("println", "print")
ERR_PRINT_MACROS = ("eprintln", "eprint")
FORMAT_MACROS = ("format", "write", "writeln", "panic", "format_args")


@dataclass
class MacroArgs:
    """What a formatting macro formats."""

    template: str  # the format string's content ("" when there is none)
    names: list[str]  # names captured inline: `{ret:?}` -> ret
    args: list[Node]  # the other arguments, as expressions (of a parsed fragment)
    debug_names: set[str] = field(default_factory=set)  # inline names formatted with `:?`
    debug_args: list[bool] = field(default_factory=list)  # each positional: `{:?}`?


def macro_name(node: Node) -> str:
    """`println` for `println!(..)` and `std::println!(..)`."""
    return text(node.child_by_field_name("macro")).rsplit("::", 1)[-1]


def macro_arguments(node: Node) -> list[Node]:
    """A macro's token tree parsed as call arguments (empty if it does not parse)."""
    tree = next((c for c in node.children if c.type == "token_tree"), None)
    if tree is None:
        return []
    inner = text(tree)[1:-1]
    root = parse_fragment(f"fn __draft() {{ __draft({inner}); }}")
    if root.has_error:
        return []
    for n in _calls(root):
        args = n.child_by_field_name("arguments")
        if text(n.child_by_field_name("function")) == "__draft" and args is not None:
            return named(args)
    return []


def macro_parsed(node: Node) -> bool:
    """The macro's arguments parse as expressions (or it has none)."""
    tree = next((c for c in node.children if c.type == "token_tree"), None)
    if tree is None or not text(tree)[1:-1].strip():
        return True
    return bool(macro_arguments(node))


def _calls(node: Node) -> list[Node]:
    out = [node] if node.type == "call_expression" else []
    for c in node.children:
        out.extend(_calls(c))
    return out


def format_args(node: Node) -> MacroArgs:
    """The format string and the values a formatting macro formats (for `write!`, the
    destination is left out)."""
    args = macro_arguments(node)
    if macro_name(node) in ("write", "writeln") and args:
        args = args[1:]
    template = ""
    if args and args[0].type in ("string_literal", "raw_string_literal"):
        template = text(args[0])[1:-1]
        args = args[1:]
    names: list[str] = []
    debug_names: set[str] = set()
    debug_args: list[bool] = []
    for m in re.finditer(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*|\d*)(:[^}]*)?\}", template):
        debug = "?" in (m.group(2) or "")
        if m.group(1) and not m.group(1).isdigit():
            names.append(m.group(1))
            if debug:
                debug_names.add(m.group(1))
        else:
            debug_args.append(debug)
    return MacroArgs(template, list(dict.fromkeys(names)), args, debug_names, debug_args)
