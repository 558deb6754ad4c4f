"""Symbolic splitting: the outcomes of a condition over unknown values, each with its path
condition narrowed, and fresh unknowns for wide `any` ranges."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics import ir
from gilcheck.semantics.values import (
    Term,
    Value,
    as_condition,
    render,
)
from gilcheck.symbolic.paths import conjoin, negate

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.base import (
    Base,
)
from gilcheck.system.engine.common import (
    Prepared,
    SpecMisuse,
    _truth,
    _with_path,
)
from gilcheck.system.model import (
    DECIDE,
    STEP,
    Transition,
)
from gilcheck.system.state import (
    F_LOCALS,
    S_PATH,
    Frame,
    State,
    Thread,
    Work,
)


class Splitting(Base):
    """Splitting states on conditions over unknown values."""

    def cases(self, state: State, value: Value) -> list[tuple[bool, State]]:
        """The outcomes of a condition: (its truth, the state on that side). A concrete
        condition has one; one over unknown values has those its path condition allows,
        each with the path narrowed when both are possible."""
        if not isinstance(value, Term):
            return [(_truth(value), state)]
        condition = as_condition(value)
        count, path = state[S_PATH]
        yes, no = conjoin(path, condition), conjoin(path, negate(condition))  # type: ignore[arg-type]
        can_yes, can_no = self.solver.sat(yes), self.solver.sat(no)
        if can_yes and can_no:
            return [
                (True, _with_path(state, (count, yes))),
                (False, _with_path(state, (count, no))),
            ]
        if can_yes:
            return [(True, state)]
        return [(False, state)] if can_no else []

    def _split(
        self, state: State, tid: int, alternatives: tuple[Term, ...], out: list[Transition]
    ) -> None:
        """A state for each alternative its path condition allows, naming it in the path
        (even when it is the only one), so that the step, run again there, can go on."""
        count, path = state[S_PATH]
        for k, alternative in enumerate(alternatives):
            narrowed = conjoin(path, alternative)
            if self.solver.sat(narrowed):
                out.append(((tid, DECIDE, 2 + k), _with_path(state, (count, narrowed))))

    def _unknown(
        self,
        state: State,
        tid: int,
        th: Thread,
        frame: Frame,
        p: Prepared,
        out: list[Transition],
        low: Value,
        high: Value,
    ) -> bool:
        """`any` over a wide (or unknown) range: a fresh unknown, never enumerated."""
        instr: ir.AnyInt = p.instr  # type: ignore[assignment]
        count, path = state[S_PATH]
        name = getattr(instr.target, "name", None) or "any"
        term = Term("any", (count, name))
        path = conjoin(conjoin(path, Term("<=", (low, term))), Term("<", (term, high)))
        if not self.solver.sat(path):
            raise SpecMisuse(f"`any({render(low)}..{render(high)})` is an empty range")
        w = Work(state)
        w.path = (count + 1, path)
        locals_ = self._store(w, frame[F_LOCALS], instr.target, term, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, "unknown"), w.freeze()))
        return False
