"""Processes made by `spawn process`: each with its own GIL, stdout lock, globals and
interrupts, sharing only what was passed to it.

Every proctype has a parameter `px`, the number of the process its thread belongs to (0
the first). What each process has of its own (the GIL, stdout's lock, its end, its count of
running threads, `gil off`'s attached threads, the interrupts' flags, its vars and declared
channels, its running child processes) is a field of `PS ps[MAXPR]`, and a macro names the
field of the thread's own process by the global's usual name (`#define gil ps[px].f_gil`),
so every statement reads its process's copy unchanged. Typedef initializers give every copy
the declared initial values. Declared resources are one block per process in their kinds'
arrays (`o_mut[px * 2 + 1]`: the second mutex of process px, when the spec declares two),
so a resource passed as a value (`RSB + ...`, see objects.py) is the same object in both
processes; objects and channels made at run time are shared as they are.

`spawn process g(a)` takes the next process number and thread id: the child's main thread
is the proctype `P_g`, whose handle is its thread id; `join` waits for `t_done`, which the
child sets only when the whole process has ended (finalized, or terminated). A child's end
is multiprocessing's bootstrap, as gilcheck's engine has it: its daemon child processes are
terminated (their threads stop where they are, holding what they hold), its other child
processes joined, its non-daemon threads joined, then finalization takes its GIL and ends
it. The first process with `host python` joins its child processes the same way after its
`atexit` blocks, before finalization.

Deadlock: SPIN judges the whole system (an invalid end state), gilcheck each process. A
child blocked for ever is caught when its parent joins it or ends (`host python` joins
every child; with `host rust` the child is left blocked at an invalid end state), so both
agree there; a daemon child blocked for ever before its parent terminates it, or a child
blocked while its parent never ends, is gilcheck's `deadlock` and not SPIN's (docs/promela.md).
"""

from __future__ import annotations

import re

from gilcheck.export.promela.common import JOIN_LABEL, REAP_LABEL, Refused
from gilcheck.export.promela.freethreaded import FINALIZE_LABEL
from gilcheck.export.promela.resources import KIND_CODE, ExportedKind
from gilcheck.export.promela.values import ValueTranslator
from gilcheck.semantics import ir

# A declaration of a global the export writes: `byte gil = NO_ONE`, `int ch_c[3]`.
_DECLARATION = re.compile(
    r"^\s*(?P<type>byte|int|bool|bit|short)\s+(?P<name>\w+)(?P<size>\[[^\]]+\])?"
    r"(?:\s*=\s*(?P<init>.+?))?\s*$"
)

# How the spawn step records whether the process it starts is a daemon (`bench/differential`
# rewrites it to join daemon children in the model it confirms a known difference with).
DAEMON_STARTED = "pdae[np] = {};"

# Kinds multiprocessing cannot pickle: passing one to a process is a misuse.
_UNPICKLABLE_KINDS: tuple[ExportedKind, ...] = ("once", "rwlock")

# Event loops' statements, whose state the export keeps for one process only.
_LOOP_INSTRUCTIONS = (
    ir.LoopStart,
    ir.LoopFinish,
    ir.LoopIdle,
    ir.SuspendBegin,
    ir.SuspendEnd,
)


class ChildProcessTranslator(ValueTranslator):
    """`spawn process`, the processes' own globals, and the ends of processes."""

    children: dict[int, str]  # code index -> proctype name of a process's main

    def spawns_processes(self) -> bool:
        """Whether the spec starts processes (`spawn process`)."""
        return self.processes > 1

    def child_checks(self) -> None:
        """Refuse each `spawn process` of a spec with event loops or `fork`, whose state the
        export keeps for one process only (pools are each process's own: pools.py)."""
        if not self.spawns_processes():
            return
        program = self.program
        executors = any(r.kind == "eventloop" for r in program.resources) or any(
            isinstance(instr, _LOOP_INSTRUCTIONS)
            or (isinstance(instr, ir.MakeObject) and instr.kind == "eventloop")
            or (isinstance(instr, ir.Submit) and instr.executor.kind == "eventloop")
            for code in program.codes
            for instr in code.instrs
        )
        forks = any(
            isinstance(instr, ir.ForkBegin) for code in program.codes for instr in code.instrs
        )
        if not (executors or forks):
            return
        what = "event loops" if executors else "`fork`"
        for code in program.codes:
            for instr in code.instrs:
                if isinstance(instr, ir.SpawnFn) and instr.process:
                    self.refused.append(
                        Refused(f"`spawn process` in a spec with {what}", instr.span, yet=True)
                    )

    def counts_live(self) -> bool:
        """Whether the running non-daemon threads are counted (`live`): the first process
        with `host python` joins them at exit, and a child process at its end, whatever
        the host."""
        return self.program.host == "python" or self.spawns_processes()

    # ------------------------------------------------------------ declarations

    def process_param(self) -> str:
        """The parameter every proctype adds: its thread's process."""
        return "; byte px" if self.spawns_processes() else ""

    def process_arg(self, which: str = "px") -> str:
        """The argument a `run` adds: the new thread's process."""
        return f", {which}" if self.spawns_processes() else ""

    def per_process(self, lines: list[str]) -> list[str]:
        """Declarations of what each process has of its own: as they are without processes,
        else fields of `PS`, each named by a macro for the thread's own process."""
        if not self.spawns_processes():
            return lines
        fields: list[str] = []
        macros: list[str] = []
        for line in lines:
            text = re.sub(r"/\*.*?\*/", "", line).strip()
            if not text:
                continue
            for piece in text.split(";"):
                if not piece.strip():
                    continue
                found = _DECLARATION.match(piece)
                if found is None:
                    raise AssertionError(f"not a declaration: {piece!r}")
                name = found["name"]
                init = f" = {found['init']}" if found["init"] else ""
                fields.append(f"  {found['type']} f_{name}{found['size'] or ''}{init};")
                macros.append(f"#define {name} ps[px].f_{name}")
        return [
            f"#define MAXPR {self.processes}",
            "typedef PS {  /* what each process has of its own */",
            "  byte f_kids = 0;  /* its child processes still running */",
            *fields,
            "}",
            "PS ps[MAXPR];",
            "#define kids ps[px].f_kids",
            *macros,
            "byte np = 1;  /* processes started */",
            "byte ppar[MAXPR];  /* each process's parent */",
            "bool pdae[MAXPR];  /* started as a daemon */",
            "byte pmain[MAXPR];  /* its main thread (its handle) */",
            "#define DAEMON_UP(c) (c < np && ppar[c] == px && pdae[c] && !ps[c].f_ended)",
        ]

    # ------------------------------------------------------------ `spawn process`

    def spawn_process(self, instr: ir.SpawnFn, nxt: str) -> tuple[str, str, str]:
        """`spawn process g(a)`: a new process whose main thread runs `g(a)`; resources
        passed are shared, channel handles moved, Python values pickled (which takes the
        GIL for the step); a value multiprocessing cannot pickle is a misuse."""
        values = [self._expr(a) for a in instr.args]
        pickled = " || ".join(f"IS_PY({v})" for v in values)
        guard = "nthreads < MAXT"
        if pickled:
            guard += f" && (!({pickled}) || gil == NO_ONE || gil == me)"
        checks = "".join(f" {self._picklable(v)}" for v in values)
        args = "".join(f", {v}" for v in values)
        store = (
            f"{self._assign(instr.target, 'THB + nthreads')} " if instr.target is not None else ""
        )
        daemon = DAEMON_STARTED.format(1 if instr.daemon else 0)
        handed = self._moves(*instr.args) + self._copies(*instr.args)
        if self.handles:
            # A channel handle passed: its channel becomes a multiprocessing queue; one that
            # carried an object before (marked 2) stops the export (gilcheck's misuse).
            checks += "".join(
                f" if :: IS_TX({v}) || IS_RX({v}) -> LIMIT(rc_xp[HCH({v})] != 2); "
                f"rc_xp[HCH({v})] = 1 :: else -> skip fi;"
                for v in values
            )
        return (
            guard,
            f"LIMIT(np < MAXPR); /* bound: the export's process slots */{checks} "
            f"ppar[np] = px; {daemon} pmain[np] = nthreads; kids++; "
            f"run {self.children[instr.function]}(nthreads, np{args}); {store}"
            f"np++; nthreads++;{handed}",
            nxt,
        )

    @staticmethod
    def _picklable(value: str) -> str:
        """The misuse check of one argument: thread and process handles, futures, pools,
        once-cells and rwlocks cannot be pickled."""
        kinds = " || ".join(f"RK(XV({value})) == {KIND_CODE[kind]}" for kind in _UNPICKLABLE_KINDS)
        return (
            f"assert(!(IS_TH({value}) || IS_FU({value}) || IS_PL({value}) || "
            f"(IS_RS(XV({value})) && ({kinds})))); "
            "/* misuse: passed to a process, it cannot be pickled */"
        )

    # ------------------------------------------------------------ ends

    def reap_steps(self, following: str, running: str = "") -> list[str]:
        """A process's end joining its child processes: the daemon ones terminated (a step),
        then a wait until every other has ended; then `following`."""
        terminate = " ".join(
            f"if :: DAEMON_UP({c}) -> ps[{c}].f_ended = 1; t_done[pmain[{c}]] = 1; kids-- "
            ":: else -> skip fi;"
            for c in range(1, self.processes)
        )
        up = " || ".join(f"DAEMON_UP({c})" for c in range(1, self.processes))
        return [
            f"{REAP_LABEL}:  /* its child processes: daemons terminated, the others joined */",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended{running} && ({up}) -> {terminate} goto {REAP_LABEL} }}",
            f"  :: atomic {{ !ended{running} && !({up}) && kids == 0 -> goto {following} }}",
            "  fi;",
        ]

    def child_end_steps(self) -> list[str]:
        """A child process's end, after its main's function returned: its child processes
        (daemons terminated, the others joined), its non-daemon threads joined, then
        finalization, which ends the process for `join` and its parent."""
        return [
            *self.reap_steps(JOIN_LABEL),
            *self.pools_end_steps(),
            f"{JOIN_LABEL}_threads:  /* its non-daemon threads joined */",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended && live == 0{self.pools_drained()} -> goto {FINALIZE_LABEL} }}",
            "  fi;",
            *self.finalize_step(ends="t_done[me] = 1; ps[ppar[px]].f_kids--;"),
        ]

    def pools_end_steps(self) -> list[str]:
        """A child process's end marks its own pools shut down (a step), then waits until
        their tasks have run with its threads joined (multiprocessing's bootstrap)."""
        if not self.uses_pools:
            return [f"{JOIN_LABEL}:"]
        return [
            f"{JOIN_LABEL}:  /* its pools shut down */",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended -> PL_EXIT goto {JOIN_LABEL}_threads }}",
            "  fi;",
        ]

    def pools_drained(self) -> str:
        """What the wait for the threads also waits for: the pools' tasks run."""
        return " && PL_DRAINED" if self.uses_pools else ""

    # Provided by the exporter and the value translators.
    uses_pools: bool

    def finalize_step(self, running: str = "", ends: str = "") -> list[str]:
        raise NotImplementedError

    def _moves(self, *values: ir.Expr | None) -> str:
        raise NotImplementedError

    def _copies(self, *values: ir.Expr | None) -> str:
        raise NotImplementedError
