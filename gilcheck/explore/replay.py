"""Replaying a path of actions from the initial state: rebuilds traces and checks the engine."""

from __future__ import annotations

from gilcheck.system.model import Action, Target, TransitionSystem
from gilcheck.system.state import State


class ReplayError(Exception):
    """An action of a path is not enabled where the path says: a bug in gilcheck."""


def replay(system: TransitionSystem, actions: list[Action]) -> list[State]:
    """The states along `actions`, starting with the initial state."""
    states = [system.initial_state()]
    for action in actions:
        target = step(system, states[-1], action)
        if not isinstance(target, tuple) or not _is_state(target):
            raise ReplayError(f"action {action} does not lead to a state")
        states.append(target)
    return states


def step(system: TransitionSystem, state: State, action: Action) -> Target:
    """Where `action` leads from `state`."""
    for candidate, target in system.transitions(state):
        if candidate == action:
            return target
    raise ReplayError(f"action {action} is not enabled")


def _is_state(target: object) -> bool:
    return isinstance(target, tuple) and not hasattr(target, "_fields")
