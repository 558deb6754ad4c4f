"""Declared channels passed as values (`spawn process worker(results)`, `call f(c)`): a
shared reference to the channel, either end, as a Python `Queue` passed to a process is.

The value is `CVB + px * NCH + k`: channel element k (numbered as gilcheck numbers declared
channel elements) of process px's copy (with `spawn process`; `CVB + k` without). A
statement on a local that may hold one dispatches at run time: a channel value takes the
branch of the declared channel it names, the statement translated as on that channel by
name (channels.py) with its names in the right process's record (children.py); any other
value is a handle of a channel made at run time (handles.py).
"""

from __future__ import annotations

from collections.abc import Callable

from gilcheck.export.promela.common import CHANNEL_VALUE_BASE, ChanText, Refused
from gilcheck.export.promela.handles import HandleTranslator
from gilcheck.semantics import ir

Step = tuple[str, str, str]  # guard, effect, next label


class ChannelValueTranslator(HandleTranslator):
    """Channel values and the dispatch of statements on locals that may hold one."""

    _channel_values: bool | None = None

    def uses_channel_values(self) -> bool:
        """Whether the spec passes a declared channel as a value."""
        if self._channel_values is None:
            self._channel_values = any(
                isinstance(expr, ir.Builtin) and expr.name == "channel_value"
                for code in self.program.codes
                for instr in code.instrs
                for expr in _expressions(instr)
            )
        return self._channel_values

    def channel_value_header(self) -> list[str]:
        """The macros of channel values (none when the spec passes no declared channel)."""
        if not self.uses_channel_values():
            return []
        count = max([c.base + (c.size or 1) for c in self.program.channels] or [1])
        return [
            f"#define CVB {CHANNEL_VALUE_BASE}",
            f"#define NCH {count}  /* declared channel elements */",
            "#define IS_CV(v) ((v) >= CVB && (v) < CVB + NCH * 256)  /* a declared channel */",
            "#define CVP(v) (((v) - CVB) / NCH)  /* its process */",
            "#define CVK(v) (((v) - CVB) % NCH)  /* its element */",
        ]

    def channel_value(self, ref: ir.GlobalChannel) -> str:
        """A declared channel (or element) passed as a value."""
        at = str(ref.base) if ref.index is None else self._index(ref.index, ref.size, ref.base)
        process = "px * NCH + " if self.processes > 1 else ""
        return f"(CVB + {process}{at})"

    def via_value(
        self,
        handle: ir.HandleRef,
        on_handle: Step,
        on_channel: Callable[[ir.GlobalChannel], Step],
    ) -> Step:
        """A statement on a local: `on_handle` for a channel made at run time, and, in a
        spec that passes declared channels as values, a branch per declared channel."""
        if not self.uses_channel_values():
            return on_handle
        v = self._local(handle.slot)
        guards: list[str] = []
        effects: list[str] = []
        for chan in self.program.channels:
            ref = ir.GlobalChannel(base=chan.base, size=chan.size, name=chan.name, index=None)
            self.channel_text, named = self._named_by(v, chan)
            try:
                guard, effect, nxt = on_channel(ref)
            finally:
                self.channel_text = None
            if nxt != on_handle[2]:
                raise Refused("this statement on a channel passed as a value", self.here)
            guards.append(f"({named} && ({guard}))")
            effects.append(f":: {named} -> {effect}")
        guard = (
            f"((IS_CV({v}) && ({' || '.join(guards) or 'false'})) || "
            f"(!IS_CV({v}) && ({on_handle[0]})))"
        )
        effect = f"if :: IS_CV({v}) -> if {' '.join(effects)} fi :: else -> {on_handle[1]} fi;"
        return guard, effect, on_handle[2]

    def value_len(self, handle: ir.HandleRef, on_handle: str) -> str:
        """`len(h)` of a local that may hold a channel value."""
        if not self.uses_channel_values():
            return on_handle
        v = self._local(handle.slot)
        text = on_handle
        for chan in reversed(self.program.channels):
            names, named = self._named_by(v, chan)
            text = f"(IS_CV({v}) && {named} -> {names.n} : {text})"
        return text

    def _named_by(self, value: str, chan: ir.ChannelInfo) -> tuple[ChanText, str]:
        """The names of declared channel `chan` (its element and process copy) that a
        channel value reaches, and the condition that the value names one of its
        elements."""
        where = f"ps[CVP({value})].f_ch_{chan.name}" if self.processes > 1 else f"ch_{chan.name}"
        at = None if chan.size is None else f"(CVK({value}) - {chan.base})"
        last = chan.base + (chan.size or 1)
        named = f"(CVK({value}) >= {chan.base} && CVK({value}) < {last})"
        return ChanText(where, self._capacity(chan), at), named


def _expressions(instr: ir.Instr) -> list[ir.Expr]:
    """The argument expressions of a statement that passes values (where a declared
    channel may be passed by name)."""
    match instr:
        case ir.SpawnFn(args=args) | ir.CallFn(args=args) | ir.Submit(args=args):
            return list(args)
    return []
