"""Resources as values: objects made at run time (`let m = mutex()`, `event()`,
`semaphore(2)`, ...), declared resources passed as values (`call f(m)`), and statements on
the object a value refers to (`acquire from`, `wait done`, `lock locks[i] { }`).

Each kind's objects are one family of Promela arrays (`o_mut`, `o_eve_waiting`, ...):
the declared resources of that kind first (a resource's elements from its base within its
kind, as gilcheck numbers them), then slots for objects made at run time (four per
statement making one, times the largest thread array; as many as `--object-bound`, at most
32, for a statement in a loop). A made object is counted by reference as futures are
(`o_rc`, see handles.py: `_referred`, `_copies`, `_moves`, `drop_hd`), and the constructor
takes the lowest slot of its kind no value refers to, its state cleared; making one while
every slot is referred to fails an assertion marked `bound` and ends the run. A resource
as a value is `RSB + code * KIND_SPAN + slot` (`code` the kind's, see KIND_CODE), so
`==`/`!=` compare objects by identity, and with `none`.

A statement on a value dispatches on the value's kind at run time: one branch per kind
that accepts the statement (and that the spec has objects of), each the statement on a
declared element (resources.py) with the element `o_mut[RS(v)]`; a value of another kind,
or no resource at all, fails an assertion (gilcheck's `misuse`), as does a timed wait on
a kind that cannot time out and a condvar `wait` without a mutex (or a mutex with a
statement that takes none). A statement naming its object through a shared `var`
(`acquire locks[i]`) keeps the object it read once it waits (as gilcheck's engine does):
when it cannot go on it may take a step that stores the references in `pr` and `pp` (its
object and its mutex) and `pin`, and a statement of several steps (an event's, a
barrier's or a condvar's `wait`, a writer's `acquire_write`) stores them on its first
step; they count as references, and are dropped when the statement completes.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Final

from gilcheck.export.promela.common import (
    BOUND_STOP,
    KIND_SPAN,
    MAX_THREADS,
    RESOURCE_BASE,
    Refused,
    Unit,
    all_of,
    describe_expr,
    sites,
)
from gilcheck.export.promela.resources import (
    KIND_CODE,
    PREFIX,
    ExportedKind,
    ResourceTranslator,
    declaration,
    declared_count,
    exported_kind,
    initial_values,
)
from gilcheck.export.promela.values import pins_channel
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.reads import reads_shared
from gilcheck.sync import registry

MAX_MADE = 32  # slots of objects made at run time, per kind (gilcheck's default bound)


def resource_verb(instr: ir.Instr) -> str | None:
    """The primitive statement an instruction runs on a resource (None: none; the `SyncOp`s
    on pools and futures are pools.py's)."""
    verb = ir.sync_verb(instr)
    if isinstance(instr, ir.SyncOp) and verb not in ("countdown", "try_acquire"):
        return None
    return verb


class ObjectTranslator(ResourceTranslator):
    """The kinds' arrays, constructors, resource values and statements on them."""

    def __init__(self, program: ir.Program, options: CheckOptions) -> None:
        super().__init__(program, options)
        self.element_of = {}
        self.kind_checks: dict[ir.ResourceRef, str] = {}
        self._layout: dict[ExportedKind, tuple[int, int]] | None = None
        self.dispatching = False  # translating one kind's branch of a statement on a value
        self.shared_now = False  # the statement translated names its object through a var

    # ------------------------------------------------------------ layout

    def object_layout(self) -> dict[ExportedKind, tuple[int, int]]:
        """Per kind the spec has objects of: (declared elements, slots for made ones)."""
        if self._layout is not None:
            return self._layout
        declared: dict[ExportedKind, int] = {}
        for res in self.program.resources:
            kind = KIND_CODE_KINDS.get(res.kind)
            if kind is not None:
                declared[kind] = max(declared.get(kind, 0), res.base + (res.size or 1))
        made_at: dict[ExportedKind, int] = {}
        for instr, looped in sites(
            self.program, lambda i: isinstance(i, ir.MakeObject) and i.kind in KIND_CODE_KINDS
        ):
            assert isinstance(instr, ir.MakeObject)
            kind = KIND_CODE_KINDS[instr.kind]
            # One made in a loop: as many as the kind may have.
            made_at[kind] = made_at.get(kind, 0) + (MAX_MADE if looped else 1)
        copies = max([info.size or 1 for info in self.program.threads] or [1])
        layout: dict[ExportedKind, tuple[int, int]] = {}
        for kind in KIND_CODE:
            made = 0
            if made_at.get(kind):
                made = min(MAX_MADE, self.options.object_bound, 4 * made_at[kind] * copies)
            if declared.get(kind) or made:
                # With `spawn process`, each process has its block of declared elements.
                layout[kind] = (declared.get(kind, 0) * self.processes, made)
        self._layout = layout
        self.counts_objects = any(made for _, made in layout.values())
        return layout

    def _offsets(self) -> dict[ExportedKind, int]:
        """Where each kind's objects start in `o_rc` (the references to each object)."""
        offsets: dict[ExportedKind, int] = {}
        total = 0
        for kind, (declared, made) in self.object_layout().items():
            offsets[kind] = total
            total += declared + made
        return offsets

    def uses_pins(self) -> bool:
        """Whether a statement names its object (or channel element) through a shared
        `var`."""
        return any(
            _shared_operand(instr) or pins_channel(instr)
            for code in self.program.codes
            for instr in code.instrs
        )

    def object_header(self) -> list[str]:
        """The kinds' arrays, and the references to each object made at run time."""
        lines: list[str] = []
        layout = self.object_layout()
        for kind, (declared, made) in layout.items():
            lines.append(declaration(kind, max(declared + made, 1)))
        if self.counts_objects:
            offsets = self._offsets()
            total = sum(declared + made for declared, made in layout.values())
            where = "0"
            for kind, first in reversed(offsets.items()):
                where = f"(RK(v) == {KIND_CODE[kind]} -> {first} : {where})"
            lines += [
                f"byte o_rc[{total}];  /* the values referring to each object */",
                f"#define RO(v) (RS(v) + {where})  /* an object's place in o_rc */",
                "byte rk = 0;  /* scratch: the slot of an object being made */",
            ]
        return lines

    def object_init(self) -> list[str]:
        """`init` statements: the first state of every declared resource."""
        lines: list[str] = []
        for res in self.program.resources:
            kind = KIND_CODE_KINDS.get(res.kind)
            if kind is None:
                continue
            block = declared_count(self.program, kind)
            for process in range(self.processes):
                for i in range(res.size or 1):
                    slot = str(process * block + res.base + i)
                    lines += [f"    {s}" for s in initial_values(kind, slot, res.count)]
        return lines

    # ------------------------------------------------------------ values

    def resource_value(self, expr: ir.Builtin) -> str:
        """A declared resource used as a value (`call f(m)`, `m[i]`)."""
        kind_c, base_c, size_c, index, _ = expr.args
        assert isinstance(kind_c, ir.Const) and isinstance(base_c, ir.Const)
        assert isinstance(size_c, ir.Const) and isinstance(index, ir.Expr)
        found = KIND_CODE_KINDS.get(str(kind_c.value))
        if found is None:
            raise Refused(describe_expr(expr), self.here)
        kind = found
        base = int(base_c.value)  # type: ignore[call-overload]
        size = size_c.value if isinstance(size_c.value, int) else None
        first = RESOURCE_BASE + KIND_CODE[kind] * KIND_SPAN
        if size is None:
            if self.processes == 1:
                return str(first + base)
            return f"({first} + {self.declared_slot(kind, str(base))})"
        return f"({first} + {self.declared_slot(kind, self._index(index, size, base))})"

    def resource_value_ok(self, expr: ir.Builtin) -> str | None:
        """The range check of a declared array's element used as a value."""
        _, _, size_c, index, _ = expr.args
        assert isinstance(size_c, ir.Const) and isinstance(index, ir.Expr)
        if not isinstance(size_c.value, int):
            return None
        return all_of(self._ok(index), self._bound(index, size_c.value))

    def _make_resource(self, instr: ir.MakeObject, nxt: str) -> tuple[str, str, str]:
        """`let m = mutex()`: the lowest slot of the kind no value refers to (its state
        cleared, then its first state), referred to by the target (a discarded one drops
        it at once)."""
        kind = exported_kind(instr.kind, instr.span)
        declared, made = self.object_layout()[kind]
        rc = f"o_rc[{self._offsets()[kind]} + rk]"
        first = " ".join(cleared(kind, "rk") + initial_values(kind, "rk", instr.count))
        value = f"{RESOURCE_BASE + KIND_CODE[kind] * KIND_SPAN} + rk"
        return (
            "true",
            f"rk = {declared}; do :: rk < {declared + made} && {rc} != 0 -> rk++ "
            f":: else -> break od; if :: rk == {declared + made} -> LIMIT_STOP; "
            f"/* bound: more {kind} objects alive than the export's {made} */ {BOUND_STOP} "
            f":: else -> skip fi; {first} {rc} = 1; {self._store(instr.target, value)} rk = 0;",
            nxt,
        )

    def _object_counted(self, value: str, up: bool) -> str:
        if not self.counts_objects:
            return ""
        rc = f"o_rc[RO({value})]"
        if up:
            return f":: IS_RS({value}) -> {rc} = {rc} + 1"
        return f":: IS_RS({value}) -> if :: {rc} > 0 -> {rc} = {rc} - 1 :: else -> skip fi"

    # ------------------------------------------------------------ statements on values

    def _object_step(
        self, code: ir.CodeUnit, unit: Unit, pc: int, instr: ir.Instr, spawned: bool
    ) -> tuple[str, str, str] | None:
        """A statement on an object reached through a value: a branch per kind it may be
        (None: the statement names a declared resource, or is no statement on one)."""
        verb = resource_verb(instr)
        if verb is None or self.dispatching:
            return None
        instr = _declared_as_values(instr)
        ref: ir.ResourceRef = getattr(instr, "resource")  # noqa: B009 - every one has one
        partner = instr.mutex if isinstance(instr, ir.Wait) else None
        if ref.value is None and (partner is None or partner.value is None):
            return None
        self.element_of.clear()
        timed = bool(getattr(instr, "timed", False))
        shared = _shared_operand(instr)
        self.shared_now = shared
        value = self._pinned(ref, "pr", shared)
        partner_value = self._pinned(partner, "pp", shared) if partner is not None else None
        kinds = self._accepting(ref, verb, timed, partner is not None)
        partner_kinds: list[ExportedKind | None] = [None]
        if partner is not None:
            partner_kinds = list(self._accepting(partner, "wait cv, m", False, False))
        self.kind_checks[ref] = self._kind_check(ref, value, kinds)
        if partner is not None and partner_value is not None:
            self.kind_checks[partner] = self._kind_check(partner, partner_value, partner_kinds)
        nxt = self._label(pc + 1)
        branches: list[tuple[str, str, str, str | None]] = []  # (kind test, guard, effect, out)
        for kind in kinds:
            for partner_kind in partner_kinds:
                sub = self._substituted(ref, kind, value)
                test = self._kind_test(ref, value, kind, len(kinds))
                changes: dict[str, Any] = {"resource": sub}
                if partner is not None:
                    assert partner_kind is not None and partner_value is not None
                    changes["mutex"] = self._substituted(partner, partner_kind, partner_value)
                    test = all_of(
                        test,
                        self._kind_test(partner, partner_value, partner_kind, len(partner_kinds)),
                    )
                self.timed_out = None
                self.dispatching = True
                try:
                    guard, effect, after = self._step(
                        code, unit, pc, _replaced(instr, changes), spawned
                    )
                finally:
                    self.dispatching = False
                if after != nxt:
                    raise Refused(f"`{verb}` on a value here", instr.span)
                branches.append((test or "true", guard, effect, self.timed_out))
        self.timed_out = None
        if not branches:
            return "true", "", nxt  # every value is of another kind: the check fails
        if len(branches) == 1:
            _, guard, effect, out = branches[0]
            self.timed_out = out
        else:
            guard = " || ".join(f"({test} && ({g}))" for test, g, _, _ in branches)
            guard = f"({guard})"
            effect = "if " + " ".join(f":: {t} -> {e or 'skip'}" for t, _, e, _ in branches)
            effect += " fi;"
            if any(out is not None for *_, out in branches):
                self.timed_out = (
                    "if "
                    + " ".join(f":: {t} -> {out or 'skip'}" for t, _, _, out in branches)
                    + " fi;"
                )
        if shared:
            effect, guard = self._pinning(effect, guard, ref, partner, nxt)
        return guard, effect, nxt

    def _step(
        self, code: ir.CodeUnit, unit: Unit, pc: int, instr: ir.Instr, spawned: bool
    ) -> tuple[str, str, str]:
        """(guard, effect, next label) of one instruction (the exporter's)."""
        raise NotImplementedError

    def _accepting(
        self, ref: ir.ResourceRef, verb: str, timed: bool, with_mutex: bool
    ) -> list[ExportedKind]:
        """The kinds (the spec has objects of) that `verb` accepts here, in KIND_CODE order."""
        layout = self.object_layout()
        found: list[ExportedKind] = []
        for kind in KIND_CODE:
            if kind not in layout or (ref.kind and ref.kind != kind):
                continue
            if verb == "wait cv, m":
                if kind in ("mutex", "rlock"):
                    found.append(kind)
                continue
            verbs = registry.primitive(kind).verbs
            if verb not in verbs:
                continue
            if timed and verbs[verb].timeout is None:
                continue  # a misuse: it cannot time out
            if verb == "wait" and bool(verbs[verb].partner) != with_mutex:
                continue  # a misuse: a condvar's wait without a mutex, or the other way
            if timed and kind == "condvar" and self.shared_now:
                raise Refused(
                    "a timed `wait` on a condvar named through a shared var", self.here, yet=True
                )
            found.append(kind)
        if ref.value is None:
            # A declared resource: its own kind (a spec error otherwise).
            return [exported_kind(ref.kind, self.here)]
        return found

    def _pinned(self, ref: ir.ResourceRef, pin: str, shared: bool) -> str:
        """The value a reference reaches its object through (the one kept, once pinned)."""
        if ref.value is None:
            return ""
        text = self._expr(ref.value)
        return f"(pin -> {pin} : {text})" if shared else text

    def _substituted(self, ref: ir.ResourceRef, kind: ExportedKind, value: str) -> ir.ResourceRef:
        """`ref` as a reference to an element of `kind` (the element a value names)."""
        if ref.value is None:
            return ref
        sub = dataclasses.replace(ref, kind=kind)
        self.element_of[sub] = f"{PREFIX[kind]}[RS({value})]"
        return sub

    @staticmethod
    def _kind_test(ref: ir.ResourceRef, value: str, kind: ExportedKind, of: int) -> str | None:
        """The condition that the value is of `kind` (None: the only one it may be)."""
        if ref.value is None or of <= 1:
            return None
        return f"RK({value}) == {KIND_CODE[kind]}"

    @staticmethod
    def _kind_check(
        ref: ir.ResourceRef, value: str, kinds: list[ExportedKind] | list[ExportedKind | None]
    ) -> str:
        """The misuse check: the value is a resource of one of `kinds`."""
        if ref.value is None:
            return "true"
        tests = " || ".join(f"RK({value}) == {KIND_CODE[k]}" for k in kinds if k is not None)
        if not tests:
            return "false"
        return f"(IS_RS({value}) && ({tests}))"

    def _pinning(
        self,
        effect: str,
        guard: str,
        ref: ir.ResourceRef,
        partner: ir.ResourceRef | None,
        nxt: str,
    ) -> tuple[str, str]:
        """A statement naming its object through a shared var: its steps keep the
        references it read (stored on its first step, cleared once it completes), and
        while it cannot go on it may take a step storing them (gilcheck's engine does)."""
        store = " ".join(
            f"{pin} = {self._expr(r.value)};"
            for pin, r in (("pr", ref), ("pp", partner))
            if r is not None and r.value is not None
        )
        clear = "pin = 0; pr = 0; pp = 0;"
        if self.counts_objects:
            # The objects kept are referred to (made ones are not freed while waited on).
            store += "".join(
                f" if {self._object_counted(p, True)} :: else -> skip fi;" for p in ("pr", "pp")
            )
            clear = f"hd = pr; drop_hd(); hd = pp; drop_hd(); {clear}"
        pin = f"if :: !pin -> {store} pin = 1 :: else -> skip fi;"
        done = re.sub(rf"goto {re.escape(nxt)}\b", f"{clear} goto {nxt}", effect)
        effect = f"{pin} {done} {clear}"
        if self.timed_out is not None:
            self.timed_out = f"{self.timed_out} {clear}"
        if guard != "true":
            self.pin_step = f"!pin && !({guard}) -> {store} pin = 1"
        return effect, guard

    def _value_ref_ok(self, ref: ir.ResourceRef) -> str | None:
        """The checks of a reference reached through a value: its value's indices (not
        once it keeps the object it read), and the value's kind (a misuse otherwise)."""
        assert ref.value is not None
        inner = self._ok(ref.value)
        if inner is not None and self.shared_now:
            inner = f"(pin || {inner})"
        return all_of(inner, self.kind_checks.get(ref))


KIND_CODE_KINDS: Final[dict[str, ExportedKind]] = {kind: kind for kind in KIND_CODE}


def cleared(kind: ExportedKind, slot: str) -> list[str]:
    """Statements giving every field of a reused slot Promela's zero."""
    name = PREFIX[kind]
    fields = {
        "mutex": [""],
        "rlock": ["", "_n"],
        "semaphore": [""],
        "event": ["", "_waiting", "_woken"],
        "condvar": ["", "_woken"],
        "once": [""],
        "barrier": ["", "_gen", "_left", "_p"],
        "latch": [""],
        "rwlock": ["", "_n", "_w"],
    }[kind]
    out = [f"{name}{f}[{slot}] = 0;" for f in fields]
    if kind == "rwlock":
        out += [f"{name}_rc[({slot}) * MAXT + {t}] = 0;" for t in range(MAX_THREADS)]
    return out


def _shared_operand(instr: ir.Instr) -> bool:
    """Whether a statement on an object reached through a value reads the value out of a
    shared var, or picks a declared array's element by an index that reads one (then it
    keeps the object once it waits)."""
    if resource_verb(instr) is None:
        return False
    instr = _declared_as_values(instr)
    refs = [getattr(instr, "resource", None), getattr(instr, "mutex", None)]
    return any(
        isinstance(r, ir.ResourceRef) and r.value is not None and reads_shared(r.value)
        for r in refs
    )


def _declared_as_values(instr: ir.Instr) -> ir.Instr:
    """A statement on a declared array's element picked by an index that reads shared state
    (`acquire m[i]`, `var i`) as a statement on the element's value: so that, as gilcheck's
    engine does, it keeps the element it read once it waits."""
    changes: dict[str, Any] = {}
    for name in ("resource", "mutex"):
        r = getattr(instr, name, None)
        if (
            isinstance(r, ir.ResourceRef)
            and r.value is None
            and r.index is not None
            and r.kind in KIND_CODE_KINDS
            and reads_shared(r.index)
        ):
            value = ir.Builtin(
                name="resource",
                args=(
                    ir.Const(value=r.kind),
                    ir.Const(value=r.base),
                    ir.Const(value=r.size),
                    r.index,
                    ir.Const(value=r.name),
                ),
            )
            changes[name] = dataclasses.replace(r, value=value)
    return _replaced(instr, changes) if changes else instr


def _replaced(instr: Any, changes: dict[str, Any]) -> ir.Instr:
    """`instr` with its operands replaced."""
    replaced: ir.Instr = dataclasses.replace(instr, **changes)
    return replaced
