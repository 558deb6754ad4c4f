"""A checked program as the text of a runnable CPython program: the runtime, the spec's
declarations, one function per code unit, and the entry point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from gilcheck.realize.code import CodeWriter, Where, loop_maker, pool_maker
from gilcheck.realize.refusal import Refused, raise_refusals
from gilcheck.realize.runtime import RUNTIME
from gilcheck.realize.steer import Step
from gilcheck.semantics import describe, ir
from gilcheck.sync.eventloop import ANY_ORDER

REALIZABLE_KINDS: Final[dict[str, str]] = {
    "mutex": "Mutex({name!r})",
    "rlock": "RLock({name!r})",
    "condvar": "Condvar({name!r})",
    "event": "Event({name!r})",
    "once": "Once({name!r})",
    "semaphore": "Semaphore({name!r}, {count})",
    "barrier": "Barrier({name!r}, {count})",
    "latch": "Latch({name!r}, {count})",
    "future": "Future({name!r}, False)",
    "rwlock": "RwLock({name!r})",
}
CHANNEL_KINDS: Final[frozenset[str]] = frozenset(
    {"unbounded", "bounded", "rendezvous", "oneshot", "queue"}
)
DEFAULT_TIMEOUT: Final[float] = 5.0


def realize_program(
    program: ir.Program,
    where: Where,
    steps: Sequence[Step] = (),
    timeout: float = DEFAULT_TIMEOUT,
    patience: float = 1.0,
) -> str:
    """The realized program's text; SpecError with a `not-realizable` error for every
    construct it cannot map. `steps` (thread, line, column, kind) steer the run."""
    refused: list[Refused] = []
    refused += _settings(program)
    declarations = _declarations(program, refused, where)
    functions: list[str] = []
    for index in range(len(program.codes)):
        if program.codes[index].kind in ("worker", "loop", "task"):
            continue  # pools' workers and loops' tasks are the runtime's
        writer = CodeWriter(program, index, where)
        functions += writer.write()
        functions.append("")
        refused += writer.refused
    raise_refusals(refused)
    expect = program.expect.verdict.value if program.expect is not None else "none"
    head = [
        "#!/usr/bin/env python3",
        f'"""{program.path}, realized by `gilcheck realize` as a CPython program.',
        "",
        f"The spec expects `{expect}`. Exit codes: 0 finished, 3 hang (the watchdog fired",
        "after the timeout; the threads' stacks are on stderr), 4 assertion, 5 panic,",
        "6 misuse, 7 a bug of the realization. Run it with `--realized-child` to run it",
        'without the watchdog."""',
    ]
    main = _main_code(program)
    hooks = [f"code_{index}" for kind, index in program.hooks if kind == "atexit"]
    started = [
        f"[{kind!r}, {where(program.codes[index].span)[0]}, code_{index}]"
        for kind, index in program.hooks
        if kind in ("finalizer", "signal")
    ]
    tail = [
        f"ATEXIT = [{', '.join(hooks)}]",
        f"HOOKS[:] = [{', '.join(started)}]",
        "",
        "STEPS = [",
        *(f"    {list(step)!r}," for step in steps),
        "]",
        "",
        'if __name__ == "__main__":',
        f"    run_program(code_{main}, DECLARED, STEPS, {patience!r}, {program.host!r}, "
        f"{timeout!r})",
    ]
    parts = [*head, RUNTIME, *_kinds(program, bool(steps)), *declarations, "", *functions, *tail]
    return "\n".join(parts) + "\n"


def _kinds(program: ir.Program, steered: bool) -> list[str]:
    """What decides, before any object is made, which of them are the standard library's:
    with processes, every object is the runtime's own (shared through its memory); with
    event loops, so is every rlock (a loop's tasks run on threads of their own); pools are
    `ThreadPoolExecutor`s unless the run is steered (its workers must be followed by name)
    or the program starts processes or forks (a fork child's pools are the parent's)."""
    instrs = [instr for unit in program.codes for instr in unit.instrs]
    processes = any(isinstance(i, ir.SpawnFn) and i.process for i in instrs)
    loops = any(r.kind == "eventloop" for r in program.resources) or any(
        isinstance(i, ir.MakeObject) and i.kind == "eventloop" for i in instrs
    )
    forks = any(isinstance(i, ir.ForkBegin) for i in instrs)
    real_pools = not (steered or processes or forks)
    return [
        f"PROCESSES = {processes}",
        f"LOOPS = {loops}",
        f"REAL_POOLS = {real_pools}",
        "",
    ]


def _settings(program: ir.Program) -> list[Refused]:
    refused: list[Refused] = []
    if program.host != "python":
        refused.append(Refused(f"`host {program.host}`", program.host_span))
    if program.gil != "on":
        refused.append(Refused("`gil off`", program.gil_span))
    for param in program.params:
        refused.append(Refused(f"`{describe.declaration(param)}`", param.span))
    for kind, index in program.hooks:
        if kind not in ("atexit", "finalizer", "signal"):
            refused.append(Refused(f"`{kind} {{ }}`", program.codes[index].span))
    return refused


def _main_code(program: ir.Program) -> int:
    for info in program.threads:
        if info.name == "main":
            return info.code
    return 0


def _declarations(program: ir.Program, refused: list[Refused], where: Where) -> list[str]:
    lines = ["# ---------------------------------------------------------------- the spec"]
    shared: list[object] = []
    for var in program.vars:
        shared += [var.init] * (var.size or 1)
    lines.append(f"G = {shared!r}")
    by_kind: dict[str, list[str]] = {}
    for res in program.resources:
        made = REALIZABLE_KINDS.get(res.kind)
        if res.kind == "pool":
            made = pool_maker(program, "{name}", res.count, f"{res.name}.worker", where)
            made = made.replace("'{name}'", "{name!r}")
        if res.kind == "eventloop":
            made = loop_maker(program, res.name, res.count == ANY_ORDER, where)
        if made is None:
            refused.append(Refused(f"`{describe.declaration(res)}`", res.span))
            continue
        objects = by_kind.setdefault(res.kind, [])
        objects += ["None"] * (res.base + (res.size or 1) - len(objects))
        for n in range(res.size or 1):
            name = res.name if res.size is None else f"{res.name}[{n}]"
            objects[res.base + n] = made.format(name=name, count=res.count)
    for kind in [*REALIZABLE_KINDS, "pool", "eventloop"]:
        lines.append(f"R_{kind} = [{', '.join(by_kind.get(kind, []))}]")
    channels: list[str] = []
    for chan in program.channels:
        if chan.kind not in CHANNEL_KINDS:
            refused.append(Refused(f"`{describe.declaration(chan)}`", chan.span))
            continue
        capacity = chan.capacity
        if chan.kind == "rendezvous":
            capacity = 0
        elif chan.kind == "queue" and not capacity:
            capacity = None
        elif chan.kind == "oneshot":
            capacity = 1
        channels += ["None"] * (chan.base + (chan.size or 1) - len(channels))
        for n in range(chan.size or 1):
            name = chan.name if chan.size is None else f"{chan.name}[{n}]"
            channels[chan.base + n] = f"Channel({name!r}, {chan.kind!r}, {capacity!r}, True)"
    lines.append(f"CH = [{', '.join(channels)}]")
    lines.append(f"TH = [[] for _ in range({len(program.threads)})]")
    lines.append("")
    lines.append("")
    lines.append("def _start_declared():")
    lines.append('    """The declared threads other than main, started before main runs."""')
    lines.append("    me = _ME.value")
    for number, info in enumerate(program.threads):
        if info.name == "main":
            lines.append(f"    TH[{number}].append(ThreadHandle(me))")
            continue
        for n in range(info.size or 1):
            name = info.name if info.size is None else f"{info.name}[{n}]"
            lines.append(
                f"    TH[{number}].append(start_thread({name!r}, {n}, False, code_{info.code}, ()))"
            )
    lines.append("")
    lines.append("")
    lines.append("DECLARED = [_start_declared]")
    return lines
