"""Snapshots of the states along a trace: holders, channel buffers and threads, as plain data."""

from __future__ import annotations

from typing import Any

from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.locations import NOWHERE, location_of
from gilcheck.semantics import ir
from gilcheck.source import SourceMap
from gilcheck.sync import registry
from gilcheck.system.engine import Engine
from gilcheck.system.engine.common import DECLARED, HEAP
from gilcheck.system.state import (
    C_BUF,
    C_CAP,
    C_KIND,
    ENDED,
    F_CODE,
    F_PC,
    GONE,
    H_KIND,
    H_STATE,
    NO_THREAD,
    S_CHANS,
    S_ENDED,
    S_GIL,
    S_LOCKS,
    S_STDOUT,
    S_THREADS,
    T_FRAMES,
    T_GILCOUNT,
    T_STATUS,
    State,
    heap_of,
)
from gilcheck.trace.model import Buffer, Holding, Snapshot, ThreadAt


class Snapshotter:
    """Describes states of one trace, naming each channel the same way in every snapshot."""

    def __init__(
        self, engine: Engine, layout: StateLayout, sources: SourceMap, states: list[State]
    ) -> None:
        self.engine = engine
        self.layout = layout
        self.sources = sources
        self.prints = any(isinstance(i, ir.Print) for code in engine.codes for i in code.instrs)
        # Channels made at run time are renumbered after each step in programs that make
        # objects at run time: there, each state names its channels itself.
        self.channel_names = _stable_channel_names(layout, states) if not engine.objects else {}

    def snapshot(self, state: State) -> Snapshot:
        """The holders, buffers and threads of one state."""
        return Snapshot(
            holdings=tuple(self._holdings(state)),
            buffers=tuple(self._buffers(state)),
            threads=tuple(self._threads(state)),
        )

    def _name(self, state: State, tid: int) -> str:
        return self.layout.thread_name(state, tid)

    def _holdings(self, state: State) -> list[Holding]:
        out: list[Holding] = []
        gil = state[S_GIL]
        if self.engine.gil_off:
            attached = tuple(
                self._name(state, t)
                for t, th in enumerate(state[S_THREADS])
                if th[T_STATUS] != ENDED and th[T_GILCOUNT] > 0
            )
            out.append(
                Holding(
                    "attached threads",
                    "attached",
                    attached,
                    "attached: " + ", ".join(attached) if attached else "none attached",
                )
            )
            pauser = (self._name(state, gil),) if gil != NO_THREAD else ()
            text = f"started by {pauser[0]}" if pauser else "none"
            out.append(Holding("stop-the-world pause", "pause", pauser, text))
        else:
            out.append(self._owned("the GIL", "gil", state, gil))
        if self.prints:
            out.append(self._owned("stdout's lock", "stdout", state, state[S_STDOUT]))
        for lid, lock in enumerate(state[S_LOCKS]):
            out.append(self._sync(state, lid, lock))
        for oid, entry in enumerate(heap_of(state)):
            prim = registry.primitive(entry[H_KIND])
            holders, text = prim.show(entry[H_STATE], lambda t: self._name(state, t))
            label = self.layout.object_label(state, (HEAP, oid))
            out.append(Holding(label, entry[H_KIND], holders, text))
        return out

    def _owned(self, name: str, kind: str, state: State, owner: int) -> Holding:
        if owner == NO_THREAD:
            return Holding(name, kind, (), "free")
        holder = self._name(state, owner)
        return Holding(name, kind, (holder,), f"held by {holder}")

    def _sync(self, state: State, lid: int, lock: Any) -> Holding:
        """A sync object as its primitive shows it."""
        prim = self.layout.object_prim(state, (DECLARED, lid))
        holders, text = prim.show(lock, lambda t: self._name(state, t))
        return Holding(self.layout.object_label(state, (DECLARED, lid)), prim.kind, holders, text)

    def _buffers(self, state: State) -> list[Buffer]:
        out: list[Buffer] = []
        for cid, chan in enumerate(state[S_CHANS]):
            kind = chan[C_KIND]
            if chan[C_CAP] is not None and kind not in ("oneshot", "rendezvous"):
                kind = f"{kind}({chan[C_CAP]})"
            name = self.channel_names.get(cid) or self.layout.channel_name(state, cid)
            messages = tuple(self.layout.value(v, state) for v in chan[C_BUF] or ())
            out.append(Buffer(name, kind, messages, Engine.receivable_end(chan)))
        return out

    def _threads(self, state: State) -> list[ThreadAt]:
        ended = self.engine.has_ended(state)
        movers = self.engine.enabled_threads(state) if not ended else set()
        out: list[ThreadAt] = []
        for tid, th in enumerate(state[S_THREADS]):
            location, line = NOWHERE, 0
            if th[T_FRAMES] and th[T_STATUS] != ENDED:
                frame = th[T_FRAMES][-1]
                instr = self.engine.codes[frame[F_CODE]].instrs[frame[F_PC]]
                location = location_of(self.sources, instr)
                line = self.sources.line_of(instr.span)
            if th[T_STATUS] == ENDED:
                status = "ended"
            elif th[T_STATUS] == GONE:
                status = "not in the child process"
            elif ended or (state[S_ENDED] and self.engine.process_of(state, tid) == 0):
                status = "stopped (the program has ended)"
            elif tid in movers:
                status = "runs"
            else:  # an idle pool worker or event loop thread waits for nothing in particular
                status = "idle" if self.engine.idle_thread(state, tid) else "blocked"
            out.append(ThreadAt(self._name(state, tid), status, location, line))
        return out


def _stable_channel_names(layout: StateLayout, states: list[State]) -> dict[int, str]:
    """One distinct name per channel for the whole trace: the latest name its handles had."""
    count = max((len(s[S_CHANS]) for s in states), default=0)
    names: dict[int, str] = {}
    for cid in range(count):
        for state in reversed(states):
            if cid < len(state[S_CHANS]):
                name = layout.channel_name(state, cid)
                names[cid] = name
                if not name.startswith("channel #"):
                    break
    taken: dict[str, int] = {}
    for cid, name in names.items():
        seen = taken.get(name, 0)
        taken[name] = seen + 1
        if seen:  # two channels whose receivers share a local name
            names[cid] = f"{name}#{seen + 1}"
    return names
