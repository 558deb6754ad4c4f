"""Path conditions as plain data (no z3): a sorted tuple of boolean terms, and the
operations the explorer needs on them without asking the solver."""

from __future__ import annotations

from typing import Any

from gilcheck.semantics.values import Term, render

PathCondition = tuple[Any, ...]  # of boolean `Term`s


class SolverUnknown(Exception):
    """z3 could not decide (a timeout, or nonlinear arithmetic it gave up on)."""


def conjoin(path: PathCondition, condition: Term) -> PathCondition:
    """The path condition with one more conjunct, in a canonical order."""
    if condition in path:
        return path
    return tuple(sorted((*path, condition), key=render))


def negate(condition: Term) -> Term:
    """`not condition`, without double negations (`not n >= 10` is `n < 10`)."""
    if condition.op == "not":
        inner = condition.args[0]
        if isinstance(inner, Term):
            return inner
    flipped = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
    if condition.op in flipped:
        return Term(flipped[condition.op], condition.args)
    return Term("not", (condition,))
