"""Interning states to dense ids, with the parent and the action that first reached each."""

from __future__ import annotations

from gilcheck.system.model import Action
from gilcheck.system.state import State


class StateStore:
    """States by id; `parent[i]` and `via[i]` rebuild a shortest path to state `i`."""

    def __init__(self) -> None:
        self.ids: dict[State, int] = {}
        self.states: list[State] = []
        self.parent: list[int] = []
        self.via: list[Action | None] = []

    def __len__(self) -> int:
        return len(self.states)

    def add(self, state: State, parent: int, via: Action | None) -> tuple[int, bool]:
        """The id of `state`, and whether it is new."""
        known = self.ids.get(state)
        if known is not None:
            return known, False
        sid = len(self.states)
        self.ids[state] = sid
        self.states.append(state)
        self.parent.append(parent)
        self.via.append(via)
        return sid, True

    def path_to(self, sid: int) -> list[Action]:
        """The actions from the initial state to state `sid`."""
        actions: list[Action] = []
        while sid > 0:
            action = self.via[sid]
            assert action is not None
            actions.append(action)
            sid = self.parent[sid]
        actions.reverse()
        return actions
