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

    A trace names a spawned thread `f` (or a pool's worker `p.worker`) when it is the only
    one spawned from `f` by the end of the trace, else `f#k` (the k-th spawned): the names
    of the threads that take its steps and of those its steps spawn or start say which,
    before the replay reaches that end.
    """
    functions = {code.name for code in program.codes}
    texts = [step.thread for step in steps]
    for step in steps:
        for effect in step.effects:
            texts.append(effect.removeprefix("spawns "))
            texts += re.findall(r"(?:starts worker|queues task) (\S+) (?:for it|on event)", effect)
    return frozenset(
        match.group(1)
        for text in texts
        if (match := re.fullmatch(r"([A-Za-z_][A-Za-z0-9_.]*)#\d+", text))
        and match.group(1) in functions
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
    """Replay saved steps from the initial state and check that they end in `verdict`.

    Where several steps of a state fit a saved step, the closest is followed first; if the
    rest of the trace does not apply after it, the others are tried in turn (a bounded
    depth-first search), so a trace whose text tells two steps apart too little still
    replays. When none applies, the first failure (on the closest steps) is reported.
    """
    runner = Runner(program, sources, options)
    runner.layout.numbered = numbered_functions(program, steps)
    return _Search(runner, _groups(steps), verdict, loop_from).run()


class _Search:
    """The depth-first search of `retrace`: a path of steps that fit the saved ones."""

    def __init__(
        self, runner: Runner, groups: list[list[Step]], verdict: str, loop_from: int | None
    ) -> None:
        self.runner = runner
        self.groups = groups
        self.verdict = verdict
        self.loop_from = loop_from
        self.visited: list[State] = [runner.engine.initial_state()]
        self.actions: list[Action] = []
        # The steps not tried yet that fit each saved step matched so far, closest first.
        self.pending: list[list[tuple[Action, Target]]] = []
        self.first: Retraced | None = None  # the first failure met

    def run(self) -> Retraced:
        tries = 4 * len(self.groups) + 200
        done = self._arrive()
        while done is None:
            tries -= 1
            if not self._back() or tries < 0:
                assert self.first is not None
                return self.first
            done = self._take()
        return done

    def _arrive(self) -> Retraced | None:
        """At a new state: queue the steps that fit the next saved step, or judge the end
        of the trace. The result if the trace applies."""
        number = len(self.actions) + 1
        if number <= len(self.groups):
            state, group = self.visited[-1], self.groups[number - 1]
            candidates = _find(self.runner, state, group)
            if candidates:
                self.pending.append(candidates)
                return None
            why = _no_match(self.runner, state, group, number)
            return self._judged(_failed(self.runner, self.actions, number, why), leave=True)
        return self._judged(self._ending(None), leave=True)

    def _take(self) -> Retraced | None:
        """Follow the next fitting step of the last state. The result if the trace applies."""
        action, target = self.pending[-1].pop(0)
        if not isinstance(target, Violation | LimitHit):
            self.actions.append(action)
            self.visited.append(target)
            return self._arrive()
        number = len(self.pending)
        if number == len(self.groups):
            return self._judged(self._ending((action, target)), leave=False)
        why = f"step {number} now ends the run ({target.message}) before the trace does"
        return self._judged(_failed(self.runner, self.actions, number, why), leave=False)

    def _judged(self, outcome: Retraced, leave: bool) -> Retraced | None:
        """The outcome if the trace applies; else it is noted, and with `leave` the state
        reached last is left."""
        if outcome.applies:
            return outcome
        self.first = self.first or outcome
        if leave and self.actions:
            self.actions.pop()
            self.visited.pop()
        return None

    def _back(self) -> bool:
        """Back to the last state with a fitting step not tried yet (False: there is none)."""
        while self.pending and not self.pending[-1]:
            self.pending.pop()
            if self.actions:
                self.actions.pop()
                self.visited.pop()
        return bool(self.pending)

    def _ending(self, last: tuple[Action, Target] | None) -> Retraced:
        return _ending(
            self.runner, self.groups, self.visited, self.actions, last, self.verdict, self.loop_from
        )


def _ending(
    runner: Runner,
    groups: list[list[Step]],
    visited: list[State],
    actions: list[Action],
    last: tuple[Action, Target] | None,
    verdict: str,
    loop_from: int | None,
) -> Retraced:
    """Whether a run through every saved step shows the saved verdict."""
    count = len(groups)
    state = visited[-1]
    if last is not None:
        assert isinstance(last[1], Violation | LimitHit)
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


def _find(runner: Runner, state: State, group: list[Step]) -> list[tuple[Action, Target]]:
    """The steps of `state` that the saved step may describe: the same threads running the
    same statements; those on the same lines, then with the same effects, first."""
    matching: list[tuple[tuple[bool, bool], int, Action, Target]] = []
    runner.layout.naming_state = None
    for position, (action, target) in enumerate(runner.engine.transitions(state)):
        if runner.layout.thread_name(state, action[0]) != group[0].thread:
            continue  # (told apart without narrating the step)
        now = _narrated(runner, state, action, target, group[0].index)
        if len(now) > len(group) and not _same(group, now):
            now = _folded(runner, state, action, target, group[0].index)
        if _same(group, now):
            lines, effects = _closeness(group, now)
            matching.append(((not lines, not effects), position, action, target))
    matching.sort(key=lambda m: (m[0], m[1]))
    return [(action, target) for _, _, action, target in matching]


def _narrated(
    runner: Runner, state: State, action: Action, target: Target, index: int
) -> list[Step]:
    if isinstance(target, Violation | LimitHit):
        return runner.narrator.unfolded(index, state, action, target)
    return runner.narrator.steps(index, state, action, target)


def _folded(runner: Runner, state: State, action: Action, target: Target, index: int) -> list[Step]:
    """A step told as traces saved before the statements of `atomic` blocks were told."""
    runner.narrator.unfold_atomic = False
    try:
        return _narrated(runner, state, action, target, index)
    finally:
        runner.narrator.unfold_atomic = True


def _no_match(runner: Runner, state: State, group: list[Step], number: int) -> str:
    saved = group[0]
    options = dict.fromkeys(  # each once (a thread may have several steps there)
        f"{step.thread}: {step.statement} (line {step.line})"
        for action, target in runner.engine.transitions(state)
        for step in _narrated(runner, state, action, target, saved.index)[:1]
    )
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
