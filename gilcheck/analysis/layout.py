"""StateLayout: turns the indices inside a state back into the names a spec uses."""

from __future__ import annotations

from gilcheck.semantics.values import Value, render
from gilcheck.sync import registry
from gilcheck.sync.base import Primitive
from gilcheck.system.engine import Engine
from gilcheck.system.expr import MOVED
from gilcheck.system.state import (
    C_GLOBAL,
    F_CODE,
    F_LOCALS,
    S_CHANS,
    S_THREADS,
    T_FRAMES,
    T_ORIGIN,
    T_SELF,
    State,
)


class StateLayout:
    """Names of threads, locks, channels and variables of one program."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.program = engine.program
        self.naming_state: State | None = None
        # While a saved trace is replayed, its last state is not known yet: the functions
        # whose spawned threads it numbers (`f#1`, `f#2`) are named so in every state.
        self.numbered: frozenset[str] | None = None
        self.lock_names: list[str] = []
        self.lock_kinds: list[str] = []
        for kind in registry.KINDS:
            for res in self.program.resources:
                if res.kind == kind:
                    count = res.size or 1
                    if res.size is None:
                        self.lock_names.append(res.name)
                    else:
                        self.lock_names.extend(f"{res.name}[{i}]" for i in range(res.size))
                    self.lock_kinds.extend([kind] * count)
        # The primitive of every object slot: it names, shows and explains the object.
        self.lock_prims: list[Primitive] = [registry.primitive(k) for k in self.lock_kinds]
        self.global_channels: list[str] = []
        for chan in self.program.channels:
            if chan.size is None:
                self.global_channels.append(chan.name)
            else:
                self.global_channels.extend(f"{chan.name}[{i}]" for i in range(chan.size))
        self.var_names: list[str] = []
        for var in self.program.vars:
            if var.size is None:
                self.var_names.append(var.name)
            else:
                self.var_names.extend(f"{var.name}[{i}]" for i in range(var.size))

    def thread_name(self, state: State, tid: int) -> str:
        """`main`, `worker[2]`, or a spawned function's name (`f#2` when spawned again)."""
        th = state[S_THREADS][tid]
        origin = th[T_ORIGIN]
        if origin >= 0:
            info = self.program.threads[origin]
            return info.name if info.size is None else f"{info.name}[{th[T_SELF]}]"
        fn = self.program.codes[-origin - 1].name
        if self.naming_state is None and self.numbered is not None:
            # Threads are only ever appended, so a thread's rank among those spawned from
            # its function is the same in every later state: `f#k` is the k-th spawned.
            rank = [t[T_ORIGIN] for t in state[S_THREADS][: tid + 1]].count(origin)
            return fn if rank == 1 and fn not in self.numbered else f"{fn}#{rank}"
        # Name spawned threads from the last state of the report, so names stay stable.
        naming = self.naming_state if self.naming_state is not None else state
        threads = naming[S_THREADS] if len(naming[S_THREADS]) > tid else state[S_THREADS]
        same = [i for i, t in enumerate(threads) if t[T_ORIGIN] == origin]
        if tid not in same:
            same = [i for i, t in enumerate(state[S_THREADS]) if t[T_ORIGIN] == origin]
        return fn if len(same) == 1 else f"{fn}#{same.index(tid) + 1}"

    def handle_names(self, state: State, tag: str, cid: int) -> list[tuple[str, int]]:
        """(local name, owning thread) of every live handle `(tag, cid)` in a thread's locals."""
        found: list[tuple[str, int]] = []
        for tid, th in enumerate(state[S_THREADS]):
            for frame in th[T_FRAMES]:
                names = self.program.codes[frame[F_CODE]].local_names
                for slot, value in enumerate(frame[F_LOCALS]):
                    if _holds(value, tag, cid):
                        found.append((names[slot], tid))
        return found

    def channel_name(self, state: State, cid: int) -> str:
        """A global channel's name, or the receiver's (else a sender's) local name."""
        if state[S_CHANS][cid][C_GLOBAL]:
            return self.global_channels[cid]
        for tag in ("rx", "tx"):
            names = self.handle_names(state, tag, cid)
            if names:
                return names[0][0]
        return f"channel #{cid}"

    def value(self, value: Value, state: State | None = None) -> str:
        """A value as a spec writes it; handles as the channel or thread they denote."""
        if value is MOVED or value == MOVED:
            return "(moved)"
        if state is not None and isinstance(value, tuple) and len(value) == 2:
            tag, inner = value
            if tag in ("tx", "rx"):
                end = "sender" if tag == "tx" else "receiver"
                return f"the {end} of {self.channel_name(state, int(inner))}"
            if tag == "thread":
                return f"the handle of {self.thread_name(state, int(inner))}"
            if tag in ("ok", "err"):
                return f"{tag}({self.value(inner, state)})"
        return render(value)


def _holds(value: Value, tag: str, cid: int) -> bool:
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    if value[0] == tag and value[1] == cid:
        return True
    return value[0] in ("ok", "err") and _holds(value[1], tag, cid)
