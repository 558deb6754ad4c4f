"""For which values of the unknowns a verdict holds: its condition, a witness, `expect ... when`.

With `param`s the condition is over the params (the `any` values eliminated); without,
it is over the `any` values the violation depends on.
"""

from __future__ import annotations

from dataclasses import dataclass

from gilcheck.explore.exploration import Exploration
from gilcheck.semantics import ir
from gilcheck.semantics.values import as_condition, render
from gilcheck.symbolic.paths import PathCondition, SolverUnknown
from gilcheck.system.engine import Engine
from gilcheck.system.expr import compile_expr


@dataclass(frozen=True, slots=True)
class Conditions:
    """What the unknowns mean for a verdict."""

    condition: str | None  # `n == 7`; None without unknowns
    witness: tuple[tuple[str, int], ...]  # values that make the reported trace happen
    expected_when: str | None  # the spec's `expect ... when` condition, as written
    when_matches: bool | None  # whether it is the condition found (None: no `when`)
    complete: bool  # False when the search was not exhaustive: the condition is a lower bound


NONE = Conditions(None, (), None, None, True)


def witness_of(engine: Engine, path: PathCondition) -> tuple[tuple[str, int], ...]:
    """Values of the unknowns under which `path` holds, named as the spec names them."""
    if not engine.symbolic:
        return ()
    try:
        values = engine.solver.witness((*engine.domain, *path))
    except SolverUnknown:
        return ()
    bases = [name.split("#")[0] for name in values]
    return tuple(
        (name if bases.count(name.split("#")[0]) > 1 else name.split("#")[0], value)
        for name, value in values.items()
    )


def conditions(
    engine: Engine,
    program: ir.Program,
    found: Exploration,
    verdict: str,
    trace_path: tuple[object, ...] | None,
    when_source: str | None = None,
) -> Conditions:
    """The condition of `verdict`, the witness of its trace, and the `when` comparison."""
    if not engine.symbolic:
        return NONE
    solver = engine.solver
    if verdict in ("stuck", "livelock"):
        paths = [trace_path or ()]
    elif verdict == "ok":
        paths = [()]
    else:
        paths = [path for kind, path in found.collected or () if kind == verdict]
        if not paths and trace_path is not None:
            paths = [trace_path]
    params = {info.name for info in program.params}
    keep = params or set().union(*(solver.symbols_in(path) for path in paths))
    try:
        formula = solver.condition(engine.domain, paths, keep)
        text: str | None = solver.describe(engine.domain, paths, keep)
    except SolverUnknown:
        formula, text = None, None
    witness = witness_of(engine, trace_path) if trace_path is not None else ()
    expected_when, when_matches = None, None
    expect = program.expect
    if expect is not None and expect.when is not None:
        wanted = as_condition(compile_expr(expect.when, engine.params)((), (), 0, ()))
        expected_when = when_source or render(wanted)
        if formula is not None and expect.verdict.value == verdict:
            try:
                when_matches = solver.equivalent(engine.domain, formula, solver.to_z3(wanted))
            except SolverUnknown:
                when_matches = None
        else:
            when_matches = False
    complete = found.exhaustive or verdict in ("stuck", "livelock")
    return Conditions(text, witness, expected_when, when_matches, complete)
