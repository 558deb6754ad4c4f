"""Re-running a saved trace against a spec as it is now (`gilcheck replay`).

A saved step names its thread, statement, line and effects, not the engine's action, so
each step is found again among the steps the current state can take: the same thread
(a spawned thread by its number too: `f#2` is the second thread spawned from `f`)
running the same statement, then the one on the same line, then the one with the same
effects. A step that none matches is where the spec changed so that the trace no longer
applies. At the end the run must show the saved verdict again: a deadlock, the same
violation, or the cycle closing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gilcheck.analysis.simulate import DEADLOCK_MESSAGE, Runner
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.source import SourceMap
from gilcheck.system.model import Action, LimitHit, Target, Violation
from gilcheck.system.state import State
from gilcheck.trace.model import Step, Trace


@dataclass(frozen=True, slots=True)
class Retraced:
    """A replayed trace: whether it still applies, where it stopped applying, and the
    steps replayed, narrated against the spec as it is now."""

    applies: bool
    message: str
    failed_at: int | None  # the number of the first step that no longer applies
    trace: Trace


def numbered_functions(program: ir.Program, steps: tuple[Step, ...]) -> frozenset[str]:
    """The functions whose spawned threads a saved trace names with their number (`f#2`).

    A trace names a spawned thread `f` when it is the only one spawned from `f` by the end
    of the trace, else `f#k` (the k-th spawned): the names its steps and effects use say
    which, before the replay reaches that end.
    """
    functions = {code.name for code in program.codes}
    texts = [text for step in steps for text in (step.thread, *step.effects)]
    return frozenset(
        name
        for text in texts
        for name in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)#\d+", text)
        if name in functions
    )


def _same(saved: list[Step], now: list[Step]) -> bool:
    return len(saved) == len(now) and all(
        a.thread == b.thread and a.statement == b.statement for a, b in zip(saved, now, strict=True)
    )


def _closeness(saved: list[Step], now: list[Step]) -> tuple[bool, bool]:
    lines = [s.line for s in saved] == [s.line for s in now]
    effects = [s.effects for s in saved] == [s.effects for s in now]
    return lines, effects


def _groups(steps: tuple[Step, ...]) -> list[list[Step]]:
    """The saved steps by number: a step with the statements merged into it."""
    groups: list[list[Step]] = []
    for step in steps:
        if groups and step.index == groups[-1][0].index:
            groups[-1].append(step)
        else:
            groups.append([step])
    return groups


def retrace(
    program: ir.Program,
    sources: SourceMap,
    options: CheckOptions,
    steps: tuple[Step, ...],
    verdict: str,
    loop_from: int | None,
) -> Retraced:
    """Replay saved steps from the initial state and check that they end in `verdict`."""
    runner = Runner(program, sources, options)
    runner.layout.numbered = numbered_functions(program, steps)
    state = runner.engine.initial_state()
    visited: list[State] = [state]
    actions: list[Action] = []
    last: tuple[Action, Violation | LimitHit] | None = None
    groups = _groups(steps)
    for number, group in enumerate(groups, start=1):
        found = _find(runner, state, group)
        if found is None:
            return _failed(runner, actions, number, _no_match(runner, state, group, number))
        action, target = found
        if isinstance(target, Violation | LimitHit):
            if number != len(groups):
                why = f"step {number} now ends the run ({target.message}) before the trace does"
                return _failed(runner, actions, number, why)
            last = (action, target)
            break
        actions.append(action)
        state = target
        visited.append(state)
    count = len(groups)
    if last is not None:
        outcome = last[1].verdict.value
        trace = runner.narrate(actions, last, deadlock=False)
        if outcome != verdict:
            why = f"step {count} now gives {outcome}, not {verdict}: {runner.leaves(state, *last)}"
            return Retraced(False, why, count, trace)
        return Retraced(True, runner.leaves(state, *last), None, trace)
    if verdict == "deadlock":
        if runner.moves(state) or runner.engine.has_ended(state):
            trace = runner.narrate(actions, None, deadlock=False)
            return Retraced(False, _not_stuck(runner, state, count), count, trace)
        return Retraced(True, DEADLOCK_MESSAGE, None, runner.narrate(actions, None, True))
    if verdict in ("stuck", "livelock") and loop_from is not None:
        trace = runner.narrate(actions, None, deadlock=False)
        start = _group_at(groups, loop_from)
        if start is None or visited[start] != state:
            why = f"after step {count} the program is not back where the cycle began"
            return Retraced(False, why, count, trace)
        again = f"steps {start + 1} to {count} repeat for ever ({verdict})"
        return Retraced(True, again, None, Trace(trace.steps, loop_from=loop_from))
    trace = runner.narrate(actions, None, deadlock=False)
    why = f"after step {count} the program does not show {verdict}"
    return Retraced(False, why, count, trace)


def _find(runner: Runner, state: State, group: list[Step]) -> tuple[Action, Target] | None:
    """The step of `state` that the saved step describes, if any."""
    matching: list[tuple[tuple[bool, bool], int, Action, Target]] = []
    runner.layout.naming_state = None
    for position, (action, target) in enumerate(runner.engine.transitions(state)):
        now = _narrated(runner, state, action, target, group[0].index)
        if _same(group, now):
            lines, effects = _closeness(group, now)
            matching.append(((not lines, not effects), position, action, target))
    if not matching:
        return None
    _, _, action, target = min(matching, key=lambda m: (m[0], m[1]))
    return action, target


def _narrated(
    runner: Runner, state: State, action: Action, target: Target, index: int
) -> list[Step]:
    if isinstance(target, Violation | LimitHit):
        return runner.narrator.unfolded(index, state, action, target)
    return runner.narrator.steps(index, state, action, target)


def _no_match(runner: Runner, state: State, group: list[Step], number: int) -> str:
    saved = group[0]
    options = [
        f"{step.thread}: {step.statement} (line {step.line})"
        for action, target in runner.engine.transitions(state)
        for step in _narrated(runner, state, action, target, saved.index)[:1]
    ]
    could = "; ".join(options) if options else "nothing: no thread can move"
    return (
        f"step {number} no longer applies: {saved.thread} cannot run `{saved.statement}` "
        f"(line {saved.line}) here; what can run: {could}"
    )


def _not_stuck(runner: Runner, state: State, count: int) -> str:
    if runner.engine.has_ended(state):
        return f"after step {count} the program has ended: no deadlock any more"
    runner.layout.naming_state = None
    first = next(iter(runner.moves(state)))
    step = _narrated(runner, state, *first, count + 1)[0]
    return (
        f"after step {count} the program is not deadlocked: {step.thread} can go on "
        f"with `{step.statement}` (line {step.line})"
    )


def _failed(runner: Runner, actions: list[Action], number: int, why: str) -> Retraced:
    return Retraced(False, why, number, runner.narrate(actions, None, deadlock=False))


def _group_at(groups: list[list[Step]], position: int) -> int | None:
    """The number (from 0) of the group holding the saved step at `position`."""
    seen = 0
    for number, group in enumerate(groups):
        if seen <= position < seen + len(group):
            return number
        seen += len(group)
    return None
