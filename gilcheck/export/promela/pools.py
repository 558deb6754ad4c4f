"""Thread pools and futures in Promela: `pool p = 4`, `pool(4)`, `submit p, g(a)`,
`shutdown p`, `future()`, `complete f, e`, `result f` (timed too) and `is_done(f)`.

A pool is a slot of the `pl_` arrays: declared pools first (each element of an array its
own slot), then pools made at run time (value PLB + k). Its state is gilcheck's (sync/
pool.py): whether it was shut down (1 by `shutdown`, 2 by the interpreter's exit hook),
its queue of tasks (function, arguments, future), its idle and busy workers (counted).
A worker is a proctype `W` started by the `submit` that needs it (when no idle worker is
left for the task and fewer than the maximum exist); it waits for a task at an `end` label
(idle workers are never a deadlock), takes the oldest one as a step of its own, runs it
(each function a pool may run is inlined in `W` with labels and locals of its own,
native code from GIL count 0), and in a last step of the task completes its future and is
idle again.

A future is a slot of the `fu_` arrays (value FUB + k): complete or not, its value, and
whether `submit` made it, and its references (values holding it, its queued or running
task: counted where values are copied and dropped, handles.py). A slot nobody refers to is
reused; pools made at run time are never freed. A spec with more futures alive (or pools
made) than the export provides (`future_count`: twice the statements that make one, times
the largest thread array, at most MAX_FUTURES and `--object-bound`) stops at the export's
limit (`LIMIT_STOP`, an assertion marked `bound`).
"""

from __future__ import annotations

from gilcheck.export.promela.channel_values import ChannelValueTranslator
from gilcheck.export.promela.common import BOUND_STOP, Refused, Unit, own_block
from gilcheck.export.promela.objects import ObjectTranslator
from gilcheck.semantics import describe, ir

MAX_POOLS = 16
MAX_FUTURES = 32
TIMEOUT_TEXT = "timeout"


class PoolTranslator(ObjectTranslator, ChannelValueTranslator):
    """Pools, their workers, and futures."""

    # ------------------------------------------------------------ what the spec holds

    def _pool_setup(self) -> None:
        """Gather the spec's pools, the functions they may run and where futures are made."""
        program = self.program
        self.pool_slots: dict[str, tuple[int, int, int]] = {}  # name -> (first, size, max)
        first = 0
        for res in program.resources:
            if res.kind == "pool":
                self.pool_slots[res.name] = (first, res.size or 1, res.count or 1)
                first += res.size or 1
        self.declared_pools = first
        instrs = [instr for code in program.codes for instr in code.instrs]
        made_pools = sum(1 for i in instrs if isinstance(i, ir.MakeObject) and i.kind == "pool")
        futures = sum(
            1
            for i in instrs
            if isinstance(i, ir.Submit) or (isinstance(i, ir.MakeObject) and i.kind == "future")
        )
        copies = max([info.size or 1 for info in program.threads] or [1])
        # With `spawn process`, each process has its own copies of the declared pools.
        self.pool_count = min(first * self.processes + 2 * made_pools * copies, MAX_POOLS)
        if first * self.processes > MAX_POOLS:
            raise Refused(f"more than {MAX_POOLS} declared pools", program.gil_span)
        self.future_count = min(2 * futures * copies, MAX_FUTURES, self.options.object_bound)
        self.tasks = sorted(
            {
                i.function
                for i in instrs
                if isinstance(i, ir.Submit) and i.executor.kind != "eventloop"
            }
        )
        self.task_arity = max([len(program.codes[f].params) for f in self.tasks] or [0])
        self.uses_pools = bool(self.pool_slots or made_pools or self.tasks)
        # A spec may wait for futures it never makes (`result` of `none`): a misuse at run
        # time, with the variables declared (`is_done` of a non-future reads none of them).
        self.uses_futures = futures > 0 or any(
            isinstance(i, ir.SyncOp) and i.verb in ("result", "complete") for i in instrs
        )

    # ------------------------------------------------------------ declarations

    def pool_header(self) -> list[str]:
        """The pools' and futures' variables (none when the spec has neither)."""
        lines: list[str] = []
        if self.uses_pools:
            cap = self.options.channel_bound
            arity = max(self.task_arity, 1)
            drained = " && ".join(self._drained(k) for k in range(self.pool_count))
            exits = " ".join(
                f"if :: {self._own_pool(k)}pl_shut[{k}] == 0 -> pl_shut[{k}] = 2 "
                ":: else -> skip fi;"
                for k in range(self.pool_count)
            )
            lines += [
                f"#define PLN {max(self.pool_count, 1)}",
                f"#define QCAP {cap}",
                f"#define MAXA {arity}",
                "byte pl_shut[PLN];  /* 0 open, 1 shut down, 2 by the exit hook */",
                "byte pl_max[PLN]; byte pl_idle[PLN]; byte pl_busy[PLN];  /* workers */",
                "byte pl_qn[PLN]; byte pl_qf[PLN * QCAP]; byte pl_qu[PLN * QCAP];"
                "  /* queued tasks: function, future */",
                "int pl_qa[PLN * QCAP * MAXA];  /* their arguments */",
                f"byte pl_n = {self.declared_pools};  /* the next pool made at run time */",
                "byte pk = 0; byte pi = 0;  /* scratch */",
                *self._pool_processes(),
                f"#define PL_DRAINED ({drained or 'true'})",
                f"#define PL_EXIT {exits or 'skip;'}",
            ]
        if self.uses_futures:
            lines += [
                f"#define FUN {max(self.future_count, 1)}",
                "bool fu_done[FUN]; int fu_val[FUN]; bool fu_sub[FUN];  /* sub: made by submit */",
                "byte fu_rc[FUN];  /* references: values holding it, its queued or running task */",
                "byte fk = 0;  /* scratch */",
                "inline new_future() {",
                "  /* fk: the lowest future no value or task refers to (its old state cleared) */",
                "  fk = 0;",
                "  do :: fk < FUN && fu_rc[fk] != 0 -> fk++ :: else -> break od;",
                f"  if :: fk == FUN -> LIMIT_STOP; /* bound: more futures alive than the "
                f"export's {self.future_count} */ {BOUND_STOP} :: else -> skip fi;",
                "  fu_done[fk] = 0; fu_val[fk] = 0; fu_sub[fk] = 0",
                "}",
            ]
        return lines

    def _pool_processes(self) -> list[str]:
        """With processes, which process each pool belongs to."""
        return ["byte pl_px[PLN];  /* the process that made it */"] if self.processes > 1 else []

    def _own_pool(self, k: int) -> str:
        """With processes, the exit hook and the wait for the tasks are the process's own:
        the guard (a conjunct) that pool k is the thread's process's (`pl_px`)."""
        return f"pl_px[{k}] == px && " if self.processes > 1 else ""

    def _drained(self, k: int) -> str:
        """Pool k has no task queued or running (or is another process's)."""
        done = f"pl_qn[{k}] == 0 && pl_busy[{k}] == 0"
        return done if self.processes == 1 else f"(pl_px[{k}] != px || ({done}))"

    def pool_init(self) -> list[str]:
        """`init` statements: each declared pool's most workers (with processes, of each
        process's copy, and which process it is of)."""
        lines = []
        for c in range(self.processes):
            at = c * self.declared_pools
            for first, size, most in self.pool_slots.values():
                for k in range(size):
                    lines.append(f"    pl_max[{at + first + k}] = {most};")
                    if self.processes > 1:
                        lines.append(f"    pl_px[{at + first + k}] = {c};")
        return lines

    def _worker_process(self) -> str:
        """A new worker's process argument: its pool's, the submitting thread's own."""
        return ", px" if self.processes > 1 else ""

    def _own_pools(self, slot: str) -> str:
        """A declared pool's slot: with processes, in the thread's own process's copies."""
        return own_block(self.processes, self.declared_pools, slot)

    # ------------------------------------------------------------ references

    def _pool(self, ref: ir.ResourceRef) -> str:
        """The slot of the pool `ref` names (declared, an element, or a value)."""
        if ref.value is not None:
            return f"PK({self._expr(ref.value)})"
        if ref.kind != "pool" or ref.name not in self.pool_slots:
            raise Refused(f"`{ref.name}` as a pool", self.here)
        first = self.pool_slots[ref.name][0]
        base = self._base_of(ref)
        if ref.index is None:
            return self._own_pools(str(first + ref.base - base))
        return self._own_pools(f"({first} + {self._index(ref.index, ref.size, ref.base - base)})")

    def resource_value(self, expr: ir.Builtin) -> str:
        """A declared pool used as a value is its slot (`PLB + k`); other resources:
        objects.py."""
        kind, _, size, index, name = expr.args
        if not (isinstance(kind, ir.Const) and kind.value == "pool"):
            return super().resource_value(expr)
        assert isinstance(name, ir.Const) and isinstance(size, ir.Const)
        assert isinstance(index, ir.Expr)
        first = self.pool_slots[str(name.value)][0]
        if not isinstance(size.value, int):
            return f"(PLB + {self._own_pools(str(first))})"
        return f"(PLB + {self._own_pools(f'({first} + {self._index(index, size.value, 0)})')})"

    def _future(self, ref: ir.ResourceRef) -> str:
        if ref.value is None:
            raise Refused(f"`{ref.name}` as a future", self.here)
        return f"FK({self._expr(ref.value)})"

    # ------------------------------------------------------------ statements

    def _make_object(self, instr: ir.MakeObject, nxt: str) -> tuple[str, str, str]:
        """`let f = future()` and `let p = pool(4)` (resources: objects.py)."""
        if instr.kind == "future":
            # Referred to by its target (a discarded one drops it at once).
            return (
                "true",
                f"new_future(); fu_rc[fk] = 1; {self._store(instr.target, 'FUB + fk')} fk = 0;",
                nxt,
            )
        if instr.kind == "pool":
            return (
                "true",
                f"if :: pl_n == PLN -> LIMIT_STOP; /* bound: more pools than the "
                f"export's {self.pool_count} */ {BOUND_STOP} :: else -> skip fi; "
                f"pl_max[pl_n] = {instr.count or 1}; pl_shut[pl_n] = 0; "
                + ("pl_px[pl_n] = px; " if self.processes > 1 else "")
                + f"{self._store(instr.target, 'PLB + pl_n')} pl_n++;",
                nxt,
            )
        return self._make_resource(instr, nxt)

    def _submit(self, instr: ir.Submit, nxt: str) -> tuple[str, str, str]:
        """`submit p, g(a)`: a misuse once `p` is shut down; otherwise queue the task with a
        new future, and start a worker when no idle worker is left for it and fewer than
        the maximum exist (as gilcheck's pool does). Never blocks."""
        if instr.executor.kind not in ("pool", ""):
            raise Refused(f"`submit` to {describe.a_kind(instr.executor.kind)}", instr.span)
        k = self._pool(instr.executor)
        slot = "pk * QCAP + pl_qn[pk]"
        args = " ".join(
            f"pl_qa[({slot}) * MAXA + {i}] = {self._expr(a)};" for i, a in enumerate(instr.args)
        )
        handed = self._moves(*instr.args) + self._copies(*instr.args)
        effect = (
            f"pk = {k}; assert(pl_shut[pk] == 0); /* misuse: submit after shutdown */ "
            f"if :: pl_qn[pk] >= QCAP -> LIMIT_STOP; /* bound: a pool's queue past "
            f"--channel-bound */ {BOUND_STOP} :: else -> skip fi; "
            "new_future(); "
            "if :: pl_idle[pk] <= pl_qn[pk] && pl_idle[pk] + pl_busy[pk] < pl_max[pk] -> "
            "LIMIT(nthreads < MAXT); /* bound: threads */ "
            f"{self.spawned_process()}run W(nthreads, pk{self._worker_process()}); nthreads++; "
            "pl_idle[pk]++ "
            ":: else -> skip fi; "
            f"pl_qf[{slot}] = {self.tasks.index(instr.function)}; pl_qu[{slot}] = fk; {args} "
            # Referred to by the task and by the target (a discarded one drops it at once).
            "pl_qn[pk]++; fu_sub[fk] = 1; fu_rc[fk] = 2; pk = 0; "
            f"{self._store(instr.target, 'FUB + fk')} fk = 0;{handed}"
        )
        return "true", effect, nxt

    def _future_op(self, instr: ir.SyncOp, nxt: str) -> tuple[str, str, str]:
        """`complete f, e` and `result f` (timed: ok(v), or err("timeout"))."""
        k = self._future(instr.resource)
        if instr.verb == "complete":
            assert instr.operand is not None
            value = self._expr(instr.operand)
            return (
                "true",
                f"assert(!fu_sub[{k}]); /* misuse: complete on a future submit made */ "
                f"assert(!fu_done[{k}]); /* misuse: a future completed twice */ "
                f"hv = {value}; assert(!IS_TX(hv) && !IS_RX(hv)); /* misuse: a handle in a "
                f"future */ fu_val[{k}] = hv; fu_done[{k}] = 1;{self._referred('hv')} hv = 0;",
                nxt,
            )
        # The value stays with the future: a copy of it is stored.
        copied = f"hv = fu_val[{k}];{self._referred('hv')}"
        if not instr.timed:
            return f"fu_done[{k}]", f"{copied} {self._store(instr.target, 'hv')} hv = 0;", nxt
        timeout = self.constants.literal(TIMEOUT_TEXT)
        self.timed_out = self._store(instr.target, f"WRAP(2, {timeout})")
        return (
            f"fu_done[{k}]",
            f"{copied} {self._store(instr.target, 'WRAP(1, hv)')} hv = 0;",
            nxt,
        )

    def _shutdown(self, instr: ir.SyncOp, pc: int) -> tuple[str, str, str]:
        """`shutdown p`: a misuse from one of `p`'s own tasks; otherwise marks `p` shut
        down (a step, when it must then wait) and waits until no task is queued or running."""
        k = self._pool(instr.resource)
        drained = f"(pl_qn[{k}] == 0 && pl_busy[{k}] == 0)"
        return (
            f"(wk == {k} || {drained} || (phase == 0 && pl_shut[{k}] == 0))",
            f"assert(wk != {k}); /* misuse: shutdown from one of the pool's tasks */ "
            f"if :: {drained} -> if :: pl_shut[{k}] == 0 -> pl_shut[{k}] = 1 "
            f":: else -> skip fi; phase = 0 "
            f":: else -> pl_shut[{k}] = 1; phase = 1; goto {self._label(pc)} fi;",
            self._label(pc + 1),
        )

    # ------------------------------------------------------------ workers

    def take_step(self) -> list[str]:
        """The idle worker's wait, at an `end` label, and its step taking the oldest task:
        its arguments into the function's locals, the queue moved up, then its first
        statement."""
        loads: list[str] = []
        starts: list[str] = []
        for order, unit in enumerate(self.inlined[: len(self.tasks)]):
            params = len(self.program.codes[unit.index].params)
            load = " ".join(
                f"{unit.local(i)} = pl_qa[(wk * QCAP) * MAXA + {i}];" for i in range(params)
            )
            loads.append(f":: tf == {order} -> {load or 'skip'}")
            starts.append(f":: tf == {order} -> goto {unit.label(0)}")
        arity = range(max(self.task_arity, 1))
        moved_up = " ".join(
            f"pl_qa[(wk * QCAP + pi) * MAXA + {i}] = pl_qa[(wk * QCAP + pi + 1) * MAXA + {i}];"
            for i in arity
        )
        cleared = " ".join(f"pl_qa[(wk * QCAP + pi) * MAXA + {i}] = 0;" for i in arity)
        shift = (
            "pi = 0; do :: pi + 1 < pl_qn[wk] -> "
            "pl_qf[wk * QCAP + pi] = pl_qf[wk * QCAP + pi + 1]; "
            f"pl_qu[wk * QCAP + pi] = pl_qu[wk * QCAP + pi + 1]; {moved_up} pi++ "
            f":: else -> break od; pl_qf[wk * QCAP + pi] = 0; pl_qu[wk * QCAP + pi] = 0; "
            f"{cleared} pi = 0;"
        )
        return [
            "end_take:",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended{self.running_guard()} && pl_qn[wk] > 0 -> "
            "tf = pl_qf[wk * QCAP]; "
            f"tu = pl_qu[wk * QCAP]; if {' '.join(loads)} fi; {shift} pl_qn[wk]--; "
            f"pl_idle[wk]--; pl_busy[wk]++; if {' '.join(starts)} fi }}",
            "  fi;",
        ]

    def finish_step(self) -> list[str]:
        """The task has returned: its future completes with the value (a handle is a
        misuse) and the worker is idle again."""
        return [
            "w_finish:",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended{self.running_guard()} -> assert(!IS_TX(tv) && !IS_RX(tv)); "
            "/* misuse: a task "
            "returns a handle */ fu_val[tu] = tv; fu_done[tu] = 1; "
            "fu_rc[tu] = fu_rc[tu] - 1; tv = 0; tu = 0; tf = 0; "
            "pl_busy[wk]--; pl_idle[wk]++; goto end_take }",
            "  fi;",
        ]

    def _task_return(
        self, code: ir.CodeUnit, unit: Unit, instr: ir.Return | ir.End
    ) -> tuple[str, str, str]:
        """A task's `return e` (or end): its locals are dropped, the value kept for the
        finishing step."""
        value, reset = self._frame_end(code, unit, instr)
        return "true", f"tv = {value}; {reset}", unit.finish

    def forked_pools(self) -> str:
        """What a `fork` child does to the pools: one that had started a worker never runs
        a task in the child (its workers are the parent's; no new one starts); one that had
        started none starts workers as usual."""
        if not self.uses_pools:
            return ""
        return "".join(
            f" if :: pl_idle[{k}] + pl_busy[{k}] > 0 -> pl_max[{k}] = 0 :: else -> skip fi;"
            for k in range(max(self.pool_count, 1))
        )
