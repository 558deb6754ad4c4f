"""The handler of every statement on a sync object or future: the object's primitive
(gilcheck/sync/) decides; the engine applies what it returns. Also the constructors of
objects made at run time (`let m = mutex()`, language v1.2).

An object is a declared one, named by the statement (`acquire m`, `acquire m[i]`), or the
one a value refers to: `("res", kind, n)` for a declared object passed as a value, `("obj",
i)` for an object made at run time (its state in the heap part of the state). A statement
of several steps on an object reached through a value keeps the references it started with
in its phase, `("@", ref, partner ref, the primitive's phase)`, so that a shared `var`
changing under a waiting thread does not change what it waits on.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from gilcheck.semantics import ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.values import EvalError, describe_value
from gilcheck.sync import registry
from gilcheck.sync.base import NEXT, SAME, STAY, Lockable, Misuse, Moved, Site
from gilcheck.system.engine.base import Base
from gilcheck.system.engine.common import DECLARED, HEAP, Prepared, SpecMisuse
from gilcheck.system.expr import Evaluator, IndexOutOfRange, UseAfterMove
from gilcheck.system.model import SPURIOUS_WAKEUP, STEP, TIMEOUT, Transition
from gilcheck.system.state import (
    F_CODE,
    F_LOCALS,
    F_PC,
    H_COUNT,
    H_KIND,
    H_STATE,
    PYTHON,
    S_HEAP,
    S_LOCKS,
    S_THREADS,
    T_FRAMES,
    T_PHASE,
    Frame,
    State,
    Thread,
    Work,
)

PINNED = "@"


class Reached(NamedTuple):
    """The object (and partner) a thread's statement acts on, and the primitive's phase."""

    where: int  # DECLARED (a slot of the state's declared objects) or HEAP
    at: int
    kind: str
    object_count: int | None  # its count (a barrier's parties)
    phase: Any
    partner_where: int = DECLARED
    partner_at: int = -1
    partner_kind: str = ""

    @property
    def obj(self) -> tuple[int, int]:
        """The object's key: (where, at)."""
        return (self.where, self.at)


class SyncHandlers(Base):
    """The handler of statements on sync objects and futures, and of constructors."""

    _dynamic_sites: dict[tuple[Any, ...], Site]
    _declared_counts: dict[tuple[str, int], int]

    def _make_object(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`let m = mutex()`: a new object in the heap, its reference stored."""
        instr: ir.MakeObject = p.instr  # type: ignore[assignment]
        w = Work(state)
        initial = registry.primitive(instr.kind).initial(instr.count)
        oid = w.add_object((instr.kind, instr.count, initial, (p.code, p.pc)))
        locals_ = self._store(w, frame[F_LOCALS], instr.target, ("obj", oid), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _sync(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A statement on a sync object: its primitive decides (gilcheck/sync/)."""
        if p.makes_pyobj and self._need_gil(state, tid, p):
            return True  # its operand makes a Python object: it needs the GIL
        if p.site is None:  # an object reached through a value: its kind is known only now
            return self._sync_general(state, tid, th, frame, p, out)
        site = p.site
        res: ir.ResourceRef = p.instr.resource  # type: ignore[union-attr]
        lid = self.lock_id(res, frame, th, state, p.index)
        locks = state[S_LOCKS]
        partner_lid = -1
        partner = None
        if p.partner is not None:
            partner_lid = self.lock_id(p.partner, frame, th, state, p.partner_index)
            partner = locks[partner_lid]
        elif p.operand is not None:
            partner = self._eval(p.operand, state, frame, th)
        phase = th[T_PHASE]
        me = self.actor_on(res.kind, tid, th) if self.has_loops else tid  # (hot path)
        result = site.verb.run(site, locks[lid], me, phase, partner)
        if isinstance(result, Misuse):
            raise SpecMisuse(result.message.replace("{label}", _res_name(res, lid, self)))
        # (a statement that yields a value has its own handler, `_sync_valued`)
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
        timeout`: true when it completes, false when it times out), `try_acquire m`, or
        `result f`. A timed wait that cannot complete may take a timeout step (see
        `may_time_out`)."""
        if p.makes_pyobj and self._need_gil(state, tid, p):
            return True
        return self._sync_general(state, tid, th, frame, p, out)

    def _sync_general(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A statement on an object, declared or reached through a value, that may yield a
        value and may time out."""
        res: ir.ResourceRef = p.instr.resource  # type: ignore[union-attr]
        phase = th[T_PHASE]
        pinned = p.site is None  # an object reached through a value: kept while it waits
        ref: Any = None
        partner_ref: Any = None
        started = False  # it has started waiting on the objects it read
        if pinned:
            ref, partner_ref, phase, started = self._operands(p, res, frame, th, state)
        partner: Any = None
        partner_where, partner_at = DECLARED, -1
        if not pinned:
            site = p.site
            assert site is not None
            where, at = DECLARED, self.lock_id(res, frame, th, state, p.index)
            label, obj_kind = _res_name(res, at, self), res.kind
            if p.partner is not None:
                partner_at = self.lock_id(p.partner, frame, th, state, p.partner_index)
                partner = state[S_LOCKS][partner_at]
        else:
            label = res.name
            where, at, kind, count = self._locate(ref, state, p.verb, res.name)
            obj_kind = kind
            verb = registry.primitive(kind).verbs.get(p.verb)
            if verb is None:
                wanted = registry.kinds_accepting(p.verb)
                raise SpecMisuse(
                    f"`{p.verb}` needs {_one_of(wanted)}, and `{res.name}` is {a_kind(kind)}"
                )
            if bool(verb.partner) != (p.partner is not None):
                raise SpecMisuse(
                    f"`{p.verb}` on {a_kind(kind)} needs its mutex (`{p.verb} {res.name}, m`)"
                    if verb.partner
                    else f"`{p.verb}` on {a_kind(kind)} takes no mutex (`{p.verb} {res.name}`)"
                )
            partner_kind = ""
            if p.partner is not None:
                partner_where, partner_at, partner_kind, _ = self._locate(
                    partner_ref, state, f"{p.verb} {res.name}, _", p.partner.name
                )
                if partner_kind not in verb.partner:
                    raise SpecMisuse(
                        f"`{p.verb} {res.name}, {p.partner.name}` needs "
                        f"{_one_of(verb.partner)}, and `{p.partner.name}` is "
                        f"{a_kind(partner_kind)}"
                    )
                partner = _object_state(state, partner_where, partner_at)
            site = self._site_for(p, kind, count, partner_kind, res, p.partner)
        if p.operand is not None:
            partner = self._eval(p.operand, state, frame, th)
        obj = _object_state(state, where, at)
        me = self.actor_on(obj_kind, tid, th) if self.has_loops else tid
        result = site.verb.run(site, obj, me, phase, partner)
        if isinstance(result, Misuse):
            raise SpecMisuse(result.message.replace("{label}", label))
        timed = bool(getattr(p.instr, "timed", False))
        if timed and site.verb.timeout is None:
            raise SpecMisuse(f"`{p.verb}` on {a_kind(obj_kind)} cannot time out")
        steps = [(STEP, moved) for moved in result]
        if (
            timed
            and all(moved.spurious for moved in result)
            and site.verb.timeout is not None
            and self.may_time_out(state, tid, th, frame, p)
        ):
            timeout = site.verb.timeout(
                site, obj, me, phase, partner, self.context(p, frame) == PYTHON
            )
            if timeout is not None:
                steps.append((TIMEOUT, timeout))
        if p.shared_operand and not started and all(moved.spurious for moved in result):
            # It cannot go on: it starts waiting on the objects it read (a step), so that
            # a shared var changing under it does not change what it waits on.
            w = Work(state)
            self._advance(w, tid, th, frame, frame[F_PC], phase=(PINNED, ref, partner_ref, phase))
            out.append(((tid, STEP, 0), w.freeze()))
        target = getattr(p.instr, "target", None)
        yields = site.verb.yields or timed
        for step_kind, moved in steps:
            w = Work(state)
            _set_object_state(w, where, at, moved.obj)
            if moved.partner is not SAME:
                _set_object_state(w, partner_where, partner_at, moved.partner)
            advance = moved.advance
            pc = p.next_pc if advance == NEXT else frame[F_PC] if advance == STAY else p.skip_pc
            locals_ = None
            if yields and advance == NEXT:
                locals_ = self._store(
                    w, frame[F_LOCALS], target, _yielded(site, timed, step_kind, moved), frame, th
                )
            new_phase = moved.phase
            if pinned and new_phase != 0:
                new_phase = (PINNED, ref, partner_ref, new_phase)
            self._advance(w, tid, th, frame, pc, locals_, phase=new_phase)
            if moved.spurious:
                step_kind = SPURIOUS_WAKEUP
            out.append(((tid, step_kind, moved.choice), w.freeze()))
        return False

    def reached(self, state: State, tid: int) -> Reached | None:
        """The object a thread's statement acts on (None: not a statement on an object, or
        its operand has no object as value)."""
        th = state[S_THREADS][tid]
        if not th[T_FRAMES]:
            return None
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        if not p.verb:
            return None
        res: ir.ResourceRef = p.instr.resource
        try:
            ref, partner_ref, phase, _ = self._operands(p, res, frame, th, state)
            where, at, kind, count = self._locate(ref, state, p.verb, res.name)
            if p.partner is None:
                return Reached(where, at, kind, count, phase)
            pw, pa, pk, _ = self._locate(partner_ref, state, p.verb, p.partner.name)
        except (SpecMisuse, EvalError, IndexOutOfRange, UseAfterMove):
            return None
        return Reached(where, at, kind, count, phase, pw, pa, pk)

    def object_state(self, state: State, key: tuple[int, int]) -> Any:
        """The state of a declared object or of one made at run time."""
        return _object_state(state, *key)

    def _operands(
        self, p: Prepared, res: ir.ResourceRef, frame: Frame, th: Thread, state: State
    ) -> tuple[Any, Any, Any, bool]:
        """The references a statement's object and partner operands name (the ones it keeps
        once it has started waiting), the primitive's phase, and whether it had started."""
        phase = th[T_PHASE]
        if type(phase) is tuple and phase[0] == PINNED:
            return phase[1], phase[2], phase[3], True
        ref = self._reference(p.ref_value, res, p.index, frame, th, state)
        partner_ref = None
        if p.partner is not None:
            partner_ref = self._reference(
                p.partner_value, p.partner, p.partner_index, frame, th, state
            )
        return ref, partner_ref, phase, False

    def _reference(
        self,
        fn: Any,
        res: ir.ResourceRef,
        index_fn: Evaluator | None,
        frame: Frame,
        th: Thread,
        state: State,
    ) -> Any:
        """The reference a statement's operand names: its value, or a declared object (an
        array's element by the operand's own index)."""
        if res.value is None:
            lid = self.lock_id(res, frame, th, state, index_fn)
            return ("res", res.kind, lid - self.lock_offset[res.kind])
        return self._eval(fn, state, frame, th)

    def _locate(
        self, ref: Any, state: State, verb: str, name: str
    ) -> tuple[int, int, str, int | None]:
        """Where the object a reference names lives, its kind and count (a misuse when the
        value is not a reference)."""
        if type(ref) is tuple:
            if len(ref) == 3 and ref[0] == "res":
                kind, n = ref[1], ref[2]
                return DECLARED, self.lock_offset[kind] + n, kind, self.declared_count(kind, n)
            if len(ref) == 2 and ref[0] == "obj":
                entry = state[S_HEAP][ref[1]]
                return HEAP, ref[1], entry[H_KIND], entry[H_COUNT]
        wanted = registry.kinds_accepting(verb.partition(" ")[0])
        message = f"`{verb}` needs {_one_of(wanted)}, and `{name}` is {describe_value(ref)}"
        if type(ref) is int:  # (a bool is not an int by type)
            # The slot numbers of older models, or a slip: say how an object is passed.
            kind = wanted[0]
            count = "1" if kind in ("semaphore", "barrier", "latch") else ""
            message += (
                f" (a number, not an object: make one, e.g. `let {name} = {kind}({count})`, "
                "and pass it)"
            )
        raise SpecMisuse(message)

    def declared_count(self, kind: str, n: int) -> int | None:
        """The declared count of the `n`th declared object of a kind (in any process's
        block: the blocks repeat the first)."""
        if self.has_processes and n >= self.lock_block:
            n -= self.lock_block * ((self.lock_offset[kind] + n) // self.lock_block)
        return self._declared_counts.get((kind, n))

    def _site_for(
        self,
        p: Prepared,
        kind: str,
        count: int | None,
        partner_kind: str,
        res: ir.ResourceRef,
        partner: ir.ResourceRef | None,
    ) -> Site:
        """The primitive statement on an object of `kind` (made once per kind and count)."""
        sites = self._dynamic_sites
        key = (p.verb, kind, count, partner_kind, res.name, partner.name if partner else "")
        site = sites.get(key)
        if site is None:
            lockable: Lockable | None = (
                registry.primitive(partner_kind) if partner_kind else None  # type: ignore[assignment]
            )
            site = sites[key] = Site(
                verb=registry.verb(kind, p.verb),
                name=res.name,
                count=count or 1,
                partner=lockable,
                partner_name=partner.name if partner is not None else "",
                spurious_wakeups=self.options.spurious_wakeups,
            )
        return site


def _yielded(site: Site, timed: bool, step_kind: int, moved: Moved) -> Any:
    """What a statement yields: a timed wait `true` when it completes and `false` when it
    times out; a timed statement that yields a value of its own (`result f timeout`)
    `ok(value)` or `err("timeout")`; an untimed one its value (`none` too)."""
    if not timed:
        return moved.value
    if site.verb.yields:
        return ("err", "timeout") if step_kind == TIMEOUT else ("ok", moved.value)
    return True if moved.value is None else moved.value


def _object_state(state: State, where: int, at: int) -> Any:
    if where == DECLARED:
        return state[S_LOCKS][at]
    return state[S_HEAP][at][H_STATE]


def _set_object_state(w: Work, where: int, at: int, obj: Any) -> None:
    if where == DECLARED:
        w.set_lock(at, obj)
    else:
        entry = w.heap[at]
        w.set_object(at, (*entry[:H_STATE], obj, *entry[H_STATE + 1 :]))


def _one_of(kinds: tuple[str, ...]) -> str:
    names = [a_kind(k) for k in kinds]
    if len(names) <= 1:
        return "".join(names) or "an object"
    return ", ".join(names[:-1]) + " or " + names[-1]


def _res_name(res: ir.ResourceRef, lid: int, engine: Base) -> str:
    if res.size is None:
        return res.name
    if engine.has_processes and engine.lock_block:
        lid %= engine.lock_block
    return f"{res.name}[{lid - engine.lock_offset[res.kind] - res.base}]"
