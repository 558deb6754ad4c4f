"""The handler of every statement on a sync object: the object's primitive (gilcheck/sync/)
decides; the engine applies what it returns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics import ir
from gilcheck.sync.base import NEXT, SAME, STAY, Misuse

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.base import (
    Base,
)
from gilcheck.system.engine.common import (
    Prepared,
    SpecMisuse,
)
from gilcheck.system.model import (
    SPURIOUS_WAKEUP,
    STEP,
    Transition,
)
from gilcheck.system.state import (
    F_PC,
    T_PHASE,
    Frame,
    State,
    Thread,
    Work,
)


class SyncHandlers(Base):
    """The handler of statements on sync objects."""

    def _sync(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A statement on a sync object: its primitive decides (gilcheck/sync/)."""
        site = p.site
        assert site is not None
        res: ir.ResourceRef = p.instr.resource  # type: ignore[union-attr]
        lid = self.lock_id(res, frame, th, state, p.index)
        locks = state[3]
        partner_lid = -1
        partner = None
        if p.partner is not None:
            partner_lid = self.lock_id(p.partner, frame, th, state, p.partner_index)
            partner = locks[partner_lid]
        phase = th[T_PHASE]
        result = site.verb.run(site, locks[lid], tid, phase, partner)
        if isinstance(result, Misuse):
            raise SpecMisuse(result.message.replace("{label}", _res_name(res, lid, self)))
        for moved in result:
            w = Work(state)
            w.set_lock(lid, moved.obj)
            if moved.partner is not SAME:
                w.set_lock(partner_lid, moved.partner)
            advance = moved.advance
            pc = p.next_pc if advance == NEXT else frame[F_PC] if advance == STAY else p.skip_pc
            if moved.phase == phase:
                self._advance(w, tid, th, frame, pc)
            else:
                self._advance(w, tid, th, frame, pc, phase=moved.phase)
            kind = SPURIOUS_WAKEUP if moved.spurious else STEP
            out.append(((tid, kind, moved.choice), w.freeze()))
        return False


def _res_name(res: ir.ResourceRef, lid: int, engine: Base) -> str:
    if res.size is None:
        return res.name
    return f"{res.name}[{lid - engine.lock_offset[res.kind] - res.base}]"
