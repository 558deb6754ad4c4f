"""Random walks: at each state a step chosen by a seeded generator, so a seed always gives
the same walk (`gilcheck simulate` takes one; the `random` strategy takes many).

A walk finds violations but proves nothing: a deadlock or a violating step it meets is
real, with its path; when its walks meet none, the search says it stopped (inconclusive),
never that the program is right.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass
from typing import assert_never

from gilcheck.explore.budget import Budget
from gilcheck.explore.exploration import Exploration
from gilcheck.explore.store import new_store
from gilcheck.explore.strategy import Problem
from gilcheck.explore.visitor import Outcome, Visitor
from gilcheck.system.model import Action, LimitHit, Transition, TransitionSystem, Violation
from gilcheck.system.state import State

# Steps a walk of the `random` strategy takes at most, without `max_depth` (as `simulate`).
DEFAULT_WALK_STEPS = 1000


class WalkEnd(enum.Enum):
    """How a walk ended."""

    ENDED = "ended"  # the program ended
    DEADLOCK = "deadlock"  # no thread can move and the program has not ended
    STOPPED = "stopped"  # it took its steps; the program can go on
    LEFT = "left"  # its last step violates or passes a limit (`Walk.last`)


@dataclass(frozen=True, slots=True)
class Walk:
    """One walk: the actions taken, the states along them (the initial state first), and
    for a walk that `LEFT` the space, the step that did."""

    end: WalkEnd
    actions: list[Action]
    states: list[State]
    last: Transition | None = None


def walk(
    system: TransitionSystem, visitor: Visitor, chooser: random.Random, max_steps: int
) -> Walk:
    """Take up to `max_steps` random steps from the initial state."""
    state = system.initial_state()
    actions: list[Action] = []
    states = [state]
    while True:
        if system.has_ended(state):
            return Walk(WalkEnd.ENDED, actions, states)
        moves = system.transitions(state)
        if visitor.is_deadlock(state, moves):
            return Walk(WalkEnd.DEADLOCK, actions, states)
        if len(actions) >= max_steps:
            return Walk(WalkEnd.STOPPED, actions, states)
        action, target = chooser.choice(moves)
        if visitor.outcome(target) is not Outcome.STATE:
            return Walk(WalkEnd.LEFT, actions, states, (action, target))
        actions.append(action)
        state = target
        states.append(state)


class RandomWalks:
    """`CheckOptions.walks` seeded walks of up to `max_depth` steps each."""

    name = "random"

    def explore(self, problem: Problem, budget: Budget) -> Exploration:
        return random_walks(problem, budget)

    def sequential(self) -> RandomWalks:
        return self


def random_walks(problem: Problem, budget: Budget) -> Exploration:
    """Walk until a violation, the walks' end, or a limit; each walk's path is stored."""
    system, options = problem.system, problem.options
    visitor = Visitor(system, options)
    chooser = random.Random(options.seed)
    length = options.max_depth if options.max_depth is not None else DEFAULT_WALK_STEPS
    store = new_store(options.native)
    found = Exploration(store, shortest_paths=False)
    store.add(system.initial_state(), -1, None)
    with budget.guarded(found, pause_collector=False):
        for _ in range(options.walks):
            run = walk(system, visitor, chooser, length)
            sid = 0
            for action, state in zip(run.actions, run.states[1:], strict=True):
                sid, _ = store.add(state, sid, action)
            found.transitions += len(run.actions)
            if run.end is WalkEnd.DEADLOCK:
                found.deadlock = sid
                break
            if run.end is WalkEnd.LEFT:
                assert run.last is not None
                action, target = run.last
                if isinstance(target, Violation):
                    found.violating(sid, action, target)
                    break
                assert isinstance(target, LimitHit)
                found.hit_limit(sid, action, target)
            elif run.end is not WalkEnd.ENDED and run.end is not WalkEnd.STOPPED:
                assert_never(run.end)
            found.stopped = budget.checkpoint(
                len(store), found.transitions, 0
            ) or budget.out_of_states(len(store))
            if found.stopped is not None:
                break
        else:
            found.stopped = (
                f"the end of {options.walks:,} random walks of up to {length:,} steps "
                f"(seed {options.seed})"
            )
    found.seconds = budget.seconds()
    found.memory_growth = budget.memory_growth()
    return found
