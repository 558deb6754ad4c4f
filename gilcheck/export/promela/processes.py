"""`fork { }` and the interrupts (`finalizer { }`, `signal { }`).

Fork: a run follows one process at a time. `cur_proc` is the number of the process the run
follows and `pnum[t]` the process of thread t (threads spawned take their spawner's); every
step of a thread is guarded by `pnum[me] == cur_proc`. The `fork` step either goes on as the
parent past the block (the child is never looked at in that run: it shares nothing with the
parent afterwards) or becomes the child: `cur_proc` and the thread's `pnum` take a new
number, so every other thread is frozen with what it holds (locks, the GIL, stdout's lock, a
once-cell it runs), as gilcheck's `GONE` threads are. The child runs the block and ends the
whole run at its end (or at a `return` inside it, its only frame's end), as `os._exit`
does: `ended = 1`, with no exit join, `atexit` block or finalization. A child blocked for
ever leaves every thread blocked, an invalid end state (`deadlock`). With `host python`,
joining a thread that is gone in the child returns (Python's threading marks them
stopped); with `host rust` it waits for ever.

Interrupts: each hook's code is inlined, like an `atexit` block, into every proctype that
may run it (`finalizer`: every thread; `signal`: `main`), once per GIL count it may start
with, with labels and locals of its own (`i4_L0`, ...). A global flag says whether it has
started (at most once per run, a fork child inheriting it). At each statement boundary of
Python code where the thread holds the GIL and can go on (gilcheck's engine: mode normal,
no statement half done, and a step to take, a blocking statement's giving the GIL up
included), an extra option sets the flag, records where the thread was (`r_i4_ = k`) and
goes to the hook's first statement; its end drops its locals and goes back with
`if :: r_i4_ == k -> goto Lk ... fi`.
"""

from __future__ import annotations

from gilcheck.export.promela.common import NORMAL, Gil, Refused, Unit, is_child_main
from gilcheck.export.promela.values import ValueTranslator
from gilcheck.semantics import ir

INTERRUPT_KINDS = ("finalizer", "signal")
RETURN_MARK = "@@return:"


class ProcessTranslator(ValueTranslator):
    """`fork` blocks and the `finalizer`/`signal` interrupts."""

    # ------------------------------------------------------------ whole program

    _forks: bool | None = None

    def forks(self) -> bool:
        """Whether the spec forks (every step is then guarded by its thread's process)."""
        if self._forks is None:
            self._forks = any(
                isinstance(instr, ir.ForkBegin)
                for code in self.program.codes
                for instr in code.instrs
            )
        return self._forks

    def interrupt_hooks(self) -> list[tuple[int, str, int]]:
        """(number, kind, code index) of each `finalizer` and `signal` block."""
        return [
            (i, kind, code)
            for i, (kind, code) in enumerate(self.program.hooks)
            if kind in INTERRUPT_KINDS
        ]

    def process_header(self) -> list[str]:
        """The globals of forks and interrupts."""
        lines: list[str] = []
        if self.forks():
            lines.append("byte cur_proc = 0;  /* the process the run follows (fork) */")
            lines.append("byte pnum[MAXT];    /* each thread's process */")
        for number, kind, _ in self.interrupt_hooks():
            lines.append(f"bool started_{number} = 0;  /* the `{kind}` block has started */")
        return lines

    def running_guard(self) -> str:
        """The condition every step of a thread adds: its process is the one followed."""
        return " && pnum[me] == cur_proc" if self.forks() else ""

    def spawned_process(self) -> str:
        """What a `spawn` adds: the new thread belongs to its spawner's process."""
        return "pnum[nthreads] = cur_proc; " if self.forks() else ""

    def joined(self, thread: str) -> str:
        """`join`'s condition: the thread has ended, or (host python) is gone in a fork child."""
        if self.forks() and self.program.host == "python":
            return f"(t_done[{thread}] || pnum[{thread}] != cur_proc)"
        return f"t_done[{thread}]"

    def exit_wait(self, condition: str) -> str:
        """A wait inside main's end step (the exit join, finalization taking the GIL), where
        the step has lost its atomicity: a thread frozen by a fork does not go on there, and
        one the run's end finds there leaves."""
        if not self.forks():
            return condition
        return f"((pnum[me] == cur_proc && {condition}) || ended)"

    # ------------------------------------------------------------ per proctype

    def start_processes(self) -> None:
        """A new proctype: no hook inlined yet."""
        self.hook_units: dict[tuple[int, int, tuple[int, ...], tuple[int, ...]], Unit] = {}
        self.hook_returns: dict[str, list[str]] = {}  # a hook unit's prefix -> return labels

    def hook_locals(self) -> list[str]:
        """The return-point variables of the hooks inlined in this proctype."""
        return [
            f"  short r_{prefix};  /* where the interrupt returns */"
            for prefix in self.hook_returns
        ]

    def resolve_returns(self, body: list[str]) -> list[str]:
        """Each hook end's dispatch back to where the thread was interrupted."""
        out: list[str] = []
        for line in body:
            while RETURN_MARK in line:
                start = line.index(RETURN_MARK)
                end = line.index("@@", start + len(RETURN_MARK))
                prefix = line[start + len(RETURN_MARK) : end]
                labels = self.hook_returns[prefix]
                picks = " ".join(
                    f":: r_{prefix} == {k} -> goto {lab}" for k, lab in enumerate(labels)
                )
                line = line[:start] + f"if {picks} fi;" + line[end + 2 :]
            out.append(line)
        return out

    def interrupt_options(
        self, instr: ir.Instr, g: Gil, python: bool, guard: str, ok: str | None, label: str
    ) -> list[str]:
        """The options starting an interrupt before `instr` (label `label`), where the
        thread is in Python code holding the GIL and can go on."""
        hooks = self.interrupt_hooks()
        if not hooks or not python or g.count == 0:
            return []
        unit = self.unit
        # gilcheck's engine, in Python code holding the GIL, always has a step at these:
        # completing, or giving the GIL up to block.
        if isinstance(instr, ir.BLOCKING_INSTRUCTIONS):
            can = "true"  # it completes, or gives the GIL up to block
        elif ok is None:
            can = guard
        else:
            can = f"(!({ok}) || ({guard}))"
        options: list[str] = []
        for number, kind, code in hooks:
            if kind == "signal" and unit.name != "T_main" and not is_child_main(unit.name):
                continue  # (a signal runs on each process's main thread: `P_g` in a child)
            if code in unit.chain:
                continue  # the block (or a block it interrupted) is running: it has started
            hook = self._hook_unit(code, g)
            returns = self.hook_returns[hook.prefix]
            returns.append(label)
            options.append(
                f"mode == {NORMAL} && phase == 0 && waiting == 0 && gil == me && !started_{number} "
                f"&& ({can}) -> started_{number} = 1; r_{hook.prefix} = {len(returns) - 1}; "
                f"goto {hook.label(0)}"
            )
        return options

    def _hook_unit(self, code: int, g: Gil) -> Unit:
        """The copy of a hook's code that starts with GIL count `g` in this proctype, inside
        the hooks already running where it starts (each starts at most once, so a hook
        never nests in itself: the copies are finite)."""
        hooks = {c for _, _, c in self.interrupt_hooks()}
        running = tuple(c for c in self.unit.chain if c in hooks)
        key = (code, g.count, g.saved, running)
        found = self.hook_units.get(key)
        if found is not None:
            return found
        unit = Unit(
            code,
            self.unit.name,
            prefix=f"i{len(self.inlined)}_",
            context=ir.Context.PYTHON,
            chain=(*running, code),
            loop=self.unit.loop,  # on a loop's task: gated by the loop as the task is
        )
        block = self.program.codes[code]
        unit.gil = self._gil_counts(block, Gil(g.count, g.saved))
        ends = {
            (c.count, c.saved)
            for at, c in unit.gil.items()
            if isinstance(block.instrs[at], ir.Return | ir.End)
        }
        if ends - {(g.count, g.saved)}:
            raise Refused(
                f"a `{block.kind}` block that ends with another GIL count than it started with "
                "(`release_gil`/`acquire_gil`)",
                block.span,
            )
        self.inlined.append(unit)
        self.hook_units[key] = unit
        self.hook_returns[unit.prefix] = []
        return unit

    # ------------------------------------------------------------ statements

    def process_step(
        self, code: ir.CodeUnit, unit: Unit, pc: int, instr: ir.Instr
    ) -> tuple[str, str, str] | None:
        """(guard, effect, next label) of a fork's or an interrupt's own statements; None for
        any other."""
        match instr:
            case ir.ForkBegin(end=e):
                # Go on as the parent, or become the child (a new process; the others freeze).
                return (
                    "true",
                    f"if :: goto {unit.label(e)} :: cur_proc = cur_proc + 1; "
                    f"pnum[me] = cur_proc;{self.forked_pools()} fi;",
                    unit.label(pc + 1),
                )
            case ir.ForkEnd():
                return "true", "ended = 1;", "end_exit"  # os._exit: the run is over
            case ir.Return() if _inside_fork(code, pc):
                # `return` in a fork block: the child's only frame ends, and the child.
                return "true", "ended = 1;", "end_exit"
            case ir.Return() | ir.End() if unit.call is None and unit.prefix in self.hook_returns:
                # The interrupt is over: its locals are dropped, and the thread goes on
                # where it was interrupted.
                slots = range(len(code.local_names))
                reset = self._drop_locals(slots)
                reset += " ".join(f" {unit.local(slot)} = 0;" for slot in slots)
                return "true", f"{reset} {RETURN_MARK}{unit.prefix}@@", unit.label(pc)
        return None

    # Provided by the exporter.
    def _gil_counts(self, code: ir.CodeUnit, start: Gil) -> dict[int, Gil]:
        raise NotImplementedError

    def _drop_locals(self, slots: range | tuple[int, ...]) -> str:
        raise NotImplementedError


def _inside_fork(code: ir.CodeUnit, pc: int) -> bool:
    """Whether instruction `pc` is inside a `fork { }` block of its code unit."""
    return any(
        isinstance(instr, ir.ForkBegin) and at < pc < instr.end
        for at, instr in enumerate(code.instrs)
    )
