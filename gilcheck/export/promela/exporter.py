"""The export's driver: the declarations, one proctype per thread body and spawned
function, `init`, and each instruction as a guarded atomic step (see the package's
docstring for the translation)."""

from __future__ import annotations

import functools
from typing import Any

from gilcheck.diagnostics import DiagnosticSink, SpecError
from gilcheck.export.promela.children import ChildProcessTranslator
from gilcheck.export.promela.common import (
    BLOCKING,
    CHILD_MAIN,
    LOST,
    MAX_INLINED,
    MAX_THREADS,
    NO_ONE,
    NONE_VALUE,
    NORMAL,
    OUT_OF_RANGE,
    REAP_LABEL,
    VALUE_MACROS,
    Call,
    Gil,
    Refused,
    Unit,
    channel_kind,
    check_known,
    describe_instr,
    is_child_main,
    misuse_stop,
)
from gilcheck.export.promela.freethreaded import FINALIZE_LABEL, FreeThreaded
from gilcheck.export.promela.loops import LoopTranslator
from gilcheck.export.promela.processes import ProcessTranslator
from gilcheck.export.promela.resources import check_declared
from gilcheck.options import CheckOptions
from gilcheck.semantics import describe, ir
from gilcheck.semantics.reads import makes_python_object
from gilcheck.semantics.values import is_python_value


def export_promela(program: ir.Program, options: CheckOptions | None = None) -> str:
    """The Promela text of a checked spec; SpecError (`not-exportable`) for what it cannot
    say: one error per construct, every one the spec holds, in the order they are written."""
    exporter = Exporter(program, options or CheckOptions())
    text = ""
    try:
        text = exporter.run()
    except Refused as stopped:
        exporter.refused.append(stopped)
    except Exception:
        if not exporter.refused:
            raise
        # Past a construct it refused, the export may meet what that construct left
        # undone: the refusals are the answer.
    if not exporter.refused:
        return text
    sink = DiagnosticSink()
    # One error per place (the first reason found), and one per construct: a block and the
    # statement that holds it refused for the same reason are one error.
    kept: list[Refused] = []
    for each in sorted(exporter.refused, key=lambda r: (r.span.path, r.span.start)):
        if any(
            each.span.path == k.span.path
            and each.span.start < k.span.end
            and k.span.start < each.span.end
            and (
                each.what == k.what
                or (each.span.start, each.span.end) == (k.span.start, k.span.end)
            )
            for k in kept
        ):
            continue
        kept.append(each)
    for each in kept:
        sink.error(
            "not-exportable",
            f"{each.what} cannot be exported to Promela" + (" yet" if each.yet else ""),
            each.span,
            help="the Promela export covers the language but the few constructs "
            "docs/promela.md lists as refused; write the construct another way to "
            "cross-check the rest of the spec with SPIN",
        )
    raise SpecError(sink.items) from None


class Exporter(FreeThreaded, LoopTranslator, ProcessTranslator, ChildProcessTranslator):
    """Translates one checked program."""

    # ------------------------------------------------------------ top level

    def run(self) -> str:
        """The Promela text; what it cannot say is gathered in `refused` (every construct,
        each translated as far as the rest allows) and the text is then of no use."""
        program = self.program
        refuse = self.refused.append
        for param in program.params:
            refuse(Refused(f"`{describe.declaration(param)}`", param.span))
        self.child_checks()
        for res in program.resources:
            if res.kind not in ("pool", "eventloop"):
                self._gathering(check_declared, res)
        self._gathering(self._pool_setup)
        self._gathering(self._loop_setup)
        for var in program.vars:
            if self.constants.encode(var.init) is None:
                refuse(
                    Refused(
                        f"`{describe.declaration(var)}`, whose value has no Promela integer,",
                        var.span,
                    )
                )
        for chan in program.channels:
            self._gathering(channel_kind, chan)  # refuses a kind the export does not know
        self._find_spawned()
        self.moves_checked = self.stores_thread_handles() or any(
            isinstance(instr, ir.DropValue | ir.MakeChannel)
            for code in program.codes
            for instr in code.instrs
        )
        self._header()
        for info in program.threads:
            self.self_limit = info.size or 1
            self._proctype(program.codes[info.code], info.code, f"T_{info.name}", spawned=False)
        self.self_limit = 1
        for index, name in self.spawned.items():
            self._proctype(program.codes[index], index, name, spawned=True)
        for index, name in self.children.items():
            self._proctype(program.codes[index], index, name, spawned=True)
        if self.tasks:
            self._task_proctype(loop=False)
        if self.loop_tasks:
            self._task_proctype(loop=True)
        self._init()
        return "\n".join(self.lines) + "\n"

    def _gathering(self, check: Any, *arguments: Any) -> None:
        """Run a check that refuses by raising; keep its refusal and go on."""
        try:
            check(*arguments)
        except Refused as refused:
            self.refused.append(refused)

    def _find_spawned(self) -> None:
        self.children = {}
        for code in self.program.codes:
            for instr in code.instrs:
                if isinstance(instr, ir.SpawnFn):
                    name = self.program.codes[instr.function].name
                    if instr.process:
                        self.children[instr.function] = f"{CHILD_MAIN}{name}"
                    else:
                        self.spawned[instr.function] = f"F_{name}"

    def _header(self) -> None:
        p = self.program
        emit = self.lines.append
        emit(f"/* {p.path}: exported by gilcheck for SPIN (spin -a; gcc -DSAFETY; ./pan) */")
        emit(f"#define NONE_V ({NONE_VALUE})")
        for macro in VALUE_MACROS:
            emit(macro)
        emit(f"#define NO_ONE {NO_ONE}")
        emit(f"#define MAXT {MAX_THREADS}")
        emit("bit limit_hit = 0;      /* the export's own limit was reached (LIMIT) */")
        emit("bool t_done[MAXT];      /* threads that have ended (for join) */")
        emit(f"byte nthreads = {self._declared_count()};")
        emit("hidden int hv;          /* a received value, before it is stored */")
        # What each process has of its own (`spawn process`: fields of PS, children.py).
        own = [
            "byte gil = NO_ONE;      /* the thread holding the GIL */",
            "byte out_lock = NO_ONE; /* the thread holding stdout's lock (print) */",
            "bool ended = 0;         /* the program has ended */",
            "byte live = 0;          /* running non-daemon threads other than main */",
        ]
        if self.gil_off:
            own.extend(self.free_header())
        for var in p.vars:
            size = var.size or 1
            init = self.constants.literal(var.init)
            if var.size is None:
                own.append(f"int v_{var.name} = {init};")
            elif self.spawns_processes():
                own.append(f"int v_{var.name}[{size}] = {init};")
            else:
                own.append(f"int v_{var.name}[{size}];")
        own.extend(self.process_header())
        for chan in p.channels:
            cap = self._capacity(chan)
            if chan.size is None:
                own.append(
                    f"int ch_{chan.name}[{cap}]; byte ch_{chan.name}_n = 0; "
                    f"bool ch_{chan.name}_closed = 0; byte ch_{chan.name}_pending = NO_ONE;"
                )
            else:
                size = chan.size
                own.append(
                    f"int ch_{chan.name}[{size * cap}]; byte ch_{chan.name}_n[{size}]; "
                    f"bool ch_{chan.name}_closed[{size}]; "
                    f"byte ch_{chan.name}_pending[{size}] = NO_ONE;"
                )
        self.lines.extend(self.per_process(own))
        for part in (
            self.object_header,
            self.pool_header,
            self.loop_header,
            self.handle_header,
            self.channel_value_header,
        ):
            self.lines.extend(part())
        emit("")

    def _declared_count(self) -> int:
        return sum(info.size or 1 for info in self.program.threads)

    def _init(self) -> None:
        p = self.program
        emit = self.lines.append
        emit("init {")
        if self.spawns_processes():
            emit("  byte px = 0;  /* the first process */")
        emit("  atomic {")
        for var in p.vars:
            if var.size is not None and not self.spawns_processes():
                for i in range(var.size):
                    emit(f"    v_{var.name}[{i}] = {self.constants.literal(var.init)};")
        for part in (self.object_init, self.pool_init, self.loop_init):
            self.lines.extend(part())
        tid = 0
        for info in p.threads:
            for index in range(info.size or 1):
                if info.name != "main" and self.counts_live():
                    emit("    live++;")
                emit(f"    run T_{info.name}({tid}{self.process_arg('0')}, {index});")
                tid += 1
        emit("  }")
        emit("}")

    # ------------------------------------------------------------ code units

    def _proctype(self, code: ir.CodeUnit, index: int, name: str, *, spawned: bool) -> None:
        """One proctype: the code unit's instructions, then those of every function it calls,
        inlined once per `call` (with labels and locals of their own), so that each
        statement's GIL count stays fixed by the blocks around it and its caller's."""
        root = Unit(index, name, chain=(index,))
        try:
            root.gil = self._gil_counts(code, Gil(0))
        except Refused as refused:  # the code's GIL blocks: its statements cannot be said
            self.refused.append(refused)
            return
        header, self.lines = self.lines, []
        self.inlined = [root]
        self.start_processes()
        if name == "T_main":
            # `atexit` blocks run on main once it has ended (host python: after the exit
            # join), last declared first, each from its own copy of labels and locals and
            # with the GIL main (or the block before) ended with (`acquire_gil`).
            start = self._end_count(code, root)
            for order, hook in enumerate(self._atexit_codes()):
                unit = Unit(hook, name, prefix=f"h{order}_", chain=(hook,), atexit=order)
                try:
                    if start is None:
                        raise Refused(
                            "an `atexit` block after a `main` that may end holding the GIL "
                            "or not (`acquire_gil`)",
                            self.program.codes[hook].span,
                        )
                    unit.gil = self._gil_counts(self.program.codes[hook], start)
                except Refused as refused:
                    self.refused.append(refused)
                    break
                self.inlined.append(unit)
                start = self._end_count(self.program.codes[hook], unit)
        done = 0
        while done < len(self.inlined):
            unit = self.inlined[done]
            done += 1
            self._unit(unit, spawned)
        body, self.lines = self.resolve_returns(self.lines), header
        params = "".join(f"; int a{i}" for i in range(len(code.params))) if spawned else ""
        self_param = "" if spawned else "; byte self_"
        emit = self.lines.append
        emit(f"proctype {name}(byte me{self.process_param()}{self_param}{params}) {{")
        self._proctype_locals(own_self=spawned, worker=False)
        for i in range(len(code.params) if spawned else 0):
            emit(f"  l{i} = a{i};")
        self.lines.extend(body)
        if name == "T_main" and self.program.host == "python":
            if self.spawns_processes():
                self.lines.extend(self.reap_steps(FINALIZE_LABEL, self.running_guard()))
            self.lines.extend(self.finalize_step(self.running_guard()))
        if is_child_main(name):
            self.lines.extend(self.child_end_steps())
        emit("end_exit: skip")
        emit("}")
        emit("")

    def _proctype_locals(self, *, own_self: bool, worker: bool) -> None:
        """The locals every proctype has, and those of its code units."""
        emit = self.lines.append
        emit("  byte mode = 0;  /* 0: normal, 1: lost the GIL, 2: released it to block */")
        emit("  byte phase = 0;  /* a rendezvous sender whose offer waits */")
        emit("  int junk;")
        emit("  byte waiting = 0;  /* condvar: 1 asleep; barrier: 1 + the generation waited on */")
        emit("  byte saved = 0;  /* an rlock's count, released by a condvar wait */")
        if own_self:
            emit("  byte self_ = 0;")
        if self.uses_pools and not worker:
            emit("  byte wk = NO_ONE;  /* the pool whose worker this thread is */")
        if worker:
            emit("  int tv = 0; byte tf = 0; byte tu = 0;  /* the task: value, function, future */")
        if any(var.size is not None for var in self.program.vars):
            emit("  int tix = 0;  /* an element whose index reads its own array */")
        if self.uses_pins():
            emit("  bool pin = 0; int pr = 0; int pp = 0;  /* objects a waiting statement keeps */")
        for unit in self.inlined:
            names = self.program.codes[unit.index].local_names
            for slot, local in enumerate(names):
                emit(f"  int {unit.local(slot)};  /* {local} */")
        self.lines.extend(self.hook_locals())

    def _task_proctype(self, *, loop: bool) -> None:
        """`W`, a pool's worker waiting for tasks and running each (pools.py), or with
        `loop` `K`, a task of an event loop (loops.py), whose locks are its loop thread's."""
        try:
            units = self.task_units(loop=loop)
        except Refused as refused:
            self.refused.append(refused)
            return
        self.self_limit = 1
        header, self.lines = self.lines, []
        self.inlined = list(units)
        self.start_processes()
        self.owner = "lo_thr[lp]" if loop else "me"
        done = 0
        while done < len(self.inlined):
            unit = self.inlined[done]
            done += 1
            self._unit(unit, True)
        self.owner = "me"
        body, self.lines = self.resolve_returns(self.lines), header
        if loop:
            self.lines.append(f"proctype K({self.loop_task_params()}) {{")
            self._proctype_locals(own_self=True, worker=False)
            self.lines.append(
                "  int tv = 0; byte aw = 0; byte gave = 0; byte svd = 0; byte dep = 0;"
                "  /* the value; inside suspend: gave the loop back, with the GIL, nested */"
            )
            self.lines.extend(self.loop_start_step())
        else:
            self.lines.append(f"proctype W(byte me; byte wk{self.process_param()}) {{")
            self._proctype_locals(own_self=True, worker=True)
            self.lines.extend(self.take_step())
        self.lines.extend(body)
        self.lines.extend(self.loop_finish_step() if loop else self.finish_step())
        self.lines.append("end_exit: skip")
        self.lines.append("}")
        self.lines.append("")

    def task_units(self, *, loop: bool = False) -> list[Unit]:
        """The functions a pool (or, with `loop`, an event loop) may run, each a unit of `W`
        (`K`) from GIL count 0 in native code (a task that returns holding the GIL is
        refused: its worker or loop would keep it)."""
        units: list[Unit] = []
        functions = self.loop_tasks if loop else self.tasks
        for order, function in enumerate(functions):
            code = self.program.codes[function]
            unit = Unit(
                function,
                "K" if loop else "W",
                prefix=f"k{order}_" if loop else f"t{order}_",
                chain=(function,),
                finish="k_finish" if loop else "w_finish",
                loop=loop,
            )
            unit.gil = self._gil_counts(code, Gil(0))
            ends = {
                (g.count, g.saved)
                for at, g in unit.gil.items()
                if isinstance(code.instrs[at], ir.Return | ir.End)
            }
            if ends - {(0, ())}:
                raise Refused(
                    f"a task `{code.name}` that returns holding the GIL (its worker keeps it)",
                    code.span,
                )
            units.append(unit)
        return units

    def _unit(self, unit: Unit, spawned: bool) -> None:
        """The instructions of one code unit of a proctype (its own or an inlined call)."""
        self.unit = unit
        code = self.program.codes[unit.index]
        for pc, instr in enumerate(code.instrs):
            if pc not in unit.gil:
                continue  # unreachable
            self.unit = unit
            try:
                self._instr(code, unit, pc, instr, spawned)
            except Refused as refused:
                # The end of a block refused at its start (`ForkEnd` after `ForkBegin`) is
                # the same construct: said once.
                closing = type(instr).__name__.endswith("End") and any(
                    r.what == refused.what and r.span.path == refused.span.path
                    for r in self.refused
                )
                if not closing:
                    self.refused.append(refused)
        self.unit = unit

    def _gil_counts(self, code: ir.CodeUnit, start: Gil) -> dict[int, Gil]:
        """The GIL count at each reachable instruction (fixed by the blocks around it and,
        from `start`, by its caller's)."""
        counts: dict[int, Gil] = {}
        work = [(0, start)]
        while work:
            pc, g = work.pop()
            if pc >= len(code.instrs):
                continue
            if pc in counts:
                if counts[pc] != g:
                    raise Refused(
                        "a statement reached both inside and outside the same `with_gil { }`, "
                        "`allow_threads { }` or `python { }`",
                        code.instrs[pc].span,
                    )
                continue
            counts[pc] = g
            instr = code.instrs[pc]
            if _certain_misuse(instr, g):
                continue  # the run stops there (the statement goes to `end_exit`)
            after = g
            match instr:
                case ir.GilEnter() | ir.PythonEnter():
                    after = Gil(g.count + 1, g.saved)
                case ir.GilExit() | ir.PythonExit():
                    after = Gil(max(0, g.count - 1), g.saved)
                case ir.AllowEnter():
                    after = Gil(0, (*g.saved, g.count))
                case ir.AllowExit():
                    stack = _without_saved_threads(g.saved)
                    after = Gil(stack[-1] if stack else 0, stack[:-1])
                case ir.ReleaseGil() if g.count > 0:
                    # PyEval_SaveThread: the count is saved (negative) until acquire_gil.
                    after = Gil(0, (*g.saved, -g.count))
                case ir.AcquireGil() if g.count == 0:
                    if g.saved and g.saved[-1] < 0:
                        after = Gil(-g.saved[-1], g.saved[:-1])
                    else:
                        after = Gil(1, g.saved)
                case _:
                    pass  # no other instruction changes the GIL count
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
            case ir.ForkBegin(end=e):
                return [pc + 1, e]  # the child runs the block, the parent goes on past it
            case ir.ForkEnd():
                return []  # the child ends
            case _:
                check_known(instr)
                return [pc + 1]

    # ------------------------------------------------------------ instructions

    def _instr(
        self, code: ir.CodeUnit, unit: Unit, pc: int, instr: ir.Instr, spawned: bool
    ) -> None:
        emit = self.lines.append
        self.here = instr.span
        label = self._label(pc)
        g = unit.gil[pc]
        python = unit.context_of(instr) == ir.Context.PYTHON
        if isinstance(instr, ir.Jump):
            emit(f"{label}: goto {self._label(instr.target)};")
            return
        if isinstance(instr, ir.AtomicEnd):
            emit(f"{label}: skip;")
            return
        self.at = (code, pc)
        self.indexed.clear()
        self.checked.clear()
        self.timed_out = None
        self.pin_step = None
        guard, effect, nxt = self._step(code, unit, pc, instr, spawned)
        if self.gil_off:
            guard, effect = self.free_adjust(instr, g, python, guard, effect)
        if (
            python
            and g.count == 0
            and g.saved
            and g.saved[-1] < 0
            and not isinstance(instr, ir.NOT_PYTHON_CODE)
        ):
            # Python code after release_gil (PyEval_SaveThread), without the GIL.
            guard, effect, nxt = "true", misuse_stop("Python code after release_gil"), "end_exit"
        raw_guard = guard
        takes_gil = makes_pyobj(instr) and not (self.gil_off and g.count > 0)
        if takes_gil:
            # Making a Python object takes the GIL for the step (as gilcheck's engine does
            # for these statements): it waits while another thread holds it.
            guard = f"{GIL_FREE} && ({guard})"
        ok = self._ok_to_step(instr)
        if not self.indexed <= self.checked:
            raise Refused("an index computed at run time here", instr.span)
        # `ready`: the step goes on; an index out of range (`ok` false) panics instead.
        ready = guard if ok is None else f"({ok}) && ({guard})"
        waits = f"!({guard})" if ok is None else f"({ok}) && !({guard})"  # it cannot go on
        if self.gil_off:
            self.free_step(unit, pc, instr, python, guard, effect, nxt, ok)
            return
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
        free = len(options)  # the GIL's own steps: a loop task takes them at any time
        given_up: list[int] = []  # steps a loop task holding the loop in `suspend` gives up
        if ok is not None:
            options.append(f"mode == {NORMAL} && !({ok}) -> {OUT_OF_RANGE}")
        options.append(f"mode == {NORMAL} && ({ready}) -> {effect} goto {nxt}")
        if self.pin_step is not None:
            # It cannot go on: it keeps the objects its shared var names (objects.py).
            pinned = self.pin_step if ok is None else f"({ok}) && {self.pin_step}"
            options.append(f"mode != {LOST} && {pinned}; goto {label}")
        if python and g.count > 0 and blocks(instr):
            given_up.append(len(options))
            # A blocking statement in Python code releases the GIL while it waits, does its
            # operation without it, and takes it back before the next statement.
            options.append(
                f"mode == {NORMAL} && gil == me && {waits} -> gil = NO_ONE; "
                f"mode = {BLOCKING}; goto {label}"
            )
            if ok is not None:
                options.append(f"mode == {BLOCKING} && !({ok}) -> {OUT_OF_RANGE}")
            options.append(f"mode == {BLOCKING} && ({ready}) -> mode = {LOST}; {effect} goto {nxt}")
            if self.timed_out is not None:
                # Having given the GIL up, it completes or times out, then takes it back.
                options.append(
                    f"mode == {BLOCKING} && ({waits}) -> mode = {LOST}; {self.timed_out} "
                    f"goto {self._label(pc + 1)}"
                )
        options.extend(self.interrupt_options(instr, g, python, guard, ok, label))
        if self.timed_out is not None:
            # A timed wait that cannot complete may time out, except in Python code holding
            # the GIL, which gives the GIL up first (above).
            holding = " && !(gil == me)" if python and g.count > 0 else ""
            given_up.append(len(options))
            options.append(
                f"mode == {NORMAL}{holding} && {waits} -> {self.timed_out} "
                f"goto {self._label(pc + 1)}"
            )
        if unit.loop and not isinstance(instr, ir.SuspendEnd):
            options = self._loop_gated(options, free, given_up)
            cannot = self._cannot_complete(instr, raw_guard, ok, takes_gil)
            if cannot is not None:
                # Inside `suspend`, holding the loop, a statement that cannot complete gives
                # the loop back instead of waiting (in Python code the GIL too).
                options.append(
                    f"mode == {NORMAL} && aw == 1 && lo_hold[lp] == me && {cannot} -> "
                    f"{self._give_back(g, python)} goto {label}"
                )
        # A `progress` statement's step carries a progress label (non-progress cycles:
        # `gcc -DNP`, `./pan -l -f`).
        progress = f" progress_{label}:" if isinstance(instr, ir.Progress) else ""
        emit(f"{label}:{progress}  /* {type(instr).__name__} */")
        emit("  if")
        emit("  :: ended -> goto end_exit")
        running = self.running_guard()
        for option in options:
            emit(f"  :: atomic {{ !ended{running} && {option} }}")
        emit("  fi;")

    @staticmethod
    def _loop_gated(options: list[str], free: int, given_up: list[int]) -> list[str]:
        """A loop task's steps: only while it holds the loop, or inside `suspend` once it
        gave the loop back; holding it inside `suspend`, it neither times out nor gives the
        GIL up to wait (it gives the loop back instead). The GIL's own steps are free."""
        gate = "(lo_hold[lp] == me || gave == 1)"
        gated = options[:free]
        for index in range(free, len(options)):
            option = options[index]
            if index in given_up:
                option = f"!(aw == 1 && lo_hold[lp] == me) && {option}"
            gated.append(f"{gate} && {option}")
        return gated

    @staticmethod
    def _cannot_complete(
        instr: ir.Instr, guard: str, ok: str | None, takes_gil: bool
    ) -> str | None:
        """When a statement cannot complete, its GIL aside (None: it always can, or it
        waits only for the GIL, which a loop task waits for holding the loop)."""
        if guard == "true" or isinstance(instr, WAITS_FOR_THE_GIL):
            return None
        cannot = f"{GIL_FREE} && !({guard})" if takes_gil else f"!({guard})"
        return cannot if ok is None else f"({ok}) && {cannot}"

    def _step(
        self, code: ir.CodeUnit, unit: Unit, pc: int, instr: ir.Instr, spawned: bool
    ) -> tuple[str, str, str]:
        """(guard, effect, next label) of one instruction."""
        nxt = self._label(pc + 1)
        g = unit.gil[pc]
        own = self.process_step(code, unit, pc, instr)
        if own is not None:
            return own
        on_value = self._object_step(code, unit, pc, instr, spawned)
        if on_value is not None:
            return on_value
        match instr:
            case ir.Skip() | ir.Progress():
                return "true", "", nxt
            case ir.EndScope(slots=slots):
                return "true", self._drop_locals(slots), nxt
            case ir.MakeChannel():
                return self._make_channel(instr, nxt)
            case ir.Send(channel=ir.HandleRef() as h, value=v, target=t):
                guard, effect, _ = self._handle_send(instr, h)

                def declared_send(c: ir.GlobalChannel) -> tuple[str, str, str]:
                    if t is not None:
                        raise Refused("a send's result on a channel passed as a value", self.here)
                    return self._send(c, v, pc, self._moves(v) + self._copies(v))

                return self.via_value(h, (guard, effect, nxt), declared_send)
            case ir.Recv(channel=ir.HandleRef() as h, target=t, exit_target=ex, timed=timed):
                return self.via_value(
                    h,
                    self._handle_recv(h, t, ex, nxt, timed),
                    lambda c: self._recv(c, t, ex, nxt, timed),
                )
            case ir.TryRecv(channel=ir.HandleRef() as h, target=t):
                return self.via_value(
                    h, self._handle_try_recv(h, t, nxt), lambda c: self._try_recv(c, t, nxt)
                )
            case ir.Close(channel=ir.HandleRef() as h):
                return self.via_value(h, self._handle_close(h, nxt), lambda c: self._close(c, nxt))
            case ir.CloneHandle():
                return self._clone(instr, nxt)
            case ir.DropValue():
                return self._drop(instr, nxt)
            case ir.Print():
                return self._print(unit, pc, instr)
            case ir.Unwrap(value=v, target=t):
                # none and err(..) panic; ok(v) gives v; any other value is itself.
                return (
                    "true",
                    f"hv = {self._expr(v)}; if :: hv == NONE_V || IS_ERR(hv) -> assert(false); "
                    "/* panic: unwrap */ :: IS_OK(hv) -> hv = INNER(hv) :: else -> skip fi; "
                    + self._store(t, "hv")
                    + self._moves(v)
                    + self._copies(v),
                    nxt,
                )
            case ir.Assign(target=t, value=v):
                effect = self._assign(t, self._expr(v)) + self._moves(v) + self._copies(v)
                return "true", effect, nxt
            case ir.AnyInt(low=ir.Const(value=lo), high=ir.Const(value=hi), target=t) if (
                isinstance(lo, int) and isinstance(hi, int) and 0 < hi - lo <= 16
            ):
                picks = " ".join(f":: {self._assign(t, str(v))}" for v in range(lo, hi))
                return "true", f"if {picks} fi;", nxt
            case ir.Branch(cond=c, if_false=f):
                cond = self._expr(c)
                return (
                    "true",
                    f"if :: ({cond}) -> goto {nxt} :: else -> goto {self._label(f)} fi;",
                    nxt,
                )
            case ir.Choose(targets=ts):
                picks = " ".join(f":: goto {self._label(t)}" for t in ts)
                return "true", f"if {picks} fi;", nxt
            case ir.Await(cond=c):
                return self._expr(c), "", nxt
            case ir.Assert(cond=c):
                return "true", f"assert({self._expr(c)});", nxt
            case ir.Panic():
                return "true", "assert(false);", "end_exit"  # the run stops at a panic
            case ir.GilEnter() | ir.PythonEnter():
                if g.count == 0:
                    if isinstance(instr, ir.PythonEnter) and g.saved:
                        after = "after release_gil" if g.saved[-1] < 0 else "in allow_threads"
                        return "true", misuse_stop(f"Python code {after}"), "end_exit"
                    return "gil == NO_ONE", "gil = me;", nxt
                return "true", "", nxt
            case ir.GilExit() | ir.PythonExit():
                if _certain_misuse(instr, g):
                    return "true", misuse_stop("a GIL block ends after release_gil"), "end_exit"
                return "true", ("gil = NO_ONE;" if g.count == 1 else ""), nxt
            case ir.ReleaseGil():
                if _certain_misuse(instr, g):
                    return "true", misuse_stop("release_gil without the GIL"), "end_exit"
                return "true", "gil = NO_ONE;", nxt
            case ir.AcquireGil():
                if _certain_misuse(instr, g):
                    return "true", misuse_stop("acquire_gil holding the GIL"), "end_exit"
                return "gil == NO_ONE", "gil = me;", nxt
            case ir.AllowEnter():
                return "true", ("gil = NO_ONE;" if g.count > 0 else ""), nxt
            case ir.AllowExit():
                if g.count > 0:
                    return "true", f"{MISUSE} /* allow_threads ends holding the GIL */", nxt
                stack = _without_saved_threads(g.saved)
                if stack and stack[-1] > 0:
                    return "gil == NO_ONE", "gil = me;", nxt
                return "true", "", nxt
            case ir.Acquire(resource=r, mode="read" | "write"):
                return self._rw_acquire(instr, pc)
            case ir.SyncOp(verb="result" | "complete"):
                return self._future_op(instr, nxt)
            case ir.SyncOp(verb="shutdown"):
                return self._shutdown(instr, pc)
            case ir.SyncOp():
                return self._sync_op(instr, nxt)
            case ir.SuspendBegin():
                python = unit.context_of(instr) == ir.Context.PYTHON
                return self._suspend_begin(unit, instr, g, python, nxt)
            case ir.SuspendEnd():
                return self._suspend_end(unit, pc)
            case ir.Acquire(resource=r, timed=timed, target=t):
                if not timed:
                    return self._acquire(r), self._acquire_effect(r), nxt
                # true once it has it; false when it times out (it cannot have it now).
                self.timed_out = self._store(t, "0")
                return self._acquire(r), f"{self._acquire_effect(r)} {self._store(t, '1')}", nxt
            case ir.Release(resource=r):
                return "true", self._release(r), nxt
            case ir.SetEvent(resource=r):
                return "true", self._event_set(r), nxt
            case ir.ClearEvent(resource=r):
                return "true", f"{self._resource(r)} = 0;", nxt
            case ir.Wait():
                return self._wait(instr, pc)
            case ir.Notify(resource=r, all=every):
                return "true", self._notify(r, every), nxt
            case ir.OnceBegin(resource=r, done=d):
                o = self._resource(r)
                return (
                    f"{o} != 1",
                    f"if :: {o} == 0 -> {o} = 1; goto {nxt} :: else -> goto {self._label(d)} fi;",
                    nxt,
                )
            case ir.OnceEnd(resource=r):
                return "true", f"{self._resource(r)} = 2;", nxt
            case ir.Send(channel=ir.GlobalChannel() as c, value=v, target=None):
                handed = self._moves(v) + self._copies(v)
                return self._pinned_channel(
                    instr, pc, functools.partial(self._send, c, v, pc, handed)
                )
            case ir.Recv(channel=ir.GlobalChannel() as c, target=t, exit_target=ex, timed=timed):
                return self._pinned_channel(
                    instr, pc, functools.partial(self._recv, c, t, ex, nxt, timed)
                )
            case ir.TryRecv(channel=ir.GlobalChannel() as c, target=t):
                return self._try_recv(c, t, nxt)
            case ir.Close(channel=ir.GlobalChannel() as c):
                return self._close(c, nxt)
            case ir.SpawnFn(process=True):
                return self.spawn_process(instr, nxt)
            case ir.SpawnFn(function=f, args=args, daemon=daemon, target=t):
                values = "".join(f", {self._expr(a)}" for a in args)
                count = "live++; " if self.counts_live() and not daemon else ""
                store = f"{self._assign(t, 'THB + nthreads')} " if t is not None else ""
                spawn = (
                    f"{self.spawned_process()}run {self.spawned[f]}(nthreads{self.process_arg()}"
                    f"{values}); "
                )
                handed = self._moves(*args) + self._copies(*args)
                return "nthreads < MAXT", f"{count}{spawn}{store}nthreads++;{handed}", nxt
            case ir.Join(handle=h, timed=timed, target=t):
                joined = self.joined(self._thread(h))
                if timed:
                    self.timed_out = self._store(t, "0")
                    return joined, self._store(t, "1"), nxt
                return joined, "", nxt
            case ir.AtomicBegin(end=e):
                return self._atomic(code, unit, pc, e)
            case ir.CallFn():
                return self._call(unit, pc, instr)
            case ir.Return() | ir.End() if unit.call is not None:
                return self._return(code, unit, instr)
            case ir.Return() | ir.End() if unit.finish:
                return self._task_return(code, unit, instr)
            case ir.Submit():
                return self._submit(instr, nxt)
            case ir.MakeObject():
                return self._make_object(instr, nxt)

            case ir.Return() | ir.End():
                # The thread drops what it owns (its locals), then ends.
                owned = self._drop_locals(range(len(code.local_names)))
                end, after = self._end(spawned, unit)
                return "true", owned + " " + end, after
        raise Refused(describe_instr(instr), instr.span)

    def _call(self, unit: Unit, pc: int, instr: ir.CallFn) -> tuple[str, str, str]:
        """`call f(a)`: the arguments go into the locals of this call's own copy of `f`,
        which runs from its first instruction (a step, as in gilcheck)."""
        if instr.function in unit.chain:
            name = self.program.codes[instr.function].name
            raise Refused(f"a recursive `call` (`{name}` is already running here)", instr.span)
        if len(self.inlined) >= MAX_INLINED:
            raise Refused(f"a `call` past {MAX_INLINED} inlined calls in one thread", instr.span)
        callee = Unit(
            instr.function,
            unit.name,
            prefix=f"c{len(self.inlined)}_",
            context=unit.context_of(instr),
            call=Call(unit, pc, instr),
            chain=(*unit.chain, instr.function),
            loop=unit.loop,
        )
        code = self.program.codes[instr.function]
        callee.gil = self._gil_counts(code, unit.gil[pc])
        if _end_counts(code, callee) - {(unit.gil[pc].count, unit.gil[pc].saved)}:
            # `release_gil` in the function and `acquire_gil` after the call (or the other
            # way round): the caller's count after the call is not the one before it.
            raise Refused(
                f"a `call` of `{code.name}`, which returns with another GIL count "
                "(`release_gil`/`acquire_gil` split across the call)",
                instr.span,
            )
        self.inlined.append(callee)
        arguments = " ".join(
            f"{callee.local(i)} = {self._expr(a)};" for i, a in enumerate(instr.args)
        )
        handed = self._moves(*instr.args) + self._copies(*instr.args)
        return "true", arguments + handed, callee.label(0)

    def _return(
        self, code: ir.CodeUnit, unit: Unit, instr: ir.Return | ir.End
    ) -> tuple[str, str, str]:
        """`return e` (or the end) of an inlined call: the value goes to the caller's target,
        the call's locals are reset (gilcheck drops them), and the caller goes on."""
        assert unit.call is not None
        # The call's locals are dropped (what the value moved out of them excepted).
        value, reset = self._frame_end(code, unit, instr)
        call = unit.call
        self.unit = call.caller
        try:
            store = self._store(call.instr.target, "hv") if call.instr.target is not None else ""
        finally:
            self.unit = unit
        return "true", f"hv = {value}; {reset} {store}", call.caller.label(call.pc + 1)

    def _print(self, unit: Unit, pc: int, instr: ir.Print) -> tuple[str, str, str]:
        """`print e`: Python's print runs under the GIL; native code takes stdout's lock
        and, for a Python value without the GIL, waits for the GIL holding that lock (a
        step of its own), then writes and releases what it took."""
        value = self._expr(instr.value)
        nxt = self._label(pc + 1)
        if unit.context_of(instr) == ir.Context.PYTHON:
            return "true", "", nxt
        if isinstance(instr.value, ir.Const) and not is_python_value(instr.value.value):
            return "out_lock == NO_ONE", "", nxt
        return (
            "(phase == 0 && out_lock == NO_ONE) || (phase == 1 && (gil == NO_ONE || gil == me))",
            f"if :: phase == 1 -> out_lock = NO_ONE; phase = 0 "
            f":: phase == 0 && IS_PY({value}) && gil != me -> out_lock = me; phase = 1; "
            f"goto {self._label(pc)} :: else -> skip fi;",
            nxt,
        )

    @staticmethod
    def _end_count(code: ir.CodeUnit, unit: Unit) -> Gil | None:
        """The GIL count a code unit ends with (None: it may end with several)."""
        ends = _end_counts(code, unit)
        if len(ends) > 1:
            return None
        count, saved = next(iter(ends), (0, ()))
        return Gil(count, saved)

    def _atexit_codes(self) -> list[int]:
        """main's `atexit` blocks in the order they run: last declared first."""
        return list(reversed([code for kind, code in self.program.hooks if kind == "atexit"]))

    def _end(self, spawned: bool, unit: Unit) -> tuple[str, str]:
        """(effect, next label) of a thread's end; main's goes on to its `atexit` blocks and
        the program's end."""
        is_main = not spawned and unit.name == "T_main"
        if is_child_main(unit.name):
            return "", REAP_LABEL  # a child process's main: its process ends (children.py)
        if not is_main:
            live = "live--; " if self.counts_live() and not self._daemon(unit) else ""
            return f"t_done[me] = 1; {live}", "end_exit"
        python = self.program.host == "python"
        hooks = self._atexit_codes()
        if unit.atexit < 0:
            # main's own end: host python joins every non-daemon thread first.
            done = "t_done[me] = 1;"
            if python and self.uses_pools:
                # The executors' exit hook shuts every pool down; the exit join waits for
                # their tasks too.
                done += f" PL_EXIT {self.exit_wait('live == 0 && PL_DRAINED')};"
            elif python:
                done += f" {self.exit_wait('live == 0')};"
            if hooks:
                return done, Unit(hooks[0], unit.name, prefix="h0_").label(0)
        elif unit.atexit + 1 < len(hooks):
            following = unit.atexit + 1
            return "", Unit(hooks[following], unit.name, prefix=f"h{following}_").label(0)
        else:
            done = ""
        if python:
            # Finalization takes the GIL (`gil off`: once no pause is pending), a step of its
            # own: daemon threads may go on between the exit join and it. Child processes
            # are joined before it.
            return done, REAP_LABEL if self.spawns_processes() else FINALIZE_LABEL
        return done + " ended = 1;", "end_exit"

    def _daemon(self, unit: Unit) -> bool:
        # A function spawned both as daemon and not is refused (its end differs).
        kinds = {
            instr.daemon
            for code in self.program.codes
            for instr in code.instrs
            if isinstance(instr, ir.SpawnFn) and instr.function == unit.index
        }
        if len(kinds) > 1:
            raise Refused(
                "a function spawned both as daemon and not", self.program.codes[unit.index].span
            )
        return kinds == {True}

    def _atomic(self, code: ir.CodeUnit, unit: Unit, pc: int, end: int) -> tuple[str, str, str]:
        """`atomic { }`: its statements in order within one step; an `if` in it jumps to
        labels of the step's own (`L3_5`: instruction 5 inside the block at 3)."""
        body = code.instrs[pc + 1 : end]
        guard = "true"
        effects: list[str] = []
        branches = any(isinstance(instr, ir.Branch | ir.Jump) for instr in body)

        def inside(at: int) -> str:
            return f"{self._label(pc)}_{at}"

        for i, instr in enumerate(body):
            at = pc + 1 + i
            label = f"{inside(at)}: " if branches else ""
            if isinstance(instr, ir.Await) and i == 0:
                guard = self._expr(instr.cond)
                continue
            if isinstance(instr, ir.Branch):
                test = (
                    f"if :: ({self._expr(instr.cond)}) -> skip "
                    f":: else -> goto {inside(instr.if_false)} fi;"
                )
                effects.append(label + self._checked_effect(self._ok_to_step(instr), test))
                continue
            if isinstance(instr, ir.Jump):
                effects.append(f"{label}goto {inside(instr.target)};")
                continue
            if not _runs_in_atomic(instr):
                raise Refused(f"{describe.construct(instr)} inside `atomic`", instr.span)
            effect = self._step(code, unit, at, instr, False)[1]
            # The statements run in order: each checks its own indices when it runs.
            effects.append(label + self._checked_effect(self._ok_to_step(instr), effect))
        if branches:
            effects.append(f"{inside(end)}: skip;")
        return guard, " ".join(effects), self._label(end + 1)


def makes_pyobj(instr: ir.Instr) -> bool:
    """Whether a statement makes a `pyobj` where gilcheck's engine takes the GIL for it."""
    match instr:
        case ir.Send(value=v) | ir.Assign(value=v) | ir.Branch(cond=v):
            return makes_python_object(v)
        case ir.SyncOp(operand=v) if v is not None:
            return makes_python_object(v)
        case ir.SpawnFn(args=args) | ir.CallFn(args=args) | ir.Submit(args=args):
            return any(makes_python_object(a) for a in args)
    return False


def _certain_misuse(instr: ir.Instr, g: Gil) -> bool:
    """Whether a GIL statement is a misuse wherever it runs with count `g` (the run stops
    there: what follows is not reached from it)."""
    match instr:
        case ir.AcquireGil():
            return g.count > 0
        case ir.ReleaseGil():
            return g.count == 0
        case ir.GilExit() | ir.PythonExit():
            return g.count == 0 and bool(g.saved) and g.saved[-1] < 0
    return False


def blocks(instr: ir.Instr) -> bool:
    """Whether a statement may wait (in Python code it then gives the GIL up)."""
    if isinstance(instr, ir.SyncOp):
        return instr.verb in ("result", "shutdown")
    return isinstance(instr, ir.BLOCKING_INSTRUCTIONS)


MISUSE = "assert(false);"
GIL_FREE = "(gil == NO_ONE || gil == me)"  # a step that takes the GIL for itself can


def _without_saved_threads(saved: tuple[int, ...]) -> tuple[int, ...]:
    """The saved counts of enclosing `allow_threads` blocks: those `release_gil` saved
    inside the block (negative) are dropped when it ends (C drops that thread state)."""
    stack = saved
    while stack and stack[-1] < 0:
        stack = stack[:-1]
    return stack


# Statements whose only wait is for the GIL.
WAITS_FOR_THE_GIL = (
    ir.GilEnter,
    ir.PythonEnter,
    ir.AcquireGil,
    ir.AllowExit,
    ir.SuspendBegin,
    ir.SuspendEnd,
)

# Statements an `atomic` block runs within its one step (none of them blocks).
ATOMIC_STATEMENTS = (
    ir.Assign,
    ir.Assert,
    ir.Skip,
    ir.Progress,
    ir.EndScope,
    ir.SetEvent,
    ir.ClearEvent,
    ir.Notify,
    ir.Release,
)


def _runs_in_atomic(instr: ir.Instr) -> bool:
    """Whether the export runs a statement within an `atomic` block's one step: the
    non-blocking statements, and the v1.2 ones the language lets in (constructors of
    futures and pools, `submit`, `complete`), and `drop`."""
    match instr:
        case ir.MakeObject(kind="future" | "pool") | ir.Submit() | ir.DropValue():
            return True
        case ir.SyncOp(verb="complete"):
            return True
    return isinstance(instr, ATOMIC_STATEMENTS)


def _end_counts(code: ir.CodeUnit, unit: Unit) -> set[tuple[int, tuple[int, ...]]]:
    """The GIL counts (count, saved) a code unit may end or return with."""
    return {
        (g.count, g.saved)
        for at, g in unit.gil.items()
        if isinstance(code.instrs[at], ir.Return | ir.End)
    }
