"""StateLayout: turns the indices inside a state back into the names a spec uses."""

from __future__ import annotations

import os
import re
from typing import Any

from gilcheck.semantics.values import Value, render
from gilcheck.source import SourceMap
from gilcheck.sync import registry
from gilcheck.sync.base import Primitive
from gilcheck.system.engine import Engine
from gilcheck.system.engine.common import DECLARED, HEAP
from gilcheck.system.expr import MOVED
from gilcheck.system.objects import Canonical
from gilcheck.system.state import (
    C_GLOBAL,
    F_CODE,
    F_LOCALS,
    H_KIND,
    H_ORIGIN,
    PR_CHANS,
    PR_MAIN,
    S_CHANS,
    S_PROCS,
    S_THREADS,
    T_FRAMES,
    T_ORIGIN,
    T_SELF,
    State,
    heap_of,
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
        # Objects made at run time are named by where they were made and numbered in order
        # of first appearance in the trace told: per state told (by identity, the state kept
        # alive with it), each object's number.
        self.sources: SourceMap | None = None
        self._numbers: dict[int, tuple[State, dict[int, int]]] = {}
        self._next_number = 1
        self.var_names: list[str] = []
        for var in self.program.vars:
            if var.size is None:
                self.var_names.append(var.name)
            else:
                self.var_names.extend(f"{var.name}[{i}]" for i in range(var.size))

    def forget_objects(self) -> None:
        """Start numbering objects made at run time afresh (a new trace)."""
        self._numbers.clear()
        self._next_number = 1

    def note_step(self, before: State, raw: State, found: Canonical, after: State) -> None:
        """Carry the objects' numbers over a step: `raw` is its target as the step made it
        (objects numbered as in `before`, new ones last), `found` its canonical form
        `after`."""
        known = self._numbers.get(id(before), (before, {}))[1]
        old = len(heap_of(before))
        raw_numbers: dict[int, int] = {}
        for oid in range(len(heap_of(raw))):
            number = known.get(oid) if oid < old else None
            if number is None:
                number = self._next_number
                self._next_number += 1
            raw_numbers[oid] = number
        self._numbers[id(raw)] = (raw, raw_numbers)
        after_numbers = {new: raw_numbers[was] for new, was in enumerate(found.objects)}
        self._numbers[id(after)] = (after, after_numbers)

    def same_objects(self, state: State, twin: State) -> None:
        """`twin` (equal to `state`) numbers its objects as `state` does."""
        if id(state) in self._numbers and twin is not state:
            self._numbers[id(twin)] = (twin, self._numbers[id(state)][1])

    def object_label(self, state: State, key: tuple[int, int]) -> str:
        """A declared object's name (`m`, `l[1]`), or an object made at run time named by
        where it was made: `mutex #1 (made at app.gil:12)`."""
        where, at = key
        if where == DECLARED:
            return self._declared_label(state, at)
        entry = heap_of(state)[at]
        number = self._numbers.get(id(state), (state, {}))[1].get(at, at + 1)
        code, pc = entry[H_ORIGIN]
        return f"{entry[H_KIND]} #{number} (made at {self.origin_text(code, pc)})"

    def object_short(self, state: State, key: tuple[int, int]) -> str:
        """An object's label without where it was made (`future #3`), for lists that name
        many objects; a declared object's name."""
        where, at = key
        if where == DECLARED:
            return self._declared_label(state, at)
        entry = heap_of(state)[at]
        number = self._numbers.get(id(state), (state, {}))[1].get(at, at + 1)
        return f"{entry[H_KIND]} #{number}"

    def _declared_label(self, state: State, at: int) -> str:
        """A declared object's name; a child process's copy says whose it is."""
        block = self.engine.lock_block
        if not self.engine.has_processes or at < block:
            return self.lock_names[at]
        pid, n = divmod(at, block)
        return f"{self.lock_names[n]} of process {self.process_name(state, pid)}"

    def process_name(self, state: State, pid: int) -> str:
        """A process by the thread that runs its `g` (`child`, `child#2`); the first
        process is `main`'s."""
        if pid == 0:
            return "main"
        return self.thread_name(state, state[S_PROCS][2][pid][PR_MAIN])

    def process_note(self, state: State, tid: int) -> str:
        """` (in process child)` for a thread of a child process, else ``."""
        pid = self.engine.process_of(state, tid)
        return f" (in process {self.process_name(state, pid)})" if pid else ""

    def tidy(self, text: str) -> str:
        """A primitive's words about an object made at run time, whose label already says
        its kind: `waits for future future #1` becomes `waits for future #1`."""
        return _DOUBLED_KIND.sub(r"\1 #", text) if self.engine.objects else text

    def origin_text(self, code: int, pc: int) -> str:
        """`file:line` of an instruction."""
        span = self.program.codes[code].instrs[pc].span
        line = self.sources.line_of(span) if self.sources is not None else 0
        where = f"{os.path.basename(span.path)}:{line}"
        origin = self.sources.origin_of(span) if self.sources is not None else None
        if origin is not None:  # a drafted statement: the user's line beside the spec's
            where += f", {os.path.basename(origin.path)}:{origin.line}"
        return where

    def object_prim(self, state: State, key: tuple[int, int]) -> Primitive:
        """The primitive of a declared object or of one made at run time."""
        where, at = key
        if where == DECLARED:
            return self.lock_prims[at % self.engine.lock_block if self.engine.has_processes else at]
        return registry.primitive(heap_of(state)[at][H_KIND])

    def declared_name(self, kind: str, n: int) -> str:
        """The name of the `n`th declared object of a kind (a value `("res", kind, n)`)."""
        at = self.engine.lock_offset[kind] + n
        if self.engine.has_processes and at >= self.engine.lock_block:
            state = self.naming_state
            if state is not None:
                return self._declared_label(state, at)
            return f"{self.lock_names[at % self.engine.lock_block]} of a child process"
        return self.lock_names[at]

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
            if cid < len(self.global_channels):
                return self.global_channels[cid]
            for pid, record in enumerate(state[S_PROCS][2]):
                for n, (_, copy) in enumerate(record[PR_CHANS]):
                    if copy == cid:
                        owner = self.process_name(state, pid)
                        return f"{self.global_channels[n]} of process {owner}"
            return f"channel #{cid}"
        for tag in ("rx", "tx"):
            names = self.handle_names(state, tag, cid)
            if names:
                return names[0][0]
        return f"channel #{cid}"

    def value(self, value: Value, state: State | None = None) -> str:
        """A value as a spec writes it; handles as the channel or thread they denote."""
        if value is MOVED or value == MOVED:
            return "(moved)"
        if type(value) is tuple and len(value) == 3 and value[0] == "res":
            res: Any = value
            return self.declared_name(res[1], res[2])
        if state is not None and isinstance(value, tuple) and len(value) == 2:
            tag, inner = value
            if tag in ("tx", "rx"):
                end = "sender" if tag == "tx" else "receiver"
                return f"the {end} of {self.channel_name(state, int(inner))}"
            if tag == "thread":
                return f"the handle of {self.thread_name(state, int(inner))}"
            if tag == "chan":
                return self.channel_name(state, int(inner))
            if tag == "obj":
                return self.object_label(state, (HEAP, int(inner)))
            if tag in ("ok", "err"):
                return f"{tag}({self.value(inner, state)})"
        return render(value)


_DOUBLED_KIND = re.compile(r"\b(" + "|".join(registry.CONSTRUCTIBLE) + r") \1 #")


def _holds(value: Value, tag: str, cid: int) -> bool:
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    if value[0] == tag and value[1] == cid:
        return True
    return value[0] in ("ok", "err") and _holds(value[1], tag, cid)
