"""What explains the waits of a final state besides the waits themselves: the shared vars
their conditions read (`await ready == 1` and `ready = 2`), and every channel, queue and
queue of tasks that is not empty."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from gilcheck.analysis.executors import plural, task_text
from gilcheck.analysis.layout import StateLayout
from gilcheck.semantics import ir
from gilcheck.semantics.values import EvalError, SplitNeeded, Undecided, Value
from gilcheck.sync.eventloop import L_READY
from gilcheck.sync.pool import P_QUEUE
from gilcheck.system.engine import Engine
from gilcheck.system.engine.common import DECLARED
from gilcheck.system.expr import IndexOutOfRange, UseAfterMove, compile_expr, element
from gilcheck.system.state import (
    C_BUF,
    C_CAP,
    C_KIND,
    ENDED,
    F_CODE,
    F_LOCALS,
    F_PC,
    S_CHANS,
    S_LOCKS,
    S_THREADS,
    S_VARS,
    T_FRAMES,
    T_STATUS,
    Frame,
    State,
    Thread,
)
from gilcheck.trace.model import Pending, Watched

# What evaluating an index of a condition's array may raise: then the whole array is shown.
_INDEX_ERRORS = (EvalError, IndexOutOfRange, UseAfterMove, SplitNeeded, Undecided)


def condition_of(engine: Engine, frame: Frame) -> ir.Expr | None:
    """The condition a thread at this frame waits on: its `await`'s, or that of the `await`
    its `atomic` block starts with (None: it is at no such statement)."""
    instrs = engine.codes[frame[F_CODE]].instrs
    instr = instrs[frame[F_PC]]
    if isinstance(instr, ir.AtomicBegin) and frame[F_PC] + 1 < len(instrs):
        instr = instrs[frame[F_PC] + 1]
    return instr.cond if isinstance(instr, ir.Await) else None


def _vars_read(expr: ir.Expr | ir.ChannelRef) -> Iterator[ir.GlobalVar]:
    """The shared vars an expression reads, in the order written."""
    match expr:
        case ir.GlobalVar(index=index):
            yield expr
            if index is not None:
                yield from _vars_read(index)
        case ir.UnaryOp(operand=operand):
            yield from _vars_read(operand)
        case ir.BinaryOp(left=left, right=right):
            yield from _vars_read(left)
            yield from _vars_read(right)
        case ir.Builtin(args=args):
            for arg in args:
                yield from _vars_read(arg)
        case _:
            return


class FinalState:
    """The vars and queues that explain the waits of a state."""

    def __init__(self, engine: Engine, layout: StateLayout) -> None:
        self.engine = engine
        self.layout = layout

    def watched(self, state: State, tids: Iterable[int]) -> tuple[Watched, ...]:
        """The shared vars the conditions of threads `tids` wait on read, each with its
        value in the state (in its thread's process) and the threads reading it."""
        found: dict[tuple[int, str], tuple[str, list[str]]] = {}
        engine = self.engine
        for tid in tids:
            th = state[S_THREADS][tid]
            if th[T_STATUS] == ENDED or not th[T_FRAMES]:
                continue
            frame = th[T_FRAMES][-1]
            cond = condition_of(engine, frame)
            if cond is None:
                continue
            pid = engine.process_of(state, tid)
            view = engine.view(state, pid) if engine.has_processes else state
            reader = self.layout.thread_name(state, tid)
            for var in _vars_read(cond):
                name, value = self._value(view, th, frame, var)
                entry = found.setdefault((pid, name), (value, []))
                if reader not in entry[1]:
                    entry[1].append(reader)
        return tuple(
            Watched(name, value, tuple(readers)) for (_, name), (value, readers) in found.items()
        )

    def _value(self, state: State, th: Thread, frame: Frame, var: ir.GlobalVar) -> tuple[str, str]:
        """A var's name and value as read here; an array whose index cannot be told, whole."""
        values = state[S_VARS]
        if var.size is None or var.index is None:
            return var.name, self._show(values[var.base], state)
        try:
            index = self.engine.evaluate(
                compile_expr(var.index, self.engine.params), state, frame, th
            )
            slot = element(var.base, var.size, index, var.name)
        except _INDEX_ERRORS:
            whole = values[var.base : var.base + var.size]
            return var.name, "[" + ", ".join(self._show(v, state) for v in whole) + "]"
        return f"{var.name}[{slot - var.base}]", self._show(values[slot], state)

    def _show(self, value: Value, state: State) -> str:
        return self.layout.value(value, state)

    def pending(self, state: State) -> tuple[Pending, ...]:
        """Every channel, queue, pool's queue of tasks and event loop's ready tasks that is
        not empty, with what it holds."""
        return (*self._channels(state), *self._pools(state), *self._loops(state))

    def _channels(self, state: State) -> Iterator[Pending]:
        for cid, chan in enumerate(state[S_CHANS]):
            if not chan[C_BUF]:
                continue
            kind = chan[C_KIND]
            if chan[C_CAP] is not None and kind not in ("oneshot", "rendezvous", "queue"):
                kind = f"{kind}({chan[C_CAP]})"
            name = f"channel {self.layout.channel_name(state, cid)}"
            items = tuple(self._show(v, state) for v in chan[C_BUF])
            shown = f"{kind}, offered" if kind == "rendezvous" else kind
            yield Pending(name, kind, items, f"{name} ({shown}): [{', '.join(items)}]")

    def _pools(self, state: State) -> Iterator[Pending]:
        engine = self.engine
        for key in engine.pools(state) if engine.has_pools else ():
            queue = engine.object_state(state, key)[P_QUEUE]
            if not queue:
                continue
            items = tuple(
                task_text(engine, self.layout, state, function, args, future)
                for function, args, future in queue
            )
            name = self.layout.tidy(f"pool {self.layout.object_label(state, key)}")
            text = f"{name}: {plural(len(items), 'task')} queued: {', '.join(items)}"
            yield Pending(name, "pool", items, text)

    def _loops(self, state: State) -> Iterator[Pending]:
        engine = self.engine
        for slot in sorted(engine.loop_threads) if engine.has_loops else ():
            ready = state[S_LOCKS][slot][L_READY]
            if not ready:
                continue
            items = tuple(self._ready_task(state, t) for t in ready)
            name = f"event loop {self.layout.object_label(state, (DECLARED, slot))}"
            text = f"{name}: {plural(len(items), 'task')} ready to run: {', '.join(items)}"
            yield Pending(name, "eventloop", items, text)

    def _ready_task(self, state: State, tid: int) -> str:
        """A ready task of a loop: one not started, as its call; else the task and where it
        goes on."""
        frames = state[S_THREADS][tid][T_FRAMES]
        if not frames:  # a `fork` child's copy: its loop runs no task
            return f"{self.layout.thread_name(state, tid)} (never run: a fork child's loop)"
        locals_ = frames[0][F_LOCALS]
        if len(frames) == 1 and locals_[3] is not None:
            return task_text(
                self.engine, self.layout, state, int(locals_[3]), locals_[4], locals_[1]
            )
        function = self.engine.codes[frames[1][F_CODE]].name if len(frames) > 1 else "its task"
        return f"{self.layout.thread_name(state, tid)} ({function}, back from `suspend`)"
