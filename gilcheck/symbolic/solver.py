"""z3 for symbolic data: path conditions, their satisfiability, witnesses and conditions.

A path condition is a sorted tuple of boolean terms (`values.Term`), all of which hold on
the path. The explorer asks whether a path condition plus a guard can hold (`sat`), cached
by the condition, so that each question goes to z3 once.
"""

from __future__ import annotations

from typing import Any

import z3

from gilcheck.semantics.values import Term, Value, render
from gilcheck.symbolic.paths import PathCondition, SolverUnknown, conjoin, negate

__all__ = ["PathCondition", "Solver", "SolverUnknown", "conjoin", "negate", "show"]

SOLVER_TIMEOUT_MS = 10_000


class Solver:
    """Translates terms to z3 once and answers satisfiability questions, cached."""

    def __init__(self, timeout_ms: int = SOLVER_TIMEOUT_MS) -> None:
        self.timeout_ms = timeout_ms
        self._z3: dict[Term, Any] = {}
        self._sat: dict[PathCondition, bool] = {}
        self.symbols: dict[str, Any] = {}
        self.calls = 0

    # ------------------------------------------------------------ translation

    def symbol(self, term: Term) -> Any:
        """The z3 integer of a `param` or `any` term."""
        kind, (number, name) = term.op, term.args
        key = f"{name}" if kind == "param" else f"{name}#{number}"
        found = self.symbols.get(key)
        if found is None:
            found = self.symbols[key] = z3.Int(key)
        return found

    def to_z3(self, value: Value) -> Any:
        """A z3 expression for a term, an int or a bool."""
        if isinstance(value, bool):
            return z3.BoolVal(value)
        if isinstance(value, int):
            return z3.IntVal(value)
        assert isinstance(value, Term), value
        cached = self._z3.get(value)
        if cached is None:
            cached = self._z3[value] = self._translate(value)
        return cached

    def _translate(self, term: Term) -> Any:
        op, args = term.op, term.args
        if op in ("param", "any"):
            return self.symbol(term)
        parts = [self.to_z3(a) for a in args]
        if op == "not":
            return z3.Not(parts[0])
        if op == "neg":
            return -parts[0]
        a, b = parts
        if op == "and":
            return z3.And(a, b)
        if op == "or":
            return z3.Or(a, b)
        if op in ("==", "!="):
            if z3.is_bool(a) != z3.is_bool(b):  # true == 1, as in Python
                a, b = (z3.If(x, 1, 0) if z3.is_bool(x) else x for x in (a, b))
            return a == b if op == "==" else a != b
        if z3.is_bool(a):
            a = z3.If(a, 1, 0)
        if z3.is_bool(b):
            b = z3.If(b, 1, 0)
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op in ("/", "%"):
            # Rust's truncating division (z3's `/` on integers floors).
            quotient = z3.If(
                (a >= 0) == (b >= 0),
                z3.Abs(a) / z3.Abs(b),
                -(z3.Abs(a) / z3.Abs(b)),
            )
            return quotient if op == "/" else a - quotient * b
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]

    # ------------------------------------------------------------ questions

    def _solver(self) -> Any:
        solver = z3.Solver()
        solver.set("timeout", self.timeout_ms)
        return solver

    def sat(self, path: PathCondition) -> bool:
        """Whether every condition of `path` can hold at once."""
        found = self._sat.get(path)
        if found is None:
            solver = self._solver()
            solver.add(*[self.to_z3(c) for c in path])
            self.calls += 1
            answer = solver.check()
            if answer == z3.unknown:
                raise SolverUnknown(solver.reason_unknown())
            found = self._sat[path] = answer == z3.sat
        return found

    def witness(self, path: PathCondition) -> dict[str, int]:
        """Values of the unknowns that make `path` hold (smallest magnitude first)."""
        solver = z3.Optimize()
        solver.set("timeout", self.timeout_ms)
        solver.add(*[self.to_z3(c) for c in path])
        names = sorted(self.symbols_in(path))
        for name in names:
            solver.minimize(z3.Abs(self.symbols[name]))
        if solver.check() != z3.sat:
            plain = self._solver()
            plain.add(*[self.to_z3(c) for c in path])
            if plain.check() != z3.sat:
                return {}
            model = plain.model()
        else:
            model = solver.model()
        return {
            name: model.eval(self.symbols[name], model_completion=True).as_long() for name in names
        }

    def symbols_in(self, path: PathCondition) -> set[str]:
        """The names of the unknowns a path condition mentions (`n`, `x#0`)."""
        found: set[str] = set()

        def walk(value: object) -> None:
            if isinstance(value, Term):
                if value.op in ("param", "any"):
                    self.symbol(value)
                    number, name = value.args
                    found.add(f"{name}" if value.op == "param" else f"{name}#{number}")
                else:
                    for arg in value.args:
                        walk(arg)

        for condition in path:
            walk(condition)
        return found

    def equivalent(self, domain: PathCondition, left: Any, right: Any) -> bool:
        """Whether two z3 formulas agree on every value of the domain."""
        solver = self._solver()
        solver.add(*[self.to_z3(c) for c in domain])
        solver.add(left != right)
        answer = solver.check()
        if answer == z3.unknown:
            raise SolverUnknown(solver.reason_unknown())
        return bool(answer == z3.unsat)

    def condition(self, domain: PathCondition, paths: list[PathCondition], keep: set[str]) -> Any:
        """The values of the `keep` unknowns (the params) for which one of `paths` holds,
        as a z3 formula: the other unknowns (`any` values) are eliminated."""
        disjuncts = [z3.And(*[self.to_z3(c) for c in p]) if p else z3.BoolVal(True) for p in paths]
        formula = z3.Or(*disjuncts) if disjuncts else z3.BoolVal(False)
        others = [self.symbols[n] for n in sorted(self._symbols_of_paths(paths)) if n not in keep]
        if others:
            formula = z3.Exists(others, formula)
            try:
                eliminated = z3.Then("simplify", "qe", "simplify")(formula).as_expr()
                if not _has_quantifier(eliminated):
                    formula = eliminated
            except z3.Z3Exception:
                pass
        return self.simplify(domain, formula)

    def describe(self, domain: PathCondition, paths: list[PathCondition], keep: set[str]) -> str:
        """The condition of `condition(..)` as the spec would write it: each path's own
        conditions (those its other conditions and the domain do not already imply), joined
        by `or`; a path over eliminated unknowns goes through z3's quantifier elimination."""
        texts: list[str] = []
        for path in paths:
            if self.symbols_in(path) - keep:
                formula = self.condition(domain, [path], keep)
                text = show(formula)
            else:
                kept = [
                    self._pruned(c, (*domain, *path[:i], *path[i + 1 :]))
                    for i, c in enumerate(path)
                    if not _is_any_range(c)  # the `any`'s own range, as the domain
                    and not self._implied((*domain, *path[:i], *path[i + 1 :]), self.to_z3(c))
                ]
                if len(kept) == 1:
                    text = render(kept[0])
                else:
                    text = " and ".join(_grouped(c) for c in kept) if kept else "true"
            if text == "true":
                return "true"
            if text != "false" and text not in texts:
                texts.append(text)
        if not texts:
            return "false"
        if len(texts) > 8:
            return show(self.condition(domain, paths, keep))
        if len(texts) == 1:
            return texts[0]
        return " or ".join(f"({t})" if " or " in t else t for t in texts)

    def _pruned(self, condition: Term, context: PathCondition) -> Term:
        """An `or` without the alternatives its context makes impossible."""
        if condition.op != "or":
            return condition
        options = [a for a in condition.args if isinstance(a, Term)]
        possible = [a for a in options if self.sat(conjoin(context, a))]
        if not possible or len(possible) == len(options):
            return condition
        result = possible[0]
        for other in possible[1:]:
            result = Term("or", (result, other))
        return result

    def _symbols_of_paths(self, paths: list[PathCondition]) -> set[str]:
        found: set[str] = set()
        for path in paths:
            found |= self.symbols_in(path)
        return found

    def simplify(self, domain: PathCondition, formula: Any) -> Any:
        """The formula without what the domain (the params' ranges) already implies."""
        # Simplified in the domain's context (so `x % 8` of a non-negative `x` loses the
        # sign cases of Rust's truncating `%`), then the domain's own conjuncts dropped.
        context = z3.And(*[self.to_z3(c) for c in domain], formula)
        try:
            formula = z3.Then("simplify", "ctx-solver-simplify", "simplify")(context).as_expr()
        except z3.Z3Exception:
            formula = z3.simplify(context)
        conjuncts = list(formula.children()) if z3.is_and(formula) else [formula]
        kept = [c for c in conjuncts if not self._implied(domain, c)]
        if not kept:
            return z3.BoolVal(True)
        return kept[0] if len(kept) == 1 else z3.And(*kept)

    def _implied(self, domain: PathCondition, formula: Any) -> bool:
        solver = self._solver()
        solver.add(*[self.to_z3(c) for c in domain])
        solver.add(z3.Not(formula))
        return bool(solver.check() == z3.unsat)


def _is_any_range(condition: Term) -> bool:
    """`lo <= x` or `x < hi` for an `any` value `x` and constant bounds."""
    if condition.op not in ("<=", "<"):
        return False
    left, right = condition.args
    sides = (left, right) if condition.op == "<" else (right, left)
    return isinstance(sides[0], Term) and sides[0].op == "any" and isinstance(sides[1], int)


def _grouped(condition: Term) -> str:
    text = render(condition)
    return f"({text})" if condition.op == "or" else text


def _has_quantifier(formula: Any) -> bool:
    if z3.is_quantifier(formula):
        return True
    return any(_has_quantifier(child) for child in formula.children())


def show(formula: Any) -> str:
    """A z3 formula in the spec language's syntax: `n >= 3 and n % 2 == 0`."""
    return _show(formula, 0)


def _show(e: Any, outer: int) -> str:
    if z3.is_true(e):
        return "true"
    if z3.is_false(e):
        return "false"
    if z3.is_int_value(e):
        return str(e.as_long())
    if z3.is_const(e):
        return str(e.decl().name()).split("#")[0]
    kind = e.decl().kind()
    kids = e.children()

    def wrap(text: str, level: int) -> str:
        return f"({text})" if level < outer else text

    if kind == z3.Z3_OP_AND:
        return wrap(" and ".join(_show(k, 2) for k in kids), 2)
    if kind == z3.Z3_OP_OR:
        return wrap(" or ".join(_show(k, 1) for k in kids), 1)
    if kind == z3.Z3_OP_IMPLIES:  # z3's `Implies(a, b)` in the spec's words
        return _show(z3.Or(z3.Not(kids[0]), kids[1]), outer)
    if kind == z3.Z3_OP_NOT:
        inner = kids[0]
        if z3.is_eq(inner):
            return wrap(f"{_show(inner.arg(0), 5)} != {_show(inner.arg(1), 5)}", 4)
        negated = {z3.Z3_OP_LE: ">", z3.Z3_OP_LT: ">=", z3.Z3_OP_GE: "<", z3.Z3_OP_GT: "<="}
        if inner.decl().kind() in negated:
            op = negated[inner.decl().kind()]
            return wrap(f"{_show(inner.arg(0), 5)} {op} {_show(inner.arg(1), 5)}", 4)
        return wrap(f"not {_show(inner, 3)}", 3)
    comparisons = {
        z3.Z3_OP_EQ: "==",
        z3.Z3_OP_LE: "<=",
        z3.Z3_OP_LT: "<",
        z3.Z3_OP_GE: ">=",
        z3.Z3_OP_GT: ">",
        z3.Z3_OP_DISTINCT: "!=",
    }
    if kind in comparisons:
        left, right, op = kids[0], kids[1], comparisons[kind]
        if z3.is_int_value(left) and not z3.is_int_value(right):  # `n == 7`, not `7 == n`
            left, right = right, left
            op = {"<=": ">=", "<": ">", ">=": "<=", ">": "<"}.get(op, op)
        return wrap(f"{_show(left, 5)} {op} {_show(right, 5)}", 4)
    if kind == z3.Z3_OP_ADD:
        text = _show(kids[0], 5)
        for k in kids[1:]:
            if z3.is_int_value(k) and k.as_long() < 0:
                text += f" - {-k.as_long()}"
            else:
                text += f" + {_show(k, 6)}"
        return wrap(text, 5)
    if kind == z3.Z3_OP_SUB:
        return wrap(" - ".join([_show(kids[0], 5)] + [_show(k, 6) for k in kids[1:]]), 5)
    if kind == z3.Z3_OP_UMINUS:
        return wrap(f"-{_show(kids[0], 7)}", 7)
    if kind == z3.Z3_OP_MUL:
        if len(kids) == 2 and z3.is_int_value(kids[0]) and kids[0].as_long() == -1:
            return wrap(f"-{_show(kids[1], 7)}", 7)
        return wrap(" * ".join(_show(k, 6) for k in kids), 6)
    if kind in (z3.Z3_OP_MOD, z3.Z3_OP_REM):
        return wrap(f"{_show(kids[0], 6)} % {_show(kids[1], 7)}", 6)
    if kind in (z3.Z3_OP_IDIV, z3.Z3_OP_DIV):
        return wrap(f"{_show(kids[0], 6)} / {_show(kids[1], 7)}", 6)
    if kind == z3.Z3_OP_ITE:
        return wrap(
            f"(if {_show(kids[0], 0)} then {_show(kids[1], 0)} else {_show(kids[2], 0)})", 8
        )
    return str(e)
