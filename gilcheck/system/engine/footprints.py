"""Footprints: which declared sync objects and channels a thread's next step can read or
change, for the step table's projected entries (explore/steptable.py).

A thread's steps depend on the thread itself and the state's shared parts (the GIL, vars,
locks, channels, stdout); most statements read far less than that: `lock m` reads and
changes only `m`, `send c, v` only `c`, `with_gil { }` and the local steps none of them.
The step table keys its entries by the whole shared part, so a thread's steps are
interpreted again for every combination of the others' locks and channels; with a
footprint it interprets them once per combination of what they read, and makes the
others' entries from that.

A footprint is given only where it is known statically from the handler, for the common
statements on declared objects and plain data; everywhere else (`None`) the table keys by
the whole shared part as before. Each handler named here reads the GIL, the vars, stdout
and its own thread, and of the locks and channels only those returned (see each
handler); the table checks that the steps change no other, and the three-way tests
(tests/test_steptable.py) that the states and ids are those of the interpreter.
"""

from __future__ import annotations

from typing import Any

from gilcheck.semantics import ir
from gilcheck.semantics.reads import plain_expression
from gilcheck.semantics.values import EvalError
from gilcheck.system.engine.base import Base
from gilcheck.system.engine.common import _OVER, SpecMisuse, SpecPanic
from gilcheck.system.expr import IndexOutOfRange, UseAfterMove
from gilcheck.system.state import F_CODE, F_LOCALS, F_PC, RUNNING, T_FRAMES, T_STATUS, State

Footprint = tuple[tuple[int, ...], tuple[int, ...]]
"""(indices in the state's locks part, indices in its channels part)."""

NOTHING: Footprint = ((), ())

# Statements whose handlers read no lock and no channel, once their expressions are plain.
_NOTHING_SHARED = (ir.Skip, ir.Jump, ir.Progress, *ir.GIL_BLOCK_EDGES)
# Statements run by `_sync` on one declared object (and a condvar's mutex).
_ON_A_DECLARED_OBJECT = (ir.Acquire, ir.Release, ir.SetEvent, ir.ClearEvent, ir.Notify, ir.Wait)
_PLAIN_CONSTANTS = (bool, int, str, type(None))
# What naming an object can raise (an index out of range, arithmetic without a value, a
# moved local, a misuse), each a violation the interpreter reports at the statement.
_REPORTED = (IndexOutOfRange, EvalError, UseAfterMove, SpecMisuse, SpecPanic)


def plain_value(value: Any) -> bool:
    """Whether a value is plain data (no reference to a channel, an object or a thread):
    storing, sending or comparing it touches nothing shared."""
    if isinstance(value, _PLAIN_CONSTANTS):
        return True
    if type(value) is tuple and len(value) == 2 and value[0] in ("ok", "err"):
        return plain_value(value[1])
    return False


def _plain_target(target: Any) -> bool:
    match target:
        case None | ir.LocalTarget():
            return True
        case ir.GlobalTarget(index=index):
            return plain_expression(index)
    return False


class Footprints(Base):
    """The footprint of a thread's next step (see the module's docstring)."""

    def footprints_apply(self) -> bool:
        """Whether footprints are given in this program at all: not with event loops,
        interrupts, processes, `gil off`, forks, `release_gil` guards, unknown values or
        objects made at run time, whose steps read more than their statement names."""
        return not (
            self.has_loops
            or self.interrupts
            or self.has_processes
            or self.gil_off
            or self.has_fork
            or self.gil_api
            or self.symbolic
            or self.objects
        )

    def footprint(self, state: State, tid: int) -> Footprint | None:
        """The locks and channels thread `tid`'s steps in `state` read or change, or None
        when that is not known here (the caller keys by every lock and channel)."""
        th = state[0][tid]
        if th[T_STATUS] in _OVER:
            return NOTHING  # an ended thread has no step
        if th[T_STATUS] != RUNNING or not th[T_FRAMES]:
            return None
        if not all(plain_value(v) for v in state[2]):
            return None
        for frame in th[T_FRAMES]:
            if not all(plain_value(v) for v in frame[F_LOCALS]):
                return None
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        instr = p.instr
        try:
            match instr:
                case _ if isinstance(instr, _NOTHING_SHARED):
                    return NOTHING
                case ir.EndScope():
                    return NOTHING  # it drops plain locals
                case ir.End():
                    # A function returns a plain value into its caller's target (whose index
                    # must be plain), or a thread other than main ends (main's end goes on
                    # to the program's end, which reads every thread).
                    frames = th[T_FRAMES]
                    if len(frames) > 1:
                        caller = frames[-2]
                        call = self.codes[caller[F_CODE]].instrs[caller[F_PC]]
                        plain = isinstance(call, ir.CallFn) and _plain_target(call.target)
                        return NOTHING if plain else None
                    return NOTHING if tid != self.main_tid else None
                case ir.Assign(target=target, value=value):
                    return NOTHING if _plain_target(target) and plain_expression(value) else None
                case ir.Branch(cond=cond) | ir.Await(cond=cond):
                    return NOTHING if plain_expression(cond) else None
                case _ if isinstance(instr, _ON_A_DECLARED_OBJECT):
                    return self._object_footprint(state, th, frame, p)
                case ir.Send(channel=channel, value=value, target=target):
                    if p.handler is not self.handlers[ir.Send] or not plain_expression(value):
                        return None
                    if not _plain_target(target):
                        return None
                    return self._channel_footprint(state, th, frame, p, channel, "tx")
                case ir.Recv(channel=channel, target=target, timed=False):
                    if p.handler is not self.handlers[ir.Recv] or not _plain_target(target):
                        return None
                    return self._channel_footprint(state, th, frame, p, channel, "rx")
        except _REPORTED:  # the interpreter reports them as the step's violation
            return None
        return None

    def _object_footprint(self, state: State, th: Any, frame: Any, p: Any) -> Footprint | None:
        """A statement `_sync` runs on a declared object (and a condvar wait's mutex)."""
        # `_sync` reads the object, its partner, the thread and the GIL (`_need_gil`); a
        # timed or valued statement (`_sync_valued`) may time out, which reads more.
        if p.handler != self.handlers[ir.Acquire] or p.site is None or p.operand is not None:
            return None
        res = p.instr.resource
        if res.value is not None or not plain_expression(res.index):
            return None
        locks = [self.lock_id(res, frame, th, state, p.index)]
        if p.partner is not None:
            if p.partner.value is not None or not plain_expression(p.partner.index):
                return None
            locks.append(self.lock_id(p.partner, frame, th, state, p.partner_index))
        return (tuple(locks), ())

    def _channel_footprint(
        self, state: State, th: Any, frame: Any, p: Any, channel: Any, end: str
    ) -> Footprint | None:
        """A `send` or `recv` on a declared channel."""
        if not isinstance(channel, ir.GlobalChannel) or not plain_expression(channel.index):
            return None
        return ((), (self.channel_id(channel, frame, th, state, end, p.index),))
