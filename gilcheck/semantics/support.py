"""Constructs that parse but that `gilcheck check` has no semantics for yet: refused, located."""

from __future__ import annotations

from gilcheck.diagnostics import Diagnostic, DiagnosticSink
from gilcheck.semantics import ir

MAX_ENUMERATED_ANY = 256


def unsupported(program: ir.Program) -> list[Diagnostic]:
    """Every construct of the program that this version cannot check, located."""
    sink = DiagnosticSink()

    def refuse(what: str, span: object) -> None:
        sink.error(
            "not-supported-yet",
            f"{what} {'are' if what.endswith('s') else 'is'} not supported by `gilcheck check` yet",
            span,  # type: ignore[arg-type]
            help="`gilcheck parse` accepts it; see docs/status.md for what checks today",
        )

    for param in program.params:
        refuse("`param` (symbolic values)", param.span)
    if program.expect is not None and program.expect.when is not None:
        refuse("`expect ... when` conditions", program.expect.span)
    for code in program.codes:
        for instr in code.instrs:
            match instr:
                case ir.AnyInt(low=ir.Const(value=lo), high=ir.Const(value=hi)) if (
                    isinstance(lo, int) and isinstance(hi, int) and hi - lo > MAX_ENUMERATED_ANY
                ):
                    refuse(f"`any` over more than {MAX_ENUMERATED_ANY} values", instr.span)
                case _:
                    pass
    return sink.items
