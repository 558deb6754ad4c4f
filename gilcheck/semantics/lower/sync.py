"""Statements over declared resources (mutex, rlock, semaphore, rwlock, condvar, event,
barrier, once): acquire/release, lock blocks, read/write blocks, wait, notify, call_once,
set and clear, with the check that a statement's resource is of a kind it accepts.

`ACCEPTS` is the one table of which kinds each resource statement takes, and of the help
shown when it is given another kind."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Final, NamedTuple

from gilcheck.semantics import describe, ir
from gilcheck.semantics.describe import a_kind
from gilcheck.semantics.lower.core import (
    RECEIVER,
    SENDER,
    THREAD,
    UNKNOWN,
    Exit,
    end_span,
    one_of,
    statements,
)
from gilcheck.semantics.lower.expressions import ExprLowerer, expr_as_ref
from gilcheck.semantics.reads import locals_read, reads_shared
from gilcheck.semantics.resolve import ChannelSym, ResourceSym, VarSym, symbol_kind
from gilcheck.source import Span
from gilcheck.sync import registry
from gilcheck.sync.base import Verb
from gilcheck.syntax import ast, unparse


class Accepts(NamedTuple):
    """The resource kinds a statement takes (in the order its message names them), and the
    help shown when it is given something else."""

    kinds: tuple[str, ...]
    help: str


_LOCKS = ("mutex", "rlock", "semaphore")
_RWLOCK = ("rwlock",)
_RWLOCK_HELP = "`acquire_read` and `acquire_write` take an rwlock"
_BLOCK_RWLOCK_HELP = "`read l { }` and `write l { }` take an rwlock"
_EVENT_HELP = "`set` and `clear` act on an event"

# Keyed by the statement as its messages name it.
ACCEPTS: Final[Mapping[str, Accepts]] = {
    "acquire": Accepts(_LOCKS, "`acquire` takes a mutex, rlock or semaphore"),
    "acquire_read": Accepts(_RWLOCK, _RWLOCK_HELP),
    "acquire_write": Accepts(_RWLOCK, _RWLOCK_HELP),
    "lock": Accepts(_LOCKS, "`lock m { }` takes a mutex, rlock or semaphore for the block"),
    "read": Accepts(_RWLOCK, _BLOCK_RWLOCK_HELP),
    "write": Accepts(_RWLOCK, _BLOCK_RWLOCK_HELP),
    "release": Accepts(
        ("mutex", "rlock", "semaphore", "rwlock"),
        "`release` frees a mutex, rlock, semaphore or rwlock",
    ),
    "wait": Accepts(
        registry.kinds_accepting("wait"),
        ", ".join(registry.verb(k, "wait").usage for k in registry.kinds_accepting("wait")),
    ),
    "wait cv, m": Accepts(
        registry.verb("condvar", "wait").partner,
        "`wait cv, m` needs the mutex that guards the condvar",
    ),
    "notify": Accepts(("condvar",), "`notify` wakes a waiter of a condvar"),
    "notify_all": Accepts(("condvar",), "`notify_all` wakes every waiter of a condvar"),
    "call_once": Accepts(("once",), "`call_once` needs a `once`"),
    "try_acquire": Accepts(
        _LOCKS, "`try_acquire` takes a mutex, rlock or semaphore (an rwlock has none)"
    ),
    "set": Accepts(("event",), _EVENT_HELP),
    "clear": Accepts(("event",), _EVENT_HELP),
}

_ACQUIRE_OPS: Final = {"": "acquire", "read": "acquire_read", "write": "acquire_write"}
_BLOCK_OPS: Final = {"": "lock", "read": "read", "write": "write"}


class SyncLowerer(ExprLowerer):
    """Statements over declared resources."""

    def resource(self, ref: ast.Ref, op: str) -> ir.ResourceRef | None:
        """The object a statement acts on, of a kind `op` accepts (`accepts`), or None after
        reporting: a declared resource, or the object a local or a shared `var` refers to
        (language v1.2), whose kind is checked here when the text shows it (a local whose
        every binding in its body is a constructor of one kind), else at run time."""
        kinds = accepts(op).kinds
        ident = ref.name
        local = self.lookup_local(ident.name)
        sym = self.decls.symbols.get(ident.name)
        wanted = one_of(kinds)
        if local is not None:
            if ref.index is not None:
                self.sink.error(
                    "not-an-array",
                    f"`{ident.name}` is a local, not an array",
                    ref.index.span,
                    help=f"remove the index: `{ident.name}`",
                )
                return None
            shown = self.object_kinds.get(ident.name, "")
            if local.kind in (SENDER, RECEIVER, THREAD):
                shown = local.kind
            if shown and shown not in kinds:
                self.wrong_kind(
                    ident.span,
                    f"`{op}` needs {wanted}, and `{ident.name}` is {a_kind(shown)}",
                    accepts(op).help,
                )
                return None
            return ir.ResourceRef(
                kind=shown,
                base=-1,
                size=None,
                name=ident.name,
                value=ir.Local(slot=local.slot, name=ident.name),
            )
        if sym is None:
            self.undefined(ident)
            return None
        if isinstance(sym, VarSym):
            index = self.element(ident, ref.index, sym.info.size)
            return ir.ResourceRef(
                kind="",
                base=-1,
                size=None,
                name=unparse.ref(ref),
                value=ir.GlobalVar(
                    base=sym.info.base, size=sym.info.size, name=ident.name, index=index
                ),
            )
        if not isinstance(sym, ResourceSym) or sym.info.kind not in kinds:
            self.wrong_kind(
                ident.span,
                f"`{op}` needs {wanted}, and `{ident.name}` is {symbol_kind(sym)}",
                _kind_help(op, sym),
            )
            return None
        index = self.element(ident, ref.index, sym.info.size)
        return ir.ResourceRef(
            kind=sym.info.kind,
            base=sym.info.base,
            size=sym.info.size,
            name=ident.name,
            index=index,
        )

    def stmt_acquire(self, s: ast.Acquire) -> None:
        op = _ACQUIRE_OPS[s.mode]
        self.check_blocking(s.span, op)
        res = self.resource(s.target, op)
        if res is not None:
            self.emit(ir.Acquire(resource=res, mode=s.mode, span=s.span))

    def stmt_release(self, s: ast.Release) -> None:
        res = self.resource(s.target, "release")
        if res is not None:
            self.emit(ir.Release(resource=res, span=s.span))

    def stmt_lock(self, s: ast.Lock) -> None:
        op = _BLOCK_OPS[s.mode]
        self.check_blocking(s.span, f"{op} {unparse.ref(s.target)} {{ }}")
        res = self.resource(s.target, op)
        if res is not None and _may_change(res, s.body):
            res = self.kept(res, s.span.cover(s.target.span))
        if res is not None:
            self.emit(ir.Acquire(resource=res, mode=s.mode, span=s.span.cover(s.target.span)))
            resource = res
            self.frames.append(Exit(lambda: ir.Release(resource=resource)))
        else:
            self.frames.append(Exit(lambda: ir.Skip()))
        self.block(s.body)
        self.frames.pop()
        if res is not None:
            self.emit(ir.Release(resource=res, span=end_span(s.body.span)))

    def kept(self, res: ir.ResourceRef, span: Span) -> ir.ResourceRef:
        """The object a block's operand names now, kept in a hidden local so that the
        block's end releases the lock it took, as a guard or `with` does, even when the
        operand names another object by then: for an array element its index (the local
        is named by the index's text, `m[i]` stays `m[i]` in messages), else the
        reference. A hidden local's name is not an identifier."""
        slot = len(self.local_names)
        if res.value is None:
            assert res.index is not None
            name = describe.expression(res.index)
            if name.isidentifier():
                name = f"({name})"
            self.local_names.append(name)
            target = ir.LocalTarget(slot=slot, name=name)
            self.emit(ir.Assign(target=target, value=res.index, span=span))
            return dataclasses.replace(res, index=ir.Local(slot=slot, name=name))
        name = f"({describe.expression(res.value)})"
        self.local_names.append(name)
        target = ir.LocalTarget(slot=slot, name=name)
        self.emit(ir.Assign(target=target, value=res.value, span=span))
        return dataclasses.replace(res, value=ir.Local(slot=slot, name=name))

    def stmt_wait(self, s: ast.Wait) -> None:
        self.check_blocking(s.span, "wait")
        res = self.resource(s.target, "wait")
        if res is None:
            return
        mutex: ir.ResourceRef | None = None
        if not res.kind:  # an object only the run time knows: the mutex operand decides
            if s.mutex is not None:
                mutex = self.resource(s.mutex, "wait cv, m")
                if mutex is None:
                    return
        elif registry.verb(res.kind, "wait").partner:
            if s.mutex is None:
                self.sink.error(
                    "wrong-arity",
                    f"`wait` on {a_kind(res.kind)} needs its mutex",
                    s.span,
                    help=f"write `wait {s.target.name.name}, m`",
                )
                return
            mutex = self.resource(s.mutex, "wait cv, m")
            if mutex is None:
                return
        elif s.mutex is not None:
            self.sink.error(
                "wrong-arity",
                f"`wait` on {a_kind(res.kind)} takes no mutex",
                s.mutex.span,
                help=f"write `wait {s.target.name.name}`",
            )
            return
        self.emit(ir.Wait(resource=res, mutex=mutex, span=s.span))

    def sync_operation(self, s: ast.SyncOp, target: ir.Target | None, span: Span) -> str:
        """`verb r [, e]`: a statement of the primitives that accept `verb` (gilcheck/sync/),
        its value bound to `target` when it yields one; the static kind of that value."""
        kinds = accepts(s.verb).kinds
        if any(registry.verb(k, s.verb).blocks for k in kinds):
            self.check_blocking(span, s.verb)
        res = self.resource(s.target, s.verb)
        if res is None:
            return UNKNOWN
        verb = _verb_of(res.kind, s.verb)
        name = s.target.name.name
        if target is not None and not verb.yields:
            self.sink.error(
                "invalid-statement",
                f"`{s.verb}` yields no value",
                span,
                help=f"write it as a statement: `{s.verb} {name}`",
            )
            return UNKNOWN
        partner: ir.ResourceRef | None = None
        operand: ir.Expr | None = None
        wanted = verb.partner
        takes_second = bool(wanted) or verb.operand
        if takes_second and s.operand is None:
            second = f"{one_of(wanted)}" if wanted else "a value"
            self.sink.error(
                "wrong-arity",
                f"`{s.verb}` on {a_kind(res.kind or kinds[0])} needs {second}",
                span,
                help=f"write `{s.verb} {name}, {wanted[0][0] if wanted else 'value'}`",
            )
            return UNKNOWN
        if not takes_second and s.operand is not None:
            self.sink.error(
                "wrong-arity",
                f"`{s.verb}` on {a_kind(res.kind or kinds[0])} takes one operand",
                s.operand.span,
                help=f"write `{s.verb} {name}`",
            )
            return UNKNOWN
        if wanted and s.operand is not None:
            ref = expr_as_ref(s.operand)
            if ref is None:
                self.wrong_kind(
                    s.operand.span,
                    f"`{s.verb} {name}, _` needs {one_of(wanted)}",
                    accepts(f"{s.verb} {name}").help,
                )
                return UNKNOWN
            partner = self.resource(ref, f"{s.verb} {name}, _")
            if partner is None:
                return UNKNOWN
        elif s.operand is not None:
            operand = self.expr(s.operand)
        if s.timed and verb.timeout is None:
            self.sink.error(
                "wrong-kind",
                f"`{s.verb}` cannot time out",
                span,
                help="`timeout` follows `acquire`, `wait`, `join`, `recv` and `result`: remove it",
            )
            return UNKNOWN
        self.emit(
            ir.SyncOp(
                verb=s.verb,
                resource=res,
                partner=partner,
                operand=operand,
                target=target,
                timed=s.timed,
                span=span,
            )
        )
        return UNKNOWN

    def stmt_notify(self, s: ast.Notify) -> None:
        res = self.resource(s.target, "notify_all" if s.all else "notify")
        if res is not None:
            self.emit(ir.Notify(resource=res, all=s.all, span=s.span))

    def stmt_callonce(self, s: ast.CallOnce) -> None:
        self.check_blocking(s.span, f"call_once {unparse.ref(s.target)} {{ }}")
        res = self.resource(s.target, "call_once")
        if res is not None and _may_change(res, s.body):
            res = self.kept(res, s.span.cover(s.target.span))
        begin = self.emit(
            ir.OnceBegin(resource=res or _NO_RESOURCE, done=-1, span=s.span.cover(s.target.span))
        )
        resource = res or _NO_RESOURCE
        self.frames.append(Exit(lambda: ir.OnceEnd(resource=resource)))
        self.block(s.body)
        self.frames.pop()
        self.emit(ir.OnceEnd(resource=resource, span=end_span(s.body.span)))
        self.patch(begin, done=self.here())

    def stmt_setevent(self, s: ast.SetEvent) -> None:
        res = self.resource(s.target, "set")
        if res is not None:
            self.emit(ir.SetEvent(resource=res, span=s.span))

    def stmt_clearevent(self, s: ast.ClearEvent) -> None:
        res = self.resource(s.target, "clear")
        if res is not None:
            self.emit(ir.ClearEvent(resource=res, span=s.span))


_NO_RESOURCE = ir.ResourceRef(kind="once", base=0, size=None, name="?")


def _verb_of(kind: str, verb: str) -> Verb:
    """A kind's statement; for an object whose kind only the run time knows, the first
    kind's that accepts it (they agree on its operands)."""
    return registry.verb(kind or registry.kinds_accepting(verb)[0], verb)


def accepts(op: str) -> Accepts:
    """What a statement accepts: from `ACCEPTS`, or for a primitive's own statement
    (`countdown l`, and `verb r, _` for its second operand) from the registry."""
    if op in ACCEPTS:
        return ACCEPTS[op]
    verb, _, partner = op.partition(" ")
    kinds = registry.kinds_accepting(verb)
    if partner:
        wanted = tuple(dict.fromkeys(k for own in kinds for k in registry.verb(own, verb).partner))
        return Accepts(wanted, f"`{op}` needs {one_of(wanted)}")
    return Accepts(kinds, ", ".join(registry.verb(k, verb).usage for k in kinds))


def _kind_help(op: str, sym: object) -> str:
    if isinstance(sym, ChannelSym):
        return "channels are used with `send`, `recv`, `try_recv`, `for` and `close`"
    return accepts(op).help


def _may_change(res: ir.ResourceRef, body: ast.Block) -> bool:
    """Whether what a block's operand names may change before the block ends: it reads
    shared state, or a local the block assigns."""
    expr = res.value if res.value is not None else res.index
    if expr is None:
        return False
    return reads_shared(expr) or bool(locals_read(expr) & _assigned_names(body))


def _assigned_names(block: ast.Block) -> set[str]:
    """The names a block assigns (`x = ...`), at any depth."""
    return {
        stmt.target.name.name
        for stmt in statements(block)
        if isinstance(stmt, ast.Assign) and stmt.target.index is None
    }
