"""One random run of a spec (`gilcheck simulate`), told as a trace: the walk itself is
explore/walk.py's (a seed always gives the same run); this module narrates it."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import assert_never

from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.narrate import Narrator
from gilcheck.analysis.replayed import narrate_path
from gilcheck.analysis.waitfor import WaitExplainer
from gilcheck.analysis.waitgraph import find_cycle
from gilcheck.explore.visitor import Visitor
from gilcheck.explore.walk import WalkEnd, walk
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.source import SourceMap
from gilcheck.system.engine import Engine
from gilcheck.system.model import SPURIOUS_WAKEUP, Action, LimitHit, Target, Violation
from gilcheck.system.state import State
from gilcheck.trace.model import Trace

DEADLOCK_MESSAGE = "no thread can move and the program has not ended"


@dataclass(frozen=True, slots=True)
class Run:
    """How a run ended (`ended`, `stopped` after its steps, or a verdict such as
    `deadlock`) and its trace."""

    outcome: str
    message: str
    trace: Trace
    steps: int  # steps taken

    @property
    def violation(self) -> bool:
        """Whether the run ended in a violation (a deadlock, a failed assert, ...)."""
        return self.outcome not in ("ended", "stopped", "bound", "inconclusive")


class Runner:
    """The engine of a program with what it takes to narrate paths through it."""

    def __init__(self, program: ir.Program, sources: SourceMap, options: CheckOptions) -> None:
        self.engine = Engine(program, options)
        # Every thread's next step is offered, not only the ample set's: a saved trace
        # may take any of them (traces of symmetry-reduced searches do).
        self.engine.ample = False
        self.engine.stubborn = None
        self.layout = StateLayout(self.engine)
        self.narrator = Narrator(self.engine, self.layout, sources)
        self.explainer = WaitExplainer(self.engine, self.layout, sources)

    def moves(self, state: State) -> list[tuple[Action, Target]]:
        """The steps a state can take; none when only spurious wakeups are left (those may
        happen but need not, so such a state is a deadlock, as the search judges it)."""
        moves = self.engine.transitions(state)
        if all(action[1] == SPURIOUS_WAKEUP for action, _ in moves):
            return []
        return moves

    def narrate(
        self, actions: list[Action], last: tuple[Action, Target] | None, deadlock: bool
    ) -> Trace:
        """The trace of a path (and of a final step that leaves the state space)."""
        steps, states = narrate_path(self.engine, self.layout, self.narrator, actions, last)
        if not deadlock:
            return Trace(tuple(steps))
        waits = self.explainer.explain(states[-1])
        watched, pending = self.explainer.around(states[-1], waits)
        return Trace(
            tuple(steps),
            tuple(waits),
            find_cycle(waits),
            DEADLOCK_MESSAGE,
            watched=watched,
            pending=pending,
        )

    def leaves(self, state: State, action: Action, target: Target) -> str:
        """`message (in thread)` for a step that violates or hits a limit."""
        assert isinstance(target, Violation | LimitHit)
        thread = self.layout.thread_name(state, action[0])
        return f"{target.message} (in {thread})"


def simulate(
    program: ir.Program, sources: SourceMap, options: CheckOptions, seed: int, max_steps: int
) -> Run:
    """Take up to `max_steps` random steps from the initial state (explore/walk.py)."""
    runner = Runner(program, sources, options)
    engine = runner.engine
    run = walk(engine, Visitor(engine, options), random.Random(seed), max_steps)
    taken = len(run.actions)
    match run.end:
        case WalkEnd.ENDED:
            trace = runner.narrate(run.actions, None, deadlock=False)
            return Run("ended", "the program ended", trace, taken)
        case WalkEnd.DEADLOCK:
            trace = runner.narrate(run.actions, None, deadlock=True)
            return Run("deadlock", DEADLOCK_MESSAGE, trace, taken)
        case WalkEnd.STOPPED:
            message = f"stopped after {max_steps:,} steps; the program can go on"
            return Run("stopped", message, runner.narrate(run.actions, None, False), taken)
        case WalkEnd.LEFT:
            assert run.last is not None
            action, target = run.last
            assert isinstance(target, Violation | LimitHit)
            trace = runner.narrate(run.actions, (action, target), deadlock=False)
            message = runner.leaves(run.states[-1], action, target)
            return Run(target.verdict.value, message, trace, taken + 1)
        case _:
            assert_never(run.end)
