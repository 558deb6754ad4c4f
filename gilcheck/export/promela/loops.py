"""Event loops in Promela: `eventloop lp` (arrays, `any_order`), `submit lp, g(a)` and
`suspend { }`.

A loop is a slot of the `lo_` arrays: its thread's id (the owner of the locks its tasks
take; the thread itself runs no statement), the task holding it, the tasks ready to take
it in the order they became ready (and as a bit set, for `any_order`), and how many of its
tasks have not started. Each task is a proctype `K` started by its `submit` with its own
thread id (the GIL and stdout's lock are its own, as in gilcheck): it waits for its turn,
takes the loop, runs its function (every function submitted to a loop is inlined in `K`
with labels and locals of its own, native code from GIL count 0), and in a last step
completes its future, gives the loop back and ends.

A task's statements run only while it holds the loop, or inside a `suspend` block once it
has given the loop back. Inside one, holding the loop, a statement that cannot complete
gives the loop back instead (a step; in Python code the GIL too), as gilcheck's engine
does; at the block's end a task that gave the loop back becomes ready, takes the loop back
(a step, in its turn), then the GIL it gave up (a step).
"""

from __future__ import annotations

from gilcheck.export.promela.common import BOUND_STOP, Gil, Refused, Unit
from gilcheck.export.promela.pools import PoolTranslator
from gilcheck.semantics import ir

READY_SLOTS = 16  # tasks ready on one loop at once


class LoopTranslator(PoolTranslator):
    """Event loops and their tasks."""

    def _loop_setup(self) -> None:
        """Gather the spec's loops and the functions submitted to them."""
        program = self.program
        self.loop_slots: dict[str, tuple[int, int, int]] = {}  # name -> (first, size, order)
        first = 0
        for res in program.resources:
            if res.kind == "eventloop":
                self.loop_slots[res.name] = (first, res.size or 1, res.count or 0)
                first += res.size or 1
        self.loop_count = first
        if self.loop_slots and program.gil != "on":
            # A task giving the loop back detaches rather than releasing a GIL, and takes
            # it back only once no pause is pending: not encoded yet.
            raise Refused("`gil off` in a spec with event loops", program.gil_span)
        self.loop_tasks = sorted(
            {
                instr.function
                for code in program.codes
                for instr in code.instrs
                if isinstance(instr, ir.Submit) and instr.executor.kind == "eventloop"
            }
        )
        self.loop_arity = max([len(program.codes[f].params) for f in self.loop_tasks] or [0])

    def loop_header(self) -> list[str]:
        """The loops' variables and the `take_loop` inline (none without loops)."""
        if not self.loop_slots:
            return []
        return [
            f"#define LPN {self.loop_count}",
            f"#define RQ {READY_SLOTS}",
            "byte lo_thr[LPN];  /* the loop's thread: the owner of its tasks' locks */",
            "byte lo_hold[LPN];  /* the task holding the loop */",
            "byte lo_rq[LPN * RQ]; byte lo_rn[LPN]; int lo_rbits[LPN];  /* ready tasks */",
            "byte lo_new[LPN];  /* tasks not started yet */",
            "bool lo_any[LPN];  /* any_order: any ready task may go next */",
            "byte lq = 0;  /* scratch */",
            "inline take_loop() {",
            "  /* the task `me` leaves the ready tasks and holds loop `lp` */",
            "  lq = 0;",
            "  do :: lo_rq[lp * RQ + lq] != me -> lq++ :: else -> break od;",
            "  do :: lq + 1 < lo_rn[lp] -> lo_rq[lp * RQ + lq] = lo_rq[lp * RQ + lq + 1]; lq++ "
            ":: else -> break od;",
            "  lo_rq[lp * RQ + lq] = 0; lo_rn[lp]--; lo_rbits[lp] = lo_rbits[lp] & ~(1 << me);",
            "  lo_hold[lp] = me; lq = 0",
            "}",
            "#define MAY_TAKE (lo_hold[lp] == NO_ONE && (lo_rq[lp * RQ] == me || "
            "(lo_any[lp] && (lo_rbits[lp] & (1 << me)) != 0)))",
            "#define READY_AGAIN LIMIT(lo_rn[lp] < RQ); /* bound: ready tasks */ "
            "lo_rq[lp * RQ + lo_rn[lp]] = me; lo_rn[lp]++; lo_rbits[lp] = lo_rbits[lp] | (1 << me)",
        ]

    def loop_init(self) -> list[str]:
        """`init` statements: each loop's thread id (after the declared threads), free."""
        lines: list[str] = []
        for first, size, order in self.loop_slots.values():
            for k in range(first, first + size):
                lines += [
                    f"    lo_thr[{k}] = nthreads; nthreads++;",
                    f"    lo_hold[{k}] = NO_ONE;",
                ]
                if order:
                    lines.append(f"    lo_any[{k}] = 1;")
        return lines

    def _loop(self, ref: ir.ResourceRef) -> str:
        """The slot of the loop `ref` names."""
        if ref.value is not None or ref.name not in self.loop_slots:
            raise Refused(f"an event loop reached through a value (`{ref.name}`)", self.here)
        first = self.loop_slots[ref.name][0]
        base = self._base_of(ref)
        if ref.index is None:
            return str(first + ref.base - base)
        return f"({first} + {self._index(ref.index, ref.size, ref.base - base)})"

    def _submit(self, instr: ir.Submit, nxt: str) -> tuple[str, str, str]:
        """`submit lp, g(a)`: a new task, ready at once, and its future (to a pool: see
        pools.py)."""
        if instr.executor.kind != "eventloop":
            if self.loop_slots and instr.executor.kind == "":
                raise Refused(
                    f"`submit` to a pool or event loop reached through a value "
                    f"(`{instr.executor.name}`) in a spec with event loops",
                    instr.span,
                )
            return super()._submit(instr, nxt)
        k = self._loop(instr.executor)
        arity = max(self.loop_arity, 1)
        values = [self._expr(a) for a in instr.args] + ["0"] * (arity - len(instr.args))
        handed = self._moves(*instr.args) + self._copies(*instr.args)
        effect = (
            f"lq = {k}; if :: lo_new[lq] >= {self.options.channel_bound} -> LIMIT_STOP; "
            f"/* bound: a loop's tasks not started past --channel-bound */ {BOUND_STOP} "
            ":: else -> skip fi; "
            "new_future(); fu_sub[fk] = 1; fu_rc[fk] = 2; "
            "LIMIT(nthreads < MAXT); /* bound: threads */ "
            "LIMIT(lo_rn[lq] < RQ); /* bound: ready tasks */ "
            f"run K(nthreads, lq, {self.loop_tasks.index(instr.function)}, "
            f"{', '.join(values)}, fk); "
            "lo_rq[lq * RQ + lo_rn[lq]] = nthreads; lo_rn[lq]++; "
            "lo_rbits[lq] = lo_rbits[lq] | (1 << nthreads); lo_new[lq]++; nthreads++; lq = 0; "
            f"{self._store(instr.target, 'FUB + fk')} fk = 0;{handed}"
        )
        return "true", effect, nxt

    # ------------------------------------------------------------ suspend

    def _suspend_begin(
        self, unit: Unit, instr: ir.SuspendBegin, g: Gil, python: bool, nxt: str
    ) -> tuple[str, str, str]:
        """`suspend {`: the task awaits, still holding the loop; `suspend { skip }` gives it
        back at once. Outside a loop task, or inside `with_gil`/`allow_threads` reached
        through a call, a misuse."""
        if not unit.loop:
            return "true", "assert(false); /* misuse: suspend outside a loop task */", nxt
        if (g.count > 0 and not python) or _inside_allow(g):
            return "true", "assert(false); /* misuse: suspend inside a GIL block */", nxt
        enter = "if :: aw == 0 -> aw = 1; gave = 0; svd = 0; dep = 0 :: else -> dep++ fi;"
        if not instr.force:
            return "true", enter, nxt
        return (
            "true",
            f"{enter} if :: lo_hold[lp] == me -> {self._give_back(g, python)} :: else -> skip fi;",
            nxt,
        )

    @staticmethod
    def _give_back(g: Gil, python: bool) -> str:
        """The task gives the loop back (in Python code, the GIL it holds too)."""
        gil = (
            "if :: gil == me -> gil = NO_ONE; svd = 1 :: else -> skip fi; "
            if python and (g.count > 0)
            else ""
        )
        return f"{gil}lo_hold[lp] = NO_ONE; gave = 1;"

    def _suspend_end(self, unit: Unit, pc: int) -> tuple[str, str, str]:
        """`}` of `suspend`: a nested block's end only leaves it; a task that kept the loop
        goes on; one that gave it back becomes ready, takes the loop back in its turn (a
        step), then the GIL it gave up (a step)."""
        nxt, here = self._label(pc + 1), self._label(pc)
        if not unit.loop:
            return "true", "", nxt
        return (
            "phase == 0 || (phase == 1 && MAY_TAKE) || (phase == 2 && (gil == NO_ONE || "
            "gil == me))",
            "if "
            f":: phase == 0 && dep > 0 -> dep--; goto {nxt} "
            f":: phase == 0 && dep == 0 && gave == 0 -> aw = 0; goto {nxt} "
            f":: phase == 0 && dep == 0 && gave == 1 -> aw = 0; gave = 0; READY_AGAIN; "
            f"phase = 1; goto {here} "
            f":: phase == 1 -> take_loop(); if :: svd -> phase = 2; goto {here} "
            f":: else -> phase = 0; goto {nxt} fi "
            f":: phase == 2 -> gil = me; svd = 0; phase = 0; goto {nxt} "
            "fi;",
            nxt,
        )

    # ------------------------------------------------------------ the task proctype

    def loop_start_step(self) -> list[str]:
        """A task waits for its turn, takes the loop, and starts its function."""
        loads: list[str] = []
        starts: list[str] = []
        for order, unit in enumerate(self.inlined[: len(self.loop_tasks)]):
            params = len(self.program.codes[unit.index].params)
            load = " ".join(f"{unit.local(i)} = a{i}; a{i} = 0;" for i in range(params))
            loads.append(f":: kf == {order} -> {load or 'skip'}")
            starts.append(f":: kf == {order} -> goto {unit.label(0)}")
        return [
            "k_start:",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended{self.running_guard()} && MAY_TAKE -> take_loop(); "
            "lo_new[lp]--; "
            f"if {' '.join(loads)} fi; if {' '.join(starts)} fi }}",
            "  fi;",
        ]

    def loop_finish_step(self) -> list[str]:
        """The task has returned: its future completes (a handle is a misuse), it gives
        the loop back and ends."""
        return [
            "k_finish:",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended{self.running_guard()} && (lo_hold[lp] == me || gave == 1) -> "
            "assert(!IS_TX(tv) && !IS_RX(tv)); /* misuse: a task returns a handle */ "
            "fu_val[ku] = tv; fu_done[ku] = 1; fu_rc[ku] = fu_rc[ku] - 1; tv = 0; "
            "lo_hold[lp] = NO_ONE; t_done[me] = 1; goto end_exit }",
            "  fi;",
        ]

    def loop_task_params(self) -> str:
        """The parameters of `K`: its id, its loop, its function, the arguments, its
        future."""
        args = "".join(f"; int a{i}" for i in range(max(self.loop_arity, 1)))
        return f"byte me; byte lp; byte kf{args}; byte ku"


def _inside_allow(g: Gil) -> bool:
    """Whether a statement is inside `allow_threads` (a saved count that is not a
    `release_gil`'s)."""
    return any(saved >= 0 for saved in g.saved)
