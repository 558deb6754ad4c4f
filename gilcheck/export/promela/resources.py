"""Resources in Promela: which kinds the export translates, their variables, and the
guards and effects of the statements over them (acquire, release, wait, notify).

A kind the export does not know (one added to the language after it) is refused where it
is declared, so a new kind needs no edit here to be refused cleanly; `ExportedKind` is the
closed set every dispatch below covers (mypy checks it with `assert_never`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, assert_never

from gilcheck.export.promela.common import (
    MAX_THREADS,
    Refused,
    describe_instr,
    misuse_stop,
    own_block,
)
from gilcheck.export.promela.values import ValueTranslator
from gilcheck.semantics import describe, ir
from gilcheck.source import Span

ExportedKind = Literal[
    "mutex", "rlock", "semaphore", "event", "condvar", "once", "barrier", "latch", "rwlock"
]

_EXPORTED: Final[Mapping[str, ExportedKind]] = {
    "mutex": "mutex",
    "rlock": "rlock",
    "semaphore": "semaphore",
    "event": "event",
    "condvar": "condvar",
    "once": "once",
    "barrier": "barrier",
    "latch": "latch",
    "rwlock": "rwlock",
}
# Kinds the export knows and does not translate: refused with their declaration.
_DECLINED: Final = frozenset[str]()


def check_declared(res: ir.ResourceInfo) -> None:
    """Refuse a declared resource of a kind the export does not translate."""
    if res.kind in _EXPORTED:
        return
    if res.kind in _DECLINED:
        raise Refused(f"`{describe.declaration(res)}`", res.span)
    raise Refused(f"`{res.kind}` objects", res.span, yet=True)


def declared_count(program: ir.Program, kind: ExportedKind) -> int:
    """How many elements of a kind the spec declares (one process's block of them)."""
    return max(
        [res.base + (res.size or 1) for res in program.resources if _EXPORTED.get(res.kind) == kind]
        or [0]
    )


def exported_kind(kind: str, span: Span) -> ExportedKind:
    """The kind as one the export translates (any other is refused)."""
    found = _EXPORTED.get(kind)
    if found is None:
        raise Refused(f"`{kind}` objects", span, yet=True)
    return found


# Each kind's objects are one family of Promela arrays (`o_mut`, `o_rlo_n`, ...): declared
# resources first (a resource's elements from its base within its kind), then the slots of
# objects made at run time. A resource as a value is RSB + KIND_CODE * KIND_SPAN + slot.
KIND_CODE: Final[Mapping[ExportedKind, int]] = {
    "mutex": 0,
    "rlock": 1,
    "semaphore": 2,
    "event": 3,
    "condvar": 4,
    "once": 5,
    "barrier": 6,
    "latch": 7,
    "rwlock": 8,
}
PREFIX: Final[Mapping[ExportedKind, str]] = {kind: f"o_{kind[:3]}" for kind in KIND_CODE}


def declaration(kind: ExportedKind, size: int) -> str:
    """The Promela arrays of a kind's `size` objects."""
    name = PREFIX[kind]
    match kind:
        case "mutex":
            return f"byte {name}[{size}];"
        case "rlock":
            return f"byte {name}[{size}]; byte {name}_n[{size}];"
        case "semaphore":
            return f"int {name}[{size}];"
        case "condvar":
            return f"int {name}[{size}]; int {name}_woken[{size}];  /* thread bit sets */"
        case "once":
            return f"byte {name}[{size}];  /* 0 new, 1 running, 2 done */"
        case "barrier":
            return (
                f"byte {name}[{size}]; bit {name}_gen[{size}]; byte {name}_left[{size}]; "
                f"byte {name}_p[{size}];  /* arrived, generation, still to leave, parties */"
            )
        case "event":
            return (
                f"bool {name}[{size}]; int {name}_waiting[{size}]; int {name}_woken[{size}];"
                "  /* flag; thread bit sets */"
            )
        case "latch":
            return f"int {name}[{size}];  /* the count */"
        case "rwlock":
            return (
                f"byte {name}[{size}]; byte {name}_n[{size}]; byte {name}_rc[{size} * MAXT]; "
                f"int {name}_w[{size}];  /* writer, readers, each thread's reads, waiting "
                "writers */"
            )
        case _:
            assert_never(kind)


def initial_values(kind: ExportedKind, slot: str, count: int | None) -> list[str]:
    """The statements that give one object its first state (none when Promela's zero is
    that state): its owner for locks, its count for semaphores and latches, a barrier's
    parties."""
    name = f"{PREFIX[kind]}[{slot}]"
    match kind:
        case "mutex" | "rlock" | "rwlock":
            return [f"{name} = NO_ONE;"]
        case "semaphore" | "latch":
            return [f"{name} = {count or 0};"]
        case "barrier":
            return [f"{PREFIX[kind]}_p[{slot}] = {count or 1};"]
        case "event" | "condvar" | "once":
            return []
        case _:
            assert_never(kind)


class ResourceTranslator(ValueTranslator):
    """Guards and effects of the statements over resources."""

    # The element a reference reached through a value stands for, while one kind of the
    # statement's dispatch on the value's kind is translated (objects.py).
    element_of: dict[ir.ResourceRef, str]

    def _resource(self, ref: ir.ResourceRef) -> str:
        """The Promela element of the object `ref` names: `o_mut[3]`."""
        if ref.value is not None:
            found = self.element_of.get(ref)
            if found is None:
                raise Refused(
                    f"an object reached through a value (`{ref.name}`)", self.here, yet=True
                )
            return found
        kind = exported_kind(ref.kind, self.here)
        name = PREFIX[kind]
        if ref.index is None:
            return f"{name}[{self.declared_slot(kind, str(ref.base))}]"
        return f"{name}[{self.declared_slot(kind, self._index(ref.index, ref.size, ref.base))}]"

    def declared_slot(self, kind: ExportedKind, slot: str) -> str:
        """Where a declared element is among its kind's objects: with `spawn process`, one
        block per process (children.py), the thread's own process's."""
        return own_block(self.processes, declared_count(self.program, kind), slot)

    def _base_of(self, ref: ir.ResourceRef) -> int:
        for res in self.program.resources:
            if res.kind == ref.kind and res.name == ref.name:
                return res.base
        raise Refused(f"`{ref.name}`", self.here)

    def _acquire(self, ref: ir.ResourceRef) -> str:
        r = self._resource(ref)
        kind = exported_kind(ref.kind, self.here)
        match kind:
            case "mutex":
                return f"{r} == NO_ONE"
            case "rlock":
                return f"({r} == NO_ONE || {r} == {self.owner})"
            case "semaphore":
                return f"{r} > 0"
            case "rwlock":
                raise Refused("`acquire` on an rwlock", self.here)  # a spec error before
            case "event" | "condvar" | "once" | "barrier" | "latch":
                raise Refused(f"`acquire` on {describe.a_kind(ref.kind)}", self.here)
            case _:
                assert_never(kind)

    def _acquire_effect(self, ref: ir.ResourceRef) -> str:
        r = self._resource(ref)
        kind = exported_kind(ref.kind, self.here)
        match kind:
            case "mutex":
                return f"{r} = {self.owner};"
            case "rlock":
                count = r.replace("[", "_n[", 1)
                return f"{r} = {self.owner}; {count} = {count} + 1;"
            case "semaphore":
                return f"{r} = {r} - 1;"
            case "event" | "condvar" | "once" | "barrier" | "latch" | "rwlock":
                raise Refused(f"`acquire` on {describe.a_kind(ref.kind)}", self.here)
            case _:
                assert_never(kind)

    def _release(self, ref: ir.ResourceRef) -> str:
        r = self._resource(ref)
        kind = exported_kind(ref.kind, self.here)
        match kind:
            case "mutex":
                return f"assert({r} != NO_ONE); /* misuse: releasing a free mutex */ {r} = NO_ONE;"
            case "rlock":
                count = r.replace("[", "_n[", 1)
                return (
                    f"assert({r} == {self.owner}); /* misuse: releasing an rlock not held */ "
                    f"{count} = {count} - 1; if :: {count} == 0 -> {r} = NO_ONE :: else -> skip fi;"
                )
            case "semaphore":
                return f"{r} = {r} + 1;"
            case "rwlock":
                reads, total = self._rw_reads(r), r.replace("[", "_n[", 1)
                return (
                    f"if :: {r} == {self.owner} -> {r} = NO_ONE "
                    f":: {r} != {self.owner} && {reads} > 0 -> "
                    f"{reads} = {reads} - 1; {total} = {total} - 1 "
                    ":: else -> assert(false) /* misuse: releasing an rwlock not held */ fi;"
                )
            case "event" | "condvar" | "once" | "barrier" | "latch":
                raise Refused(f"`release` on {describe.a_kind(ref.kind)}", self.here)
            case _:
                assert_never(kind)

    def _rw_reads(self, r: str) -> str:
        """The running thread's read locks on the rwlock element `r` (`rwl_l[i]`)."""
        name, index = r[: r.index("[")], r[r.index("[") + 1 : -1]
        return f"{name}_rc[({index}) * MAXT + {self.owner}]"

    def _rw_acquire(self, instr: ir.Acquire, pc: int) -> tuple[str, str, str]:
        """`acquire_read l` waits while a writer holds or waits for it; `acquire_write l`
        takes a free lock nobody waits for, else registers as a waiting writer (a step) and
        takes it once free. Timed: a reader gives up while it cannot go on; a waiting
        writer stops waiting."""
        r = self._resource(instr.resource)
        total, waiters = r.replace("[", "_n[", 1), r.replace("[", "_w[", 1)
        reads = self._rw_reads(r)
        nxt = self._label(pc + 1)
        got = self._store(instr.target, "1") if instr.timed else ""
        if instr.mode == "read":
            if instr.timed:
                self.timed_out = self._store(instr.target, "0")
            return (
                f"{r} == NO_ONE && {waiters} == 0",
                f"{reads} = {reads} + 1; {total} = {total} + 1; {got}",
                nxt,
            )
        me = f"(1 << {self.owner})"
        free = f"({r} == NO_ONE && {total} == 0)"
        if instr.timed:
            self.timed_out = (
                f"{waiters} = {waiters} & ~{me}; waiting = 0; {self._store(instr.target, '0')}"
            )
        return (
            f"waiting == 0 || {free}",
            f"if :: waiting == 0 && {free} && {waiters} == 0 -> {r} = {self.owner}; {got} "
            f"goto {nxt} "
            f":: waiting == 0 -> {waiters} = {waiters} | {me}; waiting = 1; "
            f"goto {self._label(pc)} "
            f":: else -> {r} = {self.owner}; {waiters} = {waiters} & ~{me}; waiting = 0; {got} "
            f"goto {nxt} fi;",
            nxt,
        )

    def _sync_op(self, instr: ir.SyncOp, nxt: str) -> tuple[str, str, str]:
        """`countdown l` (a latch; below zero is a misuse) and `try_acquire m` (a mutex,
        rlock or semaphore: true and held when free, false otherwise; never blocks)."""
        ref = instr.resource
        if ref.value is not None:
            self._resource(ref)  # refuses an object reached through a value
        kind = exported_kind(ref.kind, instr.span)
        if instr.verb == "countdown" and kind == "latch":
            c = self._resource(ref)
            return (
                "true",
                f"assert({c} > 0); /* misuse: countdown below zero */ {c} = {c} - 1;",
                nxt,
            )
        if instr.verb == "try_acquire" and kind in ("mutex", "rlock", "semaphore"):
            return (
                "true",
                f"if :: {self._acquire(ref)} -> {self._acquire_effect(ref)} "
                f"{self._store(instr.target, '1')} :: else -> {self._store(instr.target, '0')} fi;",
                nxt,
            )
        raise Refused(f"`{instr.verb}` on {describe.a_kind(ref.kind)}", instr.span)

    def _wait(self, instr: ir.Wait, pc: int) -> tuple[str, str, str]:
        r, m = instr.resource, instr.mutex
        kind = exported_kind(r.kind, instr.span)
        if instr.timed and kind == "condvar" and self.unit.context_of(instr) == ir.Context.PYTHON:
            # In Python code a waiter gives the GIL up before it may time out, and stays a
            # target of `notify` until it has its mutex back.
            raise Refused("a timed `wait` on a condvar in Python code", instr.span, yet=True)
        if instr.timed and kind not in ("event", "latch", "condvar"):
            raise Refused(f"a timed `wait` on {describe.a_kind(r.kind)}", instr.span)
        if kind == "latch" and m is None:
            # Until the count is 0; timed: false while it is not.
            if instr.timed:
                self.timed_out = self._store(instr.target, "0")
            done = self._store(instr.target, "1") if instr.timed else ""
            return f"{self._resource(r)} == 0", done, self._label(pc + 1)
        match kind:
            case "event" if m is None:
                if instr.timed:
                    return self._timed_event_wait(r, pc, instr.target)
                return self._event_wait(r, pc)
            case "barrier" if m is None:
                return self._barrier_wait(r, pc)
            case "condvar" if m is not None:
                if instr.timed:
                    return self._timed_condvar_wait(r, m, pc, instr.target)
                return self._condvar_wait(r, m, pc)
            case _:
                raise Refused(describe_instr(instr), instr.span)

    def _barrier_wait(self, ref: ir.ResourceRef, pc: int) -> tuple[str, str, str]:
        b = self._resource(ref)
        gen = b.replace("[", "_gen[", 1)
        parties = b.replace("[", "_p[", 1)
        left = b.replace("[", "_left[", 1)
        nxt = self._label(pc + 1)
        # Arrive once the last opening's threads have left (the last party turns the
        # generation), then wait for the generation to turn and leave.
        return (
            f"(waiting == 0 && {left} == 0) || (waiting != 0 && {gen} != waiting - 1)",
            f"if :: waiting != 0 -> waiting = 0; {left} = {left} - 1; goto {nxt} "
            f":: waiting == 0 && {b} + 1 >= {parties} -> {left} = {b}; {b} = 0; "
            f"{gen} = 1 - {gen}; goto {nxt} "
            f":: else -> {b} = {b} + 1; waiting = 1 + {gen}; goto {self._label(pc)} fi;",
            nxt,
        )

    def _event_wait(self, ref: ir.ResourceRef, pc: int) -> tuple[str, str, str]:
        e = self._resource(ref)
        waiters = e.replace("[", "_waiting[", 1)
        woken = e.replace("[", "_woken[", 1)
        nxt, here = self._label(pc + 1), self._label(pc)
        me = "(1 << me)"  # an event has no owner: a loop task waits as itself
        # A set event lets the thread go on; a clear one: it starts waiting (a step), and
        # goes on once a `set` has woken it, whatever the flag is by then.
        return (
            f"waiting == 0 || ({woken} & {me}) != 0",
            f"if :: waiting == 0 && {e} -> goto {nxt} "
            f":: waiting == 0 && !{e} -> {waiters} = {waiters} | {me}; waiting = 1; goto {here} "
            f":: else -> {woken} = {woken} & ~{me}; waiting = 0; goto {nxt} fi;",
            nxt,
        )

    def _timed_event_wait(
        self, ref: ir.ResourceRef, pc: int, target: ir.Target | None
    ) -> tuple[str, str, str]:
        """`wait e timeout`: true once set or woken; a waiter not yet woken may time out
        (false), leaving the waiters."""
        guard, effect, nxt = self._event_wait(ref, pc)
        e = self._resource(ref)
        waiters = e.replace("[", "_waiting[", 1)
        done = self._store(target, "1")
        self.timed_out = (
            f"{waiters} = {waiters} & ~(1 << me); waiting = 0; {self._store(target, '0')}"
        )
        return guard, effect.replace(f"goto {nxt}", f"{done} goto {nxt}"), nxt

    def _event_set(self, ref: ir.ResourceRef) -> str:
        e = self._resource(ref)
        waiters = e.replace("[", "_waiting[", 1)
        woken = e.replace("[", "_woken[", 1)
        return f"{e} = 1; {woken} = {woken} | {waiters}; {waiters} = 0;"

    def _condvar_wait(
        self, ref: ir.ResourceRef, mutex: ir.ResourceRef, pc: int
    ) -> tuple[str, str, str]:
        cv, woken, m, me, release, retake = self._condvar_parts(ref, mutex)
        nxt = self._label(pc + 1)
        # Release the mutex and sleep; once notified (out of the waiting set), retake it.
        return (
            f"waiting == 0 || (({cv} & {me}) == 0 && {m} == NO_ONE)",
            f"if :: waiting == 0 -> {self._without_mutex(m)} "
            f"{release} {cv} = {cv} | {me}; waiting = 1; goto {self._label(pc)} "
            f":: else -> {retake} {woken} = {woken} & ~{me}; waiting = 0; goto {nxt} fi;",
            nxt,
        )

    def _timed_condvar_wait(
        self, ref: ir.ResourceRef, mutex: ir.ResourceRef, pc: int, target: ir.Target | None
    ) -> tuple[str, str, str]:
        """`wait cv, m timeout` in native code: asleep and not yet notified, it may time out
        at any time (a step: it stops being a waiter, `waiting = 2`); either way it then
        retakes the mutex, yielding true when notified and false when timed out."""
        cv, woken, m, me, release, retake = self._condvar_parts(ref, mutex)
        nxt = self._label(pc + 1)
        here = self._label(pc)
        return (
            f"waiting == 0 || (waiting == 1 && (({cv} & {me}) != 0 || {m} == NO_ONE)) || "
            f"(waiting == 2 && {m} == NO_ONE)",
            f"if :: waiting == 0 -> {self._without_mutex(m)} "
            f"{release} {cv} = {cv} | {me}; waiting = 1; goto {here} "
            f":: waiting == 1 && ({cv} & {me}) != 0 -> {cv} = {cv} & ~{me}; waiting = 2; "
            f"goto {here} "
            f":: waiting == 1 && ({cv} & {me}) == 0 -> {retake} {woken} = {woken} & ~{me}; "
            f"waiting = 0; {self._store(target, '1')} goto {nxt} "
            f":: waiting == 2 -> {retake} waiting = 0; {self._store(target, '0')} goto {nxt} "
            "fi;",
            nxt,
        )

    def _without_mutex(self, m: str) -> str:
        """A condvar `wait` without holding its mutex: a misuse, which ends the run."""
        stop = misuse_stop("wait without the mutex")
        return f"if :: {m} != {self.owner} -> {stop} goto end_exit :: else -> skip fi;"

    def _condvar_parts(
        self, ref: ir.ResourceRef, mutex: ir.ResourceRef
    ) -> tuple[str, str, str, str, str, str]:
        """A condvar wait's names (condvar, notified set, mutex, this waiter's bit) and the
        effects that release its mutex entirely and retake it."""
        cv = self._resource(ref)
        woken = cv.replace("[", "_woken[", 1)
        m = self._resource(mutex)
        count = m.replace("[", "_n[", 1)
        me = f"(1 << {self.owner})"
        kind = exported_kind(mutex.kind, self.here)
        match kind:
            case "rlock":
                release = f"saved = {count}; {count} = 0; {m} = NO_ONE;"
                retake = f"{m} = {self.owner}; {count} = saved;"
            case "mutex":
                release = f"{m} = NO_ONE;"
                retake = f"{m} = {self.owner};"
            case "semaphore" | "event" | "condvar" | "once" | "barrier" | "latch" | "rwlock":
                raise Refused(f"`wait cv, m` with {describe.a_kind(mutex.kind)}", self.here)
            case _:
                assert_never(kind)
        return cv, woken, m, me, release, retake

    def _notify(self, ref: ir.ResourceRef, every: bool) -> str:
        cv = self._resource(ref)
        woken = cv.replace("[", "_woken[", 1)
        wake_all = f"{woken} = {woken} | {cv}; {cv} = 0"
        if every:
            return f"{wake_all};"
        # One waiter wakes, any of them: the scheduler's choice.
        picks = " ".join(
            f":: ({cv} & {1 << t}) != 0 -> {cv} = {cv} & ~{1 << t}; {woken} = {woken} | {1 << t}"
            for t in range(MAX_THREADS)
        )
        return f"if :: ({cv} & ({cv} - 1)) == 0 -> {wake_all} :: else -> if {picks} fi fi;"
