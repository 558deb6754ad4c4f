"""The handler of every statement on a sync object: the object's primitive (gilcheck/sync/)
decides; the engine applies what it returns."""

from __future__ import annotations

from gilcheck.semantics import ir
from gilcheck.sync.base import NEXT, SAME, STAY, Misuse
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
    TIMEOUT,
    Transition,
)
from gilcheck.system.state import (
    F_LOCALS,
    F_PC,
    PYTHON,
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

    def _sync_valued(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A statement on a sync object that yields a value: a timed wait (`acquire m
        timeout`: true when it completes, false when it times out) or `try_acquire m`. A timed
        wait that cannot complete may take a timeout step (see `may_time_out`)."""
        site = p.site
        assert site is not None
        instr: ir.Acquire | ir.Wait | ir.SyncOp = p.instr  # type: ignore[assignment]
        res = instr.resource
        lid = self.lock_id(res, frame, th, state, p.index)
        locks = state[3]
        partner_lid = -1
        partner = None
        if p.partner is not None:
            partner_lid = self.lock_id(p.partner, frame, th, state, p.partner_index)
            partner = locks[partner_lid]
        phase = th[T_PHASE]
        obj = locks[lid]
        result = site.verb.run(site, obj, tid, phase, partner)
        if isinstance(result, Misuse):
            raise SpecMisuse(result.message.replace("{label}", _res_name(res, lid, self)))
        timed = not isinstance(instr, ir.SyncOp)
        steps = [(STEP, moved) for moved in result]
        blocked = all(moved.spurious for moved in result)
        if (
            timed
            and blocked
            and site.verb.timeout is not None
            and self.may_time_out(state, tid, th, frame, p)
        ):
            timeout = site.verb.timeout(
                site, obj, tid, phase, partner, self.context(p, frame) == PYTHON
            )
            if timeout is not None:
                steps.append((TIMEOUT, timeout))
        target = instr.target
        for kind, moved in steps:
            w = Work(state)
            w.set_lock(lid, moved.obj)
            if moved.partner is not SAME:
                w.set_lock(partner_lid, moved.partner)
            advance = moved.advance
            pc = p.next_pc if advance == NEXT else frame[F_PC] if advance == STAY else p.skip_pc
            locals_ = None
            if advance == NEXT:
                value = moved.value if moved.value is not None else True
                locals_ = self._store(w, frame[F_LOCALS], target, value, frame, th)
            if moved.phase == phase:
                self._advance(w, tid, th, frame, pc, locals_)
            else:
                self._advance(w, tid, th, frame, pc, locals_, phase=moved.phase)
            if moved.spurious:
                kind = SPURIOUS_WAKEUP
            out.append(((tid, kind, moved.choice), w.freeze()))
        return False


def _res_name(res: ir.ResourceRef, lid: int, engine: Base) -> str:
    if res.size is None:
        return res.name
    return f"{res.name}[{lid - engine.lock_offset[res.kind] - res.base}]"
