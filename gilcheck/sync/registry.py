"""Every kind of sync object and its primitive, checked against the grammar at import.

The order of `PRIMITIVES` is the engine's state layout (objects kind by kind); a new kind
goes at the end. The grammar's `resource_kind` rule lists the kinds in the order messages
list them, and its `SYNC_VERB` terminal the statements that reach a primitive generically.
"""

from __future__ import annotations

import re
from importlib import resources

from gilcheck.sync import (
    barrier,
    condvar,
    event,
    eventloop,
    future,
    latch,
    mutex,
    once,
    pool,
    rlock,
    rwlock,
    semaphore,
)
from gilcheck.sync.base import Primitive, Verb

PRIMITIVES: tuple[Primitive, ...] = (
    mutex.PRIMITIVE,
    rlock.PRIMITIVE,
    semaphore.PRIMITIVE,
    event.PRIMITIVE,
    barrier.PRIMITIVE,
    condvar.PRIMITIVE,
    once.PRIMITIVE,
    rwlock.PRIMITIVE,
    latch.PRIMITIVE,
    pool.PRIMITIVE,
    eventloop.PRIMITIVE,
)

# Kinds made only at run time (`future()`): no declaration, no slot in the state's layout.
RUNTIME_ONLY: tuple[Primitive, ...] = (future.PRIMITIVE,)


class RegistryError(Exception):
    """The primitives and the grammar disagree (a kind without a primitive, or twice)."""


def _grammar() -> str:
    return resources.files("gilcheck.syntax").joinpath("grammar.lark").read_text("utf-8")


def _grammar_kinds(grammar: str) -> tuple[str, ...]:
    """The kinds the grammar declares: the reserved ones, then the contextual ones."""
    rule = re.search(r"^!resource_kind:(.*)$", grammar, re.MULTILINE)
    if rule is None:
        raise RegistryError("the grammar has no `resource_kind` rule")
    return (
        tuple(re.findall(r'"(\w+)"', rule.group(1)))
        + _terminal_words(grammar, "DECL_KIND")
        + _terminal_words(grammar, "EVENTLOOP")
    )


def _grammar_verbs(grammar: str) -> tuple[str, ...]:
    """The statements the grammar parses generically (`verb ref [, ref]`)."""
    return _terminal_words(grammar, "SYNC_VERB")


def _terminal_words(grammar: str, terminal: str) -> tuple[str, ...]:
    """The words of a terminal written `NAME.2: /(?:word|word)(?=...)/` (none if declared)."""
    rule = re.search(rf"^{terminal}[.\d]*:\s*/\(\?:([\w|]+)\)", grammar, re.MULTILINE)
    return tuple(rule.group(1).split("|")) if rule is not None else ()


def _check(
    primitives: tuple[Primitive, ...], grammar: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    kinds = [p.kind for p in primitives]
    doubled = sorted({k for k in kinds if kinds.count(k) > 1})
    if doubled:
        raise RegistryError(f"kinds with more than one primitive: {', '.join(doubled)}")
    declared = _grammar_kinds(grammar)
    missing = [k for k in declared if k not in kinds]
    if missing:
        raise RegistryError(f"kinds in the grammar without a primitive: {', '.join(missing)}")
    unparsed = [k for k in kinds if k not in declared]
    if unparsed:
        raise RegistryError(f"primitives the grammar cannot declare: {', '.join(unparsed)}")
    verbs = _grammar_verbs(grammar)
    known = {verb for p in (*primitives, *RUNTIME_ONLY) for verb in p.verbs}
    unknown = [v for v in verbs if v not in known]
    if unknown:
        raise RegistryError(f"statements in the grammar no primitive accepts: {unknown}")
    return declared, verbs


LISTED, GENERIC_VERBS = _check(PRIMITIVES, _grammar())
KINDS: tuple[str, ...] = tuple(p.kind for p in PRIMITIVES)
BY_KIND: dict[str, Primitive] = {p.kind: p for p in (*PRIMITIVES, *RUNTIME_ONLY)}
# The kinds a constructor makes at run time (`let m = mutex()`), in the order messages list
# them.
CONSTRUCTIBLE: tuple[str, ...] = tuple(
    k for k in (*LISTED, *(p.kind for p in RUNTIME_ONLY)) if k not in ("eventloop",)
)
# Every kind, in the order messages list them (event loops are declared only).
ALL_KINDS: tuple[str, ...] = (*LISTED, *(p.kind for p in RUNTIME_ONLY))


def primitive(kind: str) -> Primitive:
    """The primitive of a kind."""
    return BY_KIND[kind]


def kinds_accepting(verb: str) -> tuple[str, ...]:
    """The kinds that accept a statement, in the order messages list them."""
    return tuple(k for k in ALL_KINDS if verb in BY_KIND[k].verbs)


def verb(kind: str, name: str) -> Verb:
    """A kind's statement (KeyError when it does not accept it)."""
    return BY_KIND[kind].verbs[name]


def layout(resources_: list[tuple[str, int]]) -> list[str]:
    """The kind of every object slot of a state, from (kind, number of objects) declared in
    order: kind by kind, in `PRIMITIVES` order."""
    slots: list[str] = []
    for kind in KINDS:
        for declared, count in resources_:
            if declared == kind:
                slots.extend([kind] * count)
    return slots
