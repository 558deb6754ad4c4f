"""A once (`once o`, `call_once o { }`): its state is (0 new | 1 running | 2 done, runner).
The first caller runs the block; callers while it runs wait (its runner re-entering waits
for ever); callers once it is done skip the block."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from gilcheck.sync.base import (
    BLOCKED,
    NO_THREAD,
    SKIP,
    Moved,
    Namer,
    Obj,
    Phase,
    Site,
    Step,
    TidMap,
    Verb,
    WaitView,
    remap_id,
)

NEW, RUNNING, DONE = range(3)


def _begin(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    status = obj[0]
    if status == NEW:
        return (Moved((RUNNING, tid)),)
    if status == DONE:
        return (Moved(obj, advance=SKIP),)
    return BLOCKED  # running (in another thread, or re-entered: blocks for ever)


def _end(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    return (Moved((DONE, NO_THREAD)),)


class Once:
    """The once primitive."""

    kind = "once"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "call_once": Verb("call_once", _begin, blocks=True),
        "call_once_end": Verb("call_once_end", _end),
    }

    def initial(self, count: int | None) -> Obj:
        """Not run."""
        return (NEW, NO_THREAD)

    def remap(self, obj: Obj, f: TidMap) -> Obj:
        """The runner mapped."""
        return (obj[0], remap_id(obj[1], f))

    def holders(self, obj: Obj) -> tuple[int, ...]:
        """The thread running the block."""
        return (obj[1],) if obj[0] == RUNNING else ()

    def holds(self, obj: Obj, tid: int, label: str) -> str | None:
        """The once whose block `tid` runs."""
        return f"the running once {label}" if obj == (RUNNING, tid) else None

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Not run, running in a thread, or done."""
        if obj[0] == RUNNING:
            who = name(obj[1])
            return (who,), f"running in {who}"
        return (), "done" if obj[0] == DONE else "not run"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Starts running the block, or is done."""
        return f"runs the once block {label}" if new[0] == RUNNING else f"once {label} is done"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A caller after it is done skips the block."""
        if verb == "call_once":
            return f"once {name} has already run: skips the block"
        return None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for the thread running the block (itself: for ever)."""
        runner = obj[1]
        if runner == tid:
            return f"re-enters once {view.label}, which it is running (blocks for ever)", [tid]
        return f"waits for once {view.label}, run by {view.name(runner)}", [runner]


PRIMITIVE = Once()
