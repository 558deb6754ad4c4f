"""The options several commands share, each declared once: its flags, type, bounds and
help. A command takes one as `name: ChannelBound = CHANNEL_BOUND`.

Options that mean "the same as for `check`" on other commands keep their short help: the
factories take it (`spurious_wakeups(AS_FOR_CHECK)`); flags and bounds stay in one place.
To add an option to `check` (and `trace`), declare it here and build `CheckOptions` from
it in the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

AS_FOR_CHECK = "As for `gilcheck check`."
AS_THE_CHECK_RAN = "As the check ran."

CHANNEL_BOUND = 8
OBJECT_BOUND = 32
MAX_STATES: int | None = None  # no fixed state limit: the memory limit ends a search

ObjectBound = Annotated[
    int,
    typer.Option(
        "--object-bound",
        min=1,
        help="Objects made at run time (locks, events, futures, channels, ...) that may be "
        "alive at once before the verdict is `bound`.",
    ),
]

Spec = Annotated[Path, typer.Argument(help="The spec file (*.gil).")]

ChannelBound = Annotated[
    int,
    typer.Option(
        "--channel-bound",
        min=1,
        help="Messages an unbounded channel (or queue(0)) may hold before the verdict is "
        "`bound` (the capacity it is given in an export).",
    ),
]

MaxStates = Annotated[
    int | None,
    typer.Option(
        "--max-states",
        min=1,
        help="Stop (inconclusive) after this many states (default: no fixed limit; the "
        "memory limit, --max-memory, ends a search that outgrows it).",
        show_default=False,
    ),
]

Timeout = Annotated[
    float | None,
    typer.Option("--timeout", min=0.001, help="Stop (inconclusive) after SECONDS."),
]


def output(help: str = "Write to FILE instead of stdout.") -> Any:
    """`--output FILE`, `-o FILE`."""
    return typer.Option("--output", "-o", help=help)


Output = Annotated[Path | None, output()]


def spurious_wakeups(
    help: str = "Let a thread waiting on a condvar wake up without a notify, as std's Condvar "
    "and CPython's Condition may.",
) -> Any:
    """`--spurious-wakeups`."""
    return typer.Option("--spurious-wakeups/--no-spurious-wakeups", help=help)


SpuriousWakeups = Annotated[bool, spurious_wakeups()]


def no_merge(
    help: str = "Turn partial-order reduction off: keep every intermediate state (no local "
    "steps or releases merged into the step before, no ample sets). Slower; the same "
    "violations are found, though of two with traces of equal length another may be "
    "reported.",
) -> Any:
    """`--no-por` (or its old name `--no-merge`)."""
    return typer.Option("--no-por", "--no-merge", help=help)


NoMerge = Annotated[bool, no_merge()]


def stubborn_sets(
    help: str = "Explore only the steps of the threads whose next steps touch locks, "
    "channels and vars no other thread can touch first (persistent sets), where the spec "
    "allows it: fewer states for programs whose threads share locks, such as the dining "
    "philosophers. The same verdicts; every step is interpreted (no step table).",
) -> Any:
    """`--stubborn-sets`."""
    return typer.Option("--stubborn-sets/--no-stubborn-sets", help=help)


StubbornSetsOption = Annotated[bool, stubborn_sets()]


def no_symmetry(
    help: str = "Turn symmetry reduction off: explore every permutation of identical "
    "threads of a `thread name[N]` array (slower; the same verdicts).",
) -> Any:
    """`--no-symmetry`."""
    return typer.Option("--no-symmetry", help=help)


NoSymmetry = Annotated[bool, no_symmetry()]
