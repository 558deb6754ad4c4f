"""Formatting macros: `println!`/`print!` print through stdout's lock (a Python value
formatted inside it takes the GIL), `eprintln!` through stderr's, `format!` of a Python
value takes the GIL for its step; `panic!`, `vec!` and the harmless macros."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.rust.context import Ctx, Val
from gilcheck.draft.rust.kinds import Kind
from gilcheck.draft.rust.literals import escape, short, unbound_py
from gilcheck.draft.rust.macros import (
    ERR_PRINT_MACROS,
    PRINT_MACROS,
    format_args,
    macro_arguments,
    macro_name,
    macro_parsed,
)
from gilcheck.draft.rust.parse import text

if TYPE_CHECKING:
    from gilcheck.draft.rust.calls import Calls


def macro(c: Calls, ctx: Ctx, node: Node) -> Val:
    """`println!`, `eprintln!`, `format!`, `panic!`, `vec!`, ..."""
    d = c.d
    name = macro_name(node)
    if name in PRINT_MACROS:
        d.stmt(ctx, node, "print " + printed(c, ctx, node))
        return Val.none()
    if name in ERR_PRINT_MACROS:
        _to_stderr(c, ctx, node)
        return Val.none()
    if name in ("write", "writeln"):
        dest = macro_arguments(node)[:1]
        if dest and re.search(r"\bstdout\b", text(dest[0])):  # `writeln!(io::stdout(), ..)`
            d.stmt(ctx, node, "print " + printed(c, ctx, node))
            return Val("ok(none)", Kind.PLAIN)
        if dest and re.search(r"\bstderr\b", text(dest[0])):
            _to_stderr(c, ctx, node)
            return Val("ok(none)", Kind.PLAIN)
    if name in ("format", "write", "writeln", "format_args"):
        format_values(c, ctx, node, formatted(c, ctx, node))
        return Val('"' + escape(format_args(node).template) + '"', Kind.PLAIN)
    if name in ("panic", "unreachable", "todo", "unimplemented"):
        format_values(c, ctx, node, formatted(c, ctx, node))  # the message is made first
        d.stmt(ctx, node, f'panic "{escape(format_args(node).template or name)}"')
        return Val.none()
    if name == "vec":
        moved = c.effects(ctx, macro_arguments(node))  # `vec![f(); 2]`: the elements are made
        return c.holding(ctx, moved, Val.none(Kind.HANDLES))
    if name == "py_run":  # pyo3::py_run!(py, ..): Python code runs here
        ctx.body.open("python", ctx.where(node))
        ctx.body.stmt("skip", ctx.where(node))
        ctx.body.close()
        return Val.none()
    if name in ("intern", "wrap_pyfunction", "wrap_pymodule", "c_str", "pyo3::intern"):
        return Val.none(Kind.PYVAL)
    if name in (
        "assert",
        "assert_eq",
        "assert_ne",
        "debug_assert",
        "dbg",
        "info",
        "debug",
        "trace",
        "warn",
        "error",
        "matches",
        "concat",
        "stringify",
        "include_str",
        "env",
        "line",
        "file",
        "column",
        "cfg",
    ):
        if name in ("info", "debug", "trace", "warn", "error"):
            d.assume(ctx, node, "the logger is assumed not to take the GIL: {code}")
            # its arguments are formatted (a Python value takes the GIL for it)
            format_values(c, ctx, node, formatted(c, ctx, node))
        elif name == "dbg":  # Debug-formats its value to stderr, and yields it
            args = macro_arguments(node)
            saved = ctx.origin_at
            ctx.origin_at = ctx.where(node)
            try:
                v = d.hoist(ctx, node, c.value(ctx, args[0])) if args else Val.none()
            finally:
                ctx.origin_at = saved
            d.spec.item("rlock rust_stderr")
            ctx.body.open("lock rust_stderr", ctx.where(node))
            if not format_values(c, ctx, node, [v]):
                ctx.body.stmt("skip", ctx.where(node))
            ctx.body.close()
            return v
        elif name in ("assert", "assert_eq", "assert_ne", "debug_assert", "matches"):
            saved = ctx.origin_at
            ctx.origin_at = ctx.where(node)
            try:
                c.effects(ctx, macro_arguments(node))
            finally:
                ctx.origin_at = saved
        return Val.none()
    d.assume(ctx, node, "assumed not to block: {code}")
    return Val.none(Kind.UNKNOWN)


def _to_stderr(c: Calls, ctx: Ctx, node: Node) -> None:
    """A line written to standard error: its values are made, then written under the
    `rust_stderr` lock (the stream's own lock)."""
    vals = formatted(c, ctx, node)
    c.d.spec.item("rlock rust_stderr")
    ctx.body.open("lock rust_stderr", ctx.where(node))
    if not format_values(c, ctx, node, vals):
        ctx.body.stmt("skip", ctx.where(node))
    ctx.body.close()


def formatted(c: Calls, ctx: Ctx, node: Node) -> list[Val]:
    """The values a formatting macro formats, in order (drafted first where needed)."""
    fmt = format_args(node)
    if not fmt.args and not fmt.template and not macro_parsed(node):
        c.d.assume(ctx, node, "the arguments of {code} are not drafted (assumed not to block)")
    saved = ctx.origin_at
    ctx.origin_at = ctx.where(node)
    out: list[Val] = []
    try:
        for n in fmt.names:
            b = ctx.lookup(n) or c.d.spec.statics.get(n)
            if b is not None and n in fmt.debug_names and unbound_py(b.type_text):
                out.append(Val.none())  # Debug of an unbound Py<T>: a pointer, no GIL
            elif b is not None and b.kind != Kind.GUARD:
                out.append(Val(b.name, b.kind, names=b.names))
            else:
                out.append(Val.none())
        for i, a in enumerate(fmt.args):
            v = c.value(ctx, a)
            if v.stmt:
                v = c.d.hoist(ctx, node, v)
            debug = i < len(fmt.debug_args) and fmt.debug_args[i]
            b = ctx.lookup(text(a)) if a.type == "identifier" else None
            if debug and b is not None and unbound_py(b.type_text):
                v = Val.none()
            out.append(v)
    finally:
        ctx.origin_at = saved
    return out


def printed(c: Calls, ctx: Ctx, node: Node) -> str:
    """What `print` prints for a `println!`: a Python value if it formats one (the
    GIL is then taken inside stdout's lock), a value whose kind shows at run time, or
    the format string."""
    vals = formatted(c, ctx, node)
    for v in vals:
        if v.kind == Kind.PYVAL and v.text == "none":  # a Python value the draft leaves out
            return f'pyerr("{escape(short(node))}")'  # (formatting it takes the GIL)
        if v.kind == Kind.PYVAL:
            return v.text
    for v in vals:
        if v.kind == Kind.UNKNOWN and v.text != "none":
            return v.text
    return '"' + escape(format_args(node).template) + '"'


def format_values(c: Calls, ctx: Ctx, node: Node, vals: list[Val]) -> bool:
    """Formatting values (`format!`, `to_string`, `eprintln!`): a Python value takes the
    GIL for that step (`with_gil { skip }`); a value whose kind shows only at run time (a
    message received, a call's result) is formatted as `clone v`, one step that takes the
    GIL exactly when `v` holds a Python value. False when nothing needed writing."""
    if any(v.kind == Kind.PYVAL for v in vals):
        ctx.body.open("with_gil", ctx.where(node))
        ctx.body.stmt("skip", ctx.where(node))
        ctx.body.close()
        return True
    wrote = False
    for v in vals:
        if v.kind == Kind.UNKNOWN and not v.stmt and v.names and v.text == v.names[0]:
            tmp = c.d.spec.names.fresh("formatted")
            c.d.stmt(ctx, node, f"let {tmp} = clone {v.text}")
            wrote = True
    return wrote


def format_python(c: Calls, ctx: Ctx, node: Node) -> Val:
    """Formatting a Python value (`format!("{e}")`, `e.to_string()`) takes the GIL for
    that step; the result is a plain string."""
    ctx.body.open("with_gil", ctx.where(node))
    ctx.body.stmt("skip", ctx.where(node))
    ctx.body.close()
    return Val('"' + escape(short(node)) + '"', Kind.PLAIN)
