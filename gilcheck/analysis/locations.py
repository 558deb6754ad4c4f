"""Structured locations of instructions, for traces: file, line, column and end."""

from __future__ import annotations

from gilcheck.semantics import ir
from gilcheck.source import SourceMap
from gilcheck.trace.model import NOWHERE, Location

__all__ = ["NOWHERE", "Location", "location_of"]


def location_of(sources: SourceMap, instr: ir.Instr) -> Location:
    """Where an instruction's span is: its start and end as 1-based lines and columns (the
    end column just past its last character); line and columns 0 when the file is unknown."""
    span = instr.span
    source = sources.get(span.path)
    if source is None:
        return Location(span.path)
    start, end = source.line_col(span.start), source.line_col(span.end)
    origin = sources.origin_of(span)
    if origin is None:
        return Location(span.path, start.line, start.col, end.line, end.col)
    return Location(
        span.path,
        start.line,
        start.col,
        end.line,
        end.col,
        origin.path,
        origin.line,
        origin.column,
    )
