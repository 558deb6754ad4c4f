"""Promela export: a checked spec's IR as a Promela model that SPIN checks the same way.

Each thread body and spawned function becomes a proctype whose labels are the IR's
instruction indices; each instruction becomes one atomic Promela step guarded by the
condition under which gilcheck's engine lets it go on, so a state where no thread can
move and the program has not ended is an invalid end state for SPIN, and every
`assert`, `panic` and misuse is a failed Promela assertion. When the program ends
(`host rust`: `main` returns; `host python`: finalization takes the GIL) every thread
leaves through an escape at each of its statements, so threads still blocked then are
not reported, as gilcheck does not report them.

The GIL is an owner variable. Without `call` a thread's GIL count at each instruction
is fixed by the blocks around it, so only whether the thread has lost the GIL is kept
at run time: `python { }` code may give the GIL up at any statement boundary (gilcheck
hands it over only when another thread waits for it; the extra steps here change state
counts, never which deadlocks are reachable), and a blocking statement in Python code
releases the GIL while it waits, as in gilcheck.

Arrays (of vars, resources and global channels) are Promela arrays; an index computed at
run time is checked where gilcheck evaluates it, and one out of range fails an assertion
(gilcheck's `panic`) and ends the run.

The translation covers the constructs the differential tests generate; anything else is
refused with a located `not-exportable` error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from gilcheck.diagnostics import DiagnosticSink, SpecError
from gilcheck.options import CheckOptions
from gilcheck.semantics import describe, ir
from gilcheck.semantics.values import render
from gilcheck.source import Span

NONE_VALUE = -2147483647  # `none` as an integer no generated spec computes
NO_ONE = 255
MAX_THREADS = 31  # thread sets are bits of a Promela int
NORMAL, LOST, BLOCKING = 0, 1, 2
# An index out of range panics: the run stops there (no thread goes on, none is reported
# blocked), as gilcheck stops at a violation.
OUT_OF_RANGE = "assert(false); /* panic: index out of range */ ended = 1; goto end_exit"

_BLOCKING = (ir.Recv, ir.Send, ir.Acquire, ir.Join, ir.Await, ir.Wait, ir.OnceBegin, ir.Print)
_BINARY = {
    "+": "+",
    "-": "-",
    "*": "*",
    "==": "==",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "and": "&&",
    "or": "||",
    "/": "/",
    "%": "%",
}


class _Refused(Exception):
    def __init__(self, what: str, span: Span) -> None:
        super().__init__(what)
        self.what = what
        self.span = span


@dataclass(frozen=True)
class _ChanText:
    """The Promela names of one global channel, or of one element of a channel array.

    A scalar channel `c` is `ch_c[cap]` (its buffer), `ch_c_n`, `ch_c_closed` and
    `ch_c_pending`; an array `c[size]` flattens the buffers into `ch_c[size * cap]` and makes
    the other three arrays, indexed by `at` (the element, as Promela text).
    """

    name: str
    capacity: int
    at: str | None = None

    def slot(self, i: str) -> str:
        """Buffer slot `i` (0 is the oldest message)."""
        if self.at is None:
            return f"{self.name}[{i}]"
        return f"{self.name}[({self.at}) * {self.capacity} + {i}]"

    def _field(self, suffix: str) -> str:
        if self.at is None:
            return f"{self.name}_{suffix}"
        return f"{self.name}_{suffix}[{self.at}]"

    @property
    def n(self) -> str:
        """The number of messages buffered."""
        return self._field("n")

    @property
    def closed(self) -> str:
        """Whether the channel is closed."""
        return self._field("closed")

    @property
    def pending(self) -> str:
        """The rendezvous sender whose offer waits (NO_ONE: none)."""
        return self._field("pending")


@dataclass
class _Gil:
    """The GIL count at an instruction, and the counts saved by enclosing allow_threads."""

    count: int
    saved: tuple[int, ...] = ()


@dataclass
class _Unit:
    """What the export needs to know about one code unit."""

    index: int
    name: str
    gil: dict[int, _Gil] = field(default_factory=dict)


def export_promela(program: ir.Program, options: CheckOptions | None = None) -> str:
    """The Promela text of a checked spec; SpecError (`not-exportable`) for what it cannot say."""
    try:
        return _Exporter(program, options or CheckOptions()).run()
    except _Refused as refused:
        sink = DiagnosticSink()
        sink.error(
            "not-exportable",
            f"{refused.what} cannot be exported to Promela",
            refused.span,
            help="the Promela export covers threads, the GIL, locks, semaphores, events and "
            "global channels with integer values; see docs/promela.md",
        )
        raise SpecError(sink.items) from None


class _Exporter:
    def __init__(self, program: ir.Program, options: CheckOptions) -> None:
        self.program = program
        self.options = options
        self.lines: list[str] = []
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

    # ------------------------------------------------------------ top level

    def run(self) -> str:
        program = self.program
        if program.gil != "on":
            raise _Refused("`gil off`", program.gil_span)
        for param in program.params:
            raise _Refused(f"`{describe.declaration(param)}`", param.span)
        for kind, index in program.hooks:
            raise _Refused(f"`{kind} {{ }}`", program.codes[index].span)
        for res in program.resources:
            if res.kind not in (
                "mutex",
                "rlock",
                "semaphore",
                "event",
                "condvar",
                "once",
                "barrier",
            ):
                raise _Refused(f"`{describe.declaration(res)}`", res.span)
        for var in program.vars:
            if not _is_int(var.init):
                raise _Refused(
                    f"`{describe.declaration(var)}`, whose value is not an integer,", var.span
                )
        self._find_spawned()
        self._header()
        for info in program.threads:
            self.self_limit = info.size or 1
            self._proctype(program.codes[info.code], info.code, f"T_{info.name}", spawned=False)
        self.self_limit = 1
        for index, name in self.spawned.items():
            self._proctype(program.codes[index], index, name, spawned=True)
        self._init()
        return "\n".join(self.lines) + "\n"

    def _find_spawned(self) -> None:
        for code in self.program.codes:
            for instr in code.instrs:
                if isinstance(instr, ir.CallFn):
                    raise _Refused(_describe(instr), instr.span)
                if isinstance(instr, ir.SpawnFn):
                    self.spawned[instr.function] = f"F_{self.program.codes[instr.function].name}"

    def _header(self) -> None:
        p = self.program
        emit = self.lines.append
        emit(f"/* {p.path}: exported by gilcheck for SPIN (spin -a; gcc -DSAFETY; ./pan) */")
        emit(f"#define NONE_V ({NONE_VALUE})")
        emit(f"#define NO_ONE {NO_ONE}")
        emit(f"#define MAXT {MAX_THREADS}")
        emit("byte gil = NO_ONE;      /* the thread holding the GIL */")
        emit("bool ended = 0;         /* the program has ended */")
        emit("bool t_done[MAXT];      /* threads that have ended (for join) */")
        emit(f"byte nthreads = {self._declared_count()};")
        emit("byte live = 0;          /* running non-daemon threads other than main */")
        emit("hidden int hv;          /* a received value, before it is stored */")
        for var in p.vars:
            size = var.size or 1
            init = _literal(var.init)
            if var.size is None:
                emit(f"int v_{var.name} = {init};")
            else:
                emit(f"int v_{var.name}[{size}];")
        for res in p.resources:
            size = res.size or 1
            name = f"{res.kind[:3]}_{res.name}"
            if res.kind == "mutex":
                emit(f"byte {name}[{size}];")
            elif res.kind == "rlock":
                emit(f"byte {name}[{size}]; byte {name}_n[{size}];")
            elif res.kind == "semaphore":
                emit(f"int {name}[{size}];")
            elif res.kind == "condvar":
                emit(f"int {name}[{size}]; int {name}_woken[{size}];  /* thread bit sets */")
            elif res.kind == "once":
                emit(f"byte {name}[{size}];  /* 0 new, 1 running, 2 done */")
            elif res.kind == "barrier":
                emit(f"byte {name}[{size}]; bit {name}_gen[{size}];  /* arrived, generation */")
            else:
                emit(f"bool {name}[{size}];")
        for chan in p.channels:
            cap = self._capacity(chan)
            if chan.size is None:
                emit(
                    f"int ch_{chan.name}[{cap}]; byte ch_{chan.name}_n = 0; "
                    f"bool ch_{chan.name}_closed = 0; byte ch_{chan.name}_pending = NO_ONE;"
                )
            else:
                size = chan.size
                emit(
                    f"int ch_{chan.name}[{size * cap}]; byte ch_{chan.name}_n[{size}]; "
                    f"bool ch_{chan.name}_closed[{size}]; "
                    f"byte ch_{chan.name}_pending[{size}] = NO_ONE;"
                )
        emit("")

    def _declared_count(self) -> int:
        return sum(info.size or 1 for info in self.program.threads)

    def _capacity(self, chan: ir.ChannelInfo) -> int:
        if chan.kind in ("oneshot", "rendezvous"):
            return 1
        if chan.capacity:
            return chan.capacity
        return self.options.channel_bound

    def _init(self) -> None:
        p = self.program
        emit = self.lines.append
        emit("init {")
        emit("  atomic {")
        for var in p.vars:
            if var.size is not None:
                for i in range(var.size):
                    emit(f"    v_{var.name}[{i}] = {_literal(var.init)};")
        for res in p.resources:
            name = f"{res.kind[:3]}_{res.name}"
            for i in range(res.size or 1):
                if res.kind in ("mutex", "rlock"):
                    emit(f"    {name}[{i}] = NO_ONE;")
                elif res.kind == "semaphore":
                    emit(f"    {name}[{i}] = {res.count or 0};")
        tid = 0
        for info in p.threads:
            for index in range(info.size or 1):
                if info.name != "main" and p.host == "python":
                    emit("    live++;")
                emit(f"    run T_{info.name}({tid}, {index});")
                tid += 1
        emit("  }")
        emit("}")

    # ------------------------------------------------------------ code units

    def _proctype(self, code: ir.CodeUnit, index: int, name: str, *, spawned: bool) -> None:
        gil = self._gil_counts(code, index)
        params = "".join(f"; int a{i}" for i in range(len(code.params))) if spawned else ""
        self_param = "" if spawned else "; byte self_"
        emit = self.lines.append
        emit(f"proctype {name}(byte me{self_param}{params}) {{")
        emit("  byte mode = 0;  /* 0: normal, 1: lost the GIL, 2: released it to block */")
        emit("  byte phase = 0;  /* a rendezvous sender whose offer waits */")
        emit("  int junk;")
        emit("  byte waiting = 0;  /* condvar: 1 asleep; barrier: 1 + the generation waited on */")
        emit("  byte saved = 0;  /* an rlock's count, released by a condvar wait */")
        if spawned:
            emit("  byte self_ = 0;")
        if any(var.size is not None for var in self.program.vars):
            emit("  int tix = 0;  /* an element whose index reads its own array */")
        for slot, local in enumerate(code.local_names):
            emit(f"  int l{slot};  /* {local} */")
        for i in range(len(code.params) if spawned else 0):
            emit(f"  l{i} = a{i};")
        unit = _Unit(index, name, gil)
        for pc, instr in enumerate(code.instrs):
            if pc not in gil:
                continue  # unreachable
            self._instr(code, unit, pc, instr, spawned)
        emit("end_exit: skip")
        emit("}")
        emit("")

    def _gil_counts(self, code: ir.CodeUnit, index: int) -> dict[int, _Gil]:
        """The GIL count at each reachable instruction (fixed by the blocks around it)."""
        counts: dict[int, _Gil] = {}
        work = [(0, _Gil(0))]
        while work:
            pc, g = work.pop()
            if pc >= len(code.instrs):
                continue
            if pc in counts:
                if counts[pc] != g:
                    raise _Refused(
                        "a statement reached both inside and outside the same `with_gil { }`, "
                        "`allow_threads { }` or `python { }`",
                        code.instrs[pc].span,
                    )
                continue
            counts[pc] = g
            instr = code.instrs[pc]
            after = g
            match instr:
                case ir.GilEnter() | ir.PythonEnter():
                    after = _Gil(g.count + 1, g.saved)
                case ir.GilExit() | ir.PythonExit():
                    after = _Gil(max(0, g.count - 1), g.saved)
                case ir.AllowEnter():
                    after = _Gil(0, (*g.saved, g.count))
                case ir.AllowExit():
                    after = _Gil(g.saved[-1] if g.saved else 0, g.saved[:-1])
            for target in self._successors(instr, pc):
                work.append((target, after))
        return counts

    @staticmethod
    def _successors(instr: ir.Instr, pc: int) -> list[int]:
        match instr:
            case ir.Jump(target=t):
                return [t]
            case ir.Branch(if_false=f):
                return [pc + 1, f]
            case ir.Choose(targets=ts):
                return list(ts)
            case ir.Recv(exit_target=t) if t is not None:
                return [pc + 1, t]
            case ir.End() | ir.Return() | ir.Panic():
                return []
            case ir.AtomicBegin(end=e):
                return [pc + 1, e + 1]
        return [pc + 1]

    # ------------------------------------------------------------ instructions

    def _instr(
        self, code: ir.CodeUnit, unit: _Unit, pc: int, instr: ir.Instr, spawned: bool
    ) -> None:
        emit = self.lines.append
        self.here = instr.span
        label = f"L{pc}"
        g = unit.gil[pc]
        python = instr.context == ir.Context.PYTHON
        if isinstance(instr, ir.Jump):
            emit(f"{label}: goto L{instr.target};")
            return
        if isinstance(instr, ir.AtomicEnd):
            emit(f"{label}: skip;")
            return
        self.at = (code, pc)
        self.indexed.clear()
        self.checked.clear()
        guard, effect, nxt = self._step(code, unit, pc, instr, spawned)
        ok = self._ok_to_step(instr)
        if not self.indexed <= self.checked:
            raise _Refused("an index computed at run time here", instr.span)
        # `ready`: the step goes on; an index out of range (`ok` false) panics instead.
        ready = guard if ok is None else f"({ok}) && ({guard})"
        options: list[str] = []
        if g.count > 0:
            # A thread whose GIL was handed over takes it back before its next statement.
            options.append(
                f"mode == {LOST} && gil == NO_ONE -> gil = me; mode = {NORMAL}; goto {label}"
            )
        if python and g.count > 0:
            # The eval loop may hand the GIL over at a statement boundary.
            options.append(
                f"mode == {NORMAL} && phase == 0 && waiting == 0 && gil == me -> gil = NO_ONE; "
                f"mode = {LOST}; "
                f"goto {label}"
            )
        if ok is not None:
            options.append(f"mode == {NORMAL} && !({ok}) -> {OUT_OF_RANGE}")
        options.append(f"mode == {NORMAL} && ({ready}) -> {effect} goto {nxt}")
        if python and g.count > 0 and isinstance(instr, _BLOCKING):
            # A blocking statement in Python code releases the GIL while it waits, does its
            # operation without it, and takes it back before the next statement.
            waits = f"!({guard})" if ok is None else f"({ok}) && !({guard})"
            options.append(
                f"mode == {NORMAL} && gil == me && {waits} -> gil = NO_ONE; "
                f"mode = {BLOCKING}; goto {label}"
            )
            if ok is not None:
                options.append(f"mode == {BLOCKING} && !({ok}) -> {OUT_OF_RANGE}")
            options.append(f"mode == {BLOCKING} && ({ready}) -> mode = {LOST}; {effect} goto {nxt}")
        emit(f"{label}:  /* {type(instr).__name__} */")
        emit("  if")
        emit("  :: ended -> goto end_exit")
        for option in options:
            emit(f"  :: atomic {{ !ended && {option} }}")
        emit("  fi;")

    def _step(
        self, code: ir.CodeUnit, unit: _Unit, pc: int, instr: ir.Instr, spawned: bool
    ) -> tuple[str, str, str]:
        """(guard, effect, next label) of one instruction."""
        nxt = f"L{pc + 1}"
        g = unit.gil[pc]
        match instr:
            case ir.Skip() | ir.Progress() | ir.EndScope():
                return "true", "", nxt
            case ir.Print(value=v):
                self._expr(v)  # refuses Python values
                return "true", "", nxt
            case ir.Assign(target=t, value=v):
                return "true", self._assign(t, self._expr(v)), nxt
            case ir.AnyInt(low=ir.Const(value=lo), high=ir.Const(value=hi), target=t) if (
                isinstance(lo, int) and isinstance(hi, int) and 0 < hi - lo <= 16
            ):
                picks = " ".join(f":: {self._assign(t, str(v))}" for v in range(lo, hi))
                return "true", f"if {picks} fi;", nxt
            case ir.Branch(cond=c, if_false=f):
                cond = self._expr(c)
                return "true", f"if :: ({cond}) -> goto {nxt} :: else -> goto L{f} fi;", nxt
            case ir.Choose(targets=ts):
                picks = " ".join(f":: goto L{t}" for t in ts)
                return "true", f"if {picks} fi;", nxt
            case ir.Await(cond=c):
                return self._expr(c), "", nxt
            case ir.Assert(cond=c):
                return "true", f"assert({self._expr(c)});", nxt
            case ir.Panic():
                return "true", "assert(false);", nxt
            case ir.GilEnter() | ir.PythonEnter():
                if g.count == 0:
                    if isinstance(instr, ir.PythonEnter) and g.saved:
                        return (
                            "true",
                            "assert(false); /* misuse: Python code in allow_threads */",
                            nxt,
                        )
                    return "gil == NO_ONE", "gil = me;", nxt
                return "true", "", nxt
            case ir.GilExit() | ir.PythonExit():
                return "true", ("gil = NO_ONE;" if g.count == 1 else ""), nxt
            case ir.AllowEnter():
                return "true", ("gil = NO_ONE;" if g.count > 0 else ""), nxt
            case ir.AllowExit():
                saved = g.saved[-1] if g.saved else 0
                if saved > 0:
                    return "gil == NO_ONE", "gil = me;", nxt
                return "true", "", nxt
            case ir.Acquire(resource=r):
                return self._acquire(r), self._acquire_effect(r), nxt
            case ir.Release(resource=r):
                return "true", self._release(r), nxt
            case ir.SetEvent(resource=r) | ir.ClearEvent(resource=r):
                value = 1 if isinstance(instr, ir.SetEvent) else 0
                return "true", f"{self._resource(r)} = {value};", nxt
            case ir.Wait(resource=r, mutex=None) if r.kind == "event":
                return f"{self._resource(r)}", "", nxt
            case ir.Wait(resource=r, mutex=None) if r.kind == "barrier":
                return self._barrier_wait(r, pc)
            case ir.Wait(resource=r, mutex=m) if r.kind == "condvar" and m is not None:
                return self._condvar_wait(r, m, pc)
            case ir.Notify(resource=r, all=every):
                return "true", self._notify(r, every), nxt
            case ir.OnceBegin(resource=r, done=d):
                o = self._resource(r)
                return (
                    f"{o} != 1",
                    f"if :: {o} == 0 -> {o} = 1; goto {nxt} :: else -> goto L{d} fi;",
                    nxt,
                )
            case ir.OnceEnd(resource=r):
                return "true", f"{self._resource(r)} = 2;", nxt
            case ir.Send(channel=ir.GlobalChannel() as c, value=v, target=None):
                return self._send(c, v, pc)
            case ir.Recv(channel=ir.GlobalChannel() as c, target=t, exit_target=ex):
                return self._recv(c, t, ex, nxt)
            case ir.TryRecv(channel=ir.GlobalChannel() as c, target=t):
                e = self._channel(c, written=True)
                take = self._take(e, t)
                empty = self._store(t, "NONE_V")
                return (
                    "true",
                    f"if :: {e.n} > 0 -> {take} :: else -> {empty} fi;",
                    nxt,
                )
            case ir.Close(channel=ir.GlobalChannel() as c):
                chan = self.channels[c.base]
                if chan.kind == "queue":
                    return "true", "assert(false); /* misuse: close on a queue */", nxt
                return "true", f"{self._channel(c, written=True).closed} = 1;", nxt
            case ir.SpawnFn(function=f, args=args, daemon=daemon, target=t):
                values = "".join(f", {self._expr(a)}" for a in args)
                count = "live++; " if self.program.host == "python" and not daemon else ""
                store = f"{self._assign(t, 'nthreads')} " if t is not None else ""
                spawn = f"run {self.spawned[f]}(nthreads{values}); "
                return "nthreads < MAXT", f"{count}{spawn}{store}nthreads++;", nxt
            case ir.Join(handle=h):
                return f"t_done[{self._thread(h)}]", "", nxt
            case ir.AtomicBegin(end=e):
                return self._atomic(code, unit, pc, e)
            case ir.End():
                return "true", self._end(spawned, unit), "end_exit"
        raise _Refused(_describe(instr), instr.span)

    def _end(self, spawned: bool, unit: _Unit) -> str:
        is_main = not spawned and unit.name == "T_main"
        if not is_main:
            live = "live--; " if self.program.host == "python" and not self._daemon(unit) else ""
            return f"t_done[me] = 1; {live}"
        if self.program.host == "rust":
            return "t_done[me] = 1; ended = 1;"
        # host python: the exit join, then finalization taking the GIL (two more steps).
        return "t_done[me] = 1; live == 0; gil == NO_ONE; gil = me; ended = 1;"

    def _daemon(self, unit: _Unit) -> bool:
        # A function spawned both as daemon and not is refused (its end differs).
        kinds = {
            instr.daemon
            for code in self.program.codes
            for instr in code.instrs
            if isinstance(instr, ir.SpawnFn) and instr.function == unit.index
        }
        if len(kinds) > 1:
            raise _Refused(
                "a function spawned both as daemon and not", self.program.codes[unit.index].span
            )
        return kinds == {True}

    def _atomic(self, code: ir.CodeUnit, unit: _Unit, pc: int, end: int) -> tuple[str, str, str]:
        body = code.instrs[pc + 1 : end]
        guard = "true"
        effects: list[str] = []
        for i, instr in enumerate(body):
            if isinstance(instr, ir.Await) and i == 0:
                guard = self._expr(instr.cond)
                continue
            if not isinstance(instr, ir.Assign | ir.Assert | ir.Skip | ir.Progress | ir.EndScope):
                raise _Refused(f"{_describe_in_atomic(instr)} inside `atomic`", instr.span)
            effect = self._step(code, unit, pc + 1 + i, instr, False)[1]
            # The statements run in order: each checks its own indices when it runs.
            effects.append(self._checked_effect(self._ok_to_step(instr), effect))
        return guard, " ".join(effects), f"L{end + 1}"

    # ------------------------------------------------------------ locks

    def _resource(self, ref: ir.ResourceRef) -> str:
        name = f"{ref.kind[:3]}_{ref.name}"
        if ref.index is None:
            return f"{name}[{ref.base - self._base_of(ref)}]"
        return f"{name}[{self._index(ref.index, ref.size, ref.base - self._base_of(ref))}]"

    def _base_of(self, ref: ir.ResourceRef) -> int:
        for res in self.program.resources:
            if res.kind == ref.kind and res.name == ref.name:
                return res.base
        raise _Refused(f"`{ref.name}`", self.here)

    def _acquire(self, ref: ir.ResourceRef) -> str:
        r = self._resource(ref)
        if ref.kind == "mutex":
            return f"{r} == NO_ONE"
        if ref.kind == "rlock":
            return f"({r} == NO_ONE || {r} == me)"
        if ref.kind == "semaphore":
            return f"{r} > 0"
        raise _Refused(f"`acquire` on {describe.a_kind(ref.kind)}", self.here)

    def _acquire_effect(self, ref: ir.ResourceRef) -> str:
        r = self._resource(ref)
        if ref.kind == "mutex":
            return f"{r} = me;"
        if ref.kind == "rlock":
            count = r.replace("[", "_n[", 1)
            return f"{r} = me; {count} = {count} + 1;"
        return f"{r} = {r} - 1;"

    def _release(self, ref: ir.ResourceRef) -> str:
        r = self._resource(ref)
        if ref.kind == "mutex":
            return f"assert({r} != NO_ONE); /* misuse: releasing a free mutex */ {r} = NO_ONE;"
        if ref.kind == "rlock":
            count = r.replace("[", "_n[", 1)
            return (
                f"assert({r} == me); /* misuse: releasing an rlock not held */ "
                f"{count} = {count} - 1; if :: {count} == 0 -> {r} = NO_ONE :: else -> skip fi;"
            )
        return f"{r} = {r} + 1;"

    def _barrier_wait(self, ref: ir.ResourceRef, pc: int) -> tuple[str, str, str]:
        b = self._resource(ref)
        gen = b.replace("[", "_gen[", 1)
        parties = next(
            (
                r.count or 1
                for r in self.program.resources
                if r.kind == "barrier" and r.name == ref.name
            ),
            1,
        )
        nxt = f"L{pc + 1}"
        # Arrive (the last party turns the generation), then wait for the generation to turn.
        return (
            f"waiting == 0 || {gen} != waiting - 1",
            f"if :: waiting != 0 -> waiting = 0; goto {nxt} "
            f":: waiting == 0 && {b} + 1 >= {parties} -> {b} = 0; {gen} = 1 - {gen}; goto {nxt} "
            f":: else -> {b} = {b} + 1; waiting = 1 + {gen}; goto L{pc} fi;",
            nxt,
        )

    def _condvar_wait(
        self, ref: ir.ResourceRef, mutex: ir.ResourceRef, pc: int
    ) -> tuple[str, str, str]:
        cv = self._resource(ref)
        woken = cv.replace("[", "_woken[", 1)
        m = self._resource(mutex)
        count = m.replace("[", "_n[", 1)
        nxt = f"L{pc + 1}"
        me = "(1 << me)"
        if mutex.kind == "rlock":
            release = f"saved = {count}; {count} = 0; {m} = NO_ONE;"
            retake = f"{m} = me; {count} = saved;"
        else:
            release = f"{m} = NO_ONE;"
            retake = f"{m} = me;"
        # Release the mutex and sleep; once notified (out of the waiting set), retake it.
        return (
            f"waiting == 0 || (({cv} & {me}) == 0 && {m} == NO_ONE)",
            f"if :: waiting == 0 -> assert({m} == me); /* misuse: wait without the mutex */ "
            f"{release} {cv} = {cv} | {me}; waiting = 1; goto L{pc} "
            f":: else -> {retake} {woken} = {woken} & ~{me}; waiting = 0; goto {nxt} fi;",
            nxt,
        )

    def _notify(self, ref: ir.ResourceRef, every: bool) -> str:
        cv = self._resource(ref)
        woken = cv.replace("[", "_woken[", 1)
        wake_all = f"{woken} = {woken} | {cv}; {cv} = 0"
        if every:
            return f"{wake_all};"
        # One waiter wakes, any of them: the scheduler's choice.
        picks = " ".join(
            f":: ({cv} & {1 << t}) != 0 -> {cv} = {cv} & ~{1 << t}; {woken} = {woken} | {1 << t}"
            for t in range(MAX_THREADS)
        )
        return f"if :: ({cv} & ({cv} - 1)) == 0 -> {wake_all} :: else -> if {picks} fi fi;"

    # ------------------------------------------------------------ channels

    def _channel(self, ref: ir.GlobalChannel, *, written: bool = False) -> _ChanText:
        """The names of a channel (or array element).

        pan undoes a statement when it backtracks by evaluating its target again, so the
        index of an element an effect writes must read nothing the effect changes: a
        received value is stored last (`_take`), and an index that reads a channel's
        length is refused."""
        chan = self.channels[ref.base]
        name, capacity = f"ch_{chan.name}", self._capacity(chan)
        if ref.index is None:
            return _ChanText(name, capacity)
        if written and _reads_channel(ref.index):
            raise _Refused("a channel index that reads `len(..)`", self.here)
        return _ChanText(name, capacity, self._index(ref.index, ref.size, 0))

    def _take(self, chan: _ChanText, target: ir.Target | None) -> str:
        """Receive the oldest message into `target`, shifting the buffer down. When the
        channel's index or the target's is computed at run time, the target is stored after
        the message is taken (gilcheck evaluates its index then, and the channel's index may
        read it), and panics when out of range."""
        shift = " ".join(
            f"{chan.slot(str(i))} = {chan.slot(str(i + 1))};" for i in range(chan.capacity - 1)
        )
        drop = f"{shift} {chan.n} = {chan.n} - 1;"
        if self._ok(target) is None and (chan.at is None or chan.at.isdigit()):
            return f"{self._target(target)} = {chan.slot('0')}; {drop}"
        return f"hv = {chan.slot('0')}; {drop} {self._store(target, 'hv')}"

    def _store(self, target: ir.Target | None, value: str) -> str:
        """Store `value` into `target`, panicking when its index is out of range."""
        return self._checked_effect(self._ok(target), self._assign(target, value))

    def _assign(self, target: ir.Target | None, value: str) -> str:
        """`target = value`. An element whose index reads its own array goes through `tix`
        (reset after): pan, undoing the assignment, would evaluate the index again."""
        if (
            isinstance(target, ir.GlobalTarget)
            and target.index is not None
            and _reads_var(target.index, target.name)
        ):
            index = self._index(target.index, target.size, 0)
            return f"tix = {index}; v_{target.name}[tix] = {value}; tix = 0;"
        return f"{self._target(target)} = {value};"

    def _send(self, ref: ir.GlobalChannel, value: ir.Expr, pc: int) -> tuple[str, str, str]:
        chan = self.channels[ref.base]
        g = e = self._channel(ref, written=True)
        pick = ""
        v = self._expr(value)
        nxt = f"L{pc + 1}"
        if chan.kind == "rendezvous":
            # Offer (the value waits in the slot), then go on once a receiver took it.
            return (
                f"(phase == 1 && {g.n} == 0) || (phase == 0 && ({g.closed} || "
                f"({g.n} == 0 && {g.pending} == NO_ONE)))",
                f"{pick}if :: phase == 1 -> {e.pending} = NO_ONE; phase = 0; goto {nxt} "
                f":: phase == 0 && {e.closed} -> goto {nxt} "
                f":: else -> {e.slot('0')} = {v}; {e.n} = 1; {e.pending} = me; phase = 1; "
                f"goto L{pc} fi;",
                nxt,
            )
        cap = self._capacity(chan)
        unbounded = chan.kind == "unbounded" or (chan.kind == "queue" and not chan.capacity)
        full = f"{e.n} >= {cap}"
        if chan.kind == "queue":
            push = f"{e.slot(e.n)} = {v}; {e.n} = {e.n} + 1;"
            if unbounded:
                return "true", f"{pick}assert(!({full})); /* bound */ {push}", nxt
            return f"!({g.n} >= {cap})", f"{pick}{push}", nxt
        closing = f" {e.closed} = 1;" if chan.kind == "oneshot" else ""
        push = f"{e.slot(e.n)} = {v}; {e.n} = {e.n} + 1;{closing}"
        if unbounded:
            return (
                "true",
                f"{pick}if :: {e.closed} -> skip "
                f":: else -> assert(!({full})); /* bound */ {push} fi;",
                nxt,
            )
        return (
            f"({g.closed} || !({g.n} >= {cap}))",
            f"{pick}if :: {e.closed} -> skip :: else -> {push} fi;",
            nxt,
        )

    def _recv(
        self, ref: ir.GlobalChannel, target: ir.Target | None, exit_target: int | None, nxt: str
    ) -> tuple[str, str, str]:
        g = e = self._channel(ref, written=True)
        take = self._take(e, target)
        if exit_target is not None:
            at_end = f"goto L{exit_target}"
        else:
            at_end = self._store(target, "NONE_V")
        guard = f"({g.n} > 0 || {g.closed})"
        return guard, f"if :: {e.n} > 0 -> {take} :: else -> {at_end} fi;", nxt

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
        return self._expr(handle)

    def _target(self, target: ir.Target | None) -> str:
        if target is None:
            return "junk"
        if isinstance(target, ir.LocalTarget):
            return f"l{target.slot}"
        if target.index is None:
            return f"v_{target.name}"
        return f"v_{target.name}[{self._index(target.index, target.size, 0)}]"

    def _index(self, expr: ir.Expr, size: int | None, offset: int) -> str:
        """An array index as Promela text; one computed at run time is recorded, and the
        instruction must check its range (`_ok`)."""
        if isinstance(expr, ir.Const) and isinstance(expr.value, int):
            if size is not None and not 0 <= expr.value < size:
                raise _Refused("an index out of range", self.here)
            return str(expr.value + offset)
        if size is None:
            raise _Refused("an index computed at run time", self.here)
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
            case (
                ir.GlobalVar(index=i, size=size)
                | ir.GlobalTarget(index=i, size=size)
                | ir.ResourceRef(index=i, size=size)
                | ir.GlobalChannel(index=i, size=size)
                | ir.ThreadRef(index=i, size=size)
            ) if i is not None:
                return _all(self._ok(i), self._bound(i, size))
            case ir.UnaryOp(operand=o):
                return self._ok(o)
            case ir.BinaryOp(op="and" | "or" as op, left=a, right=b):
                right = self._ok(b)
                if right is None:
                    return self._ok(a)
                decided = f"!{self._expr(a)}" if op == "and" else self._expr(a)
                return _all(self._ok(a), f"({decided} || {right})")
            case ir.BinaryOp(left=a, right=b):
                return _all(self._ok(a), self._ok(b))
            case ir.Builtin(args=args):
                return _all(*(self._ok(a) for a in args if not isinstance(a, ir.HandleRef)))
        return None

    def _ok_to_step(self, instr: ir.Instr) -> str | None:
        """The range checks an instruction makes each time it tries to go on (before it
        blocks); a received value's target is checked when it is stored (`_take`)."""
        match instr:
            case ir.Assign(target=t, value=v):
                return _all(self._ok(v), self._ok(t))
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
            case ir.Wait(resource=r, mutex=m):
                return _all(self._ok(r), self._ok(m))
            case ir.Send(channel=ir.GlobalChannel() as c, value=v):
                value = self._ok(v)
                if value is not None and self.channels[c.base].kind == "rendezvous":
                    value = f"(phase != 0 || {value})"  # a waiting offer has its value
                return _all(self._ok(c), value)
            case (
                ir.Recv(channel=ir.GlobalChannel() as c)
                | ir.TryRecv(channel=ir.GlobalChannel() as c)
            ):
                return self._ok(c)
            case ir.Close(channel=ir.GlobalChannel() as c):
                return self._ok(c)
            case ir.SpawnFn(args=args, target=t):
                return _all(*(self._ok(a) for a in args), self._ok(t))
            case ir.Join(handle=h):
                return self._ok(h)
            case ir.AtomicBegin():
                code, pc = self.at
                first = code.instrs[pc + 1]
                return self._ok(first.cond) if isinstance(first, ir.Await) else None
        return None

    def _checked_effect(self, ok: str | None, effect: str) -> str:
        """`effect`, after the range checks `ok` (a panic when one fails)."""
        if ok is None:
            return effect
        return f"if :: !({ok}) -> {OUT_OF_RANGE} :: else -> skip fi; {effect}"

    def _expr(self, expr: ir.Expr) -> str:
        match expr:
            case ir.Const(value=v):
                if v is None:
                    return "NONE_V"
                if isinstance(v, str):
                    return "0"  # strings only name things (print, assert messages)
                if not _is_int(v):
                    raise _Refused(f"the value `{render(v)}`", self.here)
                return _literal(v)
            case ir.Local(slot=s):
                return f"l{s}"
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
            case ir.BinaryOp(op=op, left=a, right=b) if op in _BINARY:
                return f"({self._expr(a)} {_BINARY[op]} {self._expr(b)})"
            case ir.Builtin(name="is_none", args=(a,)):
                return f"({self._expr(a)} == NONE_V)"  # type: ignore[arg-type]
            case ir.Builtin(name="len", args=(ir.GlobalChannel() as c,)):
                return self._channel(c).n
        raise _Refused(_describe_expr(expr), self.here)


def _all(*conditions: str | None) -> str | None:
    """The conjunction of the conditions given (None: true), evaluated left to right."""
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else "(" + " && ".join(present) + ")"


def _parts(expr: ir.Expr) -> Iterator[ir.Expr]:
    """`expr` and every expression within it (channel indices included)."""
    yield expr
    match expr:
        case ir.GlobalVar(index=i) if i is not None:
            yield from _parts(i)
        case ir.UnaryOp(operand=o):
            yield from _parts(o)
        case ir.BinaryOp(left=a, right=b):
            yield from _parts(a)
            yield from _parts(b)
        case ir.Builtin(args=args):
            for arg in args:
                if isinstance(arg, ir.GlobalChannel):
                    if arg.index is not None:
                        yield from _parts(arg.index)
                elif not isinstance(arg, ir.HandleRef):
                    yield from _parts(arg)


def _reads_var(expr: ir.Expr, name: str) -> bool:
    """Whether `expr` reads the shared var (or array) `name`."""
    return any(isinstance(e, ir.GlobalVar) and e.name == name for e in _parts(expr))


def _reads_channel(expr: ir.Expr) -> bool:
    """Whether `expr` reads a channel (`len(..)`)."""
    return any(
        isinstance(e, ir.Builtin)
        and any(isinstance(a, ir.GlobalChannel | ir.HandleRef) for a in e.args)
        for e in _parts(expr)
    )


def _is_int(value: object) -> bool:
    return isinstance(value, bool | int)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return "NONE_V"
    return str(value)


def _describe(instr: ir.Instr) -> str:
    """What the export refuses, in the spec's words (the `not-exportable` message's subject)."""
    match instr:
        case ir.MakeChannel():
            return f"a channel made at run time (`{describe.statement(instr)}`)"
        case ir.Send(channel=ir.GlobalChannel(), target=t) if t is not None:
            return "a `send` whose result is kept"
        case ir.Send() | ir.Recv() | ir.TryRecv() | ir.Close():
            return f"{describe.construct(instr)} on a channel handle"
        case ir.Wait(resource=res):
            return f"`wait` on {describe.a_kind(res.kind)}"
        case ir.AnyInt(low=lo, high=hi):
            return (
                f"`any({describe.expression(lo)}..{describe.expression(hi)})`, whose range is "
                "not constant or has more than 16 values,"
            )
        case ir.Acquire(resource=res):
            return f"{describe.construct(instr)} on {describe.a_kind(res.kind)}"
    return describe.construct(instr)


def _describe_in_atomic(instr: ir.Instr) -> str:
    """A statement the export cannot run inside `atomic { }` (the lowering lets in no loop,
    so a condition or jump there is an `if`)."""
    if isinstance(instr, ir.Branch | ir.Jump):
        return "`if`"
    return describe.construct(instr)


def _describe_expr(expr: ir.Expr) -> str:
    if isinstance(expr, ir.Builtin):
        return f"`{expr.name}(..)`"
    if isinstance(expr, ir.BinaryOp):
        return f"the operator `{expr.op}`"
    if isinstance(expr, ir.ParamRef):
        return f"the param `{expr.name}`"
    return f"`{describe.expression(expr)}`"
