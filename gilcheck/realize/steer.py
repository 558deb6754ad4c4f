"""The steps a steered run follows, read from a result saved by `gilcheck check SPEC
--format json`: who takes each step, at which statement, and of which kind."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

# thread, line, column, kind, the value chosen (a `choose` branch, an `any` value), the
# thread a `notify` wakes.
Step = tuple[str, int, int, str, int | None, str | None]


class BadSteering(Exception):
    """The file is not a saved result with a trace."""


def _kind(effects: Iterable[str]) -> str:
    first = next(iter(effects), "")
    if first.startswith("the interpreter hands the GIL over"):
        return "yield"
    if first == "takes the GIL back":  # after a wait in Python code (not allow_threads' end)
        return "back"
    if first.startswith("cannot go on at once"):
        return "block"
    if first.startswith("times out"):
        return "timeout"
    if first.startswith("forks: this path follows the child"):
        return "fork_child"
    if first.startswith("the finalizer") and "starts here" in first:
        return "finalizer"
    if first.startswith("the signal handler") and "starts here" in first:
        return "signal"
    return "step"


def _chosen(effects: Iterable[str]) -> int | None:
    """The branch a `choose` step took (0-based), or the value an `any` step chose."""
    first = next(iter(effects), "")
    hook = re.match(r"the (?:finalizer|signal handler) at line (\d+)", first)
    if hook:
        return int(hook.group(1))
    branch = re.fullmatch(r"chooses branch (\d+)", first)
    if branch:
        return int(branch.group(1)) - 1
    value = re.fullmatch(r"(?:picks |\S+ = )(-?\d+)", first)
    if value is None:  # an `any` explored symbolically: the value the trace shows
        value = re.search(r"the trace shows \S+ = (-?\d+)$", first)
    return int(value.group(1)) if value else None


def _woken(effects: Iterable[str], names: set[str]) -> str | None:
    """The thread a `notify` step wakes, as the realized program names it."""
    for effect in effects:
        woken = re.fullmatch(r"notifies \S+: wakes (\S+)", effect)
        if woken:
            return _named(woken.group(1), names)
    return None


def _named(thread: str, names: set[str]) -> str:
    """A spawned thread that traces call `f` (the only one spawned from `f`) is `f#1` in
    the realized program, which numbers every spawned thread."""
    return thread if thread in names or "#" in thread else f"{thread}#1"


def steps_of_result(text: str, declared: Iterable[str]) -> list[Step]:
    """The trace's steps, threads named as the realized program names them."""
    try:
        result: Any = json.loads(text)
        raw = result["steps"]
        if not isinstance(raw, list) or not raw:
            raise BadSteering("it holds no trace")
        names = set(declared)
        steps: list[Step] = []
        for step in raw:
            thread = _named(str(step["thread"]), names)
            where = step["where"]
            if where is None:  # the program's end (the exit join): the runtime's own step
                continue
            line, column = int(where["line"]), int(where["column"])
            effects = step["effects"]
            kind, chosen = _kind(effects), _chosen(effects)
            steps.append((thread, line, column, kind, chosen, _woken(effects, names)))
        return steps
    except (ValueError, KeyError, TypeError) as error:
        raise BadSteering(
            f"it is not a result saved by `gilcheck check --format json` ({error})"
        ) from None
