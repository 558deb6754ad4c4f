"""A path of actions told as steps: replayed from the initial state, each step narrated.

The one place a path becomes a trace's steps, for the check's traces (verdicts.py) and for
simulated and retraced runs (simulate.py); the replay itself is explore/replay.py's.
"""

from __future__ import annotations

from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.narrate import Narrator
from gilcheck.explore.replay import replay
from gilcheck.system.engine import Engine
from gilcheck.system.model import Action, Target
from gilcheck.system.state import State
from gilcheck.trace.model import Step


def narrate_path(
    engine: Engine,
    layout: StateLayout,
    narrator: Narrator,
    actions: list[Action],
    last: tuple[Action, Target] | None,
    states: list[State] | None = None,
) -> tuple[list[Step], list[State]]:
    """The steps of `actions` from the initial state (replayed unless their `states` are
    given), then of a `last` step that leaves the state space, if there is one; and the
    states along `actions`."""
    if states is None:
        states = replay(engine, actions)
    layout.naming_state = states[-1]
    layout.forget_objects()
    steps: list[Step] = []
    for i, action in enumerate(actions):
        steps.extend(narrator.steps(i + 1, states[i], action, states[i + 1]))
    if last is not None:
        steps.extend(narrator.unfolded(len(actions) + 1, states[-1], *last))
    return steps, states
