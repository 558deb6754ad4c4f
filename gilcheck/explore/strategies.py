"""The search strategies by name: the one table `CheckOptions.strategy` is looked up in.

Each strategy's module is imported when a check asks for it (the parallel and Ray
searches cost start-up time a breadth-first check does not need). `check_table` checks
that every name of `options.StrategyName` has a strategy and that each strategy calls
itself by its name (the tests run it).
"""

from __future__ import annotations

import importlib

from gilcheck.explore.strategy import Strategy
from gilcheck.options import STRATEGY_NAMES, CheckOptions, StrategyName, effective_strategy

# name -> (module, class) of its strategy
STRATEGIES: dict[StrategyName, tuple[str, str]] = {
    "bfs": ("gilcheck.explore.bfs", "BreadthFirst"),
    "dfs": ("gilcheck.explore.dfs", "DepthFirst"),
    "random": ("gilcheck.explore.walk", "RandomWalks"),
    "parallel": ("gilcheck.explore.parallel", "ParallelSearch"),
    "ray": ("gilcheck.explore.distributed", "RaySearch"),
}


def make_strategy(name: StrategyName) -> Strategy:
    """A fresh strategy of this name."""
    module, cls = STRATEGIES[name]
    made: Strategy = getattr(importlib.import_module(module), cls)()
    return made


def check_table() -> None:
    """Raise ValueError unless the table names every StrategyName once, each strategy by
    its own name."""
    if set(STRATEGIES) != set(STRATEGY_NAMES):
        raise ValueError("the table must name every StrategyName once")
    for name in STRATEGIES:
        if make_strategy(name).name != name:
            raise ValueError(f"the strategy under {name!r} calls itself otherwise")


def strategy_for(options: CheckOptions) -> Strategy:
    """The strategy a check with these options runs (`effective_strategy`)."""
    return make_strategy(effective_strategy(options))
