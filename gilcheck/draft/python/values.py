"""What the draft knows statically about a Python value while it walks the code: a
resource (a lock, a queue, a pool ...) and the spec name that holds it, a data value the
spec can compute, a thread not yet started, a list of known length, an instance of one of
the module's classes, a function, or nothing at all (`UNKNOWN`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from gilcheck.draft.model import Origin


@dataclass(frozen=True)
class Unknown:
    """A value the draft cannot compute (data from outside, an unknown call's result)."""


UNKNOWN = Unknown()


@dataclass(frozen=True)
class Opaque:
    """Plain Python data the draft does not follow (a dict, a set, a string built at
    run time): never a synchronisation object, so its methods cannot block.
    `not_none` when it surely is not `None` (a literal, an f-string, a number computed
    from others, a new `object()`), so neither any `Marker`."""

    not_none: bool = False


OPAQUE = Opaque()
DATA = Opaque(not_none=True)


@dataclass(frozen=True)
class Marker:
    """An object made once whose identity the program tests (`STOP = object()` at
    module level): in the spec a string literal no other value has, so `is`, `is not`,
    `==` and `!=` against it are exact. One made again and again (`stop = object()` in
    a function) is `local`: a run-time object the spec makes for each (`event()`, used
    only for its identity), held in spec name `text`."""

    text: str
    local: bool = False


@dataclass(frozen=True)
class Const:
    """A value known when drafting: an int, a bool, None or a string."""

    value: int | bool | str | None


@dataclass(frozen=True)
class Data:
    """A data value held in a spec local, parameter or shared `var`, or an expression
    over them. `plain` is false for a value whose type the draft does not know (an item
    taken from a queue, a function's result): only `==`, `!=` and `is None` apply.
    `vague` is true for a value that may be a stand-in for data the draft did not follow
    (see `exprs.message`): a comparison with it is then exact only for other values."""

    spec: str
    plain: bool = True
    vague: bool = False


@dataclass(frozen=True)
class Res:
    """A synchronisation object held in spec name `spec`. `kind` is one of mutex, rlock,
    condvar, event, semaphore, barrier, queue, mpqueue, pool, future, thread, process,
    loop; a condvar carries its lock's name, a queue the name of the companion queue that
    counts unfinished tasks (when the program uses `task_done`). `is_global` tells whether
    the name is declared at the top of the spec."""

    kind: str
    spec: str
    lock: str | None = None
    unfinished: str | None = None
    is_global: bool = False


@dataclass(eq=False)
class ThreadObj:
    """A `threading.Thread` or `multiprocessing.Process` made but maybe not started: its
    target, arguments, whether it is a daemon, and the handle's spec name once started."""

    target: object
    args: list[object]
    daemon: bool
    process: bool
    origin: Origin
    handle: str | None = None
    loop_runner: str | None = None
    finished: Res | None = None  # a `threading.Timer`'s `finished` event
    daemon_known: bool = True  # false when `daemon=` was data the draft does not know
    kwargs: dict[str, object] = field(default_factory=dict)


@dataclass(eq=False)
class ListVal:
    """A Python list (or tuple) whose items the draft knows; `exact` is false once items
    were added in a loop the draft did not unroll."""

    items: list[object] = field(default_factory=list)
    exact: bool = True
    # the caller's list this one is a copy of, in a drafted function's body (a list
    # handed to it, or a field of an object handed to it)
    origin: ListVal | None = None
    # whether a drafted function read its items through a copy (what is added later
    # is missing from that function's draft)
    read_by_copy: bool = False


@dataclass(eq=False)
class DictVal:
    """A Python dict whose keys are constants the draft knows (`{"a": lock_a}`) and
    what each holds; `exact` is false once it was changed in a way the draft does not
    follow."""

    items: dict[object, object] = field(default_factory=dict)
    exact: bool = True


@dataclass(eq=False)
class Instance:
    """An instance of one of the module's classes: what the draft knows of its attributes.
    `prefix` names its attributes in the spec (`obj_lock`); `is_global` when it is made
    once at module level, so its attributes are declared at the top."""

    cls: str
    fields: dict[str, object]
    prefix: str
    is_global: bool


@dataclass(frozen=True)
class Func:
    """One of the module's functions (or a class's method bound to an instance)."""

    name: str
    instance: object = None


@dataclass(frozen=True)
class Method:
    """A method of a known object used as a value (`loop.run_forever`)."""

    receiver: object
    name: str


@dataclass(frozen=True)
class Coro:
    """A coroutine object: a call of one of the module's `async def` functions, not yet
    awaited or scheduled."""

    func: Func
    args: tuple[object, ...]
    node: object = None


@dataclass(frozen=True)
class Logger:
    """A `logging` logger or the `logging` module itself."""


@dataclass(frozen=True)
class ModuleRef:
    """An object that stands for a library module (`multiprocessing.get_context("spawn")`
    for `multiprocessing`): its methods are that module's functions."""

    name: str


@dataclass(frozen=True)
class ForkPid:
    """The result of `os.fork()`: 0 in the child."""


Value = object
