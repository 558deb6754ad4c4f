"""One code unit (a thread body or function) as a Python function of the realized program.

The unit's instructions keep their indices: the function runs a `pc` loop with one branch
per instruction, each a statement of the spec run as one atomic step under the runtime's
state lock (`stmt` before it: a scheduling point and, when steered, its turn; `done`
after it). Jumps are not steps. What the realization cannot map raises `Refused`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from gilcheck.realize.expressions import channel, expr, resource, target, thread, uses_pyobj
from gilcheck.realize.refusal import Refused
from gilcheck.semantics import describe, ir
from gilcheck.source import Span

Where = Callable[[Span], tuple[int, int]]

_LOCK_KINDS: Final[str] = "mutex|rlock|semaphore"
_MADE: Final[dict[str, str]] = {
    "mutex": "Mutex(NAME)",
    "rlock": "RLock(NAME)",
    "condvar": "Condvar(NAME)",
    "event": "Event(NAME)",
    "once": "Once(NAME)",
    "semaphore": "Semaphore(NAME, COUNT)",
    "barrier": "Barrier(NAME, COUNT)",
    "latch": "Latch(NAME, COUNT)",
    "future": "Future(NAME, False)",
    "rwlock": "RwLock(NAME)",
}


def loop_maker(program: ir.Program, name: str, any_order: bool, where: Where) -> str:
    """The runtime's `Loop(..)` for a declared event loop (its name left as `{name!r}`):
    the places of its tasks' start and finish steps come from its task code unit."""
    start = finish = (0, 0)
    for unit in program.codes:
        if unit.kind == "task" and unit.name == f"{name}.task":
            start = where(unit.instrs[0].span)
            finish = where(unit.instrs[-1].span)
    return f"Loop({{name!r}}, {any_order}, {name + '.task'!r}, {start!r}, {finish!r})"


def pool_maker(
    program: ir.Program, name: str, count: int | None, workers: str, where: Where
) -> str:
    """The runtime's `Pool(..)` for a pool whose worker code unit is named `workers`: the
    places of its take and finish steps come from that unit."""
    take = finish = (0, 0)
    for unit in program.codes:
        if unit.kind == "worker" and unit.name == workers:
            take = where(unit.instrs[0].span)
            finish = where(unit.instrs[-1].span)
    return f"Pool({name!r}, {count}, {workers!r}, {take!r}, {finish!r})"


class CodeWriter:
    """Writes one code unit; `refused` gathers what it cannot map."""

    def __init__(self, program: ir.Program, index: int, where: Where) -> None:
        self.program = program
        self.index = index
        self.unit = program.codes[index]
        self.where = where
        self.refused: list[Refused] = []
        self.lines: list[str] = []
        self.atomic_at: dict[int, int] = {}  # instruction -> index of its AtomicBegin
        self.shared_spans: set[tuple[int, int]] = set()
        self.pc = 0

    # ------------------------------------------------------------ the function

    def write(self) -> list[str]:
        """The function's lines."""
        unit = self.unit
        self._find_atomic()
        spans = [self.where(i.span) for i in unit.instrs if not isinstance(i, ir.Jump)]
        self.shared_spans = {s for s in spans if spans.count(s) > 1}
        params = "".join(f", a{i}" for i in range(len(unit.params)))
        size = max(len(unit.local_names), len(unit.params))
        emit = self.lines.append
        emit(f"def code_{self.index}(me, ctx{params}):")
        emit(f'    """{unit.kind} {unit.name}"""')
        args = ", ".join(f"a{i}" for i in range(len(unit.params)))
        emit(f"    L = [{args}] + [None] * {size - len(unit.params)}")
        emit("    pc = 0")
        emit("    while True:")
        for pc, instr in enumerate(unit.instrs):
            emit(f"        {'if' if pc == 0 else 'elif'} pc == {pc}:  # {self._said(instr)}")
            try:
                body = self._instruction(pc, instr)
            except Refused as refused:
                self.refused.append(refused)
                body = ["raise SystemExit(2)"]
            self.lines.extend(f"            {line}" for line in body)
        return [line for line in self.lines if line]

    def _said(self, instr: ir.Instr) -> str:
        text = describe.statement(instr, self.program.codes).replace("\n", " ")
        return f"{type(instr).__name__}: {text}"[:90]

    def _find_atomic(self) -> None:
        for pc, instr in enumerate(self.unit.instrs):
            if isinstance(instr, ir.AtomicBegin):
                for inner in range(pc + 1, instr.end + 1):
                    self.atomic_at[inner] = pc

    # ------------------------------------------------------------ one instruction

    def _ctx(self, instr: ir.Instr) -> str:
        match instr.context:
            case ir.Context.PYTHON:
                return '"python"'
            case ir.Context.NATIVE:
                return '"native"'
        return "ctx"

    def _instruction(self, pc: int, instr: ir.Instr) -> list[str]:
        if isinstance(instr, ir.Jump):
            return [f"pc = {instr.target}", "continue"]
        handler = _HANDLERS.get(type(instr))
        if handler is None:
            raise Refused(describe.construct(instr), instr.span)
        where = self.where(instr.span)
        atomic = self.atomic_at.get(pc)
        inside = atomic is not None and not isinstance(instr, ir.AtomicEnd)
        c = self._ctx(instr)
        head = [f"C = {c}", f"W = {where!r}"]
        if not inside:
            head.append("stmt(me, C, W)")
        self.pc = pc
        body = handler(self, instr)
        tail: list[str] = []
        if isinstance(instr, ir.AtomicEnd):
            assert atomic is not None
            begin = self.where(self.unit.instrs[atomic].span)
            tail.append(f"done(me, {begin!r}, True)")
        elif not inside and not isinstance(instr, ir.AtomicBegin | ir.CallFn):
            tail.append(f"done(me, W, {where in self.shared_spans})")
        if body and body[-1].startswith(("return", "raise")):
            return head + body[:-1] + tail + body[-1:]
        jumps = any("pc = " in line for line in body)
        return head + body + tail + ([] if jumps else [f"pc = {pc + 1}"]) + ["continue"]

    # ------------------------------------------------------------ handlers

    def assign(self, i: ir.Assign) -> list[str]:
        """`x = e`: a pyobj in `e` needs the GIL for the step; a handle is moved."""
        lines = self._need_gil(i.value)
        lines.append(f"{target(i.target, i.span)} = {expr(i.value, i.span)}")
        lines += self._moved(i.value)
        if isinstance(i.target, ir.GlobalTarget):
            lines.append("wake_all()")
        return lines

    def _need_gil(self, e: ir.Expr) -> list[str]:
        return ["need_gil_for_step(me, C, W)"] if uses_pyobj(e) else []

    def _moved(self, *values: ir.Expr) -> list[str]:
        """A handle (of a channel, thread or process) passed on by value is moved: the old
        owner's local no longer has it."""
        return [
            f"if isinstance(L[{v.slot}], (Handle, ThreadHandle, ProcessHandle)): "
            f"L[{v.slot}] = MOVED"
            for v in values
            if isinstance(v, ir.Local)
        ]

    def _bind(self, t: ir.Target | None, value: str, span: Span) -> list[str]:
        if t is None:
            return [value]
        lines = [f"{target(t, span)} = {value}"]
        if isinstance(t, ir.GlobalTarget):
            lines.append("wake_all()")
        return lines

    def recv(self, i: ir.Recv) -> list[str]:
        """`recv` (and a `for` loop's receive, which leaves the loop on none)."""
        got = f"recv(me, C, {channel(i.channel, i.span)}, W, {i.timed})"
        if i.exit_target is None:
            return self._bind(i.target, got, i.span)
        lines = [f"v = {got}", f"if v is None: pc = {i.exit_target}", "else:"]
        if i.target is not None:
            lines.append(f"    {target(i.target, i.span)} = v")
        lines.append(f"    pc = {self.pc + 1}")
        return lines

    def try_recv(self, i: ir.TryRecv) -> list[str]:
        """`try_recv`: never blocks."""
        return self._bind(i.target, f"try_recv({channel(i.channel, i.span)}, W)", i.span)

    def send(self, i: ir.Send) -> list[str]:
        """`send`: the value is moved; the result (ok(none) or err(v)) is bound if asked."""
        value = expr(i.value, i.span)
        lines = [f"r = send(me, C, {channel(i.channel, i.span)}, {value}, W)"]
        lines += self._moved(i.value)
        if i.target is not None:
            lines += self._bind(i.target, "r", i.span)
        return lines

    def clone(self, i: ir.CloneHandle) -> list[str]:
        """`clone`: a new sender handle, or a copy of a value (a pyobj needs the GIL)."""
        source = i.source
        if isinstance(source, ir.GlobalChannel | ir.HandleRef):
            value = channel(source, i.span)
        else:
            value = expr(source, i.span)
        lines = [f"v = {value}", "if is_python_value(v): need_gil_for_step(me, C, W)"]
        return lines + self._bind(i.target, "clone(v, W)", i.span)

    def unwrap(self, i: ir.Unwrap) -> list[str]:
        """`unwrap`: panics on err(..) and none."""
        return self._bind(i.target, f"unwrap({expr(i.value, i.span)}, W)", i.span)

    def call(self, i: ir.CallFn) -> list[str]:
        """`call f(a)`: a Python call of the code unit's function."""
        args = "".join(f", {expr(a, i.span)}" for a in i.args)
        # The call's step is taken before the callee's statements take theirs.
        lines = [f"done(me, W, {self.where(i.span) in self.shared_spans})"]
        lines.append(f"r = code_{i.function}(me, C{args})")
        lines += self._moved(*i.args)
        return lines + ([] if i.target is None else self._bind(i.target, "r", i.span))

    def spawn(self, i: ir.SpawnFn) -> list[str]:
        """`spawn f(a)`: a new thread; `spawn process f(a)`: a new OS process."""
        name = self.program.codes[i.function].name
        args = "".join(f"{expr(a, i.span)}, " for a in i.args)
        if i.process:
            started = f"spawn_process(me, C, {name!r}, {i.daemon}, code_{i.function}, ({args}), W)"
        else:
            started = f"spawn({name!r}, {i.daemon}, code_{i.function}, ({args}))"
        lines = [f"h = {started}"]
        lines += self._moved(*i.args)
        return lines + ([] if i.target is None else self._bind(i.target, "h", i.span))

    def submit(self, i: ir.Submit) -> list[str]:
        """`submit p, g(a)`: to a pool or an event loop; yields the task's future."""
        if i.executor.kind not in ("pool", "eventloop", ""):
            raise Refused(f"`submit` to a {i.executor.kind}", i.span)
        args = "".join(f"{expr(a, i.span)}, " for a in i.args)
        pool = f"the({resource(i.executor, i.span)}, 'pool|eventloop', W)"
        lines = [f"f = submit(me, {pool}, code_{i.function}, ({args}), W)"]
        lines += self._moved(*i.args)
        return lines + ([] if i.target is None else self._bind(i.target, "f", i.span))

    def any_int(self, i: ir.AnyInt) -> list[str]:
        """`any(lo..hi)`: random, or the trace's value when steered."""
        value = f"any_int(me, {expr(i.low, i.span)}, {expr(i.high, i.span)})"
        return self._bind(i.target, value, i.span)

    def make_channel(self, i: ir.MakeChannel) -> list[str]:
        """`let (tx, rx) = channel(..)`: a channel made at run time."""
        kind = i.kind
        capacity = None if i.capacity is None else expr(i.capacity, i.span)
        if kind == "rendezvous":
            capacity = "0"
        elif kind == "queue":
            capacity = f"({capacity} or None)"
        elif kind not in ("unbounded", "bounded", "oneshot"):
            raise Refused(f"`{describe.construct(i)}`", i.span)
        lines = [f"tx, rx = make_channel({kind!r}, {capacity}, {i.span.path!r})"]
        if i.sender is not None:
            lines += self._bind(i.sender, "tx", i.span)
        if i.receiver is not None:
            lines += self._bind(i.receiver, "rx", i.span)
        return lines

    def make_object(self, i: ir.MakeObject) -> list[str]:
        """`let m = mutex()` and the other constructors, pools included."""
        if i.kind == "pool":
            name = f"the pool made at line {self.where(i.span)[0]}"
            declared = {r.name for r in self.program.resources if r.kind == "pool"}
            pool = pool_maker(
                self.program, name, i.count, ir.made_pool_workers(i, declared), self.where
            )
            return self._bind(i.target, pool, i.span)
        made = _MADE.get(i.kind)
        if made is None:
            raise Refused(f"`{i.kind}()`", i.span)
        name = f"the {i.kind} made at line {self.where(i.span)[0]}"
        value = made.replace("NAME", repr(name)).replace("COUNT", str(i.count))
        return self._bind(i.target, value, i.span)

    def drop(self, i: ir.DropValue) -> list[str]:
        """`drop x`."""
        return [f"drop_value(L[{i.slot}])", f"L[{i.slot}] = MOVED"]

    def close(self, i: ir.Close) -> list[str]:
        """`close c`."""
        return [f"close({channel(i.channel, i.span)}, W)"]

    def gil(self, i: ir.Instr) -> list[str]:
        """The GIL blocks' edges and the GIL's C API."""
        call = {
            ir.GilEnter: "gil_enter(me, C)",
            ir.GilExit: "check_not_released(me, W); gil_exit(me)",
            ir.AllowEnter: "allow_enter(me)",
            ir.AllowExit: "allow_exit(me)",
            ir.PythonEnter: "python_enter(me)",
            ir.PythonExit: "check_not_released(me, W); python_exit(me)",
            ir.AcquireGil: "acquire_gil(me, W)",
            ir.ReleaseGil: "release_gil(me, W)",
        }[type(i)]
        return [call]

    def acquire(self, i: ir.Acquire) -> list[str]:
        """`acquire` of a lock or semaphore; `acquire_read`/`acquire_write` of an rwlock."""
        if i.mode in ("read", "write"):
            rw = f"the({resource(i.resource, i.span)}, 'rwlock', W)"
            value = f"acquire_{i.mode}(me, C, {rw}, W, {i.timed})"
            return self._bind(i.target, value, i.span)
        if i.mode:
            raise Refused(f"`acquire_{i.mode}`", i.span)
        res = f"the({resource(i.resource, i.span)}, {_LOCK_KINDS!r}, W)"
        return self._bind(i.target, f"acquire(me, C, {res}, W, {i.timed})", i.span)

    def release(self, i: ir.Release) -> list[str]:
        """`release` (also the end of a `lock`, `read` or `write` block)."""
        res = f"the({resource(i.resource, i.span)}, {_LOCK_KINDS + '|rwlock'!r}, W)"
        return [f"{res}.release(me)"]

    def wait(self, i: ir.Wait) -> list[str]:
        """`wait cv, m`, `wait e`, `wait b`, `wait l` (latch), timed or not."""
        res = resource(i.resource, i.span)
        t = i.timed
        if i.mutex is not None:
            mutex = f"the({resource(i.mutex, i.span)}, 'mutex|rlock', W)"
            waited = f"wait_condvar(me, C, the({res}, 'condvar', W), {mutex}, W, {t})"
            return self._bind(i.target, waited, i.span)
        kinds = "event|latch" if t else "event|barrier|latch"
        lines = [
            f"obj = the({res}, {kinds!r}, W)",
            f"if obj.kind == 'event': v = wait_event(me, C, obj, W, {t})",
            f"elif obj.kind == 'latch': v = wait_latch(me, C, obj, W, {t})",
            "else: v = wait_barrier(me, C, obj, W)",
        ]
        return lines + ([] if i.target is None else self._bind(i.target, "v", i.span))

    def sync_op(self, i: ir.SyncOp) -> list[str]:
        """`try_acquire`, `result`, `complete`, `shutdown`, `countdown`."""
        res = resource(i.resource, i.span)
        if i.verb == "try_acquire" and not i.timed:
            value = f"try_acquire(me, the({res}, {_LOCK_KINDS!r}, W))"
            return self._bind(i.target, value, i.span)
        if i.verb == "result":
            value = f"result(me, C, the({res}, 'future', W), W, {i.timed})"
            return self._bind(i.target, value, i.span)
        if i.verb == "complete" and i.operand is not None:
            return [f"complete(the({res}, 'future', W), {expr(i.operand, i.span)}, W)"]
        if i.verb == "shutdown":
            return [f"shutdown(me, C, the({res}, 'pool', W), W)"]
        if i.verb == "countdown":
            return [
                f"obj = the({res}, 'latch', W)",
                "if obj.count == 0: _violation(EXIT_MISUSE, f'misuse: countdown below 0 at {W}')",
                "obj.count -= 1",
                "wake_all()",
            ]
        raise Refused(f"`{i.verb}`", i.span)

    def notify(self, i: ir.Notify) -> list[str]:
        """`notify` / `notify_all`."""
        return [f"notify(the({resource(i.resource, i.span)}, 'condvar', W), {i.all})"]

    def once_begin(self, i: ir.OnceBegin) -> list[str]:
        """`call_once o {`: the first caller runs the block, later ones wait for it."""
        once = f"the({resource(i.resource, i.span)}, 'once', W)"
        return [
            f"if not once_begin(me, C, {once}, W): pc = {i.done}",
            f"else: pc = {self._next(i)}",
        ]

    def _next(self, i: ir.Instr) -> int:
        return self.pc + 1

    def once_end(self, i: ir.OnceEnd) -> list[str]:
        """The end of a `call_once` block."""
        return [f"once_end(the({resource(i.resource, i.span)}, 'once', W))"]

    def set_event(self, i: ir.SetEvent) -> list[str]:
        """`set e`."""
        return [f"set_event(the({resource(i.resource, i.span)}, 'event', W))"]

    def clear_event(self, i: ir.ClearEvent) -> list[str]:
        """`clear e`."""
        return [f"clear_event(the({resource(i.resource, i.span)}, 'event', W))"]

    def join(self, i: ir.Join) -> list[str]:
        """`join h` (a handle or a declared thread), timed or not."""
        handle = i.handle
        value = thread(handle, i.span) if isinstance(handle, ir.ThreadRef) else expr(handle, i.span)
        return self._bind(i.target, f"join(me, C, {value}, W, {i.timed})", i.span)

    def return_(self, i: ir.Return) -> list[str]:
        """`return e`: the frame's locals are dropped."""
        lines = [f"v = {'None' if i.value is None else expr(i.value, i.span)}"]
        lines += self._moved(*([i.value] if i.value is not None else []))
        lines += ["for x in L: drop_value(x)", "return v"]
        return lines

    def branch(self, i: ir.Branch) -> list[str]:
        """A condition (`if`, `while`)."""
        return [f"pc = {self._next(i)} if {expr(i.cond, i.span)} else {i.if_false}"]

    def choose(self, i: ir.Choose) -> list[str]:
        """`choose`: a random branch, or the trace's when steered."""
        return [f"pc = {i.targets!r}[choose(me, {len(i.targets)})]"]

    def await_(self, i: ir.Await) -> list[str]:
        """`await c`: blocks until the condition holds."""
        return [f"await_condition(me, C, lambda: {expr(i.cond, i.span)}, W)"]

    def assert_(self, i: ir.Assert) -> list[str]:
        """`assert c, msg`: exit 4 when it fails."""
        message = "None" if i.message is None else expr(i.message, i.span)
        line = self.where(i.span)[0]
        return [
            f"if not {expr(i.cond, i.span)}:",
            f"    failed(EXIT_ASSERTION, 'assertion failed at line {line}', {message})",
        ]

    def panic(self, i: ir.Panic) -> list[str]:
        """`panic msg`: exit 5."""
        message = "None" if i.message is None else expr(i.message, i.span)
        line = self.where(i.span)[0]
        return [f"failed(EXIT_PANIC, 'panic at line {line}', {message})"]

    def print_(self, i: ir.Print) -> list[str]:
        """`print e`: stdout's lock, then the GIL for a Python value."""
        return [f"do_print(me, C, {expr(i.value, i.span)}, W)"]

    def suspend_begin(self, i: ir.SuspendBegin) -> list[str]:
        """`suspend {`: inside a loop task."""
        return [f"suspend_begin(me, C, {i.force}, W)"]

    def suspend_end(self, i: ir.SuspendEnd) -> list[str]:
        """The end of `suspend { }`: the task takes the loop back."""
        return ["suspend_end(me, C, W)"]

    def fork_begin(self, i: ir.ForkBegin) -> list[str]:
        """`fork {`: the child runs the block, the parent jumps past it."""
        return [f"pc = {self.pc + 1} if fork(me, W) else {i.end}"]

    def fork_end(self, i: ir.ForkEnd) -> list[str]:
        """The end of the child's block: the child ends."""
        return ["fork_end()"]

    def nothing(self, i: ir.Instr) -> list[str]:
        """A statement that changes nothing (`skip`, `progress`, an atomic block's edges)."""
        return []

    def end_scope(self, i: ir.EndScope) -> list[str]:
        """The end of a block: its locals are dropped (a channel may close)."""
        return [f"drop_value(L[{s}]); L[{s}] = None" for s in i.slots]

    def end(self, i: ir.End) -> list[str]:
        """The end of a thread or function: its locals are dropped."""
        return ["for x in L: drop_value(x)", "return None"]


def _refuse(what: str) -> Callable[[CodeWriter, ir.Instr], list[str]]:
    def refuse(writer: CodeWriter, i: ir.Instr) -> list[str]:
        """Refuse the instruction."""
        raise Refused(what, i.span)

    return refuse


_HANDLERS: Final[dict[type, Callable[[CodeWriter, Any], list[str]]]] = {
    ir.Assign: CodeWriter.assign,
    ir.Recv: CodeWriter.recv,
    ir.TryRecv: CodeWriter.try_recv,
    ir.Send: CodeWriter.send,
    ir.CloneHandle: CodeWriter.clone,
    ir.Unwrap: CodeWriter.unwrap,
    ir.CallFn: CodeWriter.call,
    ir.SpawnFn: CodeWriter.spawn,
    ir.AnyInt: CodeWriter.any_int,
    ir.MakeChannel: CodeWriter.make_channel,
    ir.MakeObject: CodeWriter.make_object,
    ir.DropValue: CodeWriter.drop,
    ir.Close: CodeWriter.close,
    ir.GilEnter: CodeWriter.gil,
    ir.GilExit: CodeWriter.gil,
    ir.AllowEnter: CodeWriter.gil,
    ir.AllowExit: CodeWriter.gil,
    ir.PythonEnter: CodeWriter.gil,
    ir.PythonExit: CodeWriter.gil,
    ir.Acquire: CodeWriter.acquire,
    ir.Release: CodeWriter.release,
    ir.Wait: CodeWriter.wait,
    ir.SyncOp: CodeWriter.sync_op,
    ir.Notify: CodeWriter.notify,
    ir.OnceBegin: CodeWriter.once_begin,
    ir.OnceEnd: CodeWriter.once_end,
    ir.SetEvent: CodeWriter.set_event,
    ir.ClearEvent: CodeWriter.clear_event,
    ir.Join: CodeWriter.join,
    ir.Return: CodeWriter.return_,
    ir.Branch: CodeWriter.branch,
    ir.Choose: CodeWriter.choose,
    ir.Await: CodeWriter.await_,
    ir.Assert: CodeWriter.assert_,
    ir.Panic: CodeWriter.panic,
    ir.Print: CodeWriter.print_,
    ir.AtomicBegin: CodeWriter.nothing,
    ir.AtomicEnd: CodeWriter.nothing,
    ir.Progress: CodeWriter.nothing,
    ir.Skip: CodeWriter.nothing,
    ir.EndScope: CodeWriter.end_scope,
    ir.End: CodeWriter.end,
    ir.AcquireGil: CodeWriter.gil,
    ir.ReleaseGil: CodeWriter.gil,
    ir.ForkBegin: CodeWriter.fork_begin,
    ir.ForkEnd: CodeWriter.fork_end,
    ir.Submit: CodeWriter.submit,
    ir.SuspendBegin: CodeWriter.suspend_begin,
    ir.SuspendEnd: CodeWriter.suspend_end,
}
