"""A future (`let f = future()`, `complete f, e`, `let v = result f`, `is_done(f)`;
`concurrent.futures.Future`): its state is (complete, value, made by `submit`). It is set
once; `result` blocks until it is complete and yields its value, which stays for every
waiter. Futures are made only at run time: no declaration makes one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from gilcheck.sync.base import BLOCKED, Misuse, Moved, Namer, Obj, Phase, Site, Step, Verb, WaitView
from gilcheck.sync.common import Counted

# Values a future cannot carry: its value is copied to every waiter, and a handle is owned.
_OWNED_TAGS = ("tx", "rx", "thread")


def carries_handle(value: Any) -> bool:
    """Whether a value holds a channel or thread handle anywhere inside it."""
    if type(value) is tuple and len(value) == 2:
        tag, inner = value
        if tag in _OWNED_TAGS:
            return True
        if tag in ("ok", "err"):
            return carries_handle(inner)
    return False


def _complete(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    done, _, by_submit = obj
    if by_submit:
        return Misuse("`complete` on future {label}, which `submit` made: its task completes it")
    if done:
        return Misuse("future {label} is completed a second time")
    if carries_handle(partner):
        return Misuse(
            "future {label} is completed with a channel or thread handle: a future's value "
            "is copied to every waiter, and a handle cannot be"
        )
    return (Moved((True, partner, by_submit)),)


def _result(site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj) -> Step:
    done, value, _ = obj
    return (Moved(obj, value=value),) if done else BLOCKED


def _timed_out(
    site: Site, obj: Obj, tid: int, phase: Phase, partner: Obj, python: bool
) -> Moved | None:
    """`result f timeout` gives up: the future stays as it is."""
    return Moved(obj)


class Future(Counted):
    """The future primitive."""

    kind = "future"
    count_minimum: int | None = None
    verbs: ClassVar[Mapping[str, Verb]] = {
        "complete": Verb(
            "complete", _complete, operand=True, usage="`complete f, e` sets a future's value"
        ),
        "result": Verb(
            "result",
            _result,
            blocks=True,
            yields=True,
            usage="`let v = result f` waits for a future's value",
            timeout=_timed_out,
        ),
    }

    def initial(self, count: int | None) -> Obj:
        """Not complete."""
        return (False, None, False)

    def show(self, obj: Obj, name: Namer) -> tuple[tuple[str, ...], str]:
        """Complete or not."""
        return (), "complete" if obj[0] else "not complete"

    def effect(self, old: Obj, new: Obj, tid: int, label: str, name: Namer) -> str:
        """Completed."""
        return f"completes future {label}: its waiters go on"

    def quiet_effect(self, verb: str, name: str) -> str | None:
        """A `result` of a complete future goes on."""
        return f"future {name} is complete: takes its value" if verb == "result" else None

    def wait_reason(
        self, verb: str, obj: Obj, tid: int, phase: Phase, partner: Obj, view: WaitView
    ) -> tuple[str, list[int]]:
        """Waits for a thread that may complete it; says who could, and why they do not."""
        completers = view.may_use(("complete",))
        could = view.could(("complete",), "complete it")
        if not completers and not could.clause:
            return f"waits for future {view.label}, which no running thread can complete", []
        if could.itself_only:
            return (
                f"waits for future {view.label}, which no other thread can complete{could.clause}",
                [],
            )
        return f"waits for future {view.label} to be completed{could.clause}", completers


PRIMITIVE = Future()
