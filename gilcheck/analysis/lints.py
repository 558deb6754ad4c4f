"""Lints from the constraints of a spec with unknown values: guards that are always or never
true, code no path reaches, assertions that can never fail.

They come from a second, complete exploration without statement merging (so every
statement is a state of its own): for each guard, the outcomes its path conditions allow
wherever it is reached. Only a search that explored everything says anything.
"""

from __future__ import annotations

import dataclasses

from gilcheck.analysis.locations import location_of
from gilcheck.analysis.statements import written_text
from gilcheck.explore.bfs import explore
from gilcheck.semantics import ir
from gilcheck.source import SourceMap
from gilcheck.system.engine import Engine
from gilcheck.system.state import F_CODE, F_PC, RUNNING, S_THREADS, T_FRAMES, T_PHASE, T_STATUS
from gilcheck.trace.model import Lint

# Statements a user wrote (not block ends or jumps the compiler added).
_STATEMENTS = (
    ir.Assign,
    ir.Recv,
    ir.TryRecv,
    ir.Send,
    ir.CloneHandle,
    ir.Unwrap,
    ir.CallFn,
    ir.SpawnFn,
    ir.Submit,
    ir.AnyInt,
    ir.MakeChannel,
    ir.MakeObject,
    ir.DropValue,
    ir.Close,
    ir.GilEnter,
    ir.AllowEnter,
    ir.PythonEnter,
    ir.AcquireGil,
    ir.ReleaseGil,
    ir.Acquire,
    ir.SetEvent,
    ir.ClearEvent,
    ir.Wait,
    ir.SyncOp,
    ir.Notify,
    ir.OnceBegin,
    ir.Join,
    ir.Return,
    ir.Branch,
    ir.Choose,
    ir.Await,
    ir.Assert,
    ir.Panic,
    ir.Print,
    ir.AtomicBegin,
    ir.Progress,
    ir.Skip,
    ir.ForkBegin,
)
_GUARDS = (ir.Branch, ir.Await, ir.Assert)
# (the outcome wherever the guard is reached, whether it is an `await`) -> what it means
_GUARD_TEXT = {
    (True, False): "is always true where it is reached",
    (True, True): "is always true where it is reached: it never waits",
    (False, False): "is never true where it is reached",
    (False, True): "is never true where it is reached: the thread waits for ever",
}


def lints(engine: Engine, sources: SourceMap) -> tuple[Lint, ...]:
    """The lints of a spec with unknown values (none when its search cannot finish)."""
    if not engine.symbolic:
        return ()
    options = dataclasses.replace(engine.options, merge_local_steps=False, graph_analysis=False)
    full = Engine(engine.program, options)
    found = explore(full, options)
    if not found.exhaustive:
        return ()
    reached: set[tuple[int, int]] = set()
    outcomes: dict[tuple[int, int], set[bool]] = {}
    for state in found.store.states:
        for th in state[S_THREADS]:
            if not th[T_FRAMES]:
                continue
            frame = th[T_FRAMES][-1]
            where = (frame[F_CODE], frame[F_PC])
            reached.add(where)
            p = full.prepared[where[0]][where[1]]
            if th[T_STATUS] != RUNNING or th[T_PHASE] != 0 or not isinstance(p.instr, _GUARDS):
                continue
            try:
                value = full.evaluate(p.value, state, frame, th)
                truths = {truth for truth, _ in full.cases(state, value)}
            except Exception:
                truths = {True, False}
            outcomes.setdefault(where, set()).update(truths)
    return tuple(_guard_lints(full, sources, outcomes) + _unreached(full, sources, reached))


def _guard_lints(
    engine: Engine, sources: SourceMap, outcomes: dict[tuple[int, int], set[bool]]
) -> list[Lint]:
    found: list[Lint] = []
    for (code, pc), truths in sorted(outcomes.items()):
        instr = engine.codes[code].instrs[pc]
        text = written_text(sources, instr)
        if isinstance(instr, ir.Assert):
            if truths == {True}:
                found.append(
                    _lint("assert-never-fails", f"`{text}` can never fail", instr, sources)
                )
            continue
        outcome = next(iter(truths)) if len(truths) == 1 else None
        if outcome is None:
            continue
        lint = "guard-always-true" if outcome else "guard-never-true"
        what = _GUARD_TEXT[(outcome, isinstance(instr, ir.Await))]
        found.append(_lint(lint, f"`{text}` {what}", instr, sources))
    return found


def _unreached(engine: Engine, sources: SourceMap, reached: set[tuple[int, int]]) -> list[Lint]:
    """The first statement of each run of statements no path reaches, in code that runs."""
    found: list[Lint] = []
    ran = {code for code, _ in reached}
    for code in sorted(ran):
        previous_unreached = False
        for pc, instr in enumerate(engine.codes[code].instrs):
            if not isinstance(instr, _STATEMENTS) or instr.span.end <= instr.span.start:
                continue
            missed = (code, pc) not in reached
            if missed and not previous_unreached:
                text = written_text(sources, instr)
                found.append(_lint("unreachable-code", f"no path reaches `{text}`", instr, sources))
            previous_unreached = missed
    return found


def _lint(code: str, message: str, instr: ir.Instr, sources: SourceMap) -> Lint:
    return Lint(code, message, location_of(sources, instr), sources.line_of(instr.span))
