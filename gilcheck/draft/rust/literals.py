"""Small conversions from Rust source text to spec literals: strings, messages, the
literal a `Mutex` is made with, and whether a type is an unbound `Py<T>`."""

from __future__ import annotations

import re

from tree_sitter import Node

from gilcheck.draft.rust.macros import format_args
from gilcheck.draft.rust.parse import named, text, unwrap_parens


def unbound_py(type_text: str) -> bool:
    """`Py<T>`/`PyObject`: PyO3's Debug of it prints a pointer and takes no GIL."""
    return re.match(r"^(&\s*)?(Py\s*<|PyObject\b)", type_text.strip()) is not None


def mutex_literal(args: list[Node]) -> str:
    """The literal a `Mutex::new(..)` holds, when it is a `bool` or an integer."""
    if len(args) != 1:
        return ""
    t = text(args[0]).replace("_", "")
    if t in ("true", "false"):
        return t
    m = re.fullmatch(r"(-?\d+)(u8|u16|u32|u64|usize|i8|i16|i32|i64|isize)?", t)
    return m.group(1) if m else ""


def escape(s: str) -> str:
    """`s` as the inside of a spec string literal."""
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def short(node: Node) -> str:
    """A node's source text on one line, cut to 40 characters."""
    s = " ".join(text(node).split())
    return s if len(s) <= 40 else s[:37] + "..."


def message_text(node: Node) -> str:
    """The message of an error made from `node` (a literal, `"..".to_string()`,
    `format!(..)`'s template, or the source text)."""
    node = unwrap_parens(node)
    if node.type == "string_literal":
        return text(node)[1:-1]
    if node.type == "call_expression" and text(node.child_by_field_name("function")).endswith(
        ("to_string", "to_owned", "String::from", "into")
    ):
        inner = [n for n in named(node) if n.type == "string_literal"]
        if inner:
            return text(inner[0])[1:-1]
        fn = node.child_by_field_name("function")
        base = (
            fn.child_by_field_name("value")
            if fn is not None and fn.type == ("field_expression")
            else None
        )
        if base is not None and base.type == "string_literal":
            return text(base)[1:-1]
    if node.type == "macro_invocation":
        return format_args(node).template
    return " ".join(text(node).split())
