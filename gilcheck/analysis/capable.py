"""Who could end a wait, and why they do not: the threads and tasks whose code runs the
statement that would end it (`set e`, `send jobs`), where that statement is, and what
keeps each of them from running it.

What code may run is read from the program, not from the state: a thread could run any
statement of the code units of its frames and of the functions they call (directly), or
of the threads and tasks they would start (`spawn`, `submit`). That over-approximates what
it can do, so a claim that only some threads could is true; the state says which threads
and queued tasks there are and where each one is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields
from functools import cached_property

from gilcheck.analysis.callstack import CallStacks
from gilcheck.analysis.executors import pool_backlog, task_text
from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.locations import location_of
from gilcheck.analysis.statements import statement_text
from gilcheck.semantics import ir
from gilcheck.semantics.values import EvalError, SplitNeeded, Undecided
from gilcheck.source import SourceMap
from gilcheck.sync.base import Could
from gilcheck.sync.eventloop import L_HOLDER
from gilcheck.sync.pool import P_QUEUE
from gilcheck.system.engine import Engine
from gilcheck.system.engine.common import DECLARED, HEAP
from gilcheck.system.expr import IndexOutOfRange, UseAfterMove, compile_expr
from gilcheck.system.state import (
    ENDED,
    F_CODE,
    F_LOCALS,
    F_PC,
    GONE,
    NO_THREAD,
    PR_CHANS,
    S_LOCKS,
    S_PROCS,
    S_THREADS,
    T_FRAMES,
    T_SELF,
    T_STATUS,
    Frame,
    State,
    Thread,
)

# What computing an index may raise.
_INDEX_ERRORS = (EvalError, IndexOutOfRange, UseAfterMove, SplitNeeded, Undecided, ArithmeticError)
# The kind of key of a channel (objects are keyed by DECLARED or HEAP).
CHANNEL = -1
# How many of those who could are named before `and N more`.
NAMED = 4
_WAITER = "is the waiter itself"


def statement_key(instr: ir.Instr) -> str | None:
    """What a statement does to what, as `verb name`: `set e`, `notify cv`, `send jobs`
    (`verb *` for an object reached through a value, which may be any object)."""
    verb = ir.sync_verb(instr)
    if verb is not None:
        res: ir.ResourceRef = getattr(instr, "resource")  # noqa: B009 - sync statements have one
        return f"{verb} {'*' if res.value is not None else res.name}"
    if isinstance(instr, ir.Send | ir.Recv | ir.TryRecv) and isinstance(
        instr.channel, ir.GlobalChannel
    ):
        word = "send" if isinstance(instr, ir.Send) else "recv"
        return f"{word} {instr.channel.name}"
    return None


def _told(expr: ir.Expr, fixed: frozenset[int]) -> bool:
    """Whether an index is told by constants, `self` and the locals `fixed` alone."""
    match expr:
        case ir.Const() | ir.SelfIndex():
            return True
        case ir.Local(slot=slot):
            return slot in fixed
        case ir.UnaryOp(operand=operand):
            return _told(operand, fixed)
        case ir.BinaryOp(left=left, right=right):
            return _told(left, fixed) and _told(right, fixed)
        case _:
            return False


def _assigned_slots(instr: ir.Instr) -> set[int]:
    """The local slots an instruction stores into."""
    found: set[int] = set()
    for field in fields(instr):
        value = getattr(instr, field.name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ir.LocalTarget):
                found.add(item.slot)
    return found


# Whether a statement is ruled out as the one that ends a wait (it is certainly on another
# object); given the code unit it is in.
Skip = Callable[[int, ir.Instr], bool]


def _successors(instr: ir.Instr, pc: int) -> list[int]:
    """The positions that can run after `instr` at `pc` in its code unit."""
    match instr:
        case ir.Jump(target=target):
            return [target]
        case ir.Return() | ir.End():
            return []
        case ir.Branch(if_false=target):
            return [pc + 1, target]
        case ir.Choose(targets=targets):
            return [pc + 1, *targets]
        case ir.Recv(exit_target=target) if target is not None:
            return [pc + 1, target]
        case ir.OnceBegin(done=target):
            return [pc + 1, target]
        case ir.ForkBegin(end=target):
            return [pc + 1, target]
    return [pc + 1]


class Sites:
    """Each code unit's statements by key, the code units it calls or starts, and its
    fixed locals: parameters it never assigns, and locals only constructors assign (so the
    object one refers to in a frame is the only existing object it can ever refer to)."""

    def __init__(self, program: ir.Program) -> None:
        self.codes = program.codes
        self.own: list[list[tuple[str, ir.Instr]]] = []
        self.calls: list[list[int]] = []
        self.starts: list[list[int]] = []
        self.fixed: list[frozenset[int]] = []
        for code in program.codes:
            # A slot never stored into keeps its value; one only ever given new objects by
            # constructors never comes to hold an object that exists already.
            stored: set[int] = set()
            made: set[int] = set()
            for instr in code.instrs:
                slots = _assigned_slots(instr)
                (made if isinstance(instr, ir.MakeObject) else stored).update(slots)
            params = frozenset(range(len(code.params)))
            self.fixed.append((params | made) - stored)
            self.own.append(
                [(key, i) for i in code.instrs if (key := statement_key(i)) is not None]
            )
            self.calls.append([i.function for i in code.instrs if isinstance(i, ir.CallFn)])
            self.starts.append(
                [i.function for i in code.instrs if isinstance(i, ir.SpawnFn | ir.Submit)]
            )

    def _reach(self, roots: Iterable[int], starting: bool) -> list[int]:
        """Code units reached from `roots` by calls (and starts), breadth first."""
        order: list[int] = []
        seen: set[int] = set()
        todo = list(roots)
        while todo:
            code = todo.pop(0)
            if code in seen:
                continue
            seen.add(code)
            order.append(code)
            todo.extend(self.calls[code])
            if starting:
                todo.extend(self.starts[code])
        return order

    def ahead(self, code: int, start: int) -> list[int]:
        """The positions of code unit `code` that can run from position `start` on (the
        statement there included), following jumps, branches and choices."""
        instrs = self.codes[code].instrs
        seen: set[int] = set()
        todo = [start]
        while todo:
            pc = todo.pop()
            if pc in seen or not 0 <= pc < len(instrs):
                continue
            seen.add(pc)
            todo.extend(_successors(instrs[pc], pc))
        return sorted(seen)

    def first_ahead(
        self, positions: list[tuple[int, int]], keys: frozenset[str], skip: Skip | None = None
    ) -> tuple[ir.Instr, bool] | None:
        """As `first`, for a thread that is at `positions` ((code, position) of each frame,
        innermost first): only statements still ahead of it count, those of the functions
        it can still call and of the threads and tasks it can still start."""
        calls: list[int] = []
        starts: list[int] = []
        for code, start in positions:
            instrs = self.codes[code].instrs
            for pc in self.ahead(code, start):
                instr = instrs[pc]
                key = statement_key(instr)
                if key in keys and not (skip is not None and skip(code, instr)):
                    return instr, False
                if isinstance(instr, ir.CallFn):
                    calls.append(instr.function)
                elif isinstance(instr, ir.SpawnFn | ir.Submit):
                    starts.append(instr.function)
        hit = self.first(calls, keys, skip) if calls else None
        if hit is not None:
            return hit
        started = self.first(starts, keys, skip) if starts else None
        return None if started is None else (started[0], True)

    def first(
        self, roots: list[int], keys: frozenset[str], skip: Skip | None = None
    ) -> tuple[ir.Instr, bool] | None:
        """The first statement with one of `keys` (and not ruled out by `skip`) that code
        units `roots` run themselves or through the functions they call (False), else
        through the threads and tasks they start (True); None when none does."""
        direct = self._reach(roots, starting=False)
        for started, codes in ((False, direct), (True, self._reach(roots, starting=True))):
            for code in codes:
                if started and code in direct:
                    continue
                for key, instr in self.own[code]:
                    if key in keys and not (skip is not None and skip(code, instr)):
                        return instr, started
        return None


@dataclass(frozen=True, slots=True)
class Able:
    """A thread or a task that has not started, which could run a statement."""

    who: str  # `worker`, or `task inner() queued on pool p`
    tid: int  # the thread, NO_THREAD for a task that has not started
    site: ir.Instr  # the statement it could run
    started: bool  # only in a thread or task it would start
    why_not: str  # what keeps it from it: `is blocked at app.gil:15`


class WhoCould:
    """Finds who could end a wait in a state, and says it."""

    def __init__(self, engine: Engine, layout: StateLayout, sources: SourceMap) -> None:
        self.engine = engine
        self.layout = layout
        self.sources = sources
        self.stacks = CallStacks(engine.program, sources)

    @cached_property
    def sites(self) -> Sites:
        """The program's statements by code unit (read when a report first needs them)."""
        return Sites(self.engine.program)

    def able(
        self,
        state: State,
        waiter: int,
        keys: frozenset[str],
        moving: Callable[[int], bool],
        target: tuple[int, int] | None = None,
    ) -> list[Able]:
        """Every thread (the waiter included) and task not started yet that could run a
        statement with one of `keys` (on object or channel `target`, if given), in thread
        order, then the pools' queued tasks."""
        found: list[Able] = []
        engine, name = self.engine, self.layout.thread_name
        for tid, th in enumerate(state[S_THREADS]):
            frames = th[T_FRAMES]
            if th[T_STATUS] in (ENDED, GONE) or not frames or engine.idle_thread(state, tid):
                continue
            bottom = frames[0]
            if engine.has_loops and engine.is_task(th) and len(frames) == 1:
                function = bottom[F_LOCALS][3]
                if function is None:
                    continue
                hit = self.sites.first([int(function)], keys)
                if hit is not None:
                    slot = engine.task_loop(th)
                    loop = self.layout.object_label(state, (DECLARED, slot))
                    args = bottom[F_LOCALS][4]
                    task = task_text(engine, self.layout, state, int(function), args)
                    who = f"task {task} on event loop {loop}"
                    found.append(Able(who, tid, *hit, self._loop_wait(state, slot, loop)))
                continue
            skip = self._elsewhere(state, tid, target) if target is not None else None
            # The innermost frame is at its statement; the others at the call they made,
            # or at the statement a finalizer or signal handler interrupted (not run yet).
            codes = self.sites.codes
            positions = [(frames[-1][F_CODE], frames[-1][F_PC])] + [
                (
                    f[F_CODE],
                    f[F_PC]
                    if codes[frames[i + 1][F_CODE]].kind in ("finalizer", "signal")
                    else f[F_PC] + 1,
                )
                for i, f in reversed(list(enumerate(frames[:-1])))
            ]
            hit = self.sites.first_ahead(positions, keys, skip)
            if hit is None:
                continue
            if tid == waiter:
                why = _WAITER
            elif moving(tid):
                why = "still runs"
            else:
                why = f"is blocked at {self.stacks.where(th)}"
            found.append(Able(name(state, tid), tid, *hit, why))
        for key in engine.pools(state) if engine.has_pools else ():
            queue = engine.object_state(state, key)[P_QUEUE]
            for function, args, _ in queue:
                hit = self.sites.first([function], keys)
                if hit is None:
                    continue
                backlog, _ = pool_backlog(engine, self.layout, state, key, lambda t: not moving(t))
                task = task_text(engine, self.layout, state, function, args)
                found.append(Able(f"task {task}", NO_THREAD, *hit, f"cannot start: {backlog}"))
        return found

    def _elsewhere(self, state: State, tid: int, target: tuple[int, int]) -> Skip:
        """Rules out a thread's statement that certainly names another object than `target`
        (`set r` with `r` another event, `recv c[self]` of another element of `c`, a
        declared object or channel by name in another process, which has its own copy)."""
        th = state[S_THREADS][tid]
        frames = {f[F_CODE]: f for f in th[T_FRAMES]}  # the innermost frame of each code
        pid = self.engine.process_of(state, tid)

        def skip(code: int, instr: ir.Instr) -> bool:
            found = self._names(state, pid, instr, th, frames.get(code), code)
            return found is not None and found != target

        return skip

    def _names(
        self, state: State, pid: int, instr: ir.Instr, th: Thread, frame: Frame | None, code: int
    ) -> tuple[int, int] | None:
        """The object or channel a statement of a thread of process `pid` certainly names,
        as a key ((CHANNEL, id) for a channel); None when that depends on more than its
        text, the thread's `self` and its frame's fixed locals."""
        fixed = self.sites.fixed[code] if frame is not None else frozenset()
        engine = self.engine
        if isinstance(instr, ir.Send | ir.Recv | ir.TryRecv):
            chan = instr.channel
            if not isinstance(chan, ir.GlobalChannel):
                return None
            at = self._element(chan.base, chan.size, chan.index, th, frame, fixed)
            if at is not None and engine.has_processes and pid:
                at = int(state[S_PROCS][2][pid][PR_CHANS][at][1])  # the process's copy
            return None if at is None else (CHANNEL, at)
        ref: ir.ResourceRef | None = getattr(instr, "resource", None)
        if ref is None:
            return None
        if ref.value is not None:
            if not isinstance(ref.value, ir.Local) or ref.value.slot not in fixed:
                return None
            assert frame is not None
            return self._object_of(frame[F_LOCALS][ref.value.slot])
        if ref.kind not in engine.lock_offset:
            return None
        at = self._element(ref.base, ref.size, ref.index, th, frame, fixed)
        if at is None:
            return None
        block = engine.lock_block * pid if engine.has_processes else 0  # the process's copy
        return DECLARED, block + engine.lock_offset[ref.kind] + at

    def _element(
        self,
        base: int,
        size: int | None,
        index: ir.Expr | None,
        th: Thread,
        frame: Frame | None,
        fixed: frozenset[int],
    ) -> int | None:
        """`base` plus the index of an array's element, when the index is told by
        constants, `self` and fixed parameters alone (None otherwise)."""
        if size is None or index is None:
            return base
        if not _told(index, fixed):
            return None
        locals_ = frame[F_LOCALS] if frame is not None else ()
        try:
            value = compile_expr(index, self.engine.params)(locals_, (), th[T_SELF], ())
        except _INDEX_ERRORS:  # an index it cannot tell: nothing is ruled out
            return None
        if type(value) is not int or not 0 <= value < size:
            return None
        return base + value

    def _object_of(self, value: object) -> tuple[int, int] | None:
        """The object a value refers to, as a (where, at) key; None for another value."""
        if type(value) is not tuple:
            return None
        if len(value) == 2 and value[0] == "obj" and type(value[1]) is int:
            return HEAP, value[1]
        if len(value) == 3 and value[0] == "res" and value[1] in self.engine.lock_offset:
            return DECLARED, self.engine.lock_offset[value[1]] + int(value[2])
        return None

    def _loop_wait(self, state: State, slot: int, loop: str) -> str:
        """Why a loop's task has not started."""
        if self.engine.loop_gone(state, slot):
            return f"cannot start: event loop {loop} has no thread here"
        holder = state[S_LOCKS][slot][L_HOLDER]
        if holder != NO_THREAD:
            return (
                f"cannot start: event loop {loop} is held by "
                f"{self.layout.thread_name(state, holder)}"
            )
        return f"waits for its turn on event loop {loop}"

    def clause(self, ables: list[Able], act: str) -> Could:
        """Who could `act` (`set it`) and why they do not, as a clause a wait's sentence
        ends with. Only those whose own code runs the statement are named; one that would
        only start a thread or task that runs it keeps any of them from being "the only"
        one. "" when no thread's or queued task's own code runs it."""
        direct = [a for a in ables if not a.started]
        if not direct:
            return Could("")
        unsure = len(direct) < len(ables)
        waiter = [a for a in direct if a.why_not == _WAITER]
        others = [a for a in direct if a.why_not != _WAITER]
        if not others:
            if unsure:
                return Could(f": the waiter itself could {act} (at {self._site(waiter[0])})")
            return Could(
                f": the only thread that could {act} is the waiter itself "
                f"(at {self._site(waiter[0])})",
                itself_only=True,
            )
        if len(direct) == 1:
            one = others[0]
            only = "" if unsure else "only "
            return Could(
                f": {only}{one.who} could {act} (at {self._site(one)}), and it {one.why_not}"
            )
        parts = [
            f"the waiter itself (at {self._site(a)})"
            if a.why_not == _WAITER
            else f"{a.who} (at {self._site(a)}) {a.why_not}"
            for a in direct[:NAMED]
        ]
        more = f"; and {len(direct) - NAMED} more" if len(direct) > NAMED else ""
        return Could(f": those that could {act}: {'; '.join(parts)}{more}")

    def _site(self, able: Able) -> str:
        where = location_of(self.sources, able.site).short
        return f"{where}: {statement_text(self.sources, able.site)}"
