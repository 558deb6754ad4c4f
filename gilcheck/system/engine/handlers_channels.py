"""Handlers for channels: making, closing, receiving and sending."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gilcheck.semantics import ir
from gilcheck.semantics.ir import Verdict
from gilcheck.semantics.reads import reads_shared
from gilcheck.semantics.values import (
    SymbolicLimit,
    Term,
    Value,
)

if TYPE_CHECKING:
    pass
from gilcheck.system.engine.base import (
    Base,
)
from gilcheck.system.engine.common import (
    CHANNEL_PIN,
    Prepared,
    SpecMisuse,
    _with,
)
from gilcheck.system.expr import (
    MOVED,
    compile_expr,
)
from gilcheck.system.model import (
    STEP,
    TIMEOUT,
    LimitHit,
    Transition,
)
from gilcheck.system.state import (
    C_BUF,
    C_CAP,
    C_CLOSED,
    C_GLOBAL,
    C_KIND,
    C_PENDING,
    C_RECEIVER,
    C_SENDERS,
    F_LOCALS,
    F_PC,
    NO_THREAD,
    T_PHASE,
    Channel,
    Frame,
    State,
    Thread,
    Work,
)


class ChannelHandlers(Base):
    """Handlers of channel statements."""

    def _make_channel(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.MakeChannel = p.instr  # type: ignore[assignment]
        capacity = None
        if instr.capacity is not None:
            capacity = self._eval(compile_expr(instr.capacity, self.params), state, frame, th)
            if isinstance(capacity, Term):
                raise SymbolicLimit("a channel capacity that depends on an unknown value")
        w = Work(state)
        cid = w.add_chan(((), 1, True, False, instr.kind, capacity, False, NO_THREAD, False))
        locals_ = self._store(w, frame[F_LOCALS], instr.sender, ("tx", cid), frame, th)
        locals_ = self._store(w, locals_, instr.receiver, ("rx", cid), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _close(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Close = p.instr  # type: ignore[assignment]
        cid = self.channel_id(instr.channel, frame, th, state, "rx", p.index)
        if state[4][cid][C_KIND] == "queue":
            raise SpecMisuse("a queue never closes: `close` has no meaning for it")
        w = Work(state)
        w.set_chan(cid, _with(w.chans[cid], C_CLOSED, True))
        self._advance(w, tid, th, frame, p.next_pc)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    @staticmethod
    def receivable_end(chan: Channel) -> bool:
        """Whether a `recv` on an empty channel returns none (closed, or every sender gone)."""
        if chan[C_CLOSED]:
            return True
        return not chan[C_GLOBAL] and chan[C_SENDERS] == 0 and chan[C_KIND] != "queue"

    def _recv(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Recv = p.instr  # type: ignore[assignment]
        cid = self.channel_id(instr.channel, frame, th, state, "rx", p.index)
        chan = state[4][cid]
        buf = chan[C_BUF]
        if buf:
            value = buf[0]
            w = Work(state)
            w.set_chan(cid, _with(chan, C_BUF, buf[1:]))
        elif self.receivable_end(chan):
            value = None
            w = Work(state)
        else:
            return False
        if value is None and instr.exit_target is not None:
            self._advance(w, tid, th, frame, self.resolve_pc(p.code, instr.exit_target))
        else:
            locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _recv_timed(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """`recv rx timeout`: ok(v) with what `recv` yields, or, while nothing can be
        received, a timeout step yielding err("timeout")."""
        instr: ir.Recv = p.instr  # type: ignore[assignment]
        cid = self.channel_id(instr.channel, frame, th, state, "rx", p.index)
        chan = state[4][cid]
        buf = chan[C_BUF]
        kind = STEP
        w = Work(state)
        if buf:
            value: Value = ("ok", buf[0])
            w.set_chan(cid, _with(chan, C_BUF, buf[1:]))
        elif self.receivable_end(chan):
            value = ("ok", None)
        elif self.may_time_out(state, tid, th, frame, p):
            value, kind = ("err", "timeout"), TIMEOUT
        else:
            return False
        locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, kind, 0), w.freeze()))
        return False

    def _try_recv(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.TryRecv = p.instr  # type: ignore[assignment]
        cid = self.channel_id(instr.channel, frame, th, state, "rx", p.index)
        chan = state[4][cid]
        w = Work(state)
        value = None
        if chan[C_BUF]:
            value = chan[C_BUF][0]
            w.set_chan(cid, _with(chan, C_BUF, chan[C_BUF][1:]))
        locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _send(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Send = p.instr  # type: ignore[assignment]
        if self._need_gil(state, tid, p):
            return True
        cid = self.channel_id(instr.channel, frame, th, state, "tx", p.index)
        chan = state[4][cid]
        phase = th[T_PHASE]
        if type(phase) is tuple and phase[0] == CHANNEL_PIN:
            phase = phase[2]
        if phase != 0:  # a rendezvous sender waiting for its offer to be taken
            offered = phase[1]
            if chan[C_BUF] and chan[C_RECEIVER]:
                return False
            w = Work(state)
            if chan[C_BUF]:  # the receiver is gone and never took it
                result: Value = ("err", offered)
                w.set_chan(cid, _with(_with(chan, C_PENDING, NO_THREAD), C_BUF, ()))
            else:
                result = ("ok", None)
                w.set_chan(cid, _with(chan, C_PENDING, NO_THREAD))
            locals_ = self._store(w, frame[F_LOCALS], instr.target, result, frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_, phase=0)
            out.append(((tid, STEP, 1), w.freeze()))
            return False
        value = self._eval(p.value, state, frame, th)
        w = Work(state)
        locals_ = self._hand_over(w, frame[F_LOCALS], p, (value,))
        chan = w.chans[cid]  # a sender of this very channel copied out of a var counts
        if chan[C_KIND] != "queue" and (not chan[C_RECEIVER] or chan[C_CLOSED]):
            if (
                chan[C_KIND] == "oneshot"
                and not chan[C_GLOBAL]
                and isinstance(instr.channel, ir.HandleRef)
            ):
                # Sending consumes a oneshot sender, even when the send fails (a declared
                # oneshot passed as a value is no sender of its own: it is only closed).
                slot = instr.channel.slot
                locals_ = locals_[:slot] + (MOVED,) + locals_[slot + 1 :]
                w.set_chan(cid, _with(chan, C_SENDERS, max(0, chan[C_SENDERS] - 1)))
            locals_ = self._store(w, locals_, instr.target, ("err", value), frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_)
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        buf = chan[C_BUF]
        kind, capacity = chan[C_KIND], chan[C_CAP]
        if kind == "rendezvous":
            if buf or chan[C_PENDING] != NO_THREAD:
                return False
            if self.passes_channels:
                chan = self.queued_between_processes(state, chan, value, instr.value)
            w.set_chan(cid, _with(_with(chan, C_BUF, (value,)), C_PENDING, tid))
            self._advance(w, tid, th, frame, frame[F_PC], locals_, phase=("offer", value))
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        if capacity is None:
            if kind == "oneshot":
                capacity = 1
            elif len(buf) >= self.options.channel_bound:
                out.append(
                    (
                        (tid, STEP, 0),
                        LimitHit(
                            Verdict.BOUND,
                            "channel grew past the exploration bound of "
                            f"{self.options.channel_bound} messages (--channel-bound)",
                            tid,
                            instr.span,
                        ),
                    )
                )
                return False
        if capacity is not None and len(buf) >= capacity:
            return False
        if self.passes_channels:
            chan = self.queued_between_processes(state, chan, value, instr.value)
        new_chan = _with(chan, C_BUF, buf + (value,))
        if kind == "oneshot":
            if chan[C_GLOBAL]:
                new_chan = _with(new_chan, C_CLOSED, True)
            elif isinstance(instr.channel, ir.HandleRef):
                # Sending consumes a oneshot sender.
                new_chan = _with(new_chan, C_SENDERS, max(0, chan[C_SENDERS] - 1))
                slot = instr.channel.slot
                locals_ = locals_[:slot] + (MOVED,) + locals_[slot + 1 :]
        w.set_chan(cid, new_chan)
        locals_ = self._store(w, locals_, instr.target, ("ok", None), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False


def shared_channel(instr: ir.Instr) -> bool:
    """Whether a `recv` or `send` names its channel through shared state (`c[i]`, `var i`)."""
    if not isinstance(instr, ir.Recv | ir.Send):
        return False
    ref = instr.channel
    return isinstance(ref, ir.GlobalChannel) and ref.index is not None and reads_shared(ref.index)
