"""Handlers for data: assignments, `any`, `unwrap`, `clone`, `drop`, a scope's end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics import ir
from gilcheck.semantics.ir import Verdict
from gilcheck.semantics.values import (
    Term,
    describe_value,
    render,
)

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.common import (
    MAX_ENUMERATED_ANY,
    Prepared,
    SpecMisuse,
    SpecPanic,
    _with,
)
from gilcheck.system.engine.splitting import (
    Splitting,
)
from gilcheck.system.expr import (
    MOVED,
    UseAfterMove,
)
from gilcheck.system.model import (
    STEP,
    LimitHit,
    Transition,
)
from gilcheck.system.state import (
    C_KIND,
    C_SENDERS,
    F_LOCALS,
    Frame,
    State,
    Thread,
    Work,
)


class DataHandlers(Splitting):
    """Handlers of data statements."""

    def _assign(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.Assign = p.instr  # type: ignore[assignment]
        value = self._eval(p.value, state, frame, th)
        w = Work(state)
        locals_ = self._hand_over(w, frame[F_LOCALS], p, (value,))
        locals_ = self._store(w, locals_, instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _any(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.AnyInt = p.instr  # type: ignore[assignment]
        low = self._eval(p.values[0], state, frame, th)
        high = self._eval(p.values[1], state, frame, th)
        for bound in (low, high):
            if not isinstance(bound, Term | int):  # a boolean is 0 or 1, as in Python
                raise SpecMisuse(f"`any(..)` needs integer bounds, not {describe_value(bound)}")
        symbolic = isinstance(low, Term) or isinstance(high, Term)
        if self.symbolic and (symbolic or high - low > MAX_ENUMERATED_ANY):  # type: ignore[operator]
            return self._unknown(state, tid, th, frame, p, out, low, high)
        if not (isinstance(low, int) and isinstance(high, int)):
            raise SpecMisuse("`any(..)` needs integer bounds")
        if high <= low:
            raise SpecMisuse(f"`any({render(low)}..{render(high)})` is an empty range")
        if high - low > MAX_ENUMERATED_ANY:
            out.append(
                (
                    (tid, STEP, 0),
                    LimitHit(
                        Verdict.INCONCLUSIVE,
                        f"`any({render(low)}..{render(high)})` has more than "
                        f"{MAX_ENUMERATED_ANY} values",
                        tid,
                        instr.span,
                    ),
                )
            )
            return False
        for v in range(low, high):
            w = Work(state)
            locals_ = self._store(w, frame[F_LOCALS], instr.target, v, frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_)
            out.append(((tid, STEP, v), w.freeze()))
        return False

    def _unwrap(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Unwrap = p.instr  # type: ignore[assignment]
        value = self._eval(p.value, state, frame, th)
        if value is None:
            raise SpecPanic("called `unwrap` on `none`")
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "err":
            raise SpecPanic(f"called `unwrap` on {describe_value(value)}")
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "ok":
            value = value[1]
        w = Work(state)
        locals_ = self._hand_over(w, frame[F_LOCALS], p, (value,))  # moves out of `v`
        locals_ = self._store(w, locals_, instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _clone(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.CloneHandle = p.instr  # type: ignore[assignment]
        w = Work(state)
        if isinstance(instr.source, ir.HandleRef):
            value = frame[F_LOCALS][instr.source.slot]
            if value is MOVED or value == MOVED:
                raise UseAfterMove(instr.source.name)
            if isinstance(value, tuple) and len(value) == 2 and value[0] == "rx":
                raise SpecMisuse(f"`{instr.source.name}` is a receiver: it cannot be cloned")
            if isinstance(value, tuple) and len(value) == 2 and value[0] == "tx":
                chan = w.chans[value[1]]
                if chan[C_KIND] == "oneshot":
                    raise SpecMisuse(
                        f"`{instr.source.name}` is a oneshot sender: it cannot be cloned"
                    )
                w.set_chan(value[1], _with(chan, C_SENDERS, chan[C_SENDERS] + 1))
        else:
            value = self._eval(p.value, state, frame, th)
            self._copied(w, p, (value,))  # `clone slot` of a sender kept in a var
        if self._need_gil(state, tid, p, value, clone=True):
            return True
        locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _drop(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.DropValue = p.instr  # type: ignore[assignment]
        value = frame[F_LOCALS][instr.slot]
        if value is MOVED or value == MOVED:
            raise UseAfterMove(instr.name)
        w = Work(state)
        self.drop_value(w, value)
        locals_ = frame[F_LOCALS]
        locals_ = locals_[: instr.slot] + (MOVED,) + locals_[instr.slot + 1 :]
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _end_scope(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.EndScope = p.instr  # type: ignore[assignment]
        w = Work(state)
        locals_ = list(frame[F_LOCALS])
        for slot in instr.slots:
            value = locals_[slot]
            if value is not MOVED and value != MOVED:
                self.drop_value(w, value)
            locals_[slot] = None
        self._advance(w, tid, th, frame, p.next_pc, tuple(locals_))
        out.append(((tid, STEP, 0), w.freeze()))
        return False
