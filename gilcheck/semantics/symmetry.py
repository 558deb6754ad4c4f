"""Which thread arrays are symmetric: identical threads that can be permuted with what they own.

A `thread worker[N]` array is symmetric when its index `self` is used only as a scalarset
(Murphi's word): as the index of arrays of exactly N elements that nothing else indexes
any other way, compared with `==`/`!=` to another such index, stored in locals and sent
on channels that carry nothing else. Then permuting the workers together with their
elements of those arrays (and every copy of their index) maps each reachable state to
one that behaves the same, so one state per orbit is enough for every deadlock, assert,
panic and misuse.

An index may also be used as `(i + k) % N` (k a constant, N the array's size), as the
dining philosophers name their right fork: then only rotations (thread i to (i + r) % N,
with its elements and every copy of an index) map runs to runs, and the array is
reduced by rotations alone (`SymmetricArray.rotational`).

Anything else `self` could reveal (other arithmetic, comparison with a constant or with
`<`, printing, branching on it, passing it to a function, or another thread naming
`worker[0]`) breaks the symmetry, and the array is explored as it is. The check is
conservative: an array it cannot prove symmetric is never reduced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import assert_never

from gilcheck.semantics import ir
from gilcheck.source import Span

ROTATIONS = " (rotations)"
"""How reports name a thread array reduced by rotations alone: "philosopher[5] (rotations)"."""

ROTATION_LIMIT = 16
MAX_OFFSET = 1 << 62
"""The largest k of `(i + k) % N` taken as a rotation: `i + k` never overflows for any
thread (an overflow is a panic for some threads only, which no rotation maps)."""
"""The largest array reduced by rotations: a representative compares every rotation."""

# How an array is named in the analysis: ("var", base) | ("lock", kind, base) |
# ("chan", base) | ("thread", thread index).
ArrayKey = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SymmetricArray:
    """A thread array proven symmetric, and everything that moves with its threads."""

    thread: int  # index into Program.threads
    name: str
    code: int  # the code its threads run
    size: int
    var_arrays: tuple[int, ...]  # var slot bases of arrays indexed by the thread's index
    lock_arrays: tuple[tuple[str, int], ...]  # (kind, base within kind) of such arrays
    chan_arrays: tuple[int, ...]  # channel id bases of such arrays
    index_locals: frozenset[tuple[int, int]]  # (code, slot): locals holding such an index
    index_chans: frozenset[int]  # channel ids whose messages are such indices
    # (code, pc) of sends of such an index: a rendezvous sender holds its offer meanwhile
    index_sends: frozenset[tuple[int, int]] = frozenset()
    # The index is also used as `(i + k) % N`: only rotations of the threads (i to
    # (i + r) % N, with their elements) map runs to runs, not every permutation.
    rotational: bool = False


@dataclass(frozen=True, slots=True)
class Asymmetry:
    """Why a thread array is not reduced: the first use of its index that breaks symmetry."""

    name: str
    reason: str
    span: Span | None = None


@dataclass(frozen=True, slots=True)
class SymmetryFacts:
    """The result of the analysis for every thread array of a program."""

    arrays: tuple[SymmetricArray, ...] = ()
    refused: tuple[Asymmetry, ...] = ()


class _Broken(Exception):
    def __init__(self, reason: str, span: Span | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.span = span


@dataclass
class _Facts:
    """What one pass over the program learns about one thread array's index."""

    locals_: set[tuple[int, int]] = field(default_factory=set)
    chans: set[ArrayKey] = field(default_factory=set)  # channel arrays carrying indices
    indexed_by_self: set[ArrayKey] = field(default_factory=set)
    indexed_otherwise: dict[ArrayKey, Span | None] = field(default_factory=dict)
    plain_locals: set[tuple[int, int]] = field(default_factory=set)
    plain_chans: dict[ArrayKey, Span | None] = field(default_factory=dict)
    sends: set[tuple[int, int]] = field(default_factory=set)
    rotates: bool = False  # an index is used as `(i + k) % N`


def find_symmetries(program: ir.Program) -> SymmetryFacts:
    """The thread arrays of `program` that can be reduced by symmetry, and why others cannot."""
    arrays: list[SymmetricArray] = []
    refused: list[Asymmetry] = []
    claimed: set[ArrayKey] = set()
    for ti, info in enumerate(program.threads):
        if info.size is None or info.size < 2:
            continue
        try:
            found = _analyse(program, ti)
        except _Broken as broken:
            refused.append(Asymmetry(info.name, broken.reason, broken.span))
            continue
        keys = set(found.indexed_by_self) | set(found.chans)
        if keys & claimed:
            refused.append(
                Asymmetry(info.name, "it shares an array with another symmetric thread array")
            )
            continue
        claimed |= keys
        arrays.append(_symmetric(program, ti, found))
    return SymmetryFacts(tuple(arrays), tuple(refused))


def _symmetric(program: ir.Program, ti: int, facts: _Facts) -> SymmetricArray:
    info = program.threads[ti]
    assert info.size is not None
    chan_bases = {c.base for c in program.channels}
    index_chans: set[int] = set()
    for key in facts.chans:
        base = int(key[1])  # type: ignore[call-overload]
        size = next(c.size or 1 for c in program.channels if c.base == base)
        index_chans.update(range(base, base + size))
    return SymmetricArray(
        thread=ti,
        name=info.name,
        code=info.code,
        size=info.size,
        var_arrays=tuple(sorted(int(k[1]) for k in facts.indexed_by_self if k[0] == "var")),  # type: ignore[call-overload]
        lock_arrays=tuple(
            sorted((str(k[1]), int(k[2])) for k in facts.indexed_by_self if k[0] == "lock")  # type: ignore[call-overload]
        ),
        chan_arrays=tuple(
            sorted(
                int(k[1])  # type: ignore[call-overload]
                for k in facts.indexed_by_self
                if k[0] == "chan" and int(k[1]) in chan_bases  # type: ignore[call-overload]
            )
        ),
        index_locals=frozenset(facts.locals_),
        index_chans=frozenset(index_chans),
        index_sends=frozenset(facts.sends),
        rotational=facts.rotates,
    )


def _analyse(program: ir.Program, ti: int) -> _Facts:
    """Facts about thread array `ti`'s index, to a fixpoint; raises _Broken on a bad use."""
    info = program.threads[ti]
    if any(kind in ("finalizer", "signal") for kind, _ in program.hooks):
        raise _Broken("the program has `finalizer` or `signal` blocks")
    if program.params:
        raise _Broken("the program has params")
    facts = _Facts()
    while True:
        # Each pass starts from what the passes before learnt of where indexes go (locals,
        # channels), and judges every use afresh: a use judged before a channel was known
        # to carry indexes (`let a = recv c` in a thread declared before the senders) is
        # judged again with it.
        before = (len(facts.locals_), len(facts.chans))
        facts = _Facts(locals_=set(facts.locals_), chans=set(facts.chans))
        for ci, code in enumerate(program.codes):
            walker = _Walker(program, ti, ci, info.code, facts)
            for pc, instr in enumerate(code.instrs):
                walker.pc = pc
                walker.instr(instr)
        if (len(facts.locals_), len(facts.chans)) == before:
            break
    for key in facts.indexed_by_self:
        if key in facts.indexed_otherwise:
            raise _Broken(
                f"{_describe(program, key)} is indexed by something other than `self`",
                facts.indexed_otherwise[key],
            )
    for slot in facts.locals_ & facts.plain_locals:
        name = program.codes[slot[0]].local_names[slot[1]]
        raise _Broken(f"the local `{name}` holds both `self` and other values")
    for key in facts.chans:
        if key in facts.plain_chans:
            raise _Broken(
                f"{_describe(program, key)} carries both `self` and other values",
                facts.plain_chans[key],
            )
    if ("thread", ti) in facts.indexed_otherwise:
        raise _Broken(
            f"another thread names one `{info.name}` by number",
            facts.indexed_otherwise[("thread", ti)],
        )
    if facts.rotates and (info.size or 0) > ROTATION_LIMIT:
        raise _Broken(
            f"`self` is used as `(i + k) % N`, and rotations of more than {ROTATION_LIMIT} "
            "threads are not tried (each state would be compared in every rotation)"
        )
    return facts


def _describe(program: ir.Program, key: ArrayKey) -> str:
    kind = key[0]
    if kind == "var":
        name = next(v.name for v in program.vars if v.base == key[1])
    elif kind == "lock":
        name = next(r.name for r in program.resources if (r.kind, r.base) == key[1:])
    elif kind == "chan":
        name = next(c.name for c in program.channels if c.base == key[1])
    else:
        name = program.threads[int(key[1])].name  # type: ignore[call-overload]
    return f"`{name}`"


class _Walker:
    """One code unit's instructions: which expressions hold the thread array's index."""

    def __init__(self, program: ir.Program, ti: int, ci: int, own_code: int, facts: _Facts) -> None:
        self.program = program
        self.ti = ti
        self.ci = ci
        self.size = program.threads[ti].size
        self.facts = facts
        kind = program.codes[ci].kind
        # `self` is this array's index only in its own code; in a function it is the
        # caller's, whichever thread that is.
        self.self_is_index = ci == own_code
        self.self_unknown = kind not in ("thread",)
        self.span: Span | None = None
        self.pc = 0

    # ---------------------------------------------------------------- expressions

    def is_index(self, expr: object) -> bool:
        """Whether `expr` evaluates to the array's index; raises _Broken on a bad use."""
        match expr:
            case None | ir.Const() | ir.ParamRef() | ir.HandleRef():
                return False
            case ir.SelfIndex():
                if self.self_unknown:
                    raise _Broken("`self` is used in a function or hook", self.span)
                return self.self_is_index
            case ir.Local(slot=slot):
                return (self.ci, slot) in self.facts.locals_
            case ir.GlobalVar(base=base, size=size, index=index):
                self.element(("var", base), size, index)
                return False
            case ir.UnaryOp(operand=operand):
                self.plain(operand, "used in arithmetic")
                return False
            case ir.BinaryOp(op="%", left=ir.BinaryOp(op="+"), right=ir.Const()) if (
                self.rotation(expr) is not None
            ):
                return True
            case ir.BinaryOp(op=op, left=left, right=right):
                left_index, right_index = self.is_index(left), self.is_index(right)
                if op in ("==", "!=") and left_index and right_index:
                    return False
                if left_index or right_index:
                    raise _Broken(f"`self` is used with `{op}`", self.span)
                return False
            case ir.Builtin(name="resource", args=(_, _, ir.Const(value=size), *_)) if (
                size is not None
            ):
                # A reference to an element would not move with a permutation of the array.
                raise _Broken("an element of a resource array is used as a value", self.span)
            case ir.Builtin(name="channel_value", args=(ir.GlobalChannel(size=size),)) if (
                size is not None
            ):
                raise _Broken("an element of a channel array is used as a value", self.span)
            case ir.Builtin(args=args):
                for arg in args:
                    self.plain(arg, "passed to a builtin")
                return False
            case ir.GlobalChannel(base=base, size=size, index=index):
                self.element(("chan", base), size, index)
                return False
            case ir.ResourceRef(value=value) if value is not None:
                self.plain(value, "the object of a statement")
                return False
            case ir.ResourceRef(kind=kind, base=base, size=size, index=index):
                self.element(("lock", kind, base), size, index)
                return False
            case ir.ThreadRef(thread=thread, size=size, index=index):
                if thread != self.ti and index is not None and self.is_index(index):
                    # the permutation moves this array's threads, not another array's
                    raise _Broken("`self` names a thread of another array", self.span)
                self.element(("thread", thread), size, index)
                return False
        return False

    def rotation(self, expr: ir.BinaryOp) -> int | None:
        """k, when `expr` is `(i + k) % N` (or `(k + i) % N`) for an index i of the array,
        a constant 0 <= k < MAX_OFFSET and N its size: the index k places on, whatever the
        rotation. (It marks the array as reduced by rotations when it matches.)"""
        total, modulus = expr.left, expr.right
        if not (isinstance(total, ir.BinaryOp) and isinstance(modulus, ir.Const)):
            return None
        if type(modulus.value) is not int or modulus.value != self.size:
            return None
        for index, offset in ((total.left, total.right), (total.right, total.left)):
            if (
                isinstance(offset, ir.Const)
                and type(offset.value) is int
                and 0 <= offset.value < MAX_OFFSET
                and self.is_index(index)
            ):
                self.facts.rotates = True
                return offset.value
        return None

    def plain(self, expr: object, how: str) -> None:
        """`expr` must not be the index (it would reveal which thread it is)."""
        if self.is_index(expr):
            raise _Broken(f"`self` is {how}", self.span)

    def element(self, key: ArrayKey, size: int | None, index: object) -> None:
        if index is None:
            return
        if self.is_index(index):
            if size != self.size:
                raise _Broken(f"`self` indexes an array of {size} elements", self.span)
            self.facts.indexed_by_self.add(key)
        else:
            self.facts.indexed_otherwise.setdefault(key, self.span)

    def assign(self, target: ir.Target | None, holds_index: bool) -> None:
        match target:
            case None:
                return
            case ir.LocalTarget(slot=slot):
                if holds_index:
                    self.facts.locals_.add((self.ci, slot))
                else:
                    self.facts.plain_locals.add((self.ci, slot))
            case ir.GlobalTarget(base=base, size=size, index=index):
                self.element(("var", base), size, index)
                if holds_index:
                    raise _Broken("`self` is stored in a shared variable", self.span)

    def channel(self, ref: ir.ChannelRef) -> ArrayKey | None:
        if isinstance(ref, ir.GlobalChannel):
            self.is_index(ref)
            return ("chan", ref.base)
        return None

    # ---------------------------------------------------------------- instructions

    def instr(self, instr: ir.Instr) -> None:
        self.span = instr.span
        facts = self.facts
        match instr:
            case ir.Assign(target=target, value=value):
                self.assign(target, self.is_index(value))
            case ir.Send(channel=channel, value=value, target=target):
                key = self.channel(channel)
                if self.is_index(value):
                    if key is None:
                        raise _Broken("`self` is sent on a channel made at run time", self.span)
                    if target is not None:
                        # a send on a closed channel gives back `err(value)`: a copy of the
                        # index in a value no permutation reaches
                        raise _Broken("the result of sending `self` is kept", self.span)
                    facts.chans.add(key)
                    facts.sends.add((self.ci, self.pc))
                elif key is not None:
                    facts.plain_chans.setdefault(key, self.span)
                self.assign(target, False)
            case ir.Recv(channel=channel, target=target):
                key = self.channel(channel)
                self.assign(target, key is not None and key in facts.chans)
            case ir.TryRecv(channel=channel, target=target):
                key = self.channel(channel)
                if key is not None and key in facts.chans:
                    raise _Broken("a channel carrying `self` is read with try_recv", self.span)
                self.assign(target, False)
            case ir.CloneHandle(source=source, target=target):
                if not isinstance(source, ir.HandleRef | ir.GlobalChannel):
                    self.plain(source, "cloned")
                elif isinstance(source, ir.GlobalChannel):
                    self.channel(source)
                self.assign(target, False)
            case ir.Unwrap(value=value, target=target):
                self.plain(value, "unwrapped")
                self.assign(target, False)
            case ir.CallFn(args=args, target=target) | ir.SpawnFn(args=args, target=target):
                for arg in args:
                    self.plain(arg, "passed to a function")
                self.assign(target, False)
            case ir.Submit(executor=res, args=args, target=target):
                if res.size is not None:
                    # Its workers or tasks keep a reference to their pool or loop element,
                    # which permuting the elements would not follow.
                    raise _Broken(
                        "a task is submitted to an element of a pool or loop array", self.span
                    )
                self.is_index(res)
                for arg in args:
                    self.plain(arg, "passed to a task")
                self.assign(target, False)
            case ir.AnyInt(low=low, high=high, target=target):
                self.plain(low, "a bound of `any`")
                self.plain(high, "a bound of `any`")
                self.assign(target, False)
            case ir.MakeChannel(capacity=capacity, sender=sender, receiver=receiver):
                self.plain(capacity, "a channel capacity")
                self.assign(sender, False)
                self.assign(receiver, False)
            case ir.Close(channel=channel):
                self.channel(channel)
            case ir.Acquire(resource=res, target=target):
                self.is_index(res)
                self.assign(target, False)
            case (
                ir.Release(resource=res)
                | ir.Notify(resource=res)
                | ir.OnceBegin(resource=res)
                | ir.OnceEnd(resource=res)
                | ir.SetEvent(resource=res)
                | ir.ClearEvent(resource=res)
            ):
                self.is_index(res)
            case ir.Wait(resource=res, mutex=mutex, target=target):
                self.is_index(res)
                self.is_index(mutex)
                self.assign(target, False)
            case ir.SyncOp(resource=res, partner=mutex, operand=operand, target=target):
                self.is_index(res)
                self.is_index(mutex)
                self.plain(operand, "an operand")
                self.assign(target, False)
            case ir.MakeObject(target=target):
                self.assign(target, False)
            case ir.Join(handle=handle, target=target):
                self.plain(handle, "joined")
                self.assign(target, False)
            case ir.Return(value=value):
                self.plain(value, "returned")
            case ir.Branch(cond=cond) | ir.Await(cond=cond):
                self.plain(cond, "used as a condition")
            case ir.Assert(cond=cond, message=message):
                self.plain(cond, "used as a condition")
                self.plain(message, "printed")
            case ir.Panic(message=message):
                self.plain(message, "printed")
            case ir.Print(value=value):
                self.plain(value, "printed")
            case (
                ir.DropValue()
                | ir.GilEnter()
                | ir.GilExit()
                | ir.AllowEnter()
                | ir.AllowExit()
                | ir.PythonEnter()
                | ir.PythonExit()
                | ir.AcquireGil()
                | ir.ReleaseGil()
                | ir.Jump()
                | ir.Choose()
                | ir.AtomicBegin()
                | ir.AtomicEnd()
                | ir.Progress()
                | ir.Skip()
                | ir.ForkBegin()
                | ir.ForkEnd()
                | ir.EndScope()
                | ir.End()
                | ir.TakeTask()
                | ir.FinishTask()
                | ir.LoopStart()
                | ir.LoopFinish()
                | ir.LoopIdle()
                | ir.SuspendBegin()
                | ir.SuspendEnd()
            ):
                pass  # no value that could hold `self`, no resource
            case _:
                assert_never(instr)
