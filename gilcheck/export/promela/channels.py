"""Channel operations in Promela: send (rendezvous offers, bounded and unbounded buffers,
queues, oneshots) and receive, over the names `ValueTranslator` gives a channel."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import assert_never

from gilcheck.export.promela.common import ChanText, channel_kind
from gilcheck.export.promela.values import ValueTranslator, pins_channel
from gilcheck.semantics import ir


class ChannelTranslator(ValueTranslator):
    """Sends and receives on global channels."""

    def _take(self, chan: ChanText, target: ir.Target | None, timed: bool = False) -> str:
        """Receive the oldest message into `target`, shifting the buffer down (`timed`: as
        `ok(v)`). When the channel's index or the target's is computed at run time, the
        target is stored after the message is taken (gilcheck evaluates its index then, and
        the channel's index may read it), and panics when out of range."""
        shift = " ".join(
            f"{chan.slot(str(i))} = {chan.slot(str(i + 1))};" for i in range(chan.capacity - 1)
        )
        drop = f"{shift} {chan.n} = {chan.n} - 1;"
        if (
            not self.counted
            and not timed
            and self._ok(target) is None
            and (chan.at is None or chan.at.isdigit())
        ):
            return f"{self._target(target)} = {chan.slot('0')}; {drop}"
        got = "WRAP(1, hv)" if timed else "hv"
        return f"hv = {chan.slot('0')}; {drop} {self._store(target, got)}"

    def _queued_between_processes(self, value: str, shared: str | None = None) -> str:
        """Where gilcheck's `misuse` for a value that is not data on a multiprocessing
        queue may apply, the export stops (its own limit): a send of such a value on a
        channel handle whose channel was passed to a process (`shared`: its flag, 1; a
        channel not passed yet is marked 2 for carrying one, see `spawn_process`), or on
        a declared channel in a spec that passes declared channels as values (the export
        does not follow which declared channels are passed)."""
        if self.processes <= 1 or (shared is None and not self.uses_channel_values()):
            return ""
        held = self._queued_object(value)
        if shared is None:
            return f" LIMIT(!({held}));"
        return (
            f" if :: {held} -> LIMIT({shared} != 1); if :: {shared} == 0 -> {shared} = 2 "
            ":: else -> skip fi :: else -> skip fi;"
        )

    def _send(
        self, ref: ir.GlobalChannel, value: ir.Expr, pc: int, handed: str = ""
    ) -> tuple[str, str, str]:
        """`send c, v` on a declared channel (`_send_by_kind`), stopping the export where a
        multiprocessing queue may not carry `v` (`_queued_between_processes`)."""
        guard, effect, after = self._send_by_kind(ref, value, pc, handed)
        stop = self._queued_between_processes(self._expr(value))
        return guard, f"{stop.lstrip()} {effect}" if stop else effect, after

    def _send_by_kind(
        self, ref: ir.GlobalChannel, value: ir.Expr, pc: int, handed: str = ""
    ) -> tuple[str, str, str]:
        """`send c, v` on a declared channel; `handed`: what handing the value over does to
        ownership (moves, copies), done where the value leaves: pushed, offered, or, on a
        closed channel, dropped with the failed send's result."""
        chan = self.channels[ref.base]
        g = e = self._channel(ref, written=True)
        v = self._expr(value)
        nxt = self._label(pc + 1)
        kind = channel_kind(chan)
        dropped = f"hd = {v}; drop_hd();{handed}" if self.counted else "skip"
        match kind:
            case "rendezvous":
                # Offer (the value waits in the slot), then go on once a receiver took it.
                return (
                    f"(phase == 1 && {g.n} == 0) || (phase == 0 && ({g.closed} || "
                    f"({g.n} == 0 && {g.pending} == NO_ONE)))",
                    f"if :: phase == 1 -> {e.pending} = NO_ONE; phase = 0; goto {nxt} "
                    f":: phase == 0 && {e.closed} -> {dropped}; goto {nxt} "
                    f":: else -> {e.slot('0')} = {v}; {e.n} = 1; {e.pending} = me; phase = 1;"
                    f"{handed} goto {self._label(pc)} fi;",
                    nxt,
                )
            case "queue":
                cap = self._capacity(chan)
                full = f"{e.n} >= {cap}"
                push = f"{e.slot(e.n)} = {v}; {e.n} = {e.n} + 1;{handed}"
                if not chan.capacity:  # unbounded
                    return "true", f"LIMIT(!({full})); /* bound */ {push}", nxt
                return f"!({g.n} >= {cap})", push, nxt
            case "bounded" | "unbounded" | "oneshot":
                cap = self._capacity(chan)
                full = f"{e.n} >= {cap}"
                closing = f" {e.closed} = 1;" if kind == "oneshot" else ""
                push = f"{e.slot(e.n)} = {v}; {e.n} = {e.n} + 1;{closing}{handed}"
                if kind == "unbounded":
                    return (
                        "true",
                        f"if :: {e.closed} -> {dropped} "
                        f":: else -> LIMIT(!({full})); /* bound */ {push} fi;",
                        nxt,
                    )
                return (
                    f"({g.closed} || !({g.n} >= {cap}))",
                    f"if :: {e.closed} -> {dropped} :: else -> {push} fi;",
                    nxt,
                )
            case _:
                assert_never(kind)

    def _recv(
        self,
        ref: ir.GlobalChannel,
        target: ir.Target | None,
        exit_target: int | None,
        nxt: str,
        timed: bool = False,
    ) -> tuple[str, str, str]:
        """`recv c` (`for v in c`; `timed`: `recv c timeout`, giving ok(v), ok(none) at the
        end, err("timeout") when it times out)."""
        g = e = self._channel(ref, written=True)
        take = self._take(e, target, timed)
        if exit_target is not None:
            at_end = f"goto {self._label(exit_target)}"
        else:
            at_end = self._store(target, "WRAP(1, NONE_V)" if timed else "NONE_V")
        if timed:
            self.timed_out = self._store(target, f"WRAP(2, {self.constants.literal('timeout')})")
        guard = f"({g.n} > 0 || {g.closed})"
        return guard, f"if :: {e.n} > 0 -> {take} :: else -> {at_end} fi;", nxt

    def _try_recv(
        self, ref: ir.GlobalChannel, target: ir.Target | None, nxt: str
    ) -> tuple[str, str, str]:
        """`try_recv c`: the oldest message, or none at once."""
        e = self._channel(ref, written=True)
        take = self._take(e, target)
        empty = self._store(target, "NONE_V")
        return "true", f"if :: {e.n} > 0 -> {take} :: else -> {empty} fi;", nxt

    def _close(self, ref: ir.GlobalChannel, nxt: str) -> tuple[str, str, str]:
        """`close c` (a queue cannot be closed: a misuse)."""
        if self.channels[ref.base].kind == "queue":
            return "true", "assert(false); /* misuse: close on a queue */", nxt
        return "true", f"{self._channel(ref, written=True).closed} = 1;", nxt

    def _pinned_channel(
        self, instr: ir.Recv | ir.Send, pc: int, translate: Callable[[], tuple[str, str, str]]
    ) -> tuple[str, str, str]:
        """A `recv c[i]` / `send c[i], v` whose index reads shared state keeps the element it
        read once it waits, as gilcheck's engine does: when it cannot go on it may take a
        step storing the element in `pr` (`pin`), a step of it (a rendezvous offer) stores
        it too, and leaving the statement clears it; while kept, the element is `pr`."""
        if not pins_channel(instr):
            return translate()
        self.channel_pinned = True
        try:
            guard, effect, nxt = translate()
        finally:
            self.channel_pinned = False
        ref = instr.channel
        assert isinstance(ref, ir.GlobalChannel) and ref.index is not None  # (pins_channel)
        index = self._index(ref.index, ref.size, 0)
        store = f"pr = {index};"
        clear = "pin = 0; pr = 0;"
        here = self._label(pc)

        def cleared(found: re.Match[str]) -> str:
            return found.group(0) if found.group(1) == here else f"{clear} {found.group(0)}"

        effect = re.sub(r"goto (\w+)", cleared, effect)
        effect = f"if :: !pin -> {store} pin = 1 :: else -> skip fi; {effect} {clear}"
        if self.timed_out is not None:
            self.timed_out = f"{self.timed_out} {clear}"
        if guard != "true":
            self.pin_step = f"!pin && !({guard}) -> {store} pin = 1"
        return guard, effect, nxt
