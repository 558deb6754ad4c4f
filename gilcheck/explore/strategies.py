"""The search strategies by name: the one table `CheckOptions.strategy` is looked up in.

Checked when this module loads: every name of `options.StrategyName` has a strategy, and
each strategy calls itself by its name.
"""

from __future__ import annotations

from collections.abc import Callable

from gilcheck.explore.bfs import BreadthFirst
from gilcheck.explore.dfs import DepthFirst
from gilcheck.explore.distributed import RaySearch
from gilcheck.explore.parallel import ParallelSearch
from gilcheck.explore.strategy import Strategy
from gilcheck.explore.walk import RandomWalks
from gilcheck.options import STRATEGY_NAMES, CheckOptions, StrategyName, effective_strategy

STRATEGIES: dict[StrategyName, Callable[[], Strategy]] = {
    "bfs": BreadthFirst,
    "dfs": DepthFirst,
    "random": RandomWalks,
    "parallel": ParallelSearch,
    "ray": RaySearch,
}

if set(STRATEGIES) != set(STRATEGY_NAMES) or any(
    make().name != name for name, make in STRATEGIES.items()
):
    raise ImportError("explore/strategies.py: the table must name every StrategyName once")


def strategy_for(options: CheckOptions) -> Strategy:
    """The strategy a check with these options runs (`effective_strategy`)."""
    return STRATEGIES[effective_strategy(options)]()
