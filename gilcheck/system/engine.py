"""The successor function: every instruction's rules over the GIL, locks, channels and threads.

One handler per instruction type appends the transitions a thread can take from a state;
a handler that appends nothing leaves the thread blocked. `blocked_on` in waits.py explains
why, for reports. All GIL rules of LANGUAGE.md live in the handlers for GilEnter, GilExit,
AllowEnter, AllowExit, PythonEnter, PythonExit and Print, and in `transitions` (handover at
Python statement boundaries, release while blocked inside Python code).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gilcheck.options import CheckOptions
from gilcheck.semantics import ir, values
from gilcheck.semantics.ir import Verdict
from gilcheck.semantics.ownership import private_locks
from gilcheck.semantics.values import (
    EvalError,
    SplitNeeded,
    SymbolicLimit,
    Term,
    Undecided,
    Value,
    as_condition,
    describe_value,
    is_handle,
    is_python_value,
    render,
)
from gilcheck.source import Span
from gilcheck.symbolic.paths import PathCondition, SolverUnknown, conjoin, negate
from gilcheck.sync import registry
from gilcheck.sync.base import NEXT, SAME, STAY, Misuse, Site

if TYPE_CHECKING:
    from gilcheck.symbolic.solver import Solver
from gilcheck.system.expr import (
    MOVED,
    Evaluator,
    IndexOutOfRange,
    UseAfterMove,
    compile_expr,
    element,
    makes_python_object,
    moved_locals,
)
from gilcheck.system.model import (
    DECIDE,
    EXIT_JOIN_DONE,
    FINALIZE,
    FORK_CHILD,
    GIL_BACK,
    GIL_RELEASE_TO_BLOCK,
    GIL_YIELD,
    INTERRUPT,
    PAUSE_END,
    PAUSE_START,
    SPURIOUS_WAKEUP,
    STEP,
    Action,
    LimitHit,
    Target,
    Transition,
    Violation,
)
from gilcheck.system.state import (
    C_BUF,
    C_CAP,
    C_CLOSED,
    C_GLOBAL,
    C_KIND,
    C_PENDING,
    C_RECEIVER,
    C_SENDERS,
    ENDED,
    EXIT_JOIN,
    F_CODE,
    F_CTX,
    F_LOCALS,
    F_PC,
    FINALIZING,
    GIL_BLOCKING,
    GIL_LOST,
    GIL_NORMAL,
    GONE,
    NATIVE,
    NO_THREAD,
    PYTHON,
    RUNNING,
    S_ENDED,
    S_FORK,
    S_GIL,
    S_INTERRUPTS,
    S_PATH,
    S_THREADS,
    T_ALLOW,
    T_DAEMON,
    T_FRAMES,
    T_GILCOUNT,
    T_GILMODE,
    T_PHASE,
    T_STATUS,
    Channel,
    Frame,
    State,
    Thread,
    Work,
)

MAX_ENUMERATED_ANY = 256
BLOCKING_INSTRS = (
    ir.Recv,
    ir.Send,
    ir.Acquire,
    ir.Join,
    ir.Await,
    ir.Wait,
    ir.OnceBegin,
    ir.Print,
)
# Thread statuses of threads that never move again.
_OVER = (ENDED, GONE)


class SpecMisuse(Exception):
    """A run-time misuse found while executing a step."""


class SpecPanic(Exception):
    """A run-time panic found while executing a step."""


@dataclass(frozen=True, slots=True)
class Prepared:
    """An instruction with its expressions compiled and its static facts precomputed."""

    instr: ir.Instr
    code: int
    pc: int
    next_pc: int
    value: Evaluator | None
    values: tuple[Evaluator, ...]
    makes_pyobj: bool
    moves: tuple[int, ...]
    context: int | None  # NATIVE, PYTHON or None (inherit from the frame)
    local: bool  # merged into the step before: a local step or a release (see _settle)
    pure: bool  # depends on and changes only its own thread (skip, jump, local assign/branch)
    index: Evaluator | None  # the element index of the resource or channel it uses, if any
    handler: Callable[..., bool]  # the engine's handler for this instruction type
    # A statement on a sync object: its primitive's statement, the partner object
    # (`wait cv, m`: the mutex) and its index, and where a skipped block ends.
    site: Site | None = None
    partner: ir.ResourceRef | None = None
    partner_index: Evaluator | None = None
    skip_pc: int = -1


class Engine:
    """The transition system of one program (implements model.TransitionSystem)."""

    def __init__(self, program: ir.Program, options: CheckOptions) -> None:
        self.program = program
        self.options = options
        self.merge_local_steps = options.merge_local_steps
        # The ample set of one thread's local steps (a partial-order reduction); traces of
        # a symmetry-reduced search are rebuilt without it (explore/symmetric.py). Set
        # below: off in programs with private locks.
        self.ample = True
        # With `gil off` the GIL slot of a state holds the thread whose stop-the-world pause
        # is pending (or -1); attaching waits while another thread's pause is pending.
        self.gil_off = program.gil == "off"
        self.has_progress = any(
            isinstance(instr, ir.Progress) for code in program.codes for instr in code.instrs
        )
        self._pure_memo: dict[Thread, Thread] = {}
        # A fork copies the whole state, so it sees whether a release (of a lock, the GIL,
        # a handle at a scope's end) has happened yet: releases do not commute with it and
        # are not merged into the step before in a program that forks.
        self.has_fork = any(
            isinstance(instr, ir.ForkBegin) for code in program.codes for instr in code.instrs
        )
        self.codes = program.codes
        # Locks only one thread can touch: taking one that is free is merged like a local
        # step (semantics/ownership.py).
        self.private_locks = private_locks(program) if options.merge_local_steps else frozenset()
        # A loop of local steps and private locks is merged step by step for ever; an
        # ample set of that one thread would then keep every other thread from moving
        # (the ignoring problem), so such programs are explored without ample sets.
        self.ample = not self.private_locks
        self.lock_offset = self._lock_offsets(program)
        self.thread_ids: dict[tuple[int, int], int] = {}
        self.main_tid = -1
        # `atexit` blocks run last declared first, as Python's and C's atexit handlers run
        # last registered first (and static destructors in reverse order of construction).
        self.atexit_codes = tuple(
            reversed([code for kind, code in program.hooks if kind == "atexit"])
        )
        # `finalizer` and `signal` blocks: (bit in the state's interrupts, kind, code).
        self.interrupts = tuple(
            (1 << i, kind, code)
            for i, (kind, code) in enumerate(program.hooks)
            if kind in ("finalizer", "signal")
        )
        # Unknown values: each `param` is a term; `any` over a wide range makes a fresh one.
        self.params: tuple[Value, ...] = tuple(
            Term("param", (i, info.name)) for i, info in enumerate(program.params)
        )
        self.symbolic = bool(self.params) or any(
            isinstance(instr, ir.AnyInt) and not _small_constant_range(instr)
            for code in program.codes
            for instr in code.instrs
        )
        self.solver: Solver
        if self.symbolic:  # z3 is imported only by specs that need it
            from gilcheck.symbolic.solver import Solver

            self.solver = Solver()
        self.domain: PathCondition = ()
        for term, info in zip(self.params, program.params, strict=True):
            self.domain = conjoin(self.domain, Term("<=", (info.low, term)))
            self.domain = conjoin(self.domain, Term("<", (term, info.high)))
        # States carry the fork path, the started interrupts and the path condition only
        # where they can change.
        self.extended = bool(self.interrupts) or self.symbolic or self.has_fork
        self.handlers: dict[type, Callable[..., bool]] = {
            ir.Assign: self._assign,
            ir.Recv: self._recv,
            ir.TryRecv: self._try_recv,
            ir.Send: self._send,
            ir.CloneHandle: self._clone,
            ir.Unwrap: self._unwrap,
            ir.CallFn: self._call,
            ir.SpawnFn: self._spawn,
            ir.AnyInt: self._any,
            ir.MakeChannel: self._make_channel,
            ir.DropValue: self._drop,
            ir.Close: self._close,
            ir.GilEnter: self._gil_enter,
            ir.GilExit: self._gil_exit,
            ir.AllowEnter: self._allow_enter,
            ir.AllowExit: self._allow_exit,
            ir.PythonEnter: self._python_enter,
            ir.PythonExit: self._python_exit,
            ir.Acquire: self._sync,
            ir.SetEvent: self._sync,
            ir.ClearEvent: self._sync,
            ir.Wait: self._sync,
            ir.Notify: self._sync,
            ir.OnceBegin: self._sync,
            ir.OnceEnd: self._sync,
            ir.Release: self._sync,
            ir.Join: self._join,
            ir.Return: self._return,
            ir.Branch: self._branch,
            ir.Choose: self._choose,
            ir.Await: self._await,
            ir.Assert: self._assert,
            ir.Panic: self._panic,
            ir.Print: self._print,
            ir.AtomicBegin: self._atomic,
            ir.AtomicEnd: self._skip,
            ir.Progress: self._skip,
            ir.Skip: self._skip,
            ir.Jump: self._skip,
            ir.EndScope: self._end_scope,
            ir.ForkBegin: self._fork,
            ir.ForkEnd: self._fork_end,
            ir.End: self._end,
        }
        self.prepared: list[list[Prepared]] = [
            [self._prepare(ci, pc) for pc in range(len(code.instrs))]
            for ci, code in enumerate(self.codes)
        ]

    # ------------------------------------------------------------ setup

    @staticmethod
    def _lock_offsets(program: ir.Program) -> dict[str, int]:
        offsets: dict[str, int] = {}
        total = 0
        for kind in registry.KINDS:
            offsets[kind] = total
            total += sum(r.size or 1 for r in program.resources if r.kind == kind)
        return offsets

    def resolve_pc(self, code: int, pc: int) -> int:
        """Follow jumps from `pc` (a jump cycle stops at its first jump, run as a skip)."""
        instrs = self.codes[code].instrs
        seen: set[int] = set()
        while pc < len(instrs) and pc not in seen:
            instr = instrs[pc]
            if not isinstance(instr, ir.Jump):
                break
            seen.add(pc)
            pc = instr.target
        return pc

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
            case ir.CallFn(args=args) | ir.SpawnFn(args=args):
                extra = list(args)
            case ir.AnyInt(low=lo, high=hi):
                extra = [lo, hi]
            case ir.CloneHandle(source=src) if not isinstance(src, ir.HandleRef | ir.GlobalChannel):
                value_expr = src
            case ir.Join(handle=h) if not isinstance(h, ir.ThreadRef):
                value_expr = h
            case _:
                pass
        moves: tuple[int, ...] = ()
        if isinstance(instr, ir.Assign | ir.Send | ir.Return):
            moves = moved_locals(value_expr)
        elif isinstance(instr, ir.CallFn | ir.SpawnFn):
            moves = tuple(s for a in instr.args for s in moved_locals(a))
        makes = makes_python_object(value_expr) or any(makes_python_object(e) for e in extra)
        context = {ir.Context.NATIVE: NATIVE, ir.Context.PYTHON: PYTHON}.get(instr.context)
        next_pc = self.resolve_pc(ci, pc + 1) if pc + 1 < len(self.codes[ci].instrs) else pc
        pure = context != PYTHON and _is_local(instr) and not isinstance(instr, ir.EndScope)
        local = context != PYTHON and (
            pure
            if self.has_fork
            else (_is_local(instr) or _is_left_mover(instr) or self._takes_private_lock(instr))
        )
        ref = getattr(instr, "resource", None) or getattr(instr, "channel", None)
        ref_index = getattr(ref, "index", None)
        site, partner, skip_pc = self._site(ci, instr)
        partner_index = getattr(partner, "index", None)
        return Prepared(
            instr=instr,
            code=ci,
            pc=pc,
            next_pc=next_pc,
            value=compile_expr(value_expr, self.params) if value_expr is not None else None,
            values=tuple(compile_expr(e, self.params) for e in extra),
            makes_pyobj=makes,
            moves=moves,
            context=context,
            local=local,
            pure=pure,
            index=compile_expr(ref_index, self.params) if ref_index is not None else None,
            handler=self.handlers[type(instr)],
            site=site,
            partner=partner,
            partner_index=(
                compile_expr(partner_index, self.params) if partner_index is not None else None
            ),
            skip_pc=skip_pc,
        )

    def _site(self, ci: int, instr: ir.Instr) -> tuple[Site | None, ir.ResourceRef | None, int]:
        """A sync statement's primitive statement, partner and end of a skipped block."""
        verb = sync_verb(instr)
        if verb is None:
            return None, None, -1
        res: ir.ResourceRef = instr.resource  # type: ignore[union-attr]
        partner = instr.mutex if isinstance(instr, ir.Wait) else None
        lockable = registry.primitive(partner.kind) if partner is not None else None
        site = Site(
            verb=registry.verb(res.kind, verb),
            name=res.name,
            count=self.count_of(res),
            partner=lockable,  # type: ignore[arg-type]
            partner_name=partner.name if partner is not None else "",
            spurious_wakeups=self.options.spurious_wakeups,
        )
        skip_pc = self.resolve_pc(ci, instr.done) if isinstance(instr, ir.OnceBegin) else -1
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
                chans.append(((), 0, True, False, chan.kind, chan.capacity, True, NO_THREAD))
        return (
            tuple(threads),
            NO_THREAD,
            tuple(variables),
            tuple(locks),
            tuple(chans),
            NO_THREAD,
            0,
            *(((), 0, (0, self.domain)) if self.extended else ()),
        )

    def is_progress(self, state: State, action: tuple[int, int, object]) -> bool:
        """Whether a step runs a `progress` statement."""
        tid = action[0]
        frames = state[S_THREADS][tid][T_FRAMES]
        if action[1] != STEP or not frames:
            return False
        frame = frames[-1]
        return isinstance(self.codes[frame[0]].instrs[frame[1]], ir.Progress)

    def has_ended(self, state: State) -> bool:
        """Whether the program has ended (host rust: main returned; host python: finalized)."""
        return bool(state[S_ENDED])

    # ------------------------------------------------------------ transitions

    def transitions(self, state: State) -> list[Transition]:
        """Every enabled step, ordered by thread id."""
        if state[S_ENDED]:
            return []
        if self.symbolic:  # what splitting operations read (values.CURRENT_PATH)
            values.CURRENT_PATH = state[S_PATH][1]
        if self.merge_local_steps and self.ample:
            ample = self._local_ample(state)
            if ample is not None:
                return [ample]
        if self.gil_off:
            return self._merge(self._free_threaded_transitions(state))
        out: list[Transition] = []
        gil_wanted = False
        for tid, th in enumerate(state[S_THREADS]):
            gil_wanted |= self.thread_transitions(state, tid, th, out)
        gil = state[S_GIL]
        if gil_wanted and gil != NO_THREAD:
            handover = self.handover_step(state, gil)
            if handover is not None:
                at = next((i for i, t in enumerate(out) if t[0][0] > gil), len(out))
                out.insert(at, handover)
        return self._merge(out)

    def thread_transitions(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """Append one thread's steps, not yet merged; True when it waits for the GIL.

        Every step appended is the thread's own (its id first in the action), and only the
        thread, the GIL, vars, locks, channels and stdout change; what it reads of other
        threads is limited to `join`, `atomic` bodies and the exit join (explore/steptable.py
        relies on this).
        """
        status = th[T_STATUS]
        if status in _OVER:
            return False
        if status != RUNNING:
            return self._ending(state, tid, th, out)
        if th[T_GILMODE] == GIL_LOST:
            if state[S_GIL] == NO_THREAD:
                w = Work(state)
                w.gil = tid
                w.set_thread(tid, _with(th, T_GILMODE, GIL_NORMAL))
                out.append(((tid, GIL_BACK, 0), w.freeze()))
                return False
            return True
        if not self.interrupts:
            return self.thread_steps(state, tid, th, out)
        before = len(out)
        gil_wanted = self.thread_steps(state, tid, th, out)
        if state[S_GIL] == tid and len(out) > before:
            self._interrupts(state, tid, th, out)
        return gil_wanted

    def _merge(self, out: list[Transition]) -> list[Transition]:
        if self.merge_local_steps:
            prepared = self.prepared
            for i, (action, target) in enumerate(out):
                if type(target) is tuple:
                    frames = target[0][action[0]][0]
                    if frames:
                        top = frames[-1]
                        if not prepared[top[0]][top[1]].local:
                            continue
                    settled = self._settle(target, action[0])
                    if settled is not target:
                        out[i] = (action, settled)
        return out

    def _local_ample(self, state: State) -> Transition | None:
        """A thread whose next steps are local, taken alone (an ample set of one thread).

        Its local steps commute with every other step, so exploring only them from this
        state keeps every deadlock and violation; a local loop that would come back to
        the same state falls back to the full expansion (the cycle proviso).
        """
        for tid, th in enumerate(state[0]):
            ample = self.ample_step(state, tid, th)
            if ample is not None:
                return ample
        return None

    def ample_step(self, state: State, tid: int, th: Thread) -> Transition | None:
        """The thread's run of local steps when it has one (see `_local_ample`)."""
        frames = th[0]
        if not frames or th[T_STATUS] != RUNNING:
            return None
        frame = frames[-1]
        p = self.prepared[frame[0]][frame[1]]
        if not p.pure or (p.context is None and frame[3] == PYTHON):
            return None
        if th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0:
            return None
        settled = self._settle(state, tid)
        if settled != state:
            return ((tid, STEP, 0), settled)
        return None

    def enabled_threads(self, state: State) -> set[int]:
        """Threads that can move in a state, without any reduction (for `stuck`)."""
        merging = self.merge_local_steps
        self.merge_local_steps = False
        try:
            return {
                action[0]
                for action, _ in self.transitions(state)
                if action[1] != SPURIOUS_WAKEUP  # may never happen: the thread counts as blocked
            }
        finally:
            self.merge_local_steps = merging

    def _settle(self, state: State, tid: int) -> State:
        """Run the thread's following local steps (invisible to other threads) in the same step.

        Local steps (skip, jumps, assignments and branches over locals, all in native code)
        commute with every step of every other thread, and releases (of the GIL by leaving
        `with_gil` or entering `allow_threads`, of a held lock, of senders at a scope end) commute
        to the left past them (Lipton's reduction): taking them at once keeps every deadlock and
        every violation reachable, as SPIN's statement merging does. A local loop stops the
        merging where it would repeat.
        """
        seen: set[Frame] | None = None
        if self.symbolic:
            values.CURRENT_PATH = state[S_PATH][1]
        for _ in range(256):
            th = state[0][tid]
            frames = th[0]
            if not frames:
                return state
            frame = frames[-1]
            p = self.prepared[frame[0]][frame[1]]
            if not p.local or (p.context is None and frame[3] == PYTHON):
                return state
            if th[T_STATUS] != RUNNING or th[T_GILMODE] != GIL_NORMAL or th[T_PHASE] != 0:
                return state
            if p.pure:
                # With unknown values a branch's outcome depends on the path condition too.
                key = (th, state[S_PATH]) if self.symbolic else th
                after = self._pure_memo.get(key)
                if after is None:
                    after = self._pure_chain(state, tid)
                    self._pure_memo[key] = after
                if after == th:
                    return state
                threads = state[0]
                state = (threads[:tid] + (after,) + threads[tid + 1 :], *state[1:])
                continue
            if not self._may_merge(state, tid, th, frame, p):
                return state
            if seen is None:
                seen = set()
            if frame in seen:
                return state
            seen.add(frame)
            steps: list[Transition] = []
            try:
                self.handlers[type(p.instr)](state, tid, th, frame, p, steps)
            except Exception:
                return state
            if len(steps) != 1 or type(steps[0][1]) is not tuple:
                return state
            state = steps[0][1]
        return state

    def _pure_chain(self, state: State, tid: int) -> Thread:
        """The thread after its run of pure local steps (which depend on the thread alone)."""
        seen: set[Frame] = set()
        th: Thread = state[0][tid]
        while True:
            frame = th[0][-1]
            p = self.prepared[frame[0]][frame[1]]
            if not p.pure or (p.context is None and frame[3] == PYTHON) or frame in seen:
                return th
            instr = p.instr
            if (
                isinstance(instr, ir.Assign)
                and isinstance(instr.target, ir.LocalTarget)
                and (_has_handle(frame[2][instr.target.slot]))
            ):
                return th  # overwriting a handle drops it: not local
            seen.add(frame)
            steps: list[Transition] = []
            try:
                self.handlers[type(instr)](state, tid, th, frame, p, steps)
            except Exception:
                return th
            if len(steps) != 1 or type(steps[0][1]) is not tuple:
                return th
            state = steps[0][1]
            th = state[0][tid]
            if not th[0]:
                return th

    def thread_steps(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """Append a running thread's steps; True when it is blocked on the GIL."""
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        before = len(out)
        try:
            gil_blocked: bool = p.handler(state, tid, th, frame, p, out)
        except (SpecMisuse, UseAfterMove, EvalError) as err:
            del out[before:]
            message = (
                f"`{err.name}` is used after it was moved or dropped"
                if isinstance(err, UseAfterMove)
                else str(err)
            )
            # Arithmetic that has no value panics, as in Rust (debug builds for overflow).
            arithmetic = "division by zero" in message or "integer overflow" in message
            verdict = Verdict.PANIC if arithmetic else Verdict.MISUSE
            violation = Violation(verdict, message, tid, p.instr.span, self.path_of(state))
            out.append(((tid, STEP, 0), violation))
            return False
        except (SpecPanic, IndexOutOfRange) as err:
            del out[before:]
            violation = Violation(Verdict.PANIC, str(err), tid, p.instr.span, self.path_of(state))
            out.append(((tid, STEP, 0), violation))
            return False
        except SplitNeeded as split:
            del out[before:]
            try:
                self._split(state, tid, split.alternatives, out)
            except SolverUnknown as err:
                message = f"z3 could not decide a condition ({err})"
                out.append(
                    ((tid, STEP, 0), LimitHit(Verdict.INCONCLUSIVE, message, tid, p.instr.span))
                )
            return False
        except (SymbolicLimit, SolverUnknown, Undecided) as err:
            del out[before:]
            message = (
                f"z3 could not decide a condition ({err})"
                if isinstance(err, SolverUnknown)
                else f"{err}: not decided symbolically"
                if isinstance(err, SymbolicLimit)
                else f"a condition over unknown values is not decided here: {err}"
            )
            out.append(((tid, STEP, 0), LimitHit(Verdict.INCONCLUSIVE, message, tid, p.instr.span)))
            return False
        if th[T_GILMODE] == GIL_BLOCKING and len(out) > before:
            # The blocking operation is done without the GIL; the thread must take the GIL
            # back before its next statement.
            for i in range(before, len(out)):
                action, target = out[i]
                if type(target) is tuple:
                    after = target[0][tid]
                    if after[T_STATUS] == RUNNING and after[T_GILMODE] == GIL_BLOCKING:
                        threads = target[0]
                        lost = _with(after, T_GILMODE, GIL_LOST)
                        new_threads = threads[:tid] + (lost,) + threads[tid + 1 :]
                        out[i] = (action, (new_threads, *target[1:]))
            return gil_blocked
        if (
            state[S_GIL] == tid
            and not gil_blocked
            and th[T_GILMODE] == GIL_NORMAL
            and not self.gil_off
            and self.context(p, frame) == PYTHON
            and isinstance(p.instr, BLOCKING_INSTRS)
            and (
                len(out) == before
                # a spurious wakeup may never come: the wait blocks, releasing the GIL
                or all(action[1] == SPURIOUS_WAKEUP for action, _ in out[before:])
            )
        ):
            # CPython's blocking calls release the GIL while they wait.
            w = Work(state)
            w.gil = NO_THREAD
            w.set_thread(tid, _with(th, T_GILMODE, GIL_BLOCKING))
            out.append(((tid, GIL_RELEASE_TO_BLOCK, 0), w.freeze()))
        return gil_blocked

    def _may_merge(self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared) -> bool:
        """Dynamic side of `Prepared.local`: a release that would be a misuse, or a scope end
        that drops a receiver (which makes pending sends fail), is not merged."""
        instr = p.instr
        if isinstance(instr, ir.EndScope):
            return not any(_has_receiver(frame[F_LOCALS][slot]) for slot in instr.slots)
        if isinstance(instr, ir.End):
            # A thread's end only enables others (joins, the exit join), as long as it drops
            # no receiver; `main`'s end may end the whole program, so it is never merged.
            if tid == self.main_tid and len(th[T_FRAMES]) == 1:
                return False
            return not any(_has_receiver(v) for v in frame[F_LOCALS])
        if p.site is not None:  # a release: merged unless it is a misuse
            try:
                lid = self.lock_id(p.instr.resource, frame, th, state, p.index)  # type: ignore[union-attr]
            except (IndexOutOfRange, EvalError, SpecMisuse, UseAfterMove):
                return False  # not merged: the step itself reports the panic or misuse
            result = p.site.verb.run(p.site, state[3][lid], tid, th[T_PHASE], None)
            return result.__class__ is not Misuse
        return True

    def handover_step(self, state: State, owner: int) -> Transition | None:
        """The eval loop hands the GIL to a waiting thread at a Python statement boundary:
        the owner's step giving the GIL up, if it is at one."""
        th = state[S_THREADS][owner]
        if th[T_STATUS] != RUNNING or th[T_GILMODE] != GIL_NORMAL or th[T_GILCOUNT] == 0:
            return None
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        if self.context(p, frame) != PYTHON or th[T_PHASE] != 0:
            return None
        w = Work(state)
        w.gil = NO_THREAD
        w.set_thread(owner, _with(th, T_GILMODE, GIL_LOST))
        return ((owner, GIL_YIELD, 0), w.freeze())

    def at_python_boundary(self, th: Thread) -> bool:
        """Whether a running thread is about to run a statement of Python code."""
        return th[T_PHASE] == 0 and self.in_python_code(th)

    def in_python_code(self, th: Thread) -> bool:
        """Whether a running thread is at (or blocked in) a statement of Python code."""
        if th[T_STATUS] != RUNNING or not th[T_FRAMES]:
            return False
        frame = th[T_FRAMES][-1]
        return self.context(self.prepared[frame[0]][frame[1]], frame) == PYTHON

    def pause_waits_for(self, state: State, requester: int) -> list[int]:
        """Threads a stop-the-world pause still waits for: attached, and neither parked at a
        Python statement boundary nor blocked in Python code (which detaches, even in the
        middle of a two-step statement such as a condvar wait or a rendezvous send)."""
        return [
            i
            for i, t in enumerate(state[S_THREADS])
            if i != requester
            and t[T_STATUS] == RUNNING
            and t[T_GILCOUNT] > 0
            and not self.in_python_code(t)
        ]

    def _free_threaded_transitions(self, state: State) -> list[Transition]:
        """`gil off`: no mutual exclusion; stop-the-world pauses at Python statement boundaries."""
        out: list[Transition] = []
        pause = state[S_GIL]
        for tid, th in enumerate(state[S_THREADS]):
            status = th[T_STATUS]
            if status in _OVER:
                continue
            if status != RUNNING:
                self._ending(state, tid, th, out)
                continue
            in_python = self.in_python_code(th)
            if pause != NO_THREAD:
                if tid == pause:
                    if not self.pause_waits_for(state, tid):
                        w = Work(state)
                        w.gil = NO_THREAD
                        out.append(((tid, PAUSE_END, 0), w.freeze()))
                    continue
                if in_python:
                    continue  # parked (or, woken in Python code, re-attaching) until it ends
            before = len(out)
            self.thread_steps(state, tid, th, out)
            if self.interrupts and th[T_GILCOUNT] > 0 and len(out) > before:
                self._interrupts(state, tid, th, out)
            # A pause starts between statements of a thread that can go on: one blocked
            # inside its statement is not between statements (and could otherwise start
            # pauses for ever instead of being seen blocked).
            can_go_on = len(out) > before
            if (
                pause == NO_THREAD
                and in_python
                and th[T_PHASE] == 0
                and th[T_GILCOUNT] > 0
                and can_go_on
            ):
                w = Work(state)
                w.gil = tid
                out.append(((tid, PAUSE_START, 0), w.freeze()))
        return out

    def _ending(self, state: State, tid: int, th: Thread, out: list[Transition]) -> bool:
        """`host python` program end: the exit join, then finalization taking the GIL."""
        if th[T_STATUS] == EXIT_JOIN:
            threads = state[S_THREADS]
            if all(t[T_STATUS] in _OVER or t[T_DAEMON] or i == tid for i, t in enumerate(threads)):
                w = Work(state)
                if not self.atexit_codes:
                    w.set_thread(tid, _with(th, T_STATUS, FINALIZING))
                else:  # Python's atexit handlers run now, before finalization
                    w.set_thread(tid, self._running_hook(th, self.atexit_codes[0], NATIVE))
                out.append(((tid, EXIT_JOIN_DONE, 0), w.freeze()))
            return False
        if state[S_GIL] == NO_THREAD:
            w = Work(state)
            w.gil = NO_THREAD if self.gil_off else tid
            w.ended = 1
            out.append(((tid, FINALIZE, 0), w.freeze()))
            return False
        return True

    def _interrupts(self, state: State, tid: int, th: Thread, out: list[Transition]) -> None:
        """A `finalizer` (any thread) or `signal` (`main` only) not yet started may start at a
        Python statement boundary where the thread holds the GIL (is attached, `gil off`) and
        can go on: a thread blocked inside a statement is not at a boundary."""
        if th[T_GILMODE] != GIL_NORMAL or not self.at_python_boundary(th):
            return
        started = state[S_INTERRUPTS]
        for bit, kind, code in self.interrupts:
            if started & bit or (kind == "signal" and tid != self.main_tid):
                continue
            w = Work(state)
            w.interrupts = started | bit
            w.set_thread(tid, self._running_hook(th, code, PYTHON))
            out.append(((tid, INTERRUPT, bit.bit_length() - 1), w.freeze()))

    def _running_hook(self, th: Thread, code: int, context: int) -> Thread:
        """The thread running a hook's block: on top of what it was running (an interrupt), or
        as its only frame (`atexit`, when the thread's own code has ended)."""
        frame = (
            code,
            self.resolve_pc(code, 0),
            (None,) * len(self.codes[code].local_names),
            context,
        )
        return _with(_with(th, T_FRAMES, th[T_FRAMES] + (frame,)), T_STATUS, RUNNING)

    def context(self, p: Prepared, frame: Frame) -> int:
        """NATIVE or PYTHON: the innermost python/with_gil block decides, else the caller."""
        return p.context if p.context is not None else frame[F_CTX]

    # ------------------------------------------------------------ helpers

    def _advance(
        self,
        w: Work,
        tid: int,
        th: Thread,
        frame: Frame,
        pc: int,
        locals_: tuple[Value, ...] | None = None,
        **fields: Any,
    ) -> None:
        new_frame = (frame[0], pc, frame[2] if locals_ is None else locals_, frame[3])
        frames = th[0]
        new_frames = (new_frame,) if len(frames) == 1 else frames[:-1] + (new_frame,)
        if not fields:
            w.set_thread(tid, (new_frames, *th[1:]))
            return
        new = list(th)
        new[T_FRAMES] = new_frames
        for key, value in fields.items():
            new[_FIELD[key]] = value
        w.set_thread(tid, tuple(new))

    def _eval(self, fn: Evaluator | None, state: State | Work, frame: Frame, th: Thread) -> Value:
        assert fn is not None
        if isinstance(state, Work):
            return fn(frame[F_LOCALS], state.vars, th[7], state.chans)
        return fn(frame[F_LOCALS], state[2], th[7], state[4])

    def _gil_free_for(self, state: State, tid: int) -> bool:
        return state[S_GIL] in (NO_THREAD, tid)

    def _moved(self, locals_: tuple[Value, ...], p: Prepared) -> tuple[Value, ...]:
        """Locals with handles that the instruction moves out marked as moved."""
        if not p.moves:
            return locals_
        new = list(locals_)
        for slot in p.moves:
            if _has_handle(new[slot]):
                new[slot] = MOVED
        return tuple(new)

    def _store(
        self,
        w: Work,
        locals_: tuple[Value, ...],
        target: ir.Target | None,
        value: Value,
        frame: Frame,
        th: Thread,
    ) -> tuple[Value, ...]:
        """Store into a local or shared var (dropping what it held); return the locals."""
        if target is None:
            self.drop_value(w, value)
            return locals_
        if isinstance(target, ir.LocalTarget):
            old = locals_[target.slot]
            if _has_handle(old):
                self.drop_value(w, old)
            return locals_[: target.slot] + (value,) + locals_[target.slot + 1 :]
        index = None
        if target.index is not None:
            index = compile_expr(target.index, self.params)(locals_, w.vars, th[7], w.chans)
        slot = element(target.base, target.size, index, target.name)
        old = w.vars[slot]
        if _has_handle(old):
            self.drop_value(w, old)
        w.set_var(slot, value)
        return locals_

    def drop_value(self, w: Work, value: Value) -> None:
        """Drop a value: a sender handle may close its channel; a receiver drops its buffer."""
        if not isinstance(value, tuple) or len(value) != 2:
            return
        tag, inner = value
        if tag in ("ok", "err"):
            self.drop_value(w, inner)
        elif tag == "tx":
            chan = w.chans[inner]
            w.set_chan(inner, _with(chan, C_SENDERS, max(0, chan[C_SENDERS] - 1)))
        elif tag == "rx":
            chan = w.chans[inner]
            if chan[C_KIND] == "queue":
                return  # a queue.Queue never closes: its items stay, puts go on (and block)
            if chan[C_PENDING] != NO_THREAD:  # the waiting rendezvous sender gets it back
                w.set_chan(inner, _with(chan, C_RECEIVER, False))
                return
            buffered = chan[C_BUF]
            w.set_chan(inner, _with(_with(chan, C_RECEIVER, False), C_BUF, ()))
            for message in buffered:
                self.drop_value(w, message)

    def channel_id(
        self,
        ref: ir.ChannelRef,
        frame: Frame,
        th: Thread,
        state: State | Work,
        want: str,
        index_fn: Evaluator | None = None,
    ) -> int:
        """The channel a reference denotes; a handle of the wrong end is a misuse."""
        if isinstance(ref, ir.GlobalChannel):
            if ref.index is None:
                return ref.base
            vars_ = state.vars if isinstance(state, Work) else state[2]
            chans = state.chans if isinstance(state, Work) else state[4]
            index_fn = index_fn or compile_expr(ref.index, self.params)
            index = index_fn(frame[F_LOCALS], vars_, th[7], chans)
            return element(ref.base, ref.size, index, ref.name)
        handle = frame[F_LOCALS][ref.slot]
        if handle is MOVED or handle == MOVED:
            raise UseAfterMove(ref.name)
        if not (isinstance(handle, tuple) and len(handle) == 2 and handle[0] in ("tx", "rx")):
            raise SpecMisuse(f"`{ref.name}` is {describe_value(handle)}, not a channel handle")
        if want and handle[0] != want:
            end = "sender" if handle[0] == "tx" else "receiver"
            raise SpecMisuse(f"`{ref.name}` is a {end}; this needs the other end")
        return int(handle[1])

    def lock_id(
        self,
        res: ir.ResourceRef,
        frame: Frame,
        th: Thread,
        state: State,
        index_fn: Evaluator | None = None,
    ) -> int:
        """Index of a mutex or rlock in the state's lock tuple."""
        if res.index is None:
            return self.lock_offset[res.kind] + res.base
        if index_fn is None:
            index_fn = compile_expr(res.index, self.params)
        index = index_fn(frame[F_LOCALS], state[2], th[7], state[4])
        return self.lock_offset[res.kind] + element(res.base, res.size, index, res.name)

    def _need_gil(
        self, state: State, tid: int, p: Prepared, value: Value = None, clone: bool = False
    ) -> bool:
        """Whether the step must take the GIL implicitly and cannot (another thread holds it)."""
        needs = p.makes_pyobj or (clone and is_python_value(value))
        if needs and self.gil_off and state[S_THREADS][tid][T_GILCOUNT] > 0:
            return False  # attached already: keeps running even during a pause
        return needs and not self._gil_free_for(state, tid)

    # ------------------------------------------------------------ handlers: data

    def _assign(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.Assign = p.instr  # type: ignore[assignment]
        value = self._eval(p.value, state, frame, th)
        w = Work(state)
        locals_ = self._moved(frame[F_LOCALS], p)
        locals_ = self._store(w, locals_, instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _any(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.AnyInt = p.instr  # type: ignore[assignment]
        low = self._eval(p.values[0], state, frame, th)
        high = self._eval(p.values[1], state, frame, th)
        for bound in (low, high):
            if not isinstance(bound, Term | int):  # a boolean is 0 or 1, as in Python
                raise SpecMisuse(f"`any(..)` needs integer bounds, not {describe_value(bound)}")
        symbolic = isinstance(low, Term) or isinstance(high, Term)
        if self.symbolic and (symbolic or high - low > MAX_ENUMERATED_ANY):  # type: ignore[operator]
            return self._unknown(state, tid, th, frame, p, out, low, high)
        if not (isinstance(low, int) and isinstance(high, int)):
            raise SpecMisuse("`any(..)` needs integer bounds")
        if high <= low:
            raise SpecMisuse(f"`any({render(low)}..{render(high)})` is an empty range")
        if high - low > MAX_ENUMERATED_ANY:
            out.append(
                (
                    (tid, STEP, 0),
                    LimitHit(
                        Verdict.INCONCLUSIVE,
                        f"`any({render(low)}..{render(high)})` has more than "
                        f"{MAX_ENUMERATED_ANY} values",
                        tid,
                        instr.span,
                    ),
                )
            )
            return False
        for v in range(low, high):
            w = Work(state)
            locals_ = self._store(w, frame[F_LOCALS], instr.target, v, frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_)
            out.append(((tid, STEP, v), w.freeze()))
        return False

    def _unknown(
        self,
        state: State,
        tid: int,
        th: Thread,
        frame: Frame,
        p: Prepared,
        out: list[Transition],
        low: Value,
        high: Value,
    ) -> bool:
        """`any` over a wide (or unknown) range: a fresh unknown, never enumerated."""
        instr: ir.AnyInt = p.instr  # type: ignore[assignment]
        count, path = state[S_PATH]
        name = getattr(instr.target, "name", None) or "any"
        term = Term("any", (count, name))
        path = conjoin(conjoin(path, Term("<=", (low, term))), Term("<", (term, high)))
        if not self.solver.sat(path):
            raise SpecMisuse(f"`any({render(low)}..{render(high)})` is an empty range")
        w = Work(state)
        w.path = (count + 1, path)
        locals_ = self._store(w, frame[F_LOCALS], instr.target, term, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, "unknown"), w.freeze()))
        return False

    def _unwrap(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Unwrap = p.instr  # type: ignore[assignment]
        value = self._eval(p.value, state, frame, th)
        if value is None:
            raise SpecPanic("called `unwrap` on `none`")
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "err":
            raise SpecPanic(f"called `unwrap` on {describe_value(value)}")
        if isinstance(value, tuple) and len(value) == 2 and value[0] == "ok":
            value = value[1]
        w = Work(state)
        locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _clone(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.CloneHandle = p.instr  # type: ignore[assignment]
        w = Work(state)
        if isinstance(instr.source, ir.HandleRef):
            value = frame[F_LOCALS][instr.source.slot]
            if value is MOVED or value == MOVED:
                raise UseAfterMove(instr.source.name)
            if isinstance(value, tuple) and len(value) == 2 and value[0] == "rx":
                raise SpecMisuse(f"`{instr.source.name}` is a receiver: it cannot be cloned")
            if isinstance(value, tuple) and len(value) == 2 and value[0] == "tx":
                chan = w.chans[value[1]]
                if chan[C_KIND] == "oneshot":
                    raise SpecMisuse(
                        f"`{instr.source.name}` is a oneshot sender: it cannot be cloned"
                    )
                w.set_chan(value[1], _with(chan, C_SENDERS, chan[C_SENDERS] + 1))
        else:
            value = self._eval(p.value, state, frame, th)
        if self._need_gil(state, tid, p, value, clone=True):
            return True
        locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _drop(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.DropValue = p.instr  # type: ignore[assignment]
        value = frame[F_LOCALS][instr.slot]
        if value is MOVED or value == MOVED:
            raise UseAfterMove(instr.name)
        w = Work(state)
        self.drop_value(w, value)
        locals_ = frame[F_LOCALS]
        locals_ = locals_[: instr.slot] + (MOVED,) + locals_[instr.slot + 1 :]
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _end_scope(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.EndScope = p.instr  # type: ignore[assignment]
        w = Work(state)
        locals_ = list(frame[F_LOCALS])
        for slot in instr.slots:
            value = locals_[slot]
            if value is not MOVED and value != MOVED:
                self.drop_value(w, value)
            locals_[slot] = None
        self._advance(w, tid, th, frame, p.next_pc, tuple(locals_))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _skip(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        new_th = (_moved_to(th, frame, p.next_pc), *th[1:])
        threads = state[0]
        out.append(((tid, STEP, 0), (threads[:tid] + (new_th,) + threads[tid + 1 :], *state[1:])))
        return False

    # ------------------------------------------------------------ handlers: control

    def _branch(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.Branch = p.instr  # type: ignore[assignment]
        value = self._eval(p.value, state, frame, th)
        if value.__class__ is not Term:  # the concrete case, kept fast
            w = Work(state)
            taken = _truth(value)
            target = p.next_pc if taken else self.resolve_pc(p.code, instr.if_false)
            self._advance(w, tid, th, frame, target)
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        cases = self.cases(state, value)
        for taken, narrowed in cases:
            w = Work(narrowed)
            target = p.next_pc if taken else self.resolve_pc(p.code, instr.if_false)
            self._advance(w, tid, th, frame, target)
            out.append(((tid, STEP, 0 if taken or len(cases) == 1 else 1), w.freeze()))
        return False

    def _choose(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Choose = p.instr  # type: ignore[assignment]
        for i, target in enumerate(instr.targets):
            w = Work(state)
            self._advance(w, tid, th, frame, self.resolve_pc(p.code, target))
            out.append(((tid, STEP, i), w.freeze()))
        return False

    def _await(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th)
        if isinstance(value, Term):
            cases = self.cases(state, value)
            if len(cases) == 2:
                # Whether the thread can go on depends on the unknowns: split the state (it
                # does not move), so that a state where it is blocked is judged on its own.
                for truth, narrowed in cases:
                    out.append(((tid, DECIDE, int(truth)), narrowed))
                return False
            value = cases[0][0] if cases else False
        if not _truth(value):
            return False
        return self._skip(state, tid, th, frame, p, out)

    def _assert(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th)
        if value.__class__ is not Term and _truth(value):
            return self._skip(state, tid, th, frame, p, out)
        cases = self.cases(state, value)
        for holds, narrowed in cases:
            if holds:
                self._skip(narrowed, tid, th, frame, p, out)
                continue
            message = "assertion failed"
            if p.values:
                text = self._eval(p.values[0], state, frame, th)
                shown = text if isinstance(text, str) else describe_value(text)
                message = f"assertion failed: {shown}"
            violation = Violation(
                Verdict.ASSERTION, message, tid, p.instr.span, self.path_of(narrowed)
            )
            out.append(((tid, STEP, len(cases) - 1), violation))
        return False

    def cases(self, state: State, value: Value) -> list[tuple[bool, State]]:
        """The outcomes of a condition: (its truth, the state on that side). A concrete
        condition has one; one over unknown values has those its path condition allows,
        each with the path narrowed when both are possible."""
        if not isinstance(value, Term):
            return [(_truth(value), state)]
        condition = as_condition(value)
        count, path = state[S_PATH]
        yes, no = conjoin(path, condition), conjoin(path, negate(condition))  # type: ignore[arg-type]
        can_yes, can_no = self.solver.sat(yes), self.solver.sat(no)
        if can_yes and can_no:
            return [
                (True, _with_path(state, (count, yes))),
                (False, _with_path(state, (count, no))),
            ]
        if can_yes:
            return [(True, state)]
        return [(False, state)] if can_no else []

    def _split(
        self, state: State, tid: int, alternatives: tuple[Term, ...], out: list[Transition]
    ) -> None:
        """A state for each alternative its path condition allows, naming it in the path
        (even when it is the only one), so that the step, run again there, can go on."""
        count, path = state[S_PATH]
        for k, alternative in enumerate(alternatives):
            narrowed = conjoin(path, alternative)
            if self.solver.sat(narrowed):
                out.append(((tid, DECIDE, 2 + k), _with_path(state, (count, narrowed))))

    def path_of(self, state: State) -> PathCondition:
        """The path condition of a state (empty without unknown values)."""
        return state[S_PATH][1] if self.symbolic else ()

    def _panic(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        message = "panic"
        if p.value is not None:
            text = self._eval(p.value, state, frame, th)
            message = f"panic: {text if isinstance(text, str) else describe_value(text)}"
        violation = Violation(Verdict.PANIC, message, tid, p.instr.span, self.path_of(state))
        out.append(((tid, STEP, 0), violation))
        return False

    def _atomic(
        self,
        state: State,
        tid: int,
        th: Thread,
        frame: Frame,
        p: Prepared,
        out: list[Transition],
        parents: dict[Target, tuple[State, Action | None]] | None = None,
    ) -> bool:
        """Run the block to its end as one step (each nondeterministic outcome one step).

        With `parents`, each state reached inside the block (and each outcome) is mapped
        to the state and the step it was first reached by (None: leaving the block).
        """
        instr: ir.AtomicBegin = p.instr  # type: ignore[assignment]
        w = Work(state)
        self._advance(w, tid, th, frame, p.next_pc)
        frontier = [w.freeze()]
        finals: dict[State, None] = {}
        gil_blocked = False
        while frontier:
            current = frontier.pop()
            cur_th = current[S_THREADS][tid]
            cur_frame = cur_th[T_FRAMES][-1]
            if cur_frame[F_CODE] == p.code and cur_frame[F_PC] == instr.end:
                done = Work(current)
                end_p = self.prepared[p.code][instr.end]
                self._advance(done, tid, cur_th, cur_frame, end_p.next_pc)
                final = done.freeze()
                finals[final] = None
                if parents is not None:
                    parents.setdefault(final, (current, None))
                continue
            steps: list[Transition] = []
            gil_blocked |= self.thread_steps(current, tid, cur_th, steps)
            if any(action[1] == DECIDE for action, _ in steps):
                # Its leading `await` depends on unknown values: split the state before
                # the block, which runs on each side as a step of its own.
                for action, narrowed in steps:
                    out.append((action, _with_path(state, narrowed[S_PATH])))  # type: ignore[arg-type]
                return False
            for step in steps:
                if parents is not None:
                    parents.setdefault(step[1], (current, step[0]))
                if not isinstance(step[1], tuple) or isinstance(step[1], Violation | LimitHit):
                    out.append(((tid, STEP, 0), step[1]))
                    return False
                frontier.append(step[1])
        for i, final in enumerate(finals):
            out.append(((tid, STEP, i), final))
        return gil_blocked and not finals

    def atomic_path(
        self, state: State, tid: int, outcome: Target
    ) -> list[tuple[State, Action, Target]]:
        """The statements thread `tid`'s `atomic` step from `state` runs to reach `outcome`
        (a state past the block, or the violation or limit a statement in it hits).

        Each is (the state inside the block, the statement's step, where it leads); the
        first starts just inside the block, the last leads to `outcome` or to the block's
        end. Of several ways to one outcome, the first the block's run finds. Empty when
        the thread is not at an `atomic` block or `outcome` is not one of its step's.
        """
        th = state[S_THREADS][tid]
        if not th[T_FRAMES]:
            return []
        frame = th[T_FRAMES][-1]
        p = self.prepared[frame[F_CODE]][frame[F_PC]]
        if not isinstance(p.instr, ir.AtomicBegin):
            return []
        parents: dict[Target, tuple[State, Action | None]] = {}
        self._atomic(state, tid, th, frame, p, [], parents)
        path: list[tuple[State, Action, Target]] = []
        node: Target = outcome
        seen: set[Target] = set()
        while node in parents and node not in seen:  # (a block has no loops: no repeats)
            seen.add(node)
            before, action = parents[node]
            if action is not None:
                path.append((before, action, node))
            node = before
        path.reverse()
        return path

    # ------------------------------------------------------------ handlers: functions, threads

    def _call(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.CallFn = p.instr  # type: ignore[assignment]
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        if len(th[T_FRAMES]) >= self.options.max_call_depth:
            out.append(
                (
                    (tid, STEP, 0),
                    LimitHit(
                        Verdict.INCONCLUSIVE,
                        f"call depth above {self.options.max_call_depth} (unbounded recursion?)",
                        tid,
                        instr.span,
                    ),
                )
            )
            return False
        w = Work(state)
        caller = (frame[F_CODE], frame[F_PC], self._moved(frame[F_LOCALS], p), frame[F_CTX])
        code = self.codes[instr.function]
        callee_locals = args + (None,) * (len(code.local_names) - len(args))
        callee = (
            instr.function,
            self.resolve_pc(instr.function, 0),
            callee_locals,
            self.context(p, frame),
        )
        w.set_thread(tid, _with(th, T_FRAMES, th[T_FRAMES][:-1] + (caller, callee)))
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _return(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th) if p.value is not None else None
        w = Work(state)
        self._finish_frame(w, tid, th, self._moved(frame[F_LOCALS], p), value)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _end(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        w = Work(state)
        self._finish_frame(w, tid, th, frame[F_LOCALS], None)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _finish_frame(
        self, w: Work, tid: int, th: Thread, locals_: tuple[Value, ...], value: Value
    ) -> None:
        """Pop a frame: drop its locals, hand the value to the caller, or end the thread."""
        for local in locals_:
            if local is not MOVED and local != MOVED:
                self.drop_value(w, local)
        ending = th[T_FRAMES][-1][F_CODE]
        frames = th[T_FRAMES][:-1]
        if not frames:
            if w.extra is not None and w.fork and w.fork[-1][0] == tid:
                # `return` out of a `fork` block (whose frame is the child's only one)
                self._child_ends(w, tid, th)
                return
            self.drop_value(w, value)
            self._thread_ends(w, tid, th, ending)
            return
        if self.codes[ending].kind in ("finalizer", "signal"):
            # The interrupt is over: the thread goes on where it was interrupted.
            w.set_thread(tid, _with(th, T_FRAMES, frames))
            return
        caller = frames[-1]
        call: ir.CallFn = self.codes[caller[F_CODE]].instrs[caller[F_PC]]
        caller_locals = self._store(w, caller[F_LOCALS], call.target, value, caller, th)
        next_pc = self.prepared[caller[F_CODE]][caller[F_PC]].next_pc
        new_caller = (caller[F_CODE], next_pc, caller_locals, caller[F_CTX])
        w.set_thread(tid, _with(th, T_FRAMES, frames[:-1] + (new_caller,)))

    def _thread_ends(self, w: Work, tid: int, th: Thread, code: int) -> None:
        """A thread's last frame has ended; `main`'s end (or its `atexit` block's) goes on to
        the program's end."""
        done = _with(th, T_FRAMES, ())
        if tid != self.main_tid:
            w.set_thread(tid, _with(done, T_STATUS, ENDED))
            return
        python = self.program.host == "python"
        handlers = self.atexit_codes
        if code in handlers:
            after = handlers.index(code) + 1
            if after < len(handlers):  # the next handler
                w.set_thread(tid, self._running_hook(done, handlers[after], NATIVE))
            else:
                w.set_thread(tid, _with(done, T_STATUS, FINALIZING if python else ENDED))
                w.ended = 0 if python else 1
        elif python:
            w.set_thread(tid, _with(done, T_STATUS, EXIT_JOIN))
        elif handlers:  # C `atexit` handlers and static destructors
            w.set_thread(tid, self._running_hook(done, handlers[0], NATIVE))
        else:
            w.set_thread(tid, _with(done, T_STATUS, ENDED))
            w.ended = 1

    def _child_ends(self, w: Work, tid: int, th: Thread) -> None:
        """A forked child ends at the end of its block, as with `os._exit`."""
        w.set_thread(tid, _with(_with(th, T_FRAMES, ()), T_STATUS, ENDED))
        w.ended = 1

    def _fork(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """The parent goes on past the block; the child, a copy of the state in which only
        this thread exists, runs the block (explored as a branch of its own)."""
        instr: ir.ForkBegin = p.instr  # type: ignore[assignment]
        w = Work(state)
        self._advance(w, tid, th, frame, self.resolve_pc(p.code, instr.end))
        out.append(((tid, STEP, 0), w.freeze()))
        child = Work(state)
        for other, t in enumerate(state[S_THREADS]):
            if other != tid and t[T_STATUS] != ENDED:
                # Gone: nothing of it matters to the child but its name (what it held and
                # owned lives on in the locks and channels), so children forked from parent
                # states that differ only in other threads' positions are one state.
                child.set_thread(other, ((), GONE, 0, GIL_NORMAL, (), 0, t[T_DAEMON], *t[7:]))
        # Only the frame running the block is kept: the child ends where the block ends.
        top = (frame[F_CODE], p.next_pc, frame[F_LOCALS], frame[F_CTX])
        child.set_thread(tid, _with(th, T_FRAMES, (top,)))
        child.fork = (*state[S_FORK], (tid, p.code, p.pc))
        out.append(((tid, FORK_CHILD, 0), child.freeze()))
        return False

    def _fork_end(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        w = Work(state)
        self._child_ends(w, tid, th)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _spawn(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        if self._need_gil(state, tid, p):
            return True
        instr: ir.SpawnFn = p.instr  # type: ignore[assignment]
        args = tuple(self._eval(fn, state, frame, th) for fn in p.values)
        w = Work(state)
        code = self.codes[instr.function]
        locals_ = args + (None,) * (len(code.local_names) - len(args))
        new_frame = (instr.function, self.resolve_pc(instr.function, 0), locals_, NATIVE)
        daemon = instr.daemon and self.program.host == "python"
        child = w.add_thread(
            ((new_frame,), RUNNING, 0, GIL_NORMAL, (), 0, daemon, 0, -(instr.function + 1))
        )
        locals_ = self._moved(frame[F_LOCALS], p)
        locals_ = self._store(w, locals_, instr.target, ("thread", child), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _join(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        target = self.join_target(state, th, frame, p)
        status = state[S_THREADS][target][T_STATUS]
        # In a forked child, Python's threading marks the parent's other threads stopped
        # (joining them returns); a native join waits for ever.
        if status != ENDED and not (status == GONE and self.program.host == "python"):
            return False
        return self._skip(state, tid, th, frame, p, out)

    def join_target(self, state: State, th: Thread, frame: Frame, p: Prepared) -> int:
        """The thread id a `join` waits for."""
        instr: ir.Join = p.instr  # type: ignore[assignment]
        if isinstance(instr.handle, ir.ThreadRef):
            ref = instr.handle
            index = 0
            if ref.index is not None:
                value = compile_expr(ref.index, self.params)(
                    frame[F_LOCALS], state[2], th[7], state[4]
                )
                index = element(0, ref.size, value, ref.name)
            return self.thread_ids[(ref.thread, index)]
        handle = self._eval(p.value, state, frame, th)
        if not (isinstance(handle, tuple) and len(handle) == 2 and handle[0] == "thread"):
            raise SpecMisuse(f"`join` needs a thread handle, not {describe_value(handle)}")
        return int(handle[1])

    # ------------------------------------------------------------ handlers: the GIL

    def _gil_enter(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        count = th[T_GILCOUNT]
        gil = state[1]
        if count == 0:
            if gil not in (NO_THREAD, tid):
                return True
            if not self.gil_off:
                gil = tid
        new_th = (_moved_to(th, frame, p.next_pc), th[1], count + 1, *th[3:])
        threads = state[0]
        out.append(
            ((tid, STEP, 0), (threads[:tid] + (new_th,) + threads[tid + 1 :], gil, *state[2:]))
        )
        return False

    def _gil_exit(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        count = th[T_GILCOUNT] - 1
        gil = state[1]
        if count <= 0:
            count = 0
            if gil == tid and not self.gil_off:
                gil = NO_THREAD
        new_th = (_moved_to(th, frame, p.next_pc), th[1], count, *th[3:])
        threads = state[0]
        out.append(
            ((tid, STEP, 0), (threads[:tid] + (new_th,) + threads[tid + 1 :], gil, *state[2:]))
        )
        return False

    _python_exit = _gil_exit

    def _allow_enter(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        w = Work(state)
        if state[S_GIL] == tid and not self.gil_off:
            w.gil = NO_THREAD
        self._advance(
            w, tid, th, frame, p.next_pc, gil_count=0, allow_stack=th[T_ALLOW] + (th[T_GILCOUNT],)
        )
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _allow_exit(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        stack = th[T_ALLOW]
        saved = stack[-1] if stack else 0
        w = Work(state)
        if saved > 0:
            if state[S_GIL] not in (NO_THREAD, tid):
                return True
            if not self.gil_off:
                w.gil = tid
        self._advance(w, tid, th, frame, p.next_pc, gil_count=saved, allow_stack=stack[:-1])
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _python_enter(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        count = th[T_GILCOUNT]
        if count == 0 and th[T_ALLOW]:
            raise SpecMisuse(
                "Python code (`python { }`) runs inside `allow_threads { }`, without the GIL"
            )
        return self._gil_enter(state, tid, th, frame, p, out)

    def _print(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        value = self._eval(p.value, state, frame, th)
        if self.context(p, frame) == PYTHON:
            return self._skip(state, tid, th, frame, p, out)  # Python's print: under the GIL
        stdout = state[5]
        attached = th[T_GILCOUNT] > 0 if self.gil_off else state[S_GIL] == tid
        needs_gil = is_python_value(value) and not attached
        w = Work(state)
        if th[T_PHASE] == 1:  # holds stdout's lock, waits for the GIL to format
            if state[S_GIL] not in (NO_THREAD, tid):
                return True
            w.stdout = NO_THREAD
            self._advance(w, tid, th, frame, p.next_pc, phase=0)
            out.append(((tid, STEP, 1), w.freeze()))
            return False
        if stdout not in (NO_THREAD, tid):
            return False
        if needs_gil:
            w.stdout = tid
            self._advance(w, tid, th, frame, frame[F_PC], phase=1)
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        self._advance(w, tid, th, frame, p.next_pc)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    # ------------------------------------------------------------ handlers: sync objects

    def _sync(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        """A statement on a sync object: its primitive decides (gilcheck/sync/)."""
        site = p.site
        assert site is not None
        res: ir.ResourceRef = p.instr.resource  # type: ignore[union-attr]
        lid = self.lock_id(res, frame, th, state, p.index)
        locks = state[3]
        partner_lid = -1
        partner = None
        if p.partner is not None:
            partner_lid = self.lock_id(p.partner, frame, th, state, p.partner_index)
            partner = locks[partner_lid]
        phase = th[T_PHASE]
        result = site.verb.run(site, locks[lid], tid, phase, partner)
        if isinstance(result, Misuse):
            raise SpecMisuse(result.message.replace("{label}", _res_name(res, lid, self)))
        for moved in result:
            w = Work(state)
            w.set_lock(lid, moved.obj)
            if moved.partner is not SAME:
                w.set_lock(partner_lid, moved.partner)
            advance = moved.advance
            pc = p.next_pc if advance == NEXT else frame[F_PC] if advance == STAY else p.skip_pc
            if moved.phase == phase:
                self._advance(w, tid, th, frame, pc)
            else:
                self._advance(w, tid, th, frame, pc, phase=moved.phase)
            kind = SPURIOUS_WAKEUP if moved.spurious else STEP
            out.append(((tid, kind, moved.choice), w.freeze()))
        return False

    # ------------------------------------------------------------ handlers: channels

    def _make_channel(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.MakeChannel = p.instr  # type: ignore[assignment]
        capacity = None
        if instr.capacity is not None:
            capacity = self._eval(compile_expr(instr.capacity, self.params), state, frame, th)
            if isinstance(capacity, Term):
                raise SymbolicLimit("a channel capacity that depends on an unknown value")
        w = Work(state)
        cid = w.add_chan(((), 1, True, False, instr.kind, capacity, False, NO_THREAD))
        locals_ = self._store(w, frame[F_LOCALS], instr.sender, ("tx", cid), frame, th)
        locals_ = self._store(w, locals_, instr.receiver, ("rx", cid), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _close(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Close = p.instr  # type: ignore[assignment]
        cid = self.channel_id(instr.channel, frame, th, state, "rx", p.index)
        if state[4][cid][C_KIND] == "queue":
            raise SpecMisuse("a queue never closes: `close` has no meaning for it")
        w = Work(state)
        w.set_chan(cid, _with(w.chans[cid], C_CLOSED, True))
        self._advance(w, tid, th, frame, p.next_pc)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    @staticmethod
    def receivable_end(chan: Channel) -> bool:
        """Whether a `recv` on an empty channel returns none (closed, or every sender gone)."""
        if chan[C_CLOSED]:
            return True
        return not chan[C_GLOBAL] and chan[C_SENDERS] == 0 and chan[C_KIND] != "queue"

    def _recv(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Recv = p.instr  # type: ignore[assignment]
        cid = self.channel_id(instr.channel, frame, th, state, "rx", p.index)
        chan = state[4][cid]
        buf = chan[C_BUF]
        if buf:
            value = buf[0]
            w = Work(state)
            w.set_chan(cid, _with(chan, C_BUF, buf[1:]))
        elif self.receivable_end(chan):
            value = None
            w = Work(state)
        else:
            return False
        if value is None and instr.exit_target is not None:
            self._advance(w, tid, th, frame, self.resolve_pc(p.code, instr.exit_target))
        else:
            locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _try_recv(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.TryRecv = p.instr  # type: ignore[assignment]
        cid = self.channel_id(instr.channel, frame, th, state, "rx", p.index)
        chan = state[4][cid]
        w = Work(state)
        value = None
        if chan[C_BUF]:
            value = chan[C_BUF][0]
            w.set_chan(cid, _with(chan, C_BUF, chan[C_BUF][1:]))
        locals_ = self._store(w, frame[F_LOCALS], instr.target, value, frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False

    def _send(
        self, state: State, tid: int, th: Thread, frame: Frame, p: Prepared, out: list[Transition]
    ) -> bool:
        instr: ir.Send = p.instr  # type: ignore[assignment]
        if self._need_gil(state, tid, p):
            return True
        cid = self.channel_id(instr.channel, frame, th, state, "tx", p.index)
        chan = state[4][cid]
        phase = th[T_PHASE]
        if phase != 0:  # a rendezvous sender waiting for its offer to be taken
            offered = phase[1]
            if chan[C_BUF] and chan[C_RECEIVER]:
                return False
            w = Work(state)
            if chan[C_BUF]:  # the receiver is gone and never took it
                result: Value = ("err", offered)
                w.set_chan(cid, _with(_with(chan, C_PENDING, NO_THREAD), C_BUF, ()))
            else:
                result = ("ok", None)
                w.set_chan(cid, _with(chan, C_PENDING, NO_THREAD))
            locals_ = self._store(w, frame[F_LOCALS], instr.target, result, frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_, phase=0)
            out.append(((tid, STEP, 1), w.freeze()))
            return False
        value = self._eval(p.value, state, frame, th)
        w = Work(state)
        locals_ = self._moved(frame[F_LOCALS], p)
        if chan[C_KIND] != "queue" and (not chan[C_RECEIVER] or chan[C_CLOSED]):
            if chan[C_KIND] == "oneshot" and isinstance(instr.channel, ir.HandleRef):
                # Sending consumes a oneshot sender, even when the send fails.
                slot = instr.channel.slot
                locals_ = locals_[:slot] + (MOVED,) + locals_[slot + 1 :]
                w.set_chan(cid, _with(chan, C_SENDERS, max(0, chan[C_SENDERS] - 1)))
            locals_ = self._store(w, locals_, instr.target, ("err", value), frame, th)
            self._advance(w, tid, th, frame, p.next_pc, locals_)
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        buf = chan[C_BUF]
        kind, capacity = chan[C_KIND], chan[C_CAP]
        if kind == "rendezvous":
            if buf or chan[C_PENDING] != NO_THREAD:
                return False
            w.set_chan(cid, _with(_with(chan, C_BUF, (value,)), C_PENDING, tid))
            self._advance(w, tid, th, frame, frame[F_PC], locals_, phase=("offer", value))
            out.append(((tid, STEP, 0), w.freeze()))
            return False
        if capacity is None:
            if kind == "oneshot":
                capacity = 1
            elif len(buf) >= self.options.channel_bound:
                out.append(
                    (
                        (tid, STEP, 0),
                        LimitHit(
                            Verdict.BOUND,
                            "channel grew past the exploration bound of "
                            f"{self.options.channel_bound} messages (--channel-bound)",
                            tid,
                            instr.span,
                        ),
                    )
                )
                return False
        if capacity is not None and len(buf) >= capacity:
            return False
        new_chan = _with(chan, C_BUF, buf + (value,))
        if kind == "oneshot":
            if chan[C_GLOBAL]:
                new_chan = _with(new_chan, C_CLOSED, True)
            elif isinstance(instr.channel, ir.HandleRef):
                # Sending consumes a oneshot sender.
                new_chan = _with(new_chan, C_SENDERS, max(0, chan[C_SENDERS] - 1))
                slot = instr.channel.slot
                locals_ = locals_[:slot] + (MOVED,) + locals_[slot + 1 :]
        w.set_chan(cid, new_chan)
        locals_ = self._store(w, locals_, instr.target, ("ok", None), frame, th)
        self._advance(w, tid, th, frame, p.next_pc, locals_)
        out.append(((tid, STEP, 0), w.freeze()))
        return False


def _moved_to(th: Thread, frame: Frame, pc: int) -> tuple[Frame, ...]:
    """The thread's frames with the top frame moved to `pc`."""
    frames = th[0]
    top = (frame[0], pc, frame[2], frame[3])
    return (top,) if len(frames) == 1 else frames[:-1] + (top,)


_FIELD = {"gil_count": T_GILCOUNT, "allow_stack": T_ALLOW, "phase": T_PHASE, "status": T_STATUS}


def _with(tup: tuple[Any, ...], index: int, value: object) -> tuple[Any, ...]:
    return tup[:index] + (value,) + tup[index + 1 :]


def _reads_only_locals(expr: ir.Expr | None) -> bool:
    match expr:
        case None | ir.Const() | ir.Local() | ir.SelfIndex():
            return True
        case ir.UnaryOp(operand=o):
            return _reads_only_locals(o)
        case ir.BinaryOp(left=a, right=b):
            return _reads_only_locals(a) and _reads_only_locals(b)
        case ir.Builtin(name=name, args=args) if name not in ("len", "pyobj"):
            return all(
                not isinstance(a, ir.GlobalChannel | ir.HandleRef) and _reads_only_locals(a)
                for a in args
            )
    return False


def _is_local(instr: ir.Instr) -> bool:
    """Whether an instruction can only touch its own thread (checked again for handles)."""
    match instr:
        case ir.Skip() | ir.Jump() | ir.EndScope():
            return True
        case ir.Assign(target=ir.LocalTarget(), value=v):
            return _reads_only_locals(v)
        case ir.Branch(cond=c):
            return _reads_only_locals(c)
    return False


def _is_left_mover(instr: ir.Instr) -> bool:
    """Releases: they never block and only enable other threads, so they commute to the left
    past every step of another thread (Lipton's reduction) and can join the step before.
    A release whose index reads shared state does not commute with the writes to it."""
    match instr:
        case ir.GilExit() | ir.AllowEnter() | ir.End():
            return True
        case ir.Release(resource=res):
            left = registry.verb(res.kind, "release").left_mover
            return left and _reads_only_locals(res.index)
    return False


def _has_receiver(value: Value) -> bool:
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    if value[0] == "rx":
        return True
    return value[0] in ("ok", "err") and _has_receiver(value[1])


def _with_path(state: State, path: tuple[int, PathCondition]) -> State:
    """The state with another (narrower) path condition."""
    return (*state[:S_PATH], path, *state[S_PATH + 1 :])


def _small_constant_range(instr: ir.AnyInt) -> bool:
    """Whether an `any` is enumerated: constant bounds, at most MAX_ENUMERATED_ANY values."""
    low, high = instr.low, instr.high
    return (
        isinstance(low, ir.Const)
        and isinstance(high, ir.Const)
        and isinstance(low.value, int)
        and isinstance(high.value, int)
        and high.value - low.value <= MAX_ENUMERATED_ANY
    )


def _truth(value: Value) -> bool:
    if isinstance(value, bool | int):
        return bool(value)
    raise SpecMisuse(f"a condition must be a boolean, not {describe_value(value)}")


def _has_handle(value: Value) -> bool:
    if is_handle(value):
        return True
    return (
        isinstance(value, tuple)
        and len(value) == 2
        and value[0] in ("ok", "err")
        and _has_handle(value[1])
    )


def sync_verb(instr: ir.Instr) -> str | None:
    """The primitive statement an instruction runs (None: not a statement on a sync object)."""
    match instr:
        case ir.Acquire(mode=mode):
            return "acquire_" + mode if mode else "acquire"
        case ir.Release():
            return "release"
        case ir.Wait():
            return "wait"
        case ir.Notify(all=every):
            return "notify_all" if every else "notify"
        case ir.OnceBegin():
            return "call_once"
        case ir.OnceEnd():
            return "call_once_end"
        case ir.SetEvent():
            return "set"
        case ir.ClearEvent():
            return "clear"
    return None


def _res_name(res: ir.ResourceRef, lid: int, engine: Engine) -> str:
    if res.size is None:
        return res.name
    return f"{res.name}[{lid - engine.lock_offset[res.kind] - res.base}]"


__all__ = ["Engine", "Span", "Target"]
