"""Channels made at run time and their handles: a pool of Promela channels with the count
of live senders and whether the receiver lives, handles as values (in locals, vars,
messages and arguments), their moves, copies and drops, and close-on-drop.

A handle is a value like any other (see VALUE_UNIT): the sender of pool channel k is
TXB + k, its receiver RXB + k. Channel k is free again once no handle of it is left (no
sender counted, receiver dropped); `let (tx, rx) = ...` takes the lowest free one, and one
made when every channel of the pool is in use fails an assertion marked `bound` (gilcheck
collects unreachable channels; the pool is sized for the spec's `let`s, see `pool_size`).

Every effect that writes a scratch variable used in an index (`hd`, `hk`, `hi`, `hm`,
`hn`) resets it before the step ends: pan undoes a step statement by statement, evaluating
an element's index again, so the scratch must be a state variable restored in order.
"""

from __future__ import annotations

from gilcheck.export.promela.channels import ChannelTranslator
from gilcheck.export.promela.common import ChanText, Refused, Unit
from gilcheck.semantics import describe, ir
from gilcheck.semantics.reads import copied_vars, moved_locals

KINDS = {"unbounded": 1, "bounded": 2, "oneshot": 3, "queue": 4}
MAX_POOL = 16


class HandleTranslator(ChannelTranslator):
    """Run-time channels and handles."""

    def _made_channels(self) -> list[ir.MakeChannel]:
        return [
            instr
            for code in self.program.codes
            for instr in code.instrs
            if isinstance(instr, ir.MakeChannel)
        ]

    def _pool_capacity(self, instr: ir.MakeChannel) -> int:
        """The buffer a channel made by `instr` needs (refusing what the pool cannot be)."""
        if instr.kind == "rendezvous":
            raise Refused(
                f"a rendezvous channel made at run time (`{self._said(instr)}`)", instr.span
            )
        if instr.kind not in KINDS:
            raise Refused(f"a `{instr.kind}` channel made at run time", instr.span, yet=True)
        if instr.kind == "oneshot":
            return 1
        if instr.capacity is None:
            return self.options.channel_bound
        if not isinstance(instr.capacity, ir.Const) or not isinstance(instr.capacity.value, int):
            raise Refused(
                f"a channel whose capacity is computed at run time (`{self._said(instr)}`)",
                instr.span,
            )
        return instr.capacity.value or self.options.channel_bound

    @staticmethod
    def _said(instr: ir.Instr) -> str:
        return describe.statement(instr)

    def pool_size(self) -> int:
        """Channels the pool holds: twice the spec's `let (tx, rx) = ...` statements (a
        loop making one per turn keeps two alive) times the largest thread array, at most
        MAX_POOL and `--object-bound`."""
        sites = len(self._made_channels())
        copies = max([info.size or 1 for info in self.program.threads] or [1])
        return max(2, min(2 * sites * copies, MAX_POOL, self.options.object_bound))

    def _uses_handles(self) -> bool:
        """Whether a statement acts on a channel through a local (a handle, or a thread
        handle or none there: a misuse)."""
        return any(
            isinstance(getattr(instr, "channel", None), ir.HandleRef)
            or isinstance(instr, ir.CloneHandle | ir.DropValue)
            for code in self.program.codes
            for instr in code.instrs
        )

    def handle_header(self) -> list[str]:
        """The pool's declarations and the `drop_hd` inline (empty without `let` channels,
        statements on handles or futures)."""
        made = self._made_channels()
        if made or self._uses_handles():
            self.handles = True
        if not self.counted:
            return []
        lines = ["int hd = 0; byte hk = 0; byte hi = 0; int hm = 0; byte hn = 0;  /* scratch */"]
        if self.handles:
            capacity = 1
            for instr in made:
                try:
                    capacity = max(capacity, self._pool_capacity(instr))
                except Refused as refused:
                    self.refused.append(refused)
            size = self.pool_size()
            self.pool = (size, capacity)
            lines = [
                f"#define RCN {size}",
                f"#define RCAP {capacity}",
                "int rc[RCN * RCAP]; byte rc_n[RCN]; bool rc_closed[RCN]; byte rc_pending[RCN];",
                "byte rc_tx[RCN];  /* senders alive */",
                "byte rc_rx[RCN];  /* receivers alive (more than one only for a queue) */",
                "byte rc_kind[RCN]; byte rc_cap[RCN];",
                *(
                    [
                        "byte rc_xp[RCN];  /* 1: passed to a process (a multiprocessing "
                        "queue); 2: not yet, but it carried an object */"
                    ]
                    if self.processes > 1
                    else []
                ),
                *lines,
            ]
        lines += [
            "inline drop_hd() {",
            "  /* drop the value in hd: a sender may close its channel; a receiver drops its",
            "     buffer and the senders in it (a queue never closes: its receivers are",
            "     counted, so that a queue nobody holds is free again); a future is referred",
            "     to once less */",
            "  if",
        ]
        if self.uses_futures:
            lines.append(
                "  :: IS_FU(hd) -> hk = FK(hd); if :: fu_rc[hk] > 0 -> fu_rc[hk] = fu_rc[hk] - 1 "
                ":: else -> skip fi"
            )
        if self.counts_objects:
            lines.append(f"  {self._object_counted('hd', False)}")
        if self.handles:
            lines += [
                "  :: IS_TX(hd) -> hk = HCH(hd); if :: rc_tx[hk] > 0 -> rc_tx[hk] = rc_tx[hk] - 1 "
                ":: else -> skip fi",
                f"  :: IS_RX(hd) && rc_kind[HCH(hd)] == {KINDS['queue']} -> hk = HCH(hd); "
                "if :: rc_rx[hk] > 0 -> rc_rx[hk] = rc_rx[hk] - 1 :: else -> skip fi",
                f"  :: IS_RX(hd) && rc_kind[HCH(hd)] != {KINDS['queue']} -> hk = HCH(hd); "
                "rc_rx[hk] = 0; hi = 0;",
                "    do",
                "    :: hi < rc_n[hk] -> hm = rc[hk * RCAP + hi];",
                "       if",
                "       :: IS_TX(hm) && rc_tx[HCH(hm)] > 0 -> rc_tx[HCH(hm)] = rc_tx[HCH(hm)] - 1",
                "       :: IS_RX(hm) -> LIMIT_STOP  /* export limit: a receiver in the buffer "
                "of a receiver dropped */",
                *(
                    [
                        "       :: IS_FU(hm) && fu_rc[FK(hm)] > 0 -> "
                        "fu_rc[FK(hm)] = fu_rc[FK(hm)] - 1"
                    ]
                    if self.uses_futures
                    else []
                ),
                *([f"       {self._object_counted('hm', False)}"] if self.counts_objects else []),
                "       :: else -> skip",
                "       fi;",
                "       rc[hk * RCAP + hi] = 0; hm = 0; hi++",
                "    :: else -> break",
                "    od;",
                "    rc_n[hk] = 0; hi = 0",
            ]
        lines += [
            "  :: else -> skip",
            "  fi;",
            "  hk = 0; hd = 0",
            "}",
        ]
        return lines

    # ------------------------------------------------------------ ownership

    def _drop_text(self, value: str) -> str:
        """Drop a value (its handles, its reference to a future)."""
        return f"hd = {value}; drop_hd();"

    def _referred(self, value: str) -> str:
        """A future or object made at run time `value` refers to is referred to once more
        (a copy of it was stored)."""
        if not (self.uses_futures or self.counts_objects):
            return ""
        count = f"fu_rc[FK({value})]"
        future = f":: IS_FU({value}) -> {count} = {count} + 1 " if self.uses_futures else ""
        return f" if {future}{self._object_counted(value, True)} :: else -> skip fi;"

    def _moves(self, *values: ir.Expr | None) -> str:
        """Mark the locals whose handles (of channels, threads, processes) these values take
        as moved (a future or an object made at run time is copied: referred to once
        more)."""
        threads = self.stores_thread_handles()
        if not self.counted and not threads:
            return ""
        moved = " || ".join(
            (["IS_TX({0}) || IS_RX({0})"] if self.counted else [])
            + (["IS_TH({0})"] if threads else [])
        )
        out = ""
        for slot in (s for value in values for s in moved_locals(value)):
            local = self._local(slot)
            future = (
                f" :: IS_FU({local}) -> fu_rc[FK({local})] = fu_rc[FK({local})] + 1"
                if self.uses_futures
                else ""
            )
            if self.counted:
                future += f" {self._object_counted(local, True)}"
            out += f" if :: {moved.format(local)} -> {local} = MOVED_V{future} :: else -> skip fi;"
        return out

    _thread_handles: bool | None = None

    def stores_thread_handles(self) -> bool:
        """Whether the spec keeps a thread or process handle (`let h = spawn ...`)."""
        if self._thread_handles is None:
            self._thread_handles = any(
                isinstance(instr, ir.SpawnFn) and instr.target is not None
                for code in self.program.codes
                for instr in code.instrs
            )
        return self._thread_handles

    def _copies(self, *values: ir.Expr | None) -> str:
        """A handle read out of a shared var is a copy: a sender is counted once more (a
        oneshot's is a misuse); a receiver only of a queue (a misuse otherwise); a future
        or an object made at run time is referred to once more."""
        if not self.counted:
            return ""
        out = ""
        for value in values:
            if value is None or not copied_vars(value):
                continue
            v = self._expr(value)
            options = ""
            if self.handles:
                options += (
                    f":: IS_TX(hd) -> assert(rc_kind[HCH(hd)] != {KINDS['oneshot']}); "
                    "/* misuse: a oneshot sender copied */ rc_tx[HCH(hd)] = rc_tx[HCH(hd)] + 1 "
                    f":: IS_RX(hd) -> assert(rc_kind[HCH(hd)] == {KINDS['queue']}); "
                    "/* misuse: a receiver copied */ rc_rx[HCH(hd)] = rc_rx[HCH(hd)] + 1 "
                )
            if self.uses_futures:
                options += ":: IS_FU(hd) -> fu_rc[FK(hd)] = fu_rc[FK(hd)] + 1 "
            options += f"{self._object_counted('hd', True)} "
            out += f" hd = {v}; if {options}:: else -> skip fi; hd = 0;"
        return out

    def _frame_end(
        self, code: ir.CodeUnit, unit: Unit, instr: ir.Return | ir.End
    ) -> tuple[str, str]:
        """(the value, the effect) of a frame's `return e` or end: the value is handed over
        (moved or copied) and then the frame's locals are dropped and reset."""
        value, handed = "NONE_V", ""
        if isinstance(instr, ir.Return) and instr.value is not None:
            value = self._expr(instr.value)
            handed = self._moves(instr.value) + self._copies(instr.value)
        slots = range(len(code.local_names))
        reset = handed + self._drop_locals(slots)
        return value, reset + " ".join(f" {unit.local(slot)} = 0;" for slot in slots)

    def _drop_locals(self, slots: range | tuple[int, ...]) -> str:
        """Drop locals (a scope or frame ends) and clear them."""
        if not self.counted:
            return ""
        return "".join(f" {self._drop_text(self._local(s))} {self._local(s)} = 0;" for s in slots)

    # ------------------------------------------------------------ statements

    def _make_channel(self, instr: ir.MakeChannel, nxt: str) -> tuple[str, str, str]:
        capacity = self._pool_capacity(instr)
        kind = KINDS[instr.kind]
        cap = 0 if instr.kind in ("unbounded",) or capacity == 0 else capacity
        if instr.kind == "queue" and (
            instr.capacity is None
            or (isinstance(instr.capacity, ir.Const) and instr.capacity.value == 0)
        ):
            cap = 0  # queue(0): unbounded, explored up to --channel-bound
        free = "(rc_tx[hn] != 0 || rc_rx[hn])"
        sender = self._assign(instr.sender, "TXB + hn") if instr.sender is not None else ""
        receiver = self._assign(instr.receiver, "RXB + hn") if instr.receiver is not None else ""
        # An unbound end is dropped at once (`let (_, rx) = ...` keeps no sender).
        gone = ""
        if instr.sender is None:
            gone += " rc_tx[hn] = 0;"
        if instr.receiver is None:
            gone += " rc_rx[hn] = 0;"
        return (
            "true",
            f"hn = 0; do :: hn < RCN && {free} -> hn++ :: else -> break od; "
            "if :: hn == RCN -> LIMIT_STOP; /* bound: more channels alive than the "
            "export's pool */ ended = 1; goto end_exit :: else -> skip fi; "
            f"rc_tx[hn] = 1; rc_rx[hn] = 1; rc_kind[hn] = {kind}; rc_cap[hn] = {cap}; "
            f"rc_closed[hn] = 0; rc_n[hn] = 0; rc_pending[hn] = NO_ONE;{gone}"
            f"{' rc_xp[hn] = 0;' if self.processes > 1 else ''} "
            f"{sender} {receiver} hn = 0;",
            nxt,
        )

    def _handle_chan(self, handle: ir.HandleRef) -> ChanText:
        return ChanText("rc", self.pool[1], f"HCH({self._local(handle.slot)})")

    def _handle_send(self, instr: ir.Send, handle: ir.HandleRef) -> tuple[str, str, str]:
        """`send tx, v`: fails (err(v)) once the receiver is gone or the channel is closed
        (not a queue); a oneshot sender is used up either way; otherwise waits for room."""
        e = self._handle_chan(handle)
        k = e.at
        local = self._local(handle.slot)
        value = self._expr(instr.value)
        oneshot = KINDS["oneshot"]
        fails = f"(rc_kind[{k}] != {KINDS['queue']} && (!rc_rx[{k}] || rc_closed[{k}]))"
        room = f"(rc_cap[{k}] == 0 || {e.n} < rc_cap[{k}])"
        used_up = (
            f"if :: rc_kind[hk] == {oneshot} -> if :: rc_tx[hk] > 0 -> rc_tx[hk] = "
            f"rc_tx[hk] - 1 :: else -> skip fi; {local} = MOVED_V :: else -> skip fi;"
        )
        slot = "rc[hk * RCAP + rc_n[hk]]"
        result_ok = self._result(instr.target, "WRAP(1, NONE_V)")
        result_err = self._result(instr.target, "WRAP(2, hm)")
        return (
            f"({fails} || {room})",
            f"hm = {value};{self._queued_between_processes('hm', f'rc_xp[HCH({local})]')} "
            f"{self._moves(instr.value).strip()} {self._copies(instr.value)} "
            f"hk = HCH({local}); "
            f"if :: rc_kind[hk] != {KINDS['queue']} && (!rc_rx[hk] || rc_closed[hk]) -> "
            f"{used_up} hk = 0; {result_err} "
            f":: else -> LIMIT(rc_cap[hk] != 0 || rc_n[hk] < {self.options.channel_bound}); "
            f"/* bound */ {slot} = hm; "
            f"rc_n[hk] = rc_n[hk] + 1; {used_up} hk = 0; {result_ok} fi; hm = 0;",
            "",
        )

    def _result(self, target: ir.Target | None, value: str) -> str:
        """Store a send's result, or drop it (an err(v) may hold a handle)."""
        if target is None:
            return self._drop_text(value)
        return self._assign(target, value)

    def _handle_recv(
        self,
        handle: ir.HandleRef,
        target: ir.Target | None,
        exit_target: int | None,
        nxt: str,
        timed: bool = False,
    ) -> tuple[str, str, str]:
        """`recv rx` (and `for v in rx`; `timed`: `recv rx timeout`): the oldest message;
        none once the channel is closed or every sender is gone (not a queue) and nothing
        is left."""
        e = self._handle_chan(handle)
        k = e.at
        ended = f"(rc_closed[{k}] || (rc_tx[{k}] == 0 && rc_kind[{k}] != {KINDS['queue']}))"
        take = self._take(e, target, timed)
        at_end = (
            f"goto {self._label(exit_target)}"
            if exit_target is not None
            else self._store(target, "WRAP(1, NONE_V)" if timed else "NONE_V")
        )
        if timed:
            self.timed_out = self._store(target, f"WRAP(2, {self.constants.literal('timeout')})")
        return (
            f"({e.n} > 0 || {ended})",
            f"if :: {e.n} > 0 -> {take} :: else -> {at_end} fi;",
            nxt,
        )

    def _handle_try_recv(
        self, handle: ir.HandleRef, target: ir.Target | None, nxt: str
    ) -> tuple[str, str, str]:
        e = self._handle_chan(handle)
        take = self._take(e, target)
        empty = self._store(target, "NONE_V")
        return "true", f"if :: {e.n} > 0 -> {take} :: else -> {empty} fi;", nxt

    def _handle_close(self, handle: ir.HandleRef, nxt: str) -> tuple[str, str, str]:
        k = self._handle_chan(handle).at
        return (
            "true",
            f"assert(rc_kind[{k}] != {KINDS['queue']}); /* misuse: close on a queue */ "
            f"rc_closed[{k}] = 1;",
            nxt,
        )

    def _clone(self, instr: ir.CloneHandle, nxt: str) -> tuple[str, str, str]:
        """`clone tx`: one more sender (a oneshot's or a receiver's is a misuse); a Python
        value's clone takes the GIL; any other value is copied."""
        if isinstance(instr.source, ir.GlobalChannel):
            raise Refused("`clone` of a declared channel", instr.span)
        source = (
            self._local(instr.source.slot)
            if isinstance(instr.source, ir.HandleRef)
            else self._expr(instr.source)
        )
        guard = f"(!IS_PY({source}) || gil == NO_ONE || gil == me)"
        counted = self._referred("hv")
        if self.handles:
            counted += (
                f"if :: IS_TX(hv) -> assert(rc_kind[HCH(hv)] != {KINDS['oneshot']}); "
                "/* misuse: a oneshot sender cloned */ rc_tx[HCH(hv)] = rc_tx[HCH(hv)] + 1 "
                ":: IS_RX(hv) -> assert(false); /* misuse: a receiver cloned */ "
                ":: else -> skip fi;"
            )
        return guard, f"hv = {source}; {counted} {self._store(instr.target, 'hv')}", nxt

    def _drop(self, instr: ir.DropValue, nxt: str) -> tuple[str, str, str]:
        local = self._local(instr.slot)
        if not self.counted:
            return "true", f"{local} = MOVED_V;", nxt
        return "true", f"{self._drop_text(local)} {local} = MOVED_V;", nxt
