"""Exploring one state per symmetry orbit, and turning its paths back into real traces.

`SymmetricSystem` wraps the engine so every state the search stores is a representative
(system/symmetry.py). A path of representatives is a path of the program only up to a
permutation at each step, so `concrete_path` rebuilds a real run of the same length: from
the real initial state it takes, at each step, a real successor whose representative is
the next one on the path (one exists because the permutations map steps to steps).
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable

from gilcheck.explore.store import StateStore
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.ownership import nodes
from gilcheck.semantics.symmetry import find_symmetries
from gilcheck.system.engine import Engine
from gilcheck.system.engine.handlers_channels import shared_channel
from gilcheck.system.model import Action, PathCondition, Target, Transition, TransitionSystem
from gilcheck.system.state import State
from gilcheck.system.symmetry import (
    Canonicalizer,
    Permutation,
    compose,
    inverse,
    lock_kinds_of,
)


class SymmetryError(Exception):
    """A representative path has no real counterpart: a bug in gilcheck."""


def canonicalizer_for(engine: Engine) -> Canonicalizer | None:
    """The canonicalizer of the engine's program, or None when nothing can be reduced."""
    if engine.has_fork or engine.interrupts or engine.symbolic or engine.has_processes:
        # fork paths, interrupts, path conditions and processes' records are not permuted
        return None
    if any(shared_channel(instr) for code in engine.codes for instr in code.instrs):
        # A channel a waiting thread keeps is not permuted (nor is its phase: the offer
        # rewriting in system/symmetry.py reads only a plain offer's phase).
        return None
    facts = find_symmetries(engine.program)
    declared = len(engine.initial_state()[0])  # also lays out the thread ids
    spawned = declared if spawns_several(engine) else None
    if not facts.arrays and spawned is None:
        return None
    return Canonicalizer(
        facts.arrays,
        engine.thread_ids,
        engine.lock_offset,
        lock_kinds_of(engine.program),
        spawned_from=spawned,
        declared_channels=engine.declared_channels if engine.objects else None,
        pool_slots=engine.pool_slots,
    )


def spawns_several(engine: Engine) -> bool:
    """Whether the program can spawn two threads or more, so that permuting spawned
    threads can merge states.

    A spawned thread's id is only ever seen through its handle, which can be joined,
    moved, stored, sent and compared for equality but never turned into a number: every
    renumbering of spawned threads maps runs to runs. Not under `gil off`, whose pauses
    are left alone.
    """
    if engine.gil_off:
        return False
    if engine.has_pools or engine.has_loops:
        return True  # a pool's workers and a loop's tasks are spawned threads
    sites = [
        (ci, pc)
        for ci, code in enumerate(engine.codes)
        for pc, instr in enumerate(code.instrs)
        if isinstance(instr, ir.SpawnFn)
    ]
    if len(sites) >= 2:
        return not (_each_spawn_its_own(engine, sites) or _each_handle_kept_apart(engine, sites))
    # One spawn statement: several threads if it is in a loop (a jump back over it) or
    # in a function that can run more than once (called, spawned, or in a thread array).
    for ci, pc in sites:
        instrs = engine.codes[ci].instrs
        if any(
            isinstance(instr, ir.Jump) and instr.target <= pc < at
            for at, instr in enumerate(instrs)
        ):
            return True
        if not any(t.code == ci for t in engine.program.threads):
            return True  # a function's code: it may be called or spawned several times
        if any(t.code == ci and (t.size or 1) > 1 for t in engine.program.threads):
            return True
    return False


def _spawned_once_by_one_thread(engine: Engine, sites: list[tuple[int, int]]) -> int | None:
    """The code of the one declared thread (not an array) that holds every spawn statement,
    none in a loop, so that each statement runs at most once; else None."""
    codes = {ci for ci, _ in sites}
    if len(codes) != 1:
        return None
    (ci,) = codes
    runners = [t for t in engine.program.threads if t.code == ci]
    if len(runners) != 1 or (runners[0].size or 1) > 1:
        return None
    instrs = engine.codes[ci].instrs
    for _, pc in sites:
        if any(isinstance(i, ir.Jump) and i.target <= pc < at for at, i in enumerate(instrs)):
            return None
    return ci


def _each_handle_kept_apart(engine: Engine, sites: list[tuple[int, int]]) -> bool:
    """Whether each spawned thread's handle stays in a local of its own in the spawning
    thread: the spawn statements run at most once each, in one declared thread, and each
    keeps its handle in a local that nothing else in that thread writes. While that thread
    runs, a renumbering of the spawned threads that maps a reachable state to another would
    have to move each handle to another local, which none does: symmetry would merge
    nothing (merging can start only once the spawning thread has ended), at a cost."""
    ci = _spawned_once_by_one_thread(engine, sites)
    if ci is None:
        return False
    instrs = engine.codes[ci].instrs
    slots = []
    for _, pc in sites:
        target = getattr(instrs[pc], "target", None)
        if not isinstance(target, ir.LocalTarget):
            return False
        slots.append(target.slot)
    if len(set(slots)) != len(slots):
        return False
    writes = Counter(
        node.slot for instr in instrs for node in nodes(instr) if isinstance(node, ir.LocalTarget)
    )
    return all(writes[slot] == 1 for slot in slots)


def _each_spawn_its_own(engine: Engine, sites: list[tuple[int, int]]) -> bool:
    """Whether every spawned thread has a role of its own: the spawn statements are all
    in the code of one declared thread (not an array), none in a loop, and each spawns
    another function. Then each spawned thread's id and function follow from its
    statement, no two of them run the same code, and no renumbering of them maps a state
    to another the program can reach: symmetry would merge nothing, at a cost."""
    ci = _spawned_once_by_one_thread(engine, sites)
    if ci is None:
        return False
    instrs = engine.codes[ci].instrs
    functions = [instr.function for _, pc in sites if isinstance(instr := instrs[pc], ir.SpawnFn)]
    return len(set(functions)) == len(functions) == len(sites)


def reduced_system(
    program: ir.Program, options: CheckOptions
) -> tuple[Engine, Canonicalizer | None, TransitionSystem]:
    """The engine of a program, its canonicalizer (None without symmetry), and the system a
    check explores: the engine, or the engine reduced by symmetry."""
    engine = Engine(program, options)
    canonical = canonicalizer_for(engine) if options.symmetry else None
    system = SymmetricSystem(engine, canonical) if canonical is not None else engine
    return engine, canonical, system


class SymmetricSystem:
    """The engine's transition system with every state replaced by its representative
    (model.TransitionSystem: each of its members, stated, none forwarded implicitly)."""

    def __init__(self, engine: Engine, canonical: Canonicalizer) -> None:
        self.engine = engine
        self.canonical = canonical

    @property
    def symbolic(self) -> bool:
        return self.engine.symbolic

    @property
    def has_progress(self) -> bool:
        return self.engine.has_progress

    def initial_state(self) -> State:
        return self.canonical(self.engine.initial_state())

    def transitions(self, state: State) -> list[Transition]:
        canonical = self.canonical
        return [
            (action, canonical(target)) if type(target) is tuple else (action, target)
            for action, target in self.engine.transitions(state)
        ]

    def has_ended(self, state: State) -> bool:
        return self.engine.has_ended(state)

    def is_progress(self, state: State, action: Action) -> bool:
        # A representative's step runs `progress` as the real step it stands for does.
        return self.engine.is_progress(state, action)

    def path_of(self, state: State) -> PathCondition:
        return self.engine.path_of(state)

    def threadwise(self) -> None:
        return None  # the table patches a thread's own steps, not the representatives'


def concrete_path(
    engine: Engine, canonical: Canonicalizer, store: StateStore, sid: int
) -> tuple[list[Action], list[State], Permutation]:
    """A real run from the initial state to a state in state `sid`'s orbit.

    Also returns the permutation that maps state `sid` to the run's last state.
    """
    chain: list[int] = []
    while sid >= 0:
        chain.append(sid)
        sid = store.parent[sid]
    chain.reverse()
    state = engine.initial_state()
    _, to_rep = canonical.with_permutation(state)
    to_real = inverse(to_rep)  # maps the current representative onto the real state
    states = [state]
    actions: list[Action] = []
    for prev, nxt in itertools.pairwise(chain):
        via, want = store.via[nxt], store.states[nxt]
        for action, target in engine.transitions(store.states[prev]):
            if action == via and type(target) is tuple:
                rep, to_rep = canonical.with_permutation(target)
                if rep == want:
                    break
        else:
            raise SymmetryError(f"no step {via} between representatives")
        real = canonical.apply(target, to_real)
        action, _ = concrete_step(engine, state, _leads_to(real))
        actions.append(action)
        states.append(real)
        state = real
        to_real = compose(inverse(to_rep), to_real)
    return actions, states, to_real


def _leads_to(real: State) -> Callable[[Action, Target], bool]:
    return lambda _, target: target == real


def concrete_step(
    engine: Engine, state: State, wanted: Callable[[Action, Target], bool]
) -> tuple[Action, Target]:
    """The first step from a real state that is wanted.

    Steps are taken without the ample set (and persistent sets) first: they pick threads
    by number, which in a permuted state may be others than on the representative's path.
    """
    ample, stubborn = engine.ample, engine.stubborn
    try:
        for use_ample in (False, True):
            engine.ample = use_ample and ample
            engine.stubborn = stubborn if use_ample else None
            for action, target in engine.transitions(state):
                if wanted(action, target):
                    return action, target
    finally:
        engine.ample, engine.stubborn = ample, stubborn
    raise SymmetryError("a step on the path of representatives has no real counterpart")
