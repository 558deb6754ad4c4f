"""The spec language's own words for the IR, for messages.

Diagnostics, misuse and panic messages, wait-for explanations and export refusals name a
construct the way the spec writes it (`any(..)`, `spawn`, `with_gil { }`,
`channel c: bounded(1)`), never by the IR class it was lowered to (`AnyInt`, `SpawnFn`,
`GilEnter`, `ChannelInfo`). `construct` names what an instruction came from, `statement`
and `expression` give an instruction or expression back as spec text, `declaration` a
declared item, and `a_kind` a kind of resource with its article.
"""

from __future__ import annotations

from collections.abc import Sequence

from gilcheck.semantics import ir
from gilcheck.semantics.values import render
from gilcheck.sync import registry
from gilcheck.syntax.unparse import PRECEDENCE

# Instructions whose construct is one keyword, as the spec writes it.
_KEYWORDS: dict[type, str] = {
    ir.TryRecv: "`try_recv`",
    ir.CloneHandle: "`clone`",
    ir.Unwrap: "`unwrap`",
    ir.CallFn: "`call`",
    ir.Submit: "`submit`",
    ir.TakeTask: "a pool worker taking a task",
    ir.FinishTask: "a pool worker completing its task's future",
    ir.LoopStart: "an event loop's task taking the loop",
    ir.LoopFinish: "an event loop's task completing its future",
    ir.LoopIdle: "an event loop's thread",
    ir.SuspendBegin: "`suspend { }`",
    ir.SuspendEnd: "`suspend { }`",
    ir.AnyInt: "`any(..)`",
    ir.DropValue: "`drop`",
    ir.Close: "`close`",
    ir.GilEnter: "`with_gil { }`",
    ir.GilExit: "`with_gil { }`",
    ir.AllowEnter: "`allow_threads { }`",
    ir.AllowExit: "`allow_threads { }`",
    ir.PythonEnter: "`python { }`",
    ir.PythonExit: "`python { }`",
    ir.AcquireGil: "`acquire_gil`",
    ir.ReleaseGil: "`release_gil`",
    ir.Release: "`release`",
    ir.OnceBegin: "`call_once`",
    ir.OnceEnd: "`call_once`",
    ir.SetEvent: "`set`",
    ir.ClearEvent: "`clear`",
    ir.Join: "`join`",
    ir.Return: "`return`",
    ir.Jump: "`break`, `continue` or the end of a loop or branch",
    ir.Branch: "an `if` or `while` condition",
    ir.Choose: "`choose`",
    ir.Await: "`await`",
    ir.Assert: "`assert`",
    ir.Panic: "`panic`",
    ir.Print: "`print`",
    ir.AtomicBegin: "`atomic { }`",
    ir.AtomicEnd: "`atomic { }`",
    ir.Progress: "`progress`",
    ir.Skip: "`skip`",
    ir.ForkBegin: "`fork { }`",
    ir.ForkEnd: "`fork { }`",
    ir.EndScope: "the end of a block",
    ir.End: "the end of a thread or function",
}

_UNARY_LEVEL = {"not": PRECEDENCE["not"], "-": PRECEDENCE["neg"]}


def a_kind(kind: str) -> str:
    """A kind of resource or channel end with its article: `a mutex`, `an rlock`,
    `an event`, a `once` (quoted: "a once" reads as an adverb)."""
    if kind == "once":
        return "a `once`"
    if kind == "eventloop":
        return "an event loop"
    vowel_sound = kind[0] in "aeiou" or kind in ("rlock", "rwlock")
    return ("an " if vowel_sound else "a ") + kind


def channel_maker(kind: str, capacity: int | None) -> str:
    """The spec text of a channel kind as declared: `bounded(2)`, `unbounded`, `queue(0)`."""
    if kind == "bounded":
        return f"bounded({capacity})"
    if kind == "queue":
        return f"queue({capacity or 0})"
    return kind


def _maker_call(kind: str, capacity: ir.Expr | None) -> str:
    """The spec text that makes a channel at run time: `channel(2)`, `oneshot()`."""
    size = "" if capacity is None else expression(capacity)
    if kind == "oneshot":
        return "oneshot()"
    if kind == "queue":
        return f"queue({size or 0})"
    if kind == "bounded":
        return f"channel({size})"
    return f"channel({kind})"


def expression(
    expr: ir.Expr | ir.ChannelRef | ir.ThreadRef | ir.ResourceRef | ir.Target, parent: int = 0
) -> str:
    """An IR expression (or reference) as spec text, parenthesised only where precedence
    requires: `x[self] + 1`, `not is_none(v)`, `len(c[0])`. Constants are shown as folded
    (`const N = 3` reads back as `3`)."""
    match expr:
        case ir.Const(value=int(v)) if not isinstance(v, bool) and v < 0:
            return _paren(f"-{-v}", PRECEDENCE["neg"], parent)
        case ir.Const(value=v):
            return render(v)
        case ir.Local(name=n) | ir.ParamRef(name=n) | ir.HandleRef(name=n):
            return n
        case ir.LocalTarget(name=n):
            return n
        case ir.SelfIndex():
            return "self"
        case (
            ir.GlobalVar(name=n, index=i)
            | ir.GlobalTarget(name=n, index=i)
            | ir.GlobalChannel(name=n, index=i)
            | ir.ResourceRef(name=n, index=i)
            | ir.ThreadRef(name=n, index=i)
        ):
            return n if i is None else f"{n}[{expression(i)}]"
        case ir.UnaryOp(op=op, operand=o):
            level = _UNARY_LEVEL.get(op, PRECEDENCE["neg"])
            text = f"not {expression(o, level)}" if op == "not" else f"{op}{expression(o, level)}"
            return _paren(text, level, parent)
        case ir.BinaryOp(op=op, left=left, right=right):
            level = PRECEDENCE.get(op, PRECEDENCE["**"])
            if op == "**":  # right-associative
                text = f"{expression(left, level + 1)} ** {expression(right, level)}"
            elif level == PRECEDENCE["=="]:  # comparisons do not chain
                text = f"{expression(left, level + 1)} {op} {expression(right, level + 1)}"
            else:
                text = f"{expression(left, level)} {op} {expression(right, level + 1)}"
            return _paren(text, level, parent)
        case ir.Builtin(name="resource", args=(_, _, size, index, ir.Const(value=name))):
            # A declared resource used as a value: its name as written.
            if isinstance(size, ir.Const) and size.value is None:
                return str(name)
            return f"{name}[{expression(index)}]"
        case ir.Builtin(name=name, args=args):
            return f"{name}({', '.join(expression(a) for a in args)})"
    return "this expression"


def _paren(text: str, level: int, parent: int) -> str:
    return f"({text})" if level < parent else text


def _function(index: int, codes: Sequence[ir.CodeUnit] | None) -> str:
    if codes is not None and 0 <= index < len(codes):
        return codes[index].name
    return ".."


def construct(instr: ir.Instr) -> str:
    """The construct an instruction comes from, quoted as the spec writes it: `any(..)`,
    `spawn`, `with_gil { }`, `for`, `wait cv, m`, `acquire_read`."""
    match instr:
        case ir.Assign():
            return "an assignment"
        case ir.Recv(exit_target=t):
            return "`recv`" if t is None else "`for`"
        case ir.Send():
            return "`send`"
        case ir.SpawnFn(daemon=daemon):
            return "`spawn daemon`" if daemon else "`spawn`"
        case ir.MakeChannel(kind=kind, capacity=capacity):
            return f"`{_maker_call(kind, capacity)}`"
        case ir.Acquire(mode=mode):
            return f"`acquire_{mode}`" if mode else "`acquire`"
        case ir.Wait(resource=res, mutex=mutex):
            return "`wait cv, m`" if mutex is not None or res.kind == "condvar" else "`wait`"
        case ir.Notify(all=every):
            return "`notify_all`" if every else "`notify`"
        case ir.SyncOp(verb=verb):
            return f"`{verb}`"
        case ir.MakeObject(kind=kind):
            return f"`{kind}()`"
    return _KEYWORDS.get(type(instr), "this statement")


def _timed(instr: ir.Acquire | ir.Wait | ir.Join | ir.Recv | ir.SyncOp) -> str:
    return " timeout" if instr.timed else ""


def statement(instr: ir.Instr, codes: Sequence[ir.CodeUnit] | None = None) -> str:
    """An instruction as spec text, unquoted: `let x = any(0..3)` reads back as
    `x = any(0..3)`, `send c[self], 1`, `wait cv, m`. Function names need the program's
    code units; an instruction that is part of a statement (a block's end, a loop's jump)
    is named by its construct."""

    def bind(target: ir.Target | None, text: str) -> str:
        return text if target is None else f"{expression(target)} = {text}"

    match instr:
        case ir.Assign(target=t, value=v):
            return f"{expression(t)} = {expression(v)}"
        case ir.Recv(channel=c, target=t, exit_target=e):
            if e is not None:
                return f"for {expression(t) if t is not None else '_'} in {expression(c)}"
            return bind(t, f"recv {expression(c)}{_timed(instr)}")
        case ir.TryRecv(channel=c, target=t):
            return bind(t, f"try_recv {expression(c)}")
        case ir.Send(channel=c, value=v, target=t):
            return bind(t, f"send {expression(c)}, {expression(v)}")
        case ir.CloneHandle(source=s, target=t):
            return bind(t, f"clone {expression(s)}")
        case ir.Unwrap(value=v, target=t):
            return bind(t, f"unwrap {expression(v)}")
        case ir.CallFn(function=f, args=args, target=t):
            call = f"call {_function(f, codes)}({', '.join(expression(a) for a in args)})"
            return bind(t, call)
        case ir.SpawnFn(function=f, args=args, daemon=daemon, target=t):
            spawn = "spawn daemon" if daemon else "spawn"
            text = f"{spawn} {_function(f, codes)}({', '.join(expression(a) for a in args)})"
            return bind(t, text)
        case ir.Submit(executor=r, function=f, args=args, target=t):
            text = f"submit {expression(r)}, {_function(f, codes)}("
            return bind(t, text + ", ".join(expression(a) for a in args) + ")")
        case ir.AnyInt(low=lo, high=hi, target=t):
            return bind(t, f"any({expression(lo)}..{expression(hi)})")
        case ir.MakeChannel(kind=kind, capacity=capacity, sender=tx, receiver=rx):
            ends = ", ".join(expression(e) if e is not None else "_" for e in (tx, rx))
            return f"let ({ends}) = {_maker_call(kind, capacity)}"
        case ir.DropValue(name=n):
            return f"drop {n}"
        case ir.Close(channel=c):
            return f"close {expression(c)}"
        case ir.Acquire(resource=r, mode=mode, target=t):
            verb = "acquire_" + mode if mode else "acquire"
            return bind(t, f"{verb} {expression(r)}{_timed(instr)}")
        case ir.Release(resource=r):
            return f"release {expression(r)}"
        case ir.Wait(resource=r, mutex=m, target=t):
            mutex = f", {expression(m)}" if m is not None else ""
            return bind(t, f"wait {expression(r)}{mutex}{_timed(instr)}")
        case ir.SyncOp(verb=verb, resource=r, partner=m, operand=e, target=t):
            second = m if m is not None else e
            text = f"{verb} {expression(r)}" + (
                f", {expression(second)}" if second is not None else ""
            )
            return bind(t, text + _timed(instr))
        case ir.MakeObject(kind=kind, count=count, target=t):
            return bind(t, f"{kind}({'' if count is None else count})")
        case ir.Notify(resource=r, all=every):
            return f"{'notify_all' if every else 'notify'} {expression(r)}"
        case ir.OnceBegin(resource=r):
            return f"call_once {expression(r)} {{ }}"
        case ir.SetEvent(resource=r):
            return f"set {expression(r)}"
        case ir.ClearEvent(resource=r):
            return f"clear {expression(r)}"
        case ir.Join(handle=h, target=t):
            return bind(t, f"join {expression(h)}{_timed(instr)}")
        case ir.Return(value=v):
            return "return" if v is None else f"return {expression(v)}"
        case ir.Await(cond=c):
            return f"await {expression(c)}"
        case ir.Assert(cond=c, message=m):
            return f"assert {expression(c)}" + (f", {expression(m)}" if m is not None else "")
        case ir.Panic(message=m):
            return "panic" if m is None else f"panic {expression(m)}"
        case ir.Print(value=v):
            return f"print {expression(v)}"
        case ir.Progress():
            return "progress"
        case ir.Skip():
            return "skip"
        case ir.AcquireGil():
            return "acquire_gil"
        case ir.ReleaseGil():
            return "release_gil"
    return construct(instr)


def declaration(
    item: ir.VarInfo | ir.ResourceInfo | ir.ChannelInfo | ir.ThreadInfo | ir.ParamInfo,
) -> str:
    """A declared item as the spec declares it, unquoted: `var x[2] = 0`, `rwlock l`,
    `semaphore s = 2`, `channel c: bounded(1)`, `thread worker[3]`, `param n: int in 1..5`."""

    def size(n: int | None) -> str:
        return "" if n is None else f"[{n}]"

    match item:
        case ir.VarInfo(name=n, size=s, init=init):
            return f"var {n}{size(s)} = {render(init)}"
        case ir.ResourceInfo(kind=kind, name=n, size=s, count=count):
            counted = registry.primitive(kind).count_minimum is not None and count is not None
            return f"{kind} {n}{size(s)}" + (f" = {count}" if counted else "")
        case ir.ChannelInfo(name=n, size=s, kind=kind, capacity=capacity):
            return f"channel {n}{size(s)}: {channel_maker(kind, capacity)}"
        case ir.ThreadInfo(name=n, size=s):
            return f"thread {n}{size(s)}"
        case ir.ParamInfo(name=n, low=lo, high=hi):
            return f"param {n}: int in {lo}..{hi}"
    return "this declaration"
