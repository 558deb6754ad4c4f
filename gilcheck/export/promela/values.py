"""Values as Promela text: expressions, assignment targets, thread handles, channel names
and the range checks of indices computed at run time."""

from __future__ import annotations

from typing import assert_never

from gilcheck.export.promela.common import (
    BINARY,
    OUT_OF_RANGE,
    ChanText,
    Constants,
    Refused,
    Unit,
    all_of,
    channel_kind,
    describe_expr,
    describe_instr,
    process_slots,
    reads_channel,
    reads_var,
)
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.reads import reads_shared
from gilcheck.semantics.values import render
from gilcheck.source import Span

ARITHMETIC = frozenset({"+", "-", "*", "/", "%", "<", "<=", ">", ">="})


class ValueTranslator:
    """The state of one export, and the translation of values."""

    def __init__(self, program: ir.Program, options: CheckOptions) -> None:
        self.program = program
        self.options = options
        self.lines: list[str] = []
        self.refused: list[Refused] = []  # every construct the export cannot say, in order
        self.spawned: dict[int, str] = {}  # code index -> proctype name of spawned functions
        self.here: Span = program.gil_span  # the span of the instruction being translated
        self.channels: dict[int, ir.ChannelInfo] = {}
        for chan in program.channels:
            self.channels[chan.base] = chan
        self.self_limit = 1  # `self` of the code unit being translated is below this
        self.at: tuple[ir.CodeUnit, int] = (program.codes[0], 0)  # the instruction translated
        # Indices computed at run time, as (Promela text, array size): those the translation
        # of the current instruction used, and those it checks (every one must be checked).
        self.indexed: set[tuple[str, int]] = set()
        self.checked: set[tuple[str, int]] = set()
        self.unit = Unit(0, "")  # the code unit being translated
        self.inlined: list[Unit] = []  # the code units of the proctype being translated
        self.constants = Constants()
        self.handles = False  # the spec makes channels at run time: values may own handles
        self.uses_futures = False  # the spec makes futures: values may refer to one (counted)
        self.counts_objects = False  # the spec makes resources: values referring to one counted
        # Whose locks a statement takes (Promela text): the thread's own id, or for a task
        # of an event loop its loop's thread.
        self.owner = "me"
        self.pool = (0, 0)  # (channels, buffer of each) of the run-time channels' pool
        self.moves_checked = False  # a local may be read after its value was moved/dropped
        # The effect of the timeout step of the timed wait being translated (None: the
        # statement cannot time out).
        self.timed_out: str | None = None
        # Process slots (`spawn process`): 1 when the spec starts no process.
        self.processes = process_slots(program)
        # The names of the declared channel a statement on a value dispatches to.
        self.channel_text: ChanText | None = None
        # The statement translated keeps the channel element it read once it waits.
        self.channel_pinned = False
        # The pin step of the statement translated (objects.py, channels.py): when it cannot
        # go on, it stores the object or channel element it read.
        self.pin_step: str | None = None

    @property
    def counted(self) -> bool:
        """Whether values are owned or counted (handles, futures): stores drop what they
        overwrite, scopes drop their locals."""
        return self.handles or self.uses_futures or self.counts_objects

    def _label(self, pc: int) -> str:
        return self.unit.label(pc)

    def _local(self, slot: int) -> str:
        return self.unit.local(slot)

    # ------------------------------------------------------------ values

    def _thread(self, handle: ir.Expr | ir.ThreadRef) -> str:
        if isinstance(handle, ir.ThreadRef):
            first = 0
            for ti, info in enumerate(self.program.threads):
                if ti == handle.thread:
                    break
                first += info.size or 1
            if handle.index is None:
                return str(first)
            return f"{first} + {self._index(handle.index, handle.size, 0)}"
        return f"TH({self._expr(handle)})"

    def _target(self, target: ir.Target | None) -> str:
        if target is None:
            return "junk"
        if isinstance(target, ir.LocalTarget):
            return self._local(target.slot)
        if target.index is None:
            return f"v_{target.name}"
        return f"v_{target.name}[{self._index(target.index, target.size, 0)}]"

    def _assign(self, target: ir.Target | None, value: str) -> str:
        """`target = value`. An element whose index reads its own array goes through `tix`
        (reset after): pan, undoing the assignment, would evaluate the index again. With
        handles, what the target held is dropped (no target: the value is)."""
        if not self.counted:
            return self._plain_assign(target, value)
        if target is None:
            return f"hd = {value}; drop_hd();"
        old = self._target(target)
        return f"hd = {old}; {self._plain_assign(target, value)} drop_hd();"

    def _plain_assign(self, target: ir.Target | None, value: str) -> str:
        if (
            isinstance(target, ir.GlobalTarget)
            and target.index is not None
            and reads_var(target.index, target.name)
        ):
            index = self._index(target.index, target.size, 0)
            return f"tix = {index}; v_{target.name}[tix] = {value}; tix = 0;"
        return f"{self._target(target)} = {value};"

    def _store(self, target: ir.Target | None, value: str) -> str:
        """Store `value` into `target`, panicking when its index is out of range."""
        return self._checked_effect(self._ok(target), self._assign(target, value))

    def _index(self, expr: ir.Expr, size: int | None, offset: int) -> str:
        """An array index as Promela text; one computed at run time is recorded, and the
        instruction must check its range (`_ok`)."""
        if isinstance(expr, ir.Const) and isinstance(expr.value, int):
            if size is not None and not 0 <= expr.value < size:
                raise Refused("an index out of range", self.here)
            return str(expr.value + offset)
        if size is None:
            raise Refused("an index computed at run time", self.here)
        text = self._expr(expr)
        if not self._in_range(expr, size):
            self.indexed.add((text, size))
        return text if offset == 0 else f"({text} + {offset})"

    def _in_range(self, expr: ir.Expr, size: int) -> bool:
        """Whether an index is in range wherever the current code unit runs (`self` of a
        thread array no larger than the array)."""
        return isinstance(expr, ir.SelfIndex) and self.self_limit <= size

    def _bound(self, expr: ir.Expr, size: int | None) -> str | None:
        """The range check of one index (None: none is needed)."""
        if size is None or isinstance(expr, ir.Const) or self._in_range(expr, size):
            return None
        text = self._expr(expr)
        self.checked.add((text, size))
        return f"(0 <= {text} && {text} < {size})"

    def _ok(
        self,
        node: ir.Expr | ir.Target | ir.ResourceRef | ir.GlobalChannel | ir.ThreadRef | None,
    ) -> str | None:
        """The condition under which evaluating `node` indexes every array within range, in
        gilcheck's order of evaluation (`and`/`or` evaluate their right side only when it
        decides); None when no index is computed at run time."""
        match node:
            case ir.ResourceRef(value=v) if v is not None:
                return self._value_ref_ok(node)
            case (
                ir.GlobalVar(index=i, size=size)
                | ir.GlobalTarget(index=i, size=size)
                | ir.ResourceRef(index=i, size=size)
                | ir.GlobalChannel(index=i, size=size)
                | ir.ThreadRef(index=i, size=size)
            ) if i is not None:
                return all_of(self._ok(i), self._bound(i, size))
            case ir.UnaryOp(op="-", operand=o):
                return all_of(self._ok(o), f"IS_INT({self._expr(o)})")
            case ir.UnaryOp(operand=o):
                return self._ok(o)
            case ir.BinaryOp(op="and" | "or" as op, left=a, right=b):
                right = self._ok(b)
                if right is None:
                    return self._ok(a)
                decided = f"!{self._expr(a)}" if op == "and" else self._expr(a)
                return all_of(self._ok(a), f"({decided} || {right})")
            case ir.BinaryOp(op=op, left=a, right=b) if op in ARITHMETIC:
                # Integers only (a misuse otherwise); `/` and `%` by zero too.
                checks = [f"IS_INT({self._expr(a)})", f"IS_INT({self._expr(b)})"]
                if op in ("/", "%"):
                    checks.append(f"({self._expr(b)} != 0)")
                return all_of(self._ok(a), self._ok(b), *checks)
            case ir.BinaryOp(left=a, right=b):
                return all_of(self._ok(a), self._ok(b))

            case ir.Builtin(name="is_done", args=(a,)) if isinstance(a, ir.Expr):
                value = self._expr(a)
                return all_of(self._ok(a), f"(BARE({value}) && IS_FU({value}))")
            case ir.Builtin(name="ok" | "err", args=(a,)) if not isinstance(
                a, ir.HandleRef | ir.GlobalChannel
            ):
                # More than three levels of ok/err do not fit a Promela int: the export's
                # limit (docs/promela.md), an assertion rather than a wrong value.
                return all_of(self._ok(a), f"CAN_WRAP({self._expr(a)})")
            case ir.Builtin(name="resource"):
                return self.resource_value_ok(node)
            case ir.Builtin(args=args):
                return all_of(*(self._ok(a) for a in args if not isinstance(a, ir.HandleRef)))
            case ir.Local(slot=slot) if self.moves_checked:
                return f"({self._local(slot)} != MOVED_V)"  # misuse: a moved value used
            case (
                ir.GlobalVar()
                | ir.GlobalTarget()
                | ir.ResourceRef()
                | ir.GlobalChannel()
                | ir.ThreadRef()
                | ir.Const()
                | ir.Local()
                | ir.LocalTarget()
                | ir.SelfIndex()
                | ir.ParamRef()
                | None
            ):
                return None
            case _:
                assert_never(node)

    def _ok_to_step(self, instr: ir.Instr) -> str | None:
        """The range checks an instruction makes each time it tries to go on (before it
        blocks); a received value's target is checked when it is stored (`_take`)."""
        match instr:
            case ir.Assign(target=t, value=v):
                return all_of(self._ok(v), self._ok(t))
            case ir.Print(value=v):
                return self._ok(v)
            case ir.AnyInt(target=t):
                return self._ok(t)
            case ir.Branch(cond=c) | ir.Await(cond=c) | ir.Assert(cond=c):
                return self._ok(c)
            case (
                ir.Acquire(resource=r)
                | ir.Release(resource=r)
                | ir.SetEvent(resource=r)
                | ir.ClearEvent(resource=r)
                | ir.Notify(resource=r)
                | ir.OnceBegin(resource=r)
                | ir.OnceEnd(resource=r)
            ):
                return self._ok(r)
            case ir.SyncOp(verb="result" | "complete" | "shutdown" as verb, resource=r):
                kind = "pool" if verb == "shutdown" else "future"
                operand = self._ok(instr.operand) if instr.operand is not None else None
                return all_of(self._object_ok(r, kind), operand, self._ok(instr.target))
            case ir.SyncOp(resource=r):
                return self._ok(r)
            case ir.Submit(executor=r, args=args, target=t):
                return all_of(self._object_ok(r, "pool"), *(self._ok(a) for a in args), self._ok(t))
            case ir.MakeObject(target=t):
                return self._ok(t)
            case ir.SuspendBegin() | ir.SuspendEnd():
                return None
            case ir.Wait(resource=r, mutex=m):
                return all_of(self._ok(r), self._ok(m))
            case ir.Send(channel=ir.GlobalChannel() as c, value=v):
                value = self._ok(v)
                if value is not None and self.channels[c.base].kind == "rendezvous":
                    value = f"(phase != 0 || {value})"  # a waiting offer has its value
                return all_of(self._pin_ok(instr, self._ok(c)), value)
            case ir.Recv(channel=ir.GlobalChannel() as c):
                return self._pin_ok(instr, self._ok(c))
            case ir.TryRecv(channel=ir.GlobalChannel() as c):
                return self._ok(c)
            case ir.Close(channel=ir.GlobalChannel() as c):
                return self._ok(c)
            case ir.SpawnFn(args=args, target=t):
                return all_of(*(self._ok(a) for a in args), self._ok(t))
            case ir.MakeChannel():
                return None
            case ir.Send(channel=ir.HandleRef() as h, value=v):
                local = self._local(h.slot)
                return all_of(self._ok(v), f"(BARE({local}) && {self._end_ok('IS_TX', local)})")
            case (
                ir.Recv(channel=ir.HandleRef() as h)
                | ir.TryRecv(channel=ir.HandleRef() as h)
                | ir.Close(channel=ir.HandleRef() as h)
            ):
                local = self._local(h.slot)
                return f"(BARE({local}) && {self._end_ok('IS_RX', local)})"
            case ir.CloneHandle(source=ir.HandleRef() as h) | ir.DropValue(slot=h):
                slot = h if isinstance(h, int) else h.slot
                return f"({self._local(slot)} != MOVED_V)"
            case ir.CloneHandle(source=v):
                return None if isinstance(v, ir.GlobalChannel | ir.HandleRef) else self._ok(v)
            case ir.Unwrap(value=v):
                return self._ok(v)  # the target is checked when it is stored
            case ir.CallFn(args=args):
                # The target is stored, and checked, when the call returns.
                return all_of(*(self._ok(a) for a in args))
            case ir.Return(value=v):
                return self._ok(v)
            case ir.Join(handle=h) if isinstance(h, ir.ThreadRef):
                return self._ok(h)
            case ir.Join(handle=h) if not isinstance(h, ir.ThreadRef):
                value = self._expr(h)
                # A `join` needs a thread handle (a misuse otherwise).
                return all_of(self._ok(h), f"(BARE({value}) && IS_TH({value}))")
            case ir.AtomicBegin():
                code, pc = self.at
                first = code.instrs[pc + 1]
                return self._ok(first.cond) if isinstance(first, ir.Await) else None
            case (
                ir.Skip()
                | ir.Progress()
                | ir.EndScope()
                | ir.Choose()
                | ir.Panic()
                | ir.GilEnter()
                | ir.GilExit()
                | ir.PythonEnter()
                | ir.PythonExit()
                | ir.AllowEnter()
                | ir.AllowExit()
                | ir.AcquireGil()
                | ir.ReleaseGil()
                | ir.ForkBegin()
                | ir.ForkEnd()
                | ir.End()
            ):
                return None
            case _:
                # `_step` translated the instruction, so it is one of the above.
                raise Refused(describe_instr(instr), instr.span)

    def _object_ok(self, ref: ir.ResourceRef, kind: str) -> str | None:
        """The checks of a reference to a pool or future: its index in range; a value
        that is not one of that kind is a misuse."""
        if ref.value is None:
            return self._ok(ref)
        check = "IS_FU" if kind == "future" else "IS_PL"
        value = self._expr(ref.value)
        # A value of another kind, or one inside ok/err, is a misuse.
        return all_of(self._ok(ref.value), f"(BARE({value}) && {check}({value}))")

    def _object_counted(self, value: str, up: bool) -> str:
        """An `if` option counting one reference more (`up`) or less to the object made at
        run time `value` may refer to (objects.py; "": objects are not counted)."""
        return ""

    def _value_ref_ok(self, ref: ir.ResourceRef) -> str | None:
        """The checks of a reference to the object a value refers to (objects.py)."""
        return self._ok(ref.value)

    # Provided by processes.py and pools.py (declared here, the translators' common base,
    # so that any of them may use them).
    def running_guard(self) -> str:
        """The condition every step of a thread adds (processes.py)."""
        return ""

    def spawned_process(self) -> str:
        """What starting a thread adds (processes.py)."""
        return ""

    def forked_pools(self) -> str:
        """What a `fork` child does to the pools (pools.py)."""
        return ""

    def _queued_object(self, value: str) -> str:
        """Whether `value` holds what a multiprocessing queue cannot carry: a channel
        handle, future, pool, resource or thread handle (or a declared channel)."""
        named = f" || IS_CV(XV({value}))" if self.uses_channel_values() else ""
        return (
            f"IS_TX({value}) || IS_RX({value}) || IS_FU({value}) || IS_PL({value}) "
            f"|| IS_RS(XV({value})) || IS_TH({value}){named}"
        )

    def _end_ok(self, end: str, local: str) -> str:
        """The check that a local holds the end of a channel a statement needs (`end`:
        IS_TX or IS_RX), or a declared channel passed as a value (either end)."""
        if self.uses_channel_values():
            return f"({end}({local}) || IS_CV({local}))"
        return f"{end}({local})"

    def _pin_ok(self, instr: ir.Instr, ok: str | None) -> str | None:
        """A channel index's range check, made only until the statement keeps the element
        it read (channels.py)."""
        if ok is None or not pins_channel(instr):
            return ok
        return f"(pin || {ok})"

    def uses_channel_values(self) -> bool:
        """Whether the spec passes a declared channel as a value (channel_values.py)."""
        return False

    def value_len(self, handle: ir.HandleRef, on_handle: str) -> str:
        """`len(h)` of a local (channel_values.py)."""
        return on_handle

    def channel_value(self, ref: ir.GlobalChannel) -> str:
        """A declared channel passed as a value (channel_values.py)."""
        raise Refused("a channel passed as a value", self.here)

    def resource_value(self, expr: ir.Builtin) -> str:
        """A declared resource used as a value (objects.py)."""
        raise Refused(describe_expr(expr), self.here)

    def resource_value_ok(self, expr: ir.Builtin) -> str | None:
        """The range check of a declared resource used as a value (objects.py)."""
        return None

    def _checked_effect(self, ok: str | None, effect: str) -> str:
        """`effect`, after the range checks `ok` (a panic when one fails)."""
        if ok is None:
            return effect
        return f"if :: !({ok}) -> {OUT_OF_RANGE} :: else -> skip fi; {effect}"

    def _expr(self, expr: ir.Expr) -> str:
        match expr:
            case ir.Const(value=v):
                if self.constants.encode(v) is None:
                    raise Refused(f"the value `{render(v)}`", self.here)
                return self.constants.literal(v)
            case ir.Local(slot=s):
                return self._local(s)
            case ir.GlobalVar(name=n, index=None):
                return f"v_{n}"
            case ir.GlobalVar(name=n, index=i, size=size) if i is not None:
                return f"v_{n}[{self._index(i, size, 0)}]"
            case ir.SelfIndex():
                return "self_"
            case ir.UnaryOp(op="-", operand=o):
                return f"(-{self._expr(o)})"
            case ir.UnaryOp(op="not", operand=o):
                return f"(!{self._expr(o)})"
            case ir.BinaryOp(op=op, left=a, right=b) if op in BINARY:
                return f"({self._expr(a)} {BINARY[op]} {self._expr(b)})"
            case ir.Builtin(name="is_none", args=(a,)):
                return f"({self._expr(a)} == NONE_V)"  # type: ignore[arg-type]
            case ir.Builtin(name="is_ok" | "is_err" as name, args=(a,)):
                return f"{name.upper()}({self._expr(a)})"  # type: ignore[arg-type]
            case ir.Builtin(name="ok" | "err" as name, args=args):
                if _wrappers(expr) > 3:
                    raise Refused("`ok`/`err` nested more than three levels", self.here)
                inner = self._expr(args[0]) if args else "NONE_V"  # type: ignore[arg-type]
                return f"WRAP({1 if name == 'ok' else 2}, {inner})"
            case ir.Builtin(name="pyobj" | "pyerr" as name, args=(ir.Const(value=tag),)):
                return self.constants.literal((name, tag))
            case ir.Builtin(name="is_done", args=(a,)) if isinstance(a, ir.Expr):
                if not self.uses_futures:
                    return "0"  # no value is a future: the step's check (`_ok`) is a misuse
                return f"fu_done[FK({self._expr(a)})]"
            case ir.Builtin(name="resource"):
                return self.resource_value(expr)
            case ir.Builtin(name="len", args=(ir.GlobalChannel() as c,)):
                return self._channel(c).n
            case ir.Builtin(name="len", args=(ir.HandleRef() as h,)) if self.handles:
                return self.value_len(h, f"rc_n[HCH({self._local(h.slot)})]")
            case ir.Builtin(name="channel_value", args=(ir.GlobalChannel() as c,)):
                return self.channel_value(c)
        raise Refused(describe_expr(expr), self.here)

    # ------------------------------------------------------------ channel names

    def _capacity(self, chan: ir.ChannelInfo) -> int:
        kind = channel_kind(chan)
        match kind:
            case "oneshot" | "rendezvous":
                return 1
            case "bounded" | "unbounded" | "queue":
                if chan.capacity:
                    return chan.capacity
                return self.options.channel_bound
            case _:
                assert_never(kind)

    def _channel(self, ref: ir.GlobalChannel, *, written: bool = False) -> ChanText:
        """The names of a channel (or array element).

        pan undoes a statement when it backtracks by evaluating its target again, so the
        index of an element an effect writes must read nothing the effect changes: a
        received value is stored last (`_take`), and an index that reads a channel's
        length is refused."""
        if self.channel_text is not None:
            return self.channel_text  # a channel reached through a value (channel_values.py)
        chan = self.channels[ref.base]
        name, capacity = f"ch_{chan.name}", self._capacity(chan)
        if ref.index is None:
            return ChanText(name, capacity)
        if written and reads_channel(ref.index):
            raise Refused("a channel index that reads `len(..)`", self.here)
        at = self._index(ref.index, ref.size, 0)
        if self.channel_pinned:
            at = f"(pin -> pr : {at})"  # the element it started waiting on (channels.py)
        return ChanText(name, capacity, at)


def _wrappers(expr: object) -> int:
    """How many `ok`/`err` an expression writes around its value."""
    if isinstance(expr, ir.Builtin) and expr.name in ("ok", "err"):
        return 1 + (_wrappers(expr.args[0]) if expr.args else 0)
    if isinstance(expr, ir.Const) and isinstance(expr.value, tuple) and len(expr.value) == 2:
        tag, inner = expr.value
        if tag in ("ok", "err"):
            return 1 + _wrappers(ir.Const(value=inner))
    return 0


def pins_channel(instr: ir.Instr) -> bool:
    """Whether a `recv c[i]` or `send c[i], v` picks its element by an index that reads
    shared state: once it waits, it keeps the element it read (gilcheck's engine does)."""
    if not isinstance(instr, ir.Recv | ir.Send):
        return False
    ref = instr.channel
    return isinstance(ref, ir.GlobalChannel) and ref.index is not None and reads_shared(ref.index)
