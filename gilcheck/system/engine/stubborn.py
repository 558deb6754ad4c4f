"""Persistent (stubborn) sets: in a state where some threads' next steps touch objects no
other thread can touch before them, only those threads' steps are explored.

A set of threads P is closed when no thread outside P can, now or later (before a thread of
P moves), touch what the next steps of P's threads touch: their locks, channels, vars, the
GIL when they take, give up or wait for it, stdout, the threads' lifecycle. The steps of a
closed P are then a persistent set (Godefroid; Valmari's stubborn sets with each thread's
next transitions): every sequence of steps of the other threads commutes with each of
them, and none of those steps can enable or disable them. Exploring only P's steps, from a
P with a step, keeps every deadlock and every reachable violation, provided no thread is
ignored for ever along a cycle: each of P's steps must take its thread strictly forward
in its code (the same function and depth, a higher statement index). Along a cycle of
reduced states the sum of the threads' statement indices would then grow at every step,
so every cycle of the reduced graph holds a fully expanded state (the cycle proviso, kept
under symmetry too: a permutation of threads keeps that sum).

What a thread touches is over-approximated:
- now (`touches`): the objects its current statement names (indices evaluated in its
  frame), what its steps changed (locks released and private locks taken by merged
  steps, vars, channels), the GIL when a step changes it, the thread waits for it or the
  statement is Python code (whose thread may hand the GIL over there), and
  for a return the caller's target;
- from now on (`may_touch`): the objects of every statement reachable from each of its
  frames' current statement, in its code, the functions it can call and the threads it can
  spawn; an index is known when it reads only constants, `self` and locals that no
  reachable statement assigns, and is otherwise every element of its array.

A statement that reads other threads or makes objects (`join`, `spawn`, `atomic`, pools,
handles) touches everything. Programs where the analysis cannot name what a statement
touches (processes, event loops, interrupts, forks, unknown values, objects and channels
made at run time, timed waits, `gil off`) are not reduced.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields, is_dataclass
from typing import TYPE_CHECKING

from gilcheck.semantics import ir
from gilcheck.system.engine.common import _OVER
from gilcheck.system.engine.footprints import plain_value
from gilcheck.system.expr import compile_expr, element
from gilcheck.system.model import STEP, Transition
from gilcheck.system.state import (
    F_CODE,
    F_CTX,
    F_LOCALS,
    F_PC,
    GIL_NORMAL,
    PYTHON,
    RUNNING,
    S_GIL,
    S_THREADS,
    T_FRAMES,
    T_GILMODE,
    T_PHASE,
    T_STATUS,
    State,
    Thread,
)

if TYPE_CHECKING:
    from gilcheck.system.engine.core import Engine

# Object sets are Python ints used as bit sets; EVERYTHING intersects every non-empty set.
EVERYTHING = -1
GIL = 1 << 0
STDOUT = 1 << 1
THREADS = 1 << 2  # a thread's end, which joins and the program's end read
_FIRST_OBJECT = 3

_GIL_STATEMENTS = (
    ir.GilEnter,
    ir.GilExit,
    ir.AllowEnter,
    ir.AllowExit,
    ir.PythonEnter,
    ir.PythonExit,
    ir.AcquireGil,
    ir.ReleaseGil,
)
# Statements that read other threads, start threads or tasks, or make or pass handles and
# objects: they may touch anything.
_TOUCH_EVERYTHING = (
    ir.Join,
    ir.SpawnFn,
    ir.Submit,
    ir.TakeTask,
    ir.FinishTask,
    ir.LoopStart,
    ir.LoopFinish,
    ir.LoopIdle,
    ir.SuspendBegin,
    ir.SuspendEnd,
    ir.AtomicBegin,
    ir.ForkBegin,
    ir.ForkEnd,
    ir.MakeChannel,
    ir.MakeObject,
    ir.CloneHandle,
    ir.DropValue,
)
# The statement indices a statement can go on to, for every statement that can jump: its
# fields naming another statement of the same code (tests/test_stubborn.py checks that no
# other IR field is a statement index).
JUMP_FIELDS: dict[type, tuple[str, ...]] = {
    ir.Jump: ("target",),
    ir.Branch: ("if_false",),
    ir.Choose: ("targets",),
    ir.Recv: ("exit_target",),
    ir.OnceBegin: ("done",),
    ir.AtomicBegin: ("end",),
    ir.ForkBegin: ("end",),
}
_NO_FALL_THROUGH = (ir.Jump, ir.Choose, ir.End, ir.Return, ir.ForkEnd)


def nodes(node: object) -> Iterator[object]:
    """Every IR node inside an instruction (itself included), depth first."""
    if isinstance(node, tuple):
        for item in node:
            yield from nodes(item)
    elif is_dataclass(node) and not isinstance(node, type):
        yield node
        for f in fields(node):
            if f.name != "span":
                yield from nodes(getattr(node, f.name))


def next_statements(instr: ir.Instr, pc: int) -> tuple[int, ...]:
    """The statements a statement at `pc` can go on to in its own code."""
    found: list[int] = [] if isinstance(instr, _NO_FALL_THROUGH) else [pc + 1]
    for name in JUMP_FIELDS.get(type(instr), ()):
        value = getattr(instr, name)
        if isinstance(value, tuple):
            found.extend(value)
        elif value is not None:
            found.append(value)
    return tuple(found)


def _assigned_slots(instr: ir.Instr) -> set[int]:
    """The local slots a statement may assign (every local target inside it, and the slots a
    scope's end drops)."""
    slots = {node.slot for node in nodes(instr) if isinstance(node, ir.LocalTarget)}
    if isinstance(instr, ir.EndScope):
        slots.update(instr.slots)
    return slots


def _stable_index(expr: object, unstable: set[int]) -> bool:
    """Whether an index reads only constants, `self` and locals not in `unstable`."""
    match expr:
        case ir.Const(value=value):
            return isinstance(value, int)
        case ir.SelfIndex():
            return True
        case ir.Local(slot=slot):
            return slot not in unstable
        case ir.UnaryOp(operand=operand):
            return _stable_index(operand, unstable)
        case ir.BinaryOp(left=left, right=right):
            return _stable_index(left, unstable) and _stable_index(right, unstable)
    return False


class StubbornSets:
    """The persistent sets of one engine's program (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._bits: dict[tuple[str, int], int] = {}
        self._reach: dict[tuple[int, int], tuple[frozenset[tuple[int, int]], set[int]]] = {}
        self._may_touch: dict[tuple[int, Thread, bool], int] = {}
        self._evaluators: dict[int, object] = {}
        self._shapes: dict[
            int, tuple[int, tuple[tuple[str, int, int | None, object], ...], object]
        ] = {}
        codes = engine.codes
        self._uses_gil = any(
            isinstance(instr, _GIL_STATEMENTS) or instr.context == ir.Context.PYTHON
            for code in codes
            for instr in code.instrs
        )
        # `main`'s end goes on to the program's end: with `host python` or `atexit` blocks
        # that runs more code (the exit join, finalization, the hooks), which may touch
        # anything; else it only ends the program, which disables every step but makes no
        # deadlock and no violation.
        self._main_end = (
            EVERYTHING if engine.program.host == "python" or engine.atexit_codes else THREADS
        )

    @staticmethod
    def apply(engine: Engine) -> bool:
        """Whether the analysis can name what every statement of the program touches."""
        return engine.footprints_apply() and not (engine.has_pools or engine.watches_windows)

    # ---------------------------------------------------------------- the reduction

    def reduce(self, state: State, out: list[Transition]) -> list[Transition] | None:
        """The steps of the smallest closed set of threads with a step, when that is not
        every thread with a step and each of its steps goes forward; else None."""
        threads = state[S_THREADS]
        if not all(plain_value(v) for v in state[2]):
            return None
        if any(type(target) is not tuple for _, target in out):
            return None  # a violation or a limit is reported from this state as it is
        by_thread: dict[int, list[Transition]] = {}
        for transition in out:
            by_thread.setdefault(transition[0][0], []).append(transition)
        if len(by_thread) < 2:
            return None
        n = len(threads)
        touches: list[int | None] = [None] * n
        may: list[int | None] = [None] * n
        best: set[int] | None = None
        for seed in sorted(by_thread):
            if not self._forward(state, seed, by_thread[seed]):
                continue
            members = {seed}
            now = self._touches_of(state, seed, by_thread, touches)
            grew = True
            while grew and (best is None or len(members) < len(best)):
                grew = False
                for tid in range(n):
                    if tid in members:
                        continue
                    future = may[tid]
                    if future is None:
                        future = may[tid] = self.may_touch(state, tid)
                    if future & now:
                        members.add(tid)
                        now |= self._touches_of(state, tid, by_thread, touches)
                        grew = True
            if best is not None and len(members) >= len(best):
                continue
            moving = [tid for tid in members if tid in by_thread]
            if len(moving) == len(by_thread):
                continue
            if all(self._forward(state, tid, by_thread[tid]) for tid in moving):
                best = members
        if best is None:
            return None
        return [t for t in out if t[0][0] in best]

    def _touches_of(
        self,
        state: State,
        tid: int,
        by_thread: dict[int, list[Transition]],
        cache: list[int | None],
    ) -> int:
        found = cache[tid]
        if found is None:
            found = cache[tid] = self.touches(state, tid, by_thread.get(tid, []))
        return found

    def forward(self, state: State, step: Transition) -> bool:
        """Whether one step takes its thread strictly forward (see `_forward`)."""
        return self._forward(state, step[0][0], (step,))

    def _forward(self, state: State, tid: int, steps: Sequence[Transition]) -> bool:
        """Whether each step is an ordinary step taking the thread strictly forward in the
        same function at the same depth (or a violation, which ends the path)."""
        th = state[S_THREADS][tid]
        frames = th[T_FRAMES]
        if not frames:
            return False
        top = frames[-1]
        for action, target in steps:
            if action[1] != STEP:
                return False
            if type(target) is not tuple:
                continue  # a violation or a limit: no state to come back to
            after = target[S_THREADS][tid][T_FRAMES]
            if len(after) != len(frames):
                return False
            new_top = after[-1]
            if new_top[F_CODE] != top[F_CODE] or new_top[F_PC] <= top[F_PC]:
                return False
        return True

    # ---------------------------------------------------------------- what threads touch

    def touches(self, state: State, tid: int, steps: Sequence[Transition]) -> int:
        """What the thread's next steps (`steps`, empty when it is blocked) touch, or
        what could let it go on when it is blocked."""
        th = state[S_THREADS][tid]
        if th[T_STATUS] in _OVER:
            return 0
        if th[T_STATUS] != RUNNING or not th[T_FRAMES]:
            return EVERYTHING  # a thread that is ending reads every other
        frames = th[T_FRAMES]
        for frame in frames:
            if not all(plain_value(v) for v in frame[F_LOCALS]):
                return EVERYTHING
        frame = frames[-1]
        instr = self.engine.codes[frame[F_CODE]].instrs[frame[F_PC]]
        # In the middle of a statement, the object it waits on may be the one it read when
        # it started (a pinned element), not the one its index names now: every element.
        named_by = frame if th[T_PHASE] == 0 else None
        found = self._statement(state, th, named_by, instr, set(), exact=True)
        if isinstance(instr, ir.End) and len(frames) == 1 and tid == self.engine.main_tid:
            found |= self._main_end
        if self._uses_gil and instr.context != ir.Context.NATIVE:
            # A statement of Python code: the thread holding the GIL can also hand it over
            # here, a step other threads enable by coming to want the GIL.
            found |= GIL
        if isinstance(instr, ir.Return | ir.End) and len(frames) > 1:
            caller = frames[-2]
            call = self.engine.codes[caller[F_CODE]].instrs[caller[F_PC]]
            found |= self._statement(state, th, caller, call, set(), exact=True)
        if th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0:
            found |= GIL if self._uses_gil else 0
        gil = state[S_GIL]
        lock_part, chans, vars_ = state[3], state[4], state[2]
        for _, target in steps:
            if type(target) is not tuple:
                continue
            if target[S_GIL] != gil:
                found |= GIL
            if target[3] is not lock_part:
                found |= self._changed("res", lock_part, target[3])
            if target[4] is not chans:
                found |= self._changed("chan", chans, target[4])
            if target[2] is not vars_:
                found |= self._changed("var", vars_, target[2])
            if len(target[S_THREADS]) != len(state[S_THREADS]):
                return EVERYTHING
            if target[S_THREADS][tid][T_STATUS] != th[T_STATUS]:
                found |= THREADS  # a merged end of the thread
        return found

    def may_touch(self, state: State, tid: int) -> int:
        """What the thread may touch from now on, before any other thread of a closed set
        moves (see the module's docstring)."""
        th = state[S_THREADS][tid]
        key = (tid, th, state[S_GIL] == tid)
        found = self._may_touch.get(key)
        if found is not None:
            return found
        found = self._may_touch_now(state, tid, th)
        if len(self._may_touch) > 1 << 18:
            self._may_touch.clear()
        self._may_touch[key] = found
        return found

    def _may_touch_now(self, state: State, tid: int, th: Thread) -> int:
        status = th[T_STATUS]
        if status in _OVER:
            return 0
        if status != RUNNING:
            return EVERYTHING
        frames = th[T_FRAMES]
        if not frames:
            return 0
        found = 0
        if self._uses_gil and (
            th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0 or state[S_GIL] == tid
        ):
            found |= GIL
        for depth, frame in enumerate(frames):
            if not all(plain_value(v) for v in frame[F_LOCALS]):
                return EVERYTHING
            python_frame = frame[F_CTX] == PYTHON
            statements, assigned = self._reachable(frame[F_CODE], frame[F_PC])
            for code, pc in statements:
                instr = self.engine.codes[code].instrs[pc]
                own = code == frame[F_CODE]
                if self._uses_gil and (
                    instr.context == ir.Context.PYTHON
                    or (instr.context == ir.Context.INHERIT and (python_frame or not own))
                ):
                    found |= GIL
                # An index in this frame's own code is known from its locals when no
                # reachable statement assigns them; in other codes it is not.
                if own:
                    found |= self._statement(state, th, frame, instr, assigned, exact=False)
                    if isinstance(instr, ir.End) and depth == 0 and tid == self.engine.main_tid:
                        found |= self._main_end
                else:
                    found |= self._statement(state, th, None, instr, set(), exact=False)
                if found == EVERYTHING:
                    return EVERYTHING
        return found

    def _reachable(self, code: int, pc: int) -> tuple[frozenset[tuple[int, int]], set[int]]:
        """The statements reachable from `pc` in `code` and in the codes it calls or spawns
        (as (code, pc)), and the local slots the reachable statements of `code` assign."""
        key = (code, pc)
        found = self._reach.get(key)
        if found is not None:
            return found
        codes = self.engine.codes
        seen: set[tuple[int, int]] = set()
        todo = [(code, pc)]
        while todo:
            at = todo.pop()
            if at in seen:
                continue
            seen.add(at)
            c, i = at
            instrs = codes[c].instrs
            instr = instrs[i]
            for j in next_statements(instr, i):
                if 0 <= j < len(instrs):
                    todo.append((c, j))
            if isinstance(instr, ir.CallFn | ir.SpawnFn | ir.Submit):
                todo.append((instr.function, 0))
        assigned: set[int] = set()
        for c, i in seen:
            if c == code:
                assigned |= _assigned_slots(codes[c].instrs[i])
        found = (frozenset(seen), assigned)
        self._reach[key] = found
        return found

    def _statement(
        self,
        state: State,
        th: Thread,
        frame: tuple[object, ...] | None,
        instr: ir.Instr,
        unstable: set[int],
        exact: bool,
    ) -> int:
        """What one statement touches. With `exact`, indices are evaluated in `frame` as
        they are now (the thread's next statement); else only indices of locals not in
        `unstable` are (None: no frame, every element)."""
        found, refs = self._shape(instr)
        for kind, base, size, index in refs:
            found |= self._elements(kind, base, size, index, state, th, frame, unstable, exact)
        return found

    def _shape(
        self, instr: ir.Instr
    ) -> tuple[int, tuple[tuple[str, int, int | None, object], ...]]:
        """What a statement touches whatever its frame (a set), and the objects it names
        (kind, first slot, array size, index), computed once per statement."""
        key = id(instr)
        found = self._shapes.get(key)
        if found is not None:
            return found[0], found[1]
        found = (*self._shape_of(instr), instr)  # (the statement kept alive with its id)
        self._shapes[key] = found
        return found[0], found[1]

    def _shape_of(
        self, instr: ir.Instr
    ) -> tuple[int, tuple[tuple[str, int, int | None, object], ...]]:
        if isinstance(instr, _TOUCH_EVERYTHING):
            return EVERYTHING, ()
        found = 0
        if isinstance(instr, _GIL_STATEMENTS):
            found |= GIL
        if isinstance(instr, ir.Print):
            found |= STDOUT | (GIL if self._uses_gil else 0)
        if isinstance(instr, ir.End):
            found |= THREADS
        refs: list[tuple[str, int, int | None, object]] = []
        for node in nodes(instr):
            match node:
                case ir.HandleRef() | ir.ThreadRef() | ir.ParamRef():
                    return EVERYTHING, ()
                case ir.Builtin(name=name) if name not in ("len",):
                    return EVERYTHING, ()
                case ir.ResourceRef(value=value, kind=kind, base=base, size=size, index=index):
                    if value is not None:
                        return EVERYTHING, ()
                    refs.append(("res", self.engine.lock_offset[kind] + base, size, index))
                case ir.GlobalChannel(base=base, size=size, index=index):
                    refs.append(("chan", base, size, index))
                case (
                    ir.GlobalVar(base=base, size=size, index=index)
                    | ir.GlobalTarget(base=base, size=size, index=index)
                ):
                    refs.append(("var", base, size, index))
        return found, tuple(refs)

    def _elements(
        self,
        kind: str,
        base: int,
        size: int | None,
        index: object,
        state: State,
        th: Thread,
        frame: tuple[object, ...] | None,
        unstable: set[int],
        exact: bool,
    ) -> int:
        """The bits of `name[index]`: its element when the index is known, else all."""
        if size is None or index is None:
            return self._bit(kind, base)
        known = frame is not None and (exact or _stable_index(index, unstable))
        if known:
            try:
                fn = self._evaluator(index)
                value = fn(frame[F_LOCALS], state[2], th[7], state[4])  # type: ignore[operator, index]
                return self._bit(kind, element(base, size, value, ""))
            except Exception:
                pass  # an index out of range: the step reports it; count every element
        found = 0
        for i in range(size):
            found |= self._bit(kind, base + i)
        return found

    def _evaluator(self, expr: object) -> object:
        key = id(expr)
        fn = self._evaluators.get(key)
        if fn is None:
            fn = self._evaluators[key] = (compile_expr(expr, self.engine.params), expr)  # type: ignore[arg-type]
        return fn[0]  # type: ignore[index]

    def _changed(self, kind: str, before: tuple[object, ...], after: tuple[object, ...]) -> int:
        found = 0
        if len(before) != len(after):
            return EVERYTHING
        for i, (a, b) in enumerate(zip(before, after, strict=True)):
            if a is not b and a != b:
                found |= self._bit(kind, i)
        return found

    def _bit(self, kind: str, index: int) -> int:
        key = (kind, index)
        bit = self._bits.get(key)
        if bit is None:
            bit = self._bits[key] = 1 << (_FIRST_OBJECT + len(self._bits))
        return bit
