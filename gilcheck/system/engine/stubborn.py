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

What a thread touches is over-approximated from the thread alone, so that the search in
Python and the C loop choose alike from facts kept per thread (`ThreadFacts`):
- next (`touch`): the objects its current statement names (an index evaluated in its frame
  where it reads only locals, constants and `self`) and those of the statements merging
  may run after it in the same step (`_chain`: releases, private locks, a scope's or the
  thread's end); the GIL when one of them takes, gives up or needs it or is Python code
  (whose thread may hand the GIL over there, a step others enable by coming to want it),
  or when the thread waits for the GIL; for a return, all it may touch from then on;
- from now on (`future`): the objects of every statement reachable from each of its
  frames' current statement, in its code, the functions it can call and the threads it can
  spawn; an index is known when it reads only constants, `self` and locals that no
  reachable statement assigns, and is otherwise every element of its array.

A `join` reads of other threads only the joined thread's end, and a `spawn` adds a thread
whose steps its spawner's future already holds: both touch the threads' ends (THREADS), as
every thread's end (or outermost `return`) does. `main`'s end with `host rust` ends the
program, which disables every other thread's steps: it touches PROGRAM_END, which every
thread that can still move may touch. An `atomic` block and the end of `main` with `host python` or
`atexit` blocks (the exit join, finalization, the hooks) touch everything. Programs where
the analysis cannot name what a statement touches are not reduced: with processes, event
loops, pools, interrupts, forks, unknown values, objects and channels made at run time,
timed waits, `try_acquire`, `release_gil`, `gil off`, or values other than plain data and
thread handles (channel handles, Python objects, resources passed as values), which could
reach vars.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from gilcheck.semantics import ir
from gilcheck.semantics.ownership import nodes
from gilcheck.system.engine.common import _OVER
from gilcheck.system.engine.footprints import plain_value
from gilcheck.system.expr import Evaluator, compile_expr, element
from gilcheck.system.model import Transition
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
    T_SELF,
    T_STATUS,
    State,
    Thread,
)

if TYPE_CHECKING:
    from gilcheck.system.engine.core import Engine

StepT = TypeVar("StepT", bound=tuple[Any, Any])  # a step: (action, target)

# Object sets are words of 64 bits (object k on bit k mod 64, so that C keeps them in a
# word: two objects on one bit only make more threads depend on each other); EVERYTHING
# intersects every non-empty set.
WORD = (1 << 64) - 1
EVERYTHING = WORD
GIL = 1 << 0
STDOUT = 1 << 1
THREADS = 1 << 2  # a thread's end, which joins read
# The program's end (`main`'s end with `host rust`): it disables every other thread's
# steps, so every thread that can still move may touch it.
PROGRAM_END = 1 << 3
_FIRST_OBJECT = 4

_GIL_STATEMENTS = (*ir.GIL_BLOCK_EDGES, ir.AcquireGil, ir.ReleaseGil)
# Statements that read other threads, start threads or tasks, or make or pass handles and
# objects: they may touch anything.
_TOUCH_EVERYTHING = (
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


def next_statements(instr: ir.Instr, pc: int) -> tuple[int, ...]:
    """The statements a statement at `pc` can go on to in its own code (a branch on a
    constant, as `while true` makes, goes one way only)."""
    if (
        isinstance(instr, ir.Branch)
        and isinstance(instr.cond, ir.Const)
        and isinstance(instr.cond.value, bool | int)
    ):
        return (pc + 1,) if instr.cond.value else (instr.if_false,)
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


def _stable_index(expr: object, unstable: frozenset[int] | set[int]) -> bool:
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


def assigned_before(
    instrs: Sequence[ir.Instr], start: int, within: Callable[[int], bool]
) -> dict[int, frozenset[int]]:
    """For each statement reachable from `start` through statements `within` allows (and
    `start` itself): the local slots some path from `start` to it may have assigned before
    it runs (a scope's end counts as assigning the slots it drops). `start` runs first with
    the locals as they are; where a loop comes back to it, its entry holds those of the
    loop."""
    before: dict[int, frozenset[int]] = {start: frozenset()}
    todo = [start]
    while todo:
        at = todo.pop()
        out = before[at] | _assigned_slots(instrs[at])
        for j in next_statements(instrs[at], at):
            if not 0 <= j < len(instrs) or not within(j):
                continue
            known = before.get(j)
            if known is None or not out <= known:
                before[j] = out if known is None else known | out
                todo.append(j)
    return before


class _Ref(NamedTuple):
    """An object (or array of objects) a statement names. Its bits: the declared locks,
    then channels, then vars, each at its place (the same in every search, whatever order
    threads are met in)."""

    first: int  # the bit of its first element
    size: int | None  # its elements (None: one object)
    subscript: ir.Expr | None  # its index
    evaluate: Evaluator | None  # the index's, where it reads only constants, `self`, locals
    every: int  # the bits of all its elements

    def elements(
        self, th: Thread, frame: tuple[object, ...] | None, unstable: frozenset[int] | set[int]
    ) -> int:
        """Its element when `frame`'s locals (not in `unstable`) name one, else all."""
        if self.evaluate is None or frame is None or not _stable_index(self.subscript, unstable):
            return self.every
        try:
            value = self.evaluate(frame[F_LOCALS], (), th[T_SELF], ())  # type: ignore[arg-type]
            return 1 << element(self.first, self.size, value, "")
        except Exception:
            return self.every  # an index out of range: the step reports it


class ThreadFacts(NamedTuple):
    """What the reduction needs of one thread (a function of the thread alone)."""

    position: int  # (depth, code, statement) packed (`_position`), -1 without a frame
    touch: int  # what its next steps touch (its statement and those merged after it)
    waits: int  # what could let it go on while it is blocked (its statement's objects)
    future: int  # what it may touch from now on (while it does not hold the GIL)
    future_holding: int  # the same while it holds the GIL


# An ended thread's position: past every other, as no thread starts again once ended (so a
# step that ends its thread goes forward).
END_POSITION = 1 << 62
NO_FACTS = ThreadFacts(END_POSITION, 0, 0, 0, 0)  # an ended thread
ALL_FACTS = ThreadFacts(-1, EVERYTHING, EVERYTHING, EVERYTHING, EVERYTHING)  # one ending
_CODE_SHIFT = 24  # statement indices below 2**24, codes below 2**16, depths below 2**23


def _position(depth: int, code: int, pc: int) -> int:
    return (depth << 40) | (code << _CODE_SHIFT) | pc


def forward(before: int, after: int) -> bool:
    """Whether a thread moved strictly forward: the same function at the same depth, a
    higher statement index, or to its end (positions as `ThreadFacts.position`; the C
    loop's `moves_forward` is the same)."""
    if before < 0 or after < 0 or before == END_POSITION:
        return False
    if after == END_POSITION:
        return True
    return before >> _CODE_SHIFT == after >> _CODE_SHIFT and after > before


def choose(
    has_steps: Sequence[bool],
    all_forward: Sequence[bool],
    touch: Sequence[int],
    future: Sequence[int],
) -> list[bool] | None:
    """The threads whose steps a state explores: the smallest closed set with a step (by
    size, then by its first thread), when it leaves out a thread with a step and each of
    its threads with a step goes forward; None: every step (the C loop does the same, in
    `stubborn_reduce`).

    A set grows from a thread with a step by every thread that may touch what its members
    touch next (`future[u] & touch[member]`) until none is left to add. `touch` holds for
    each thread what its steps touch, or for a thread without a step what could let it go
    on (`ThreadFacts.waits`).
    """
    n = len(has_steps)
    moving = sum(has_steps)
    if moving < 2:
        return None
    best: list[bool] | None = None
    best_size = n + 1
    for seed in range(n):
        if not has_steps[seed] or not all_forward[seed]:
            continue
        members = [False] * n
        members[seed] = True
        size = 1
        now = touch[seed]
        grew = True
        while grew and size < best_size:
            grew = False
            for u in range(n):
                if not members[u] and future[u] & now:
                    members[u] = True
                    size += 1
                    now |= touch[u]
                    grew = True
        if size >= best_size:
            continue
        if sum(1 for u in range(n) if members[u] and has_steps[u]) == moving:
            continue
        if all(all_forward[u] for u in range(n) if members[u] and has_steps[u]):
            best, best_size = members, size
    return best


def inert_value(value: object) -> bool:
    """Whether a value is plain data or a thread handle: copying or dropping it changes
    nothing else (a channel handle counts its channel's senders)."""
    if type(value) is tuple and len(value) == 2 and value[0] == "thread":
        return True
    return plain_value(value)


def keep_steps(
    steps: Sequence[StepT],
    facts: Sequence[ThreadFacts],
    moved_to: Callable[[StepT], int],
    gil: int,
) -> list[StepT] | None:
    """The steps `choose` keeps of a state's steps (violations and limits left out by the
    caller), from its threads' facts, where each step takes its thread (`moved_to`: the
    position after it) and which thread holds the GIL; None: all of them. The interpreter
    (`StubbornSets.reduce`) and the step table (on records) both choose here."""
    n = len(facts)
    has_steps = [False] * n
    all_forward = [True] * n
    for step in steps:
        tid = step[0][0]
        has_steps[tid] = True
        if all_forward[tid]:
            all_forward[tid] = forward(facts[tid].position, moved_to(step))
    chosen = choose(
        has_steps,
        all_forward,
        [f.touch if has_steps[tid] else f.waits for tid, f in enumerate(facts)],
        [f.future_holding if tid == gil else f.future for tid, f in enumerate(facts)],
    )
    if chosen is None:
        return None
    return [step for step in steps if chosen[step[0][0]]]


def plain_program(engine: Engine) -> bool:
    """Whether every value the program can hold is inert (`inert_value`: no channel
    handle, Python object or resource passed as a value), so that no var can hold
    anything else."""
    for ci, code in enumerate(engine.codes):
        for pc, instr in enumerate(code.instrs):
            if isinstance(instr, _TOUCH_EVERYTHING) and not isinstance(instr, ir.AtomicBegin):
                return False
            if engine.prepared[ci][pc].makes_pyobj:
                return False
            named = {id(getattr(instr, "channel", None))}
            for node in nodes(instr):
                match node:
                    case ir.HandleRef() | ir.ThreadRef():
                        if not isinstance(instr, ir.Join):
                            return False
                    case ir.Builtin(name=name, args=args):
                        if name != "len":
                            return False
                        named.update(id(a) for a in args)
                    case ir.GlobalChannel() if id(node) not in named:
                        return False
                    case ir.Const(value=value) if not plain_value(value):
                        return False
    return True


class StubbornSets:
    """The persistent sets of one engine's program (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        initial = engine.initial_state()
        locks, chans = len(initial[3]), len(initial[4])
        self._offsets = {"res": 0, "chan": locks, "var": locks + chans}
        self._reach: dict[
            tuple[int, int], tuple[frozenset[tuple[int, int]], dict[int, frozenset[int]]]
        ] = {}
        self._chains: dict[tuple[int, int], dict[int, frozenset[int]]] = {}
        self._facts: dict[Thread, ThreadFacts] = {}
        self._shapes: dict[tuple[int, int], tuple[int, tuple[_Ref, ...]]] = {}
        codes = engine.codes
        self._uses_gil = any(
            isinstance(instr, _GIL_STATEMENTS) or instr.context == ir.Context.PYTHON
            for code in codes
            for instr in code.instrs
        )
        # `main`'s end goes on to the program's end: with `host python` or `atexit` blocks
        # that runs more code (the exit join, finalization, the hooks), which may touch
        # anything; else it ends the program, which disables every other thread's steps.
        self._main_end = (
            EVERYTHING
            if engine.program.host == "python" or engine.atexit_codes
            else THREADS | PROGRAM_END
        )
        # The codes `main` runs as its outermost frame: its own, and its `atexit` blocks.
        self._main_codes = {
            info.code for info in engine.program.threads if info.name == "main"
        } | set(engine.atexit_codes)

    @staticmethod
    def apply(engine: Engine) -> bool:
        """Whether the analysis can name what every statement of the program touches."""
        return (
            engine.footprints_apply()
            and not (engine.has_pools or engine.watches_windows)
            and plain_program(engine)
        )

    # ---------------------------------------------------------------- the reduction

    def reduce(self, state: State, out: list[Transition]) -> list[Transition] | None:
        """The steps `choose` keeps of a state's steps `out`, or None for all of them."""
        if any(type(target) is not tuple for _, target in out):
            return None  # a violation or a limit is reported from this state as it is
        facts = [self.facts(th) for th in state[S_THREADS]]

        def moved_to(step: Transition) -> int:
            (tid, _, _), target = step
            return self.facts(target[S_THREADS][tid]).position  # type: ignore[index, arg-type]

        return keep_steps(out, facts, moved_to, state[S_GIL])

    def forward(self, state: State, step: Transition) -> bool:
        """Whether a step takes its thread strictly forward (with persistent sets on, an
        ample step is taken only then: the cycle proviso)."""
        action, target = step
        if type(target) is not tuple:
            return False
        tid = action[0]
        before = self.facts(state[S_THREADS][tid]).position
        return forward(before, self.facts(target[S_THREADS][tid]).position)

    # ---------------------------------------------------------------- what threads touch

    def facts(self, th: Thread) -> ThreadFacts:
        """The reduction's facts of a thread (see `ThreadFacts`), computed once."""
        found = self._facts.get(th)
        if found is None:
            if len(self._facts) > 1 << 18:
                self._facts.clear()
            found = self._facts[th] = self._facts_of(th)
        return found

    def _facts_of(self, th: Thread) -> ThreadFacts:
        status = th[T_STATUS]
        if status in _OVER:
            return NO_FACTS
        frames = th[T_FRAMES]
        if status != RUNNING or not frames:
            return ALL_FACTS  # a thread that is ending reads every other
        for frame in frames:
            if not all(inert_value(v) for v in frame[F_LOCALS]):
                return ALL_FACTS
        top = frames[-1]
        position = _position(len(frames), top[F_CODE], top[F_PC])
        future = self._may_touch(th)
        waits, touch = self._touch(th, future)
        future |= PROGRAM_END  # (its steps end with the program)
        holding = future | GIL if self._uses_gil else future
        return ThreadFacts(position, _fold(touch), _fold(waits), _fold(future), _fold(holding))

    def _touch(self, th: Thread, future: int) -> tuple[int, int]:
        """What could let the thread go on, and what its next steps touch (see the
        module's docstring; `future`: what it may touch from now on)."""
        frames = th[T_FRAMES]
        frame = frames[-1]
        code, pc = frame[F_CODE], frame[F_PC]
        instrs = self.engine.codes[code].instrs
        # In the middle of a statement, the object it waits on may be the one it read when
        # it started (a pinned element), not the one its index names now: every element.
        named_by = frame if th[T_PHASE] == 0 else None
        found = self._statement(th, named_by, code, pc, set())
        if self._uses_gil and (th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0):
            found |= GIL
        waits = found
        chain = self._chain(code, pc)
        for at, assigned in chain.items():
            found |= self._statement(th, frame, code, at, assigned)
        if any(isinstance(instrs[at], ir.End | ir.Return) for at in (pc, *chain)):
            if len(frames) > 1:
                found |= future  # a return: the caller's target, and on
            elif code in self._main_codes:
                found |= self._main_end
        return waits, found

    def _chain(self, code: int, pc: int) -> dict[int, frozenset[int]]:
        """The statements merging may run after the one at `pc` in the same step (local
        statements reachable from it through local statements), each with the local slots
        assigned before it (`assigned_before`)."""
        key = (code, pc)
        found = self._chains.get(key)
        if found is None:
            prepared = self.engine.prepared[code]
            instrs = self.engine.codes[code].instrs
            found = assigned_before(instrs, pc, lambda at: prepared[at].local)
            del found[pc]  # (the statement itself runs with its locals as they are)
            self._chains[key] = found
        return found

    def _may_touch(self, th: Thread) -> int:
        """What the thread may touch from now on (see the module's docstring), but for the
        GIL it holds."""
        frames = th[T_FRAMES]
        found = 0
        if self._uses_gil and (th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0):
            found |= GIL
        for depth, frame in enumerate(frames):
            python_frame = frame[F_CTX] == PYTHON
            others, own = self._reachable(frame[F_CODE], frame[F_PC])
            # This frame's statements: an index is known from its locals when no statement
            # before it on the way there assigns them.
            code = frame[F_CODE]
            for pc, before in own.items():
                instr = self.engine.codes[code].instrs[pc]
                if self._uses_gil and instr.context == ir.Context.INHERIT and python_frame:
                    found |= GIL
                found |= self._statement(th, frame, code, pc, before)
                if (
                    isinstance(instr, ir.End | ir.Return)
                    and depth == 0
                    and code in self._main_codes
                ):
                    found |= self._main_end
            # Those of the frames it may call or start: every element of an array.
            for code, pc in others:
                instr = self.engine.codes[code].instrs[pc]
                if self._uses_gil and instr.context == ir.Context.INHERIT:
                    found |= GIL
                found |= self._statement(th, None, code, pc, set())
        return found

    def _reachable(
        self, code: int, pc: int
    ) -> tuple[frozenset[tuple[int, int]], dict[int, frozenset[int]]]:
        """The statements reachable from `pc` through the functions it calls or spawns, as
        (code, pc) (a function that calls itself, or its thread's own code called again,
        counts here as another frame), and those of this frame alone (its own code, without
        calls), each with the local slots assigned before it (`assigned_before`)."""
        key = (code, pc)
        found = self._reach.get(key)
        if found is not None:
            return found
        codes = self.engine.codes
        own = assigned_before(codes[code].instrs, pc, lambda _: True)
        seen: set[tuple[int, int]] = set()
        todo = [
            (instr.function, 0)
            for at in own
            if isinstance(instr := codes[code].instrs[at], ir.CallFn | ir.SpawnFn | ir.Submit)
        ]
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
        found = (frozenset(seen), own)
        self._reach[key] = found
        return found

    def _statement(
        self,
        th: Thread,
        frame: tuple[object, ...] | None,
        code: int,
        pc: int,
        unstable: frozenset[int] | set[int],
    ) -> int:
        """What one statement touches: what it touches whatever its frame, and each object
        it names, an index evaluated in `frame` where it reads only constants, `self` and
        locals not in `unstable` (None: no frame, every element of the array)."""
        found, refs = self._shape(code, pc)
        for ref in refs:
            found |= ref.elements(th, frame, unstable)
        return found

    def _shape(self, code: int, pc: int) -> tuple[int, tuple[_Ref, ...]]:
        """What a statement touches whatever its frame, and the objects it names, worked
        out once per statement."""
        found = self._shapes.get((code, pc))
        if found is None:
            found = self._shapes[(code, pc)] = self._shape_of(code, pc)
        return found

    def _shape_of(self, code: int, pc: int) -> tuple[int, tuple[_Ref, ...]]:
        instr = self.engine.codes[code].instrs[pc]
        if isinstance(instr, _TOUCH_EVERYTHING):
            return EVERYTHING, ()
        found = 0
        if self._uses_gil and (
            isinstance(instr, (*_GIL_STATEMENTS, ir.Print))
            or instr.context == ir.Context.PYTHON
            or self.engine.prepared[code][pc].makes_pyobj
        ):
            found |= GIL
        if isinstance(instr, ir.Print):
            found |= STDOUT
        # A thread's end is what a `join` reads of the thread it joins; a `spawn` adds a
        # thread, whose own steps are among what its spawner may touch (`_reachable`).
        if isinstance(instr, ir.End | ir.Return | ir.Join | ir.SpawnFn):
            found |= THREADS
        refs: list[_Ref] = []
        for node in nodes(instr):
            match node:
                case ir.HandleRef() | ir.ThreadRef() if isinstance(instr, ir.Join):
                    pass  # the joined thread: its end (THREADS)
                case ir.HandleRef() | ir.ThreadRef() | ir.ParamRef():
                    return EVERYTHING, ()
                case ir.Builtin(name=name) if name not in ("len",):
                    return EVERYTHING, ()
                case ir.ResourceRef(value=value, kind=kind, base=base, size=size, index=index):
                    if value is not None:
                        return EVERYTHING, ()
                    refs.append(self._ref("res", self.engine.lock_offset[kind] + base, size, index))
                case ir.GlobalChannel(base=base, size=size, index=index):
                    refs.append(self._ref("chan", base, size, index))
                case (
                    ir.GlobalVar(base=base, size=size, index=index)
                    | ir.GlobalTarget(base=base, size=size, index=index)
                ):
                    refs.append(self._ref("var", base, size, index))
        return found, tuple(refs)

    def _ref(self, kind: str, base: int, size: int | None, index: ir.Expr | None) -> _Ref:
        """An object a statement names: `name[index]` of `size` elements from `base`."""
        first = _FIRST_OBJECT + self._offsets[kind] + base
        if size is None or index is None:
            return _Ref(first, None, None, None, 1 << first)
        # Only an index of constants, `self` and locals can be known from a frame.
        evaluate = compile_expr(index) if _stable_index(index, frozenset()) else None
        return _Ref(first, size, index, evaluate, ((1 << size) - 1) << first)


def _fold(mask: int) -> int:
    """A set of objects as a word: object k on bit k mod 64."""
    word = 0
    while mask:
        word |= mask & WORD
        mask >>= 64
    return word
