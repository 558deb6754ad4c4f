"""Stage-by-stage dumps for `gilcheck parse --dump ast|ir`: plain indented text."""

from __future__ import annotations

import dataclasses

from gilcheck.semantics import ir
from gilcheck.semantics.values import render
from gilcheck.source import SourceMap
from gilcheck.syntax import ast


def _is_node(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _inline(value: object) -> str:
    if isinstance(value, ast.Ident):
        return value.name
    if isinstance(value, tuple) and all(isinstance(v, ast.Ident) for v in value):
        return "(" + ", ".join(v.name for v in value) + ")"
    return repr(value)


def dump_ast(module: ast.Module, sources: SourceMap) -> str:
    """The syntax tree, one node per line, with each node's location."""
    lines: list[str] = []

    def walk(node: object, depth: int, label: str = "") -> None:
        pad = "  " * depth
        head = f"{pad}{label}{type(node).__name__}"
        scalars: list[str] = []
        children: list[tuple[str, object]] = []
        for f in dataclasses.fields(node):  # type: ignore[arg-type]
            if f.name == "span":
                continue
            value = getattr(node, f.name)
            if _is_node(value) and not isinstance(value, ast.Ident):
                children.append((f.name, value))
            elif (
                isinstance(value, tuple)
                and value
                and all(_is_node(v) and not isinstance(v, ast.Ident) for v in value)
            ):
                children.extend((f"{f.name}[{i}]", v) for i, v in enumerate(value))
            elif value is not None and value != () and value != "":
                scalars.append(f"{f.name}={_inline(value)}")
        span = getattr(node, "span", None)
        where = f"  @{sources.location(span).rsplit(':', 2)[-2]}" if span and span.end else ""
        lines.append(head + (" " + " ".join(scalars) if scalars else "") + where)
        for name, child in children:
            walk(child, depth + 1, f"{name}: ")

    walk(module, 0)
    return "\n".join(lines) + "\n"


def _expr(e: object) -> str:
    match e:
        case ir.Const(value=v):
            return render(v)
        case ir.Local(name=n, slot=s):
            return f"{n}%{s}"
        case ir.GlobalVar(name=n, index=i):
            return n if i is None else f"{n}[{_expr(i)}]"
        case ir.SelfIndex():
            return "self"
        case ir.ParamRef(name=n):
            return n
        case ir.UnaryOp(op=op, operand=o):
            return f"{op}{' ' if op == 'not' else ''}{_expr(o)}"
        case ir.BinaryOp(op=op, left=a, right=b):
            return f"({_expr(a)} {op} {_expr(b)})"
        case ir.Builtin(name=n, args=args):
            return f"{n}({', '.join(_expr(a) for a in args)})"
        case (
            ir.ResourceRef(name=n, index=i)
            | ir.GlobalChannel(name=n, index=i)
            | ir.ThreadRef(name=n, index=i)
        ):
            return n if i is None else f"{n}[{_expr(i)}]"
        case ir.HandleRef(name=n, slot=s):
            return f"{n}%{s}"
        case ir.LocalTarget(name=n, slot=s):
            return f"{n}%{s}"
        case ir.GlobalTarget(name=n, index=i):
            return n if i is None else f"{n}[{_expr(i)}]"
        case None:
            return "_"
    return repr(e)


def format_instr(instr: ir.Instr) -> str:
    """One instruction as `op operands`."""
    name = type(instr).__name__
    parts: list[str] = []
    for f in dataclasses.fields(instr):
        if f.name in ("span", "context"):
            continue
        value = getattr(instr, f.name)
        if isinstance(value, tuple):
            items = ", ".join(str(v) if isinstance(v, int) else _expr(v) for v in value)
            parts.append(f"{f.name}=[{items}]")
        elif isinstance(value, int | bool | str) and not isinstance(value, ir.Verdict):
            if value is not False and value != "":
                parts.append(f"{f.name}={value}")
        elif value is not None:
            parts.append(f"{f.name}={_expr(value)}")
    return name + (" " + " ".join(parts) if parts else "")


def dump_ir(program: ir.Program, sources: SourceMap) -> str:
    """Declarations and every code unit's instructions, with their source lines."""
    out: list[str] = [f"program {program.path}"]
    out.append(f"  title: {program.title!r}")
    if program.expect:
        out.append(f"  expect: {program.expect.verdict.value}")
    out.append(f"  host: {program.host}   gil: {program.gil}")
    for name, value in program.consts:
        out.append(f"  const {name} = {value}")
    for p in program.params:
        out.append(f"  param {p.name} in {p.low}..{p.high}")
    for v in program.vars:
        out.append(
            f"  var {v.name}{'' if v.size is None else f'[{v.size}]'} = {render(v.init)}"
            f"  (slots {v.base}..{v.base + (v.size or 1) - 1})"
        )
    for r in program.resources:
        count = "" if r.count is None else f" = {r.count}"
        out.append(
            f"  {r.kind} {r.name}{'' if r.size is None else f'[{r.size}]'}{count}"
            f"  (ids {r.base}..{r.base + (r.size or 1) - 1})"
        )
    for c in program.channels:
        cap = "" if c.capacity is None else f"({c.capacity})"
        out.append(
            f"  channel {c.name}{'' if c.size is None else f'[{c.size}]'}: {c.kind}{cap}"
            f"  (ids {c.base}..{c.base + (c.size or 1) - 1})"
        )
    for t in program.threads:
        out.append(f"  thread {t.name}{'' if t.size is None else f'[{t.size}]'} -> code {t.code}")
    for index, code in enumerate(program.codes):
        out.append("")
        params = f"({', '.join(code.params)})" if code.kind == "fn" else ""
        out.append(
            f"code {index}: {code.kind} {code.name}{params}   locals: "
            + (" ".join(f"{n}%{i}" for i, n in enumerate(code.local_names)) or "-")
        )
        for pc, instr in enumerate(code.instrs):
            line = sources.line_of(instr.span)
            ctx = {"python": "py", "native": "nat", "inherit": ""}[instr.context.value]
            out.append(f"  {pc:4d}  {format_instr(instr):<60} {ctx:>3}  line {line}")
    return "\n".join(out) + "\n"
