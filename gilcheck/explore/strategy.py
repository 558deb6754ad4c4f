"""The seam between a check and its search: every search strategy behind one protocol.

As stateright's checker builder ends in `spawn_bfs()`, `spawn_dfs()` or
`spawn_simulation(seed, ...)`, a check names its strategy in `CheckOptions.strategy`
and the pipeline builds it (explore/strategies.py): breadth-first (the default; shortest
traces), depth-first (bounded by `max_depth`; traces need not be shortest), random walks
(seeded; they find violations but never prove their absence), and the breadth-first
search on several processes or on Ray actors. Each returns an `Exploration`, judged the
same way whichever strategy made it (analysis/verdicts.py), and all of them run within
one `Budget` (explore/budget.py) and judge states with one `Visitor` (explore/visitor.py).

To add a strategy: (1) write a class with `name`, `explore` and `sequential` in its own
module under explore/, storing each state with the parent and action that reached it
(`StateStore.add`) so that traces replay, asking the budget at its own cadence, judging
states with the visitor and noting limits with `Exploration.hit_limit`; (2) add its name
to `options.StrategyName` and its module and class to `explore/strategies.STRATEGIES`
(`check_table`, which the tests run, checks it); (3) if its traces need not be shortest, add it to
`analysis/verdicts.NOT_SHORTEST`; (4) add it to the parametrized tests of
tests/test_strategies.py and to the CLI's `--strategy` choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from gilcheck.explore.budget import Budget
from gilcheck.explore.exploration import Exploration
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.system.model import TransitionSystem


@dataclass(frozen=True, slots=True)
class Problem:
    """What a strategy searches: a program's transition system, and the options in force."""

    program: ir.Program  # for strategies that compile the program elsewhere (Ray actors)
    system: TransitionSystem  # the engine, or the engine reduced by symmetry
    options: CheckOptions


class Strategy(Protocol):
    """A search over a transition system (the strategies: explore/strategies.py)."""

    @property
    def name(self) -> str:
        """The strategy's name, as `CheckOptions.strategy` and proof records spell it."""
        ...

    def explore(self, problem: Problem, budget: Budget) -> Exploration:
        """Search `problem.system` within `budget`. A violation or deadlock it reports is
        real, with its path in the store; `exhaustive` only when every state was seen."""
        ...

    def sequential(self) -> Strategy:
        """The strategy that explores the whole graph in this process, keeping its edges
        (for the cycle analyses, when this one cannot judge them): itself, for most."""
        ...
