"""What every part of the engine shares: the prepared instruction, the handler contract,
run-time errors, and small functions over states and instructions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gilcheck.semantics import ir
from gilcheck.semantics.values import (
    Value,
    describe_value,
    is_handle,
)
from gilcheck.symbolic.paths import PathCondition
from gilcheck.sync import registry
from gilcheck.sync.base import Site

if TYPE_CHECKING:
    pass
from typing import Protocol

from gilcheck.system.expr import (
    Evaluator,
)
from gilcheck.system.model import (
    Transition,
)
from gilcheck.system.state import (
    ENDED,
    GONE,
    S_PATH,
    T_ALLOW,
    T_GILCOUNT,
    T_PHASE,
    T_STATUS,
    Frame,
    State,
    Thread,
)

MAX_ENUMERATED_ANY = 256
# The phase of a thread waiting at `recv c[i]` / `send c[i], v` with `var i`: (CHANNEL_PIN,
# the channel it read, the statement's own phase).
CHANNEL_PIN = "@c"
# Where an object's state lives: a slot of the state's declared objects, or its heap of
# objects made at run time.
DECLARED, HEAP = 0, 1
# Thread statuses of threads that never move again.
_OVER = (ENDED, GONE)


class SpecMisuse(Exception):
    """A run-time misuse found while executing a step."""


class SpecPanic(Exception):
    """A run-time panic found while executing a step."""


class Handler(Protocol):
    """The contract of every instruction's handler: append to `out` each step thread `tid`
    (`th`, whose top frame is `frame`, at prepared instruction `p`) can take from `state`,
    as (action, target); append nothing when the thread is blocked. Return True when it is
    blocked because it needs the GIL another thread holds (the scheduler may then hand the
    GIL over). A run-time misuse or panic is raised (SpecMisuse, SpecPanic, EvalError, ...)
    and turned into a violation by `thread_steps`."""

    def __call__(
        self,
        state: State,
        tid: int,
        th: Thread,
        frame: Frame,
        p: Prepared,
        out: list[Transition],
        /,
    ) -> bool: ...


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
    # For its value (or each argument): whether it reads a shared var, so that a handle in
    # it is a copy of the var's (a sender is cloned; a receiver of a channel that can
    # close cannot be copied).
    copies: tuple[bool, ...]
    context: int | None  # NATIVE, PYTHON or None (inherit from the frame)
    local: bool  # merged into the step before: a local step or a release (see _settle)
    pure: bool  # depends on and changes only its own thread (skip, jump, local assign/branch)
    # As `pure` (and a scope's end that drops plain data only, and a `frame_step`), where
    # it runs as Python code: such a statement is merged into the thread's step before
    # while the thread holds the GIL and a statement boundary follows it (see
    # Reduction._pure_at); False in programs where Python code is not merged.
    python_pure: bool
    # A `call` whose arguments read only locals and whose result goes to a local (or
    # nowhere), or a `return` of such a value: pure where what it moves is plain data (see
    # Reduction._frame_step_is_pure); False in programs where calls are not merged.
    frame_step: bool
    merges: bool  # `local`, `python_pure` or `frame_step`: _merge looks at what follows
    index: Evaluator | None  # the element index of the resource or channel it uses, if any
    handler: Handler  # the engine's handler for this instruction type
    # A statement on a sync object: its primitive's statement, the partner object
    # (`wait cv, m`: the mutex) and its index, and where a skipped block ends.
    site: Site | None = None
    partner: ir.ResourceRef | None = None
    partner_index: Evaluator | None = None
    skip_pc: int = -1
    # A statement on an object reached through a value (language v1.2: `acquire m` with
    # `let m = mutex()`): the primitive statement's name, and the values naming the object
    # and its partner (their sites are made per kind at run time).
    verb: str = ""
    # Its object (or partner) is named through shared state (`acquire g` with `var g`,
    # `acquire m[i]` with `var i`): it reads it when it starts waiting and keeps it.
    shared_operand: bool = False
    ref_value: Evaluator | None = None
    partner_value: Evaluator | None = None
    operand: Evaluator | None = None


_FIELD = {"gil_count": T_GILCOUNT, "allow_stack": T_ALLOW, "phase": T_PHASE, "status": T_STATUS}


def _moved_to(th: Thread, frame: Frame, pc: int) -> tuple[Frame, ...]:
    """The thread's frames with the top frame moved to `pc`."""
    frames = th[0]
    top = (frame[0], pc, frame[2], frame[3])
    return (top,) if len(frames) == 1 else frames[:-1] + (top,)


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
        case ir.Builtin(name=name, args=args) if name not in ("len", "pyobj", "is_done"):
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
        case ir.Release(resource=res) if res.value is None:
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
