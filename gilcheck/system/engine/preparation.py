"""Preparation: each instruction compiled once into a Prepared (its handler, evaluators,
static facts and, for a statement on a sync object, its primitive's statement), and the
initial state."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gilcheck.semantics import ir
from gilcheck.semantics.reads import reads_shared
from gilcheck.semantics.values import (
    Value,
)
from gilcheck.sync import registry
from gilcheck.sync.base import Site

if TYPE_CHECKING:
    pass
from gilcheck.semantics.reads import copied_vars, makes_python_object, moved_locals
from gilcheck.system.engine.base import (
    Base,
)
from gilcheck.system.engine.common import (
    CHANNEL_PIN,
    Handler,
    Prepared,
    _is_left_mover,
    _is_local,
    _reads_only_locals,
)
from gilcheck.system.engine.handlers_channels import shared_channel
from gilcheck.system.expr import compile_expr
from gilcheck.system.model import STEP, TIMEOUT, Transition
from gilcheck.system.state import (
    F_CODE,
    F_PC,
    GIL_NORMAL,
    NATIVE,
    NO_THREAD,
    PYTHON,
    RUNNING,
    S_THREADS,
    T_FRAMES,
    T_PHASE,
    Channel,
    Frame,
    State,
    Thread,
    Work,
)


class Preparation(Base):
    """Preparing instructions and building the initial state."""

    @staticmethod
    def _lock_offsets(program: ir.Program) -> dict[str, int]:
        offsets: dict[str, int] = {}
        total = 0
        for kind in registry.KINDS:
            offsets[kind] = total
            total += sum(r.size or 1 for r in program.resources if r.kind == kind)
        return offsets

    def _prepare(self, ci: int, pc: int) -> Prepared:
        instr = self.codes[ci].instrs[pc]
        value_expr: ir.Expr | None = None
        extra: list[ir.Expr] = []
        match instr:
            case ir.Assign(value=v) | ir.Send(value=v) | ir.Unwrap(value=v) | ir.Print(value=v):
                value_expr = v
            case ir.Branch(cond=c) | ir.Await(cond=c):
                value_expr = c
            case ir.Assert(cond=c, message=m):
                value_expr = c
                extra = [m] if m is not None else []
            case ir.Panic(message=m) | ir.Return(value=m):
                value_expr = m
            case ir.CallFn(args=args) | ir.SpawnFn(args=args) | ir.Submit(args=args):
                extra = list(args)
            case ir.AnyInt(low=lo, high=hi):
                extra = [lo, hi]
            case ir.CloneHandle(source=src) if not isinstance(src, ir.HandleRef | ir.GlobalChannel):
                value_expr = src
            case ir.Join(handle=h) if not isinstance(h, ir.ThreadRef):
                value_expr = h
            case ir.SyncOp(operand=o) if o is not None:
                value_expr = o  # `complete f, pyobj(..)` makes a Python object
            case _:
                pass
        moves: tuple[int, ...] = ()
        copies: tuple[bool, ...] = ()
        if isinstance(instr, ir.Assign | ir.Send | ir.Return | ir.Unwrap | ir.CloneHandle):
            if isinstance(instr, ir.Assign | ir.Send | ir.Return | ir.Unwrap):
                moves = moved_locals(value_expr)
            if copied_vars(value_expr):
                copies = (True,)
        elif isinstance(instr, ir.CallFn | ir.SpawnFn | ir.Submit):
            moves = tuple(s for a in instr.args for s in moved_locals(a))
            if any(copied_vars(a) for a in instr.args):
                copies = tuple(copied_vars(a) for a in instr.args)
        makes = makes_python_object(value_expr) or any(makes_python_object(e) for e in extra)
        context = {ir.Context.NATIVE: NATIVE, ir.Context.PYTHON: PYTHON}.get(instr.context)
        next_pc = self.resolve_pc(ci, pc + 1) if pc + 1 < len(self.codes[ci].instrs) else pc
        pure = context != PYTHON and _is_local(instr) and not isinstance(instr, ir.EndScope)
        frame_step = (
            self.calls_merge
            and not makes
            and (
                (
                    isinstance(instr, ir.CallFn)
                    and all(_reads_only_locals(a) for a in instr.args)
                    and (instr.target is None or isinstance(instr.target, ir.LocalTarget))
                )
                or (isinstance(instr, ir.Return) and _reads_only_locals(instr.value))
            )
        )
        # (a scope's end in Python code only where it drops plain data: Reduction._pure_chain)
        python_pure = self.python_merge and ((_is_local(instr) and not makes) or frame_step)
        local = context != PYTHON and (
            pure
            if self.has_fork or self.watches_windows
            else (_is_local(instr) or _is_left_mover(instr) or self._takes_private_lock(instr))
        )
        ref = (
            getattr(instr, "resource", None)
            or getattr(instr, "channel", None)
            or getattr(instr, "executor", None)
        )
        ref_index = getattr(ref, "index", None)
        shared = _shared_operand(instr)
        site, partner, skip_pc = self._site(ci, instr, shared)
        partner_index = getattr(partner, "index", None)
        verb = ir.sync_verb(instr) or ""
        ref_value = getattr(ref, "value", None) if verb or isinstance(instr, ir.Submit) else None
        partner_value = getattr(partner, "value", None)
        operand = instr.operand if isinstance(instr, ir.SyncOp) else None
        return Prepared(
            instr=instr,
            code=ci,
            pc=pc,
            next_pc=next_pc,
            value=compile_expr(value_expr, self.params) if value_expr is not None else None,
            values=tuple(compile_expr(e, self.params) for e in extra),
            makes_pyobj=makes,
            moves=moves,
            copies=copies,
            context=context,
            local=local,
            pure=pure,
            python_pure=python_pure,
            frame_step=frame_step,
            merges=local or python_pure or frame_step,
            index=compile_expr(ref_index, self.params) if ref_index is not None else None,
            handler=self._guarded_handler(instr),
            site=site,
            partner=partner,
            partner_index=(
                compile_expr(partner_index, self.params) if partner_index is not None else None
            ),
            skip_pc=skip_pc,
            verb=verb,
            shared_operand=shared,
            ref_value=compile_expr(ref_value, self.params) if ref_value is not None else None,
            partner_value=(
                compile_expr(partner_value, self.params) if partner_value is not None else None
            ),
            operand=compile_expr(operand, self.params) if operand is not None else None,
        )

    def _handler(self, instr: ir.Instr) -> Handler:
        """The instruction's handler: statements on sync objects that yield a value (timed
        waits, `try_acquire`) have their own, so the others pay nothing for it; a channel
        statement that names its channel through shared state keeps the one it read."""
        handler = self._own_handler(instr)
        if shared_channel(instr):
            return self._pinning(handler)
        return handler

    def _own_handler(self, instr: ir.Instr) -> Handler:
        match instr:
            case ir.Acquire(timed=True) | ir.Wait(timed=True) | ir.Recv(timed=True):
                return self.valued_handlers[type(instr)]
            case ir.Join(timed=True):
                return self.valued_handlers[type(instr)]
            case ir.SyncOp(verb=verb, resource=res) if registry.verb(
                res.kind or registry.kinds_accepting(verb)[0], verb
            ).yields:
                return self.valued_handlers[type(instr)]
        return self.handlers[type(instr)]

    def _pinning(self, handler: Handler) -> Handler:
        """A `recv c[i]` / `send c[i], v` with `var i`: when it cannot go on, it starts
        waiting on the channel it read (a step) and keeps it until the statement is done."""

        def pinning(
            state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
        ) -> bool:
            before = len(out)
            gil_wanted = handler(state, tid, th, frame, p, out)
            phase = th[T_PHASE]
            pinned = type(phase) is tuple and phase[0] == CHANNEL_PIN
            instr: ir.Recv | ir.Send = p.instr  # type: ignore[assignment]
            end = "rx" if isinstance(instr, ir.Recv) else "tx"
            cid = self.channel_id(instr.channel, frame, th, state, end, p.index)
            for i in range(before, len(out)):
                action, target = out[i]
                if type(target) is not tuple:
                    continue
                after = target[S_THREADS][tid]
                new = after[T_PHASE]
                top = after[T_FRAMES][-1] if after[T_FRAMES] else None
                stays = (
                    top is not None
                    and len(after[T_FRAMES]) == len(th[T_FRAMES])
                    and top[F_PC] == frame[F_PC]
                    and top[F_CODE] == frame[F_CODE]
                )
                if stays and new != 0 and not (type(new) is tuple and new[0] == CHANNEL_PIN):
                    new = (CHANNEL_PIN, cid, new)  # a rendezvous offer: on this channel
                elif not stays and type(new) is tuple and new[0] == CHANNEL_PIN:
                    new = 0  # done
                else:
                    continue
                threads = target[S_THREADS]
                moved = (*after[:T_PHASE], new, *after[T_PHASE + 1 :])
                out[i] = (action, (threads[:tid] + (moved,) + threads[tid + 1 :], *target[1:]))
            blocked = all(a[1] == TIMEOUT for a, _ in out[before:])  # none, or time-outs
            if blocked and not gil_wanted and not pinned:
                w = Work(state)
                self._advance(w, tid, th, frame, frame[F_PC], phase=(CHANNEL_PIN, cid, phase))
                out.append(((tid, STEP, 0), w.freeze()))
            return gil_wanted

        return pinning

    def _site(
        self, ci: int, instr: ir.Instr, shared: bool = False
    ) -> tuple[Site | None, ir.ResourceRef | None, int]:
        """A sync statement's primitive statement, partner and end of a skipped block."""
        verb = ir.sync_verb(instr)
        if verb is None:
            return None, None, -1
        res: ir.ResourceRef = instr.resource  # type: ignore[union-attr]
        partner = (
            instr.mutex
            if isinstance(instr, ir.Wait)
            else instr.partner
            if isinstance(instr, ir.SyncOp)
            else None
        )
        skip_pc = self.resolve_pc(ci, instr.done) if isinstance(instr, ir.OnceBegin) else -1
        if shared or res.value is not None or (partner is not None and partner.value is not None):
            # the object is known at run time (and kept while the statement waits)
            return None, partner, skip_pc
        lockable = registry.primitive(partner.kind) if partner is not None else None
        site = Site(
            verb=registry.verb(res.kind, verb),
            name=res.name,
            count=self.count_of(res),
            partner=lockable,  # type: ignore[arg-type]
            partner_name=partner.name if partner is not None else "",
            spurious_wakeups=self.options.spurious_wakeups,
        )
        return site, partner, skip_pc

    def count_of(self, res: ir.ResourceRef) -> int:
        """The declared count of a resource (a barrier's parties), at least 1."""
        for info in self.program.resources:
            if info.kind == res.kind and info.name == res.name:
                return info.count or 1
        return 1

    def _takes_private_lock(self, instr: ir.Instr) -> bool:
        return (
            isinstance(instr, ir.Acquire)
            and not instr.timed
            and (instr.resource.kind, instr.resource.base) in self.private_locks
        )

    def initial_state(self) -> State:
        """Declared threads (arrays expanded) at their first instruction; globals initial."""
        threads: list[Thread] = []
        for ti, info in enumerate(self.program.threads):
            for index in range(info.size or 1):
                self.thread_ids[(ti, index)] = len(threads)
                if info.name == "main":
                    self.main_tid = len(threads)
                code = self.codes[info.code]
                frame = (
                    info.code,
                    self.resolve_pc(info.code, 0),
                    (None,) * len(code.local_names),
                    NATIVE,
                )
                threads.append(((frame,), RUNNING, 0, GIL_NORMAL, (), 0, False, index, ti))
        # Event loops' threads, in declaration order: daemons that never run a statement of
        # their own (their tasks run as their coroutines).
        for slot in sorted(self._loop_thread_codes):
            assert self.loop_threads[slot] == len(threads)
            loop_code = self._loop_thread_codes[slot]
            start = (loop_code, 0, (), NATIVE)
            threads.append(((start,), RUNNING, 0, GIL_NORMAL, (), 0, True, 0, -(loop_code + 1)))
        variables: list[Value] = []
        for var in self.program.vars:
            variables.extend([var.init] * (var.size or 1))
        locks: list[object] = []
        for kind in registry.KINDS:
            initial = registry.primitive(kind).initial
            for res in self.program.resources:
                if res.kind == kind:
                    locks.extend([initial(res.count)] * (res.size or 1))
        chans: list[Channel] = []
        for chan in self.program.channels:
            for _ in range(chan.size or 1):
                chans.append(((), 0, True, False, chan.kind, chan.capacity, True, NO_THREAD, False))
        # What a process made by `spawn process` starts with: fresh copies of every global.
        self.lock_block = len(locks)
        self._initial_block = tuple(locks)
        self._initial_vars = tuple(variables)
        self._initial_chans = tuple(chans)
        processes: tuple[Any, ...] = ()
        if self.has_processes:
            first = (-1, self.main_tid, False, (), None)
            processes = ((0, (0,) * len(threads), (first,)),)
        return (
            tuple(threads),
            NO_THREAD,
            tuple(variables),
            tuple(locks),
            tuple(chans),
            NO_THREAD,
            0,
            *(((), 0, (0, self.domain), ()) if self.extended else ()),
            *processes,
        )


def _shared_operand(instr: ir.Instr) -> bool:
    """Whether a statement on an object names it (or its partner) through shared state."""
    if ir.sync_verb(instr) is None:
        return False
    refs = [getattr(instr, "resource", None), getattr(instr, "mutex", None)]
    refs.append(getattr(instr, "partner", None))
    for ref in refs:
        if isinstance(ref, ir.ResourceRef):
            expr = ref.value if ref.value is not None else ref.index
            if expr is not None and reads_shared(expr):
                return True
    return False
