"""Where a thread is, seen from the spec's own code: a statement inside a function of a
model file (`use "cpython"`) is shown under the spec's statement that called it."""

from __future__ import annotations

from gilcheck.analysis.locations import location_of
from gilcheck.analysis.statements import statement_text
from gilcheck.semantics import ir
from gilcheck.source import SourceMap
from gilcheck.system.state import F_CODE, F_PC, T_FRAMES, Frame, Thread
from gilcheck.trace.model import CallSite


class CallStacks:
    """Call stacks of one program's threads, from the spec's own call site down."""

    def __init__(self, program: ir.Program, sources: SourceMap) -> None:
        self.codes = program.codes
        self.spec = program.path
        self.sources = sources

    def _instr(self, frame: Frame) -> ir.Instr:
        return self.codes[frame[F_CODE]].instrs[frame[F_PC]]

    def _user_frame(self, th: Thread) -> int:
        """The innermost frame at a statement of the spec's own file, when the thread's
        statement is in another file (a model's helper); -1 otherwise."""
        frames = th[T_FRAMES]
        if not frames or self._instr(frames[-1]).span.path == self.spec:
            return -1
        for depth in range(len(frames) - 2, -1, -1):
            if self._instr(frames[depth]).span.path == self.spec:
                return depth
        return -1

    def _site(self, frame: Frame, function: str) -> CallSite:
        instr = self._instr(frame)
        return CallSite(
            function, location_of(self.sources, instr), statement_text(self.sources, instr)
        )

    def stack(self, th: Thread) -> tuple[CallSite, ...]:
        """For a thread at a statement of a model's helper: its frames from the spec's own
        innermost call site down to that statement, outermost first, each with the
        function it runs; () for a statement of the spec's own file (or a thread whose
        every frame is in another file)."""
        depth = self._user_frame(th)
        if depth < 0:
            return ()
        frames = th[T_FRAMES][depth:]
        return tuple(self._site(f, self.codes[f[F_CODE]].name) for f in frames)

    def via(self, th: Thread) -> CallSite | None:
        """For a thread at a statement of a model's helper: the spec's own statement that
        called it, with the helper it called there (None otherwise)."""
        depth = self._user_frame(th)
        if depth < 0:
            return None
        frames = th[T_FRAMES]
        return self._site(frames[depth], self.codes[frames[depth + 1][F_CODE]].name)

    def where(self, th: Thread) -> str:
        """`app.gil:12`, or inside a model's helper `app.gil:12 (in cpython_event_wait)`:
        where a thread is, for sentences ("" for a thread at no statement)."""
        frames = th[T_FRAMES]
        if not frames:
            return ""
        site = self.via(th)
        if site is not None:
            return f"{site.location.short} (in {site.function})"
        return location_of(self.sources, self._instr(frames[-1])).short
