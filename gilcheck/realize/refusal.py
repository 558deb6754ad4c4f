"""What the realization cannot map, and where: gathered, then reported as located
`not-realizable` errors, one per construct."""

from __future__ import annotations

from gilcheck.diagnostics import DiagnosticSink, SpecError
from gilcheck.source import Span

HELP = (
    "`gilcheck realize` maps threads, functions, the GIL, locks, condvars, events, semaphores, "
    "barriers, once, latches, rwlocks, channels, futures, pools, event loops, `fork`, "
    "processes, finalizers and signal handlers of `host python` specs; see docs/realize.md"
)


class Refused(Exception):
    """A construct the realization cannot map: `what` names it as the spec writes it."""

    def __init__(self, what: str, span: Span) -> None:
        super().__init__(what)
        self.what = what
        self.span = span


def raise_refusals(refused: list[Refused]) -> None:
    """Raise one SpecError holding a `not-realizable` error per refused construct (the
    first reason at each place), in the order they are written; nothing when none."""
    if not refused:
        return
    sink = DiagnosticSink()
    seen: set[tuple[str, int, int]] = set()
    for each in sorted(refused, key=lambda r: (r.span.path, r.span.start, r.what)):
        place = (each.span.path, each.span.start, each.span.end)
        if place in seen:
            continue
        seen.add(place)
        sink.error(
            "not-realizable",
            f"{each.what} cannot be realized as a CPython program",
            each.span,
            help=HELP,
        )
    raise SpecError(sink.items)
