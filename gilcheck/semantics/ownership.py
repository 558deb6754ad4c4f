"""Locks private to one thread: static dependency facts for partial-order reduction.

A mutex is private when only one thread can ever touch it: a plain lock named
only in the code of one (non-array) thread, or an element of a lock array of N named only
as `m[self]` in the code of one `thread name[N]` array, so that thread i alone touches
m[i]. Taking such a lock when it is free commutes with every step of every other thread
(none reads or writes it), so the engine merges it into the thread's step before, as it
merges local steps. Locks named in functions, hooks or `wait`, passed as values (`call
f(m)`), or in programs that fork, are never private.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass

from gilcheck.semantics import ir

LockKey = tuple[str, int]  # (kind, base within the kind)


def private_locks(program: ir.Program) -> frozenset[LockKey]:
    """The mutexes (by kind and base) that only one thread can touch."""
    if any(isinstance(i, ir.ForkBegin) for code in program.codes for i in code.instrs):
        return frozenset()
    owners: dict[int, ir.ThreadInfo] = {}
    shared_code: set[int] = set()
    for thread in program.threads:
        if thread.code in owners:
            shared_code.add(thread.code)
        owners[thread.code] = thread
    users: dict[LockKey, set[int]] = {}
    refused: set[LockKey] = set()
    for ci, code in enumerate(program.codes):
        info = owners.get(ci)
        for instr in code.instrs:
            waited = _waited_mutex(instr)
            for kind, base in _passed_resources(instr):
                refused.add((kind, base))  # reachable through a value: any thread may use it
            for ref in _resource_refs(instr):
                if ref.value is not None:
                    continue  # an object reached through a value is never private
                key = (ref.kind, ref.base)
                users.setdefault(key, set()).add(ci)
                ok = (
                    ref.kind == "mutex"
                    and info is not None
                    and ci not in shared_code
                    and ref is not waited
                    and (
                        (ref.index is None and ref.size is None and info.size is None)
                        or (
                            isinstance(ref.index, ir.SelfIndex)
                            and ref.size is not None
                            and ref.size == info.size
                        )
                    )
                )
                if not ok:
                    refused.add(key)
    return frozenset(key for key, codes in users.items() if len(codes) == 1 and key not in refused)


def _waited_mutex(instr: ir.Instr) -> ir.ResourceRef | None:
    if isinstance(instr, ir.SyncOp):
        return instr.partner
    return instr.mutex if isinstance(instr, ir.Wait) else None


def nodes(node: object) -> Iterator[object]:
    """Every IR node inside an instruction (itself included), depth first."""
    if isinstance(node, tuple):
        for item in node:
            yield from nodes(item)
    elif is_dataclass(node) and not isinstance(node, type):
        yield node
        for f in fields(node):
            if f.name != "span":
                yield from nodes(getattr(node, f.name))


def _resource_refs(instr: ir.Instr) -> Iterator[ir.ResourceRef]:
    """Every lock reference inside an instruction (including inside its expressions)."""
    return (node for node in nodes(instr) if isinstance(node, ir.ResourceRef))


def _passed_resources(instr: ir.Instr) -> Iterator[tuple[str, int]]:
    """Every declared resource an instruction uses as a value (`call f(m)`), by kind and
    base."""
    for node in nodes(instr):
        if isinstance(node, ir.Builtin) and node.name == "resource":
            kind, base = node.args[0], node.args[1]
            assert isinstance(kind, ir.Const) and isinstance(base, ir.Const)
            yield kind.value, base.value  # type: ignore[misc]
