"""Valid-by-construction random specs over every construct of the language (v1, v1.1, v1.2),
for the front-end fuzzer (bench/fuzz --generated N) and its tests.

`generate(rng)` gives `(text, constructs)`: a spec the front end should accept (most of the
time: kinds are tracked, so a statement is applied only to an object of the right kind), and
the names of the constructs it used, for the coverage table. `generate(rng, fault=True)`
injects one structural error (a statement out of place, a wrong kind, an undefined name,
...), for the error paths; `structural_mutation` moves, drops or duplicates whole blocks and
items of a generated spec.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# Every construct the generator can produce: the coverage table lists these.
CONSTRUCTS = [
    # items
    "scenario", "expect", "expect-when", "host-python", "host-rust", "gil-on", "gil-off",
    "use-pyo3", "use-tokio", "use-std", "use-cpython", "use-rayon", "const", "param",
    "var", "var-array", "mutex", "rlock", "condvar", "once", "event", "semaphore", "barrier",
    "rwlock", "latch", "resource-array", "channel-unbounded", "channel-bounded",
    "channel-rendezvous", "channel-oneshot", "channel-queue", "channel-array", "pool",
    "pool-array", "eventloop", "eventloop-array", "eventloop-any-order", "thread-main",
    "thread-array", "fn", "atexit", "finalizer", "signal",
    # statements
    "let", "assign", "assign-index", "make-channel-unbounded", "make-channel-bounded",
    "make-channel-rendezvous", "make-oneshot", "make-queue", "send", "send-result",
    "recv", "recv-timeout", "try-recv", "for-in", "clone", "drop", "close", "with-gil",
    "allow-threads", "python", "acquire", "acquire-timeout", "release", "lock-block",
    "try-acquire", "wait-cv", "wait-cv-timeout", "notify", "notify-all", "call-once",
    "set", "clear", "wait-event", "wait-event-timeout", "wait-barrier", "spawn",
    "spawn-bind", "spawn-daemon", "spawn-process", "spawn-daemon-process", "join",
    "join-timeout", "call", "call-bind", "return", "if", "if-else", "while", "loop",
    "break", "continue", "choose", "any-small", "any-symbolic", "await", "assert",
    "panic", "unwrap", "print", "atomic", "atomic-await", "progress", "skip", "read-block",
    "write-block", "acquire-read", "acquire-write", "acquire-read-timeout",
    "acquire-write-timeout", "fork", "make-mutex", "make-rlock", "make-condvar",
    "make-once", "make-event", "make-semaphore", "make-barrier", "make-rwlock",
    "make-latch", "make-future", "make-pool", "make-into-array", "countdown", "wait-latch",
    "wait-latch-timeout", "complete", "result", "result-timeout", "submit-pool",
    "submit-loop", "shutdown", "suspend", "acquire-gil", "release-gil", "model-call",
    "resource-argument", "handle-argument", "send-handle", "assign-result",
    # layout
    "comment-hash", "comment-slashes", "semicolons", "newline-before-else-or", "crlf",
    "tabs",
    # expressions
    "int", "big-int", "negative", "power", "bool", "none", "string", "ok", "err",
    "pyobj", "pyerr", "arith", "compare", "and-or", "not", "is-ok", "is-err", "is-none",
    "len", "is-done", "self", "index", "param-use", "const-use", "paren",
]  # fmt: skip

RESOURCE_KINDS = ["mutex", "rlock", "condvar", "once", "event", "semaphore", "barrier",
                  "rwlock", "latch"]  # fmt: skip
CHANNEL_KINDS = ["unbounded", "bounded", "rendezvous", "oneshot", "queue"]
# Kinds a function parameter may take (a global of the kind is passed).
PARAM_KINDS = ["int", "mutex", "rlock", "condvar", "event", "semaphore", "rwlock", "latch",
               "chan", "future", "tx", "rx"]  # fmt: skip
VERDICTS = ["ok", "deadlock", "stuck", "livelock", "assertion", "panic", "misuse", "bound"]


@dataclass
class Fn:
    name: str
    params: list[str]  # the kinds of its parameters
    task: bool = False  # submitted to a pool or loop (int parameters only)
    loop_task: bool = False  # submitted to an event loop: may suspend


@dataclass
class Scope:
    names: dict[str, str] = field(default_factory=dict)  # name -> kind


@dataclass
class Ctx:
    """Where a statement is being generated."""

    in_fn: bool = False
    in_loop: bool = False
    in_atomic: bool = False
    in_suspend: bool = False
    in_gil_block: bool = False  # lexically inside with_gil / allow_threads
    loop_task: bool = False
    fn_index: int = -1  # functions may call only later ones (no recursion)
    depth: int = 0


class Gen:
    def __init__(self, rng: random.Random, fault: bool = False) -> None:
        self.rng = rng
        self.used: set[str] = set()
        self.counter = 0
        self.globals: dict[str, str] = {}  # name -> kind
        self.arrays: dict[str, tuple[str, int]] = {}  # name -> (kind, size)
        self.consts: list[str] = []
        self.params: list[str] = []
        self.fns: list[Fn] = []
        self.scopes: list[Scope] = []
        self.budget = 0
        self.models: list[str] = []
        self.fault = fault
        self.fault_done = False
        self.queues: set[str] = set()  # global queue(N) channels: never closed

    # ------------------------------------------------------------------ helpers

    def use(self, *names: str) -> None:
        self.used.update(names)

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def local(self, name: str, kind: str) -> None:
        self.scopes[-1].names[name] = kind

    def visible(self, kinds: tuple[str, ...]) -> list[str]:
        """References to objects of these kinds: locals, globals, array elements."""
        found: list[str] = []
        for scope in self.scopes:
            found += [n for n, k in scope.names.items() if k in kinds]
        found += [n for n, k in self.globals.items() if k in kinds]
        for name, (kind, size) in self.arrays.items():
            if kind in kinds:
                found.append(f"{name}[{self.rng.randrange(size)}]")
                if self.chance(0.3):
                    self.use("self", "index")
                    found.append(f"{name}[self % {size}]")
        return found

    def pick(self, kinds: tuple[str, ...]) -> str | None:
        found = self.visible(kinds)
        return self.rng.choice(found) if found else None

    # ------------------------------------------------------------------ expressions

    def int_expr(self, depth: int = 0) -> str:
        r = self.rng.random()
        if depth > 2 or r < 0.35:
            return self.int_leaf()
        if r < 0.6:
            self.use("arith")
            op = self.rng.choice(["+", "-", "*", "/", "%"])
            right = self.int_expr(depth + 1)
            if op in "/%":
                right = str(self.rng.randint(1, 5))
            return f"{self.int_expr(depth + 1)} {op} {right}"
        if r < 0.7:
            self.use("paren")
            return f"({self.int_expr(depth + 1)})"
        if r < 0.78:
            self.use("negative")
            return f"-{self.int_leaf()}"
        if r < 0.85:
            self.use("len")
            chan = self.pick(("chan", "rx"))
            return f"len({chan})" if chan else "0"
        return self.int_leaf()

    def int_leaf(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            self.use("int")
            return str(self.rng.randint(0, 3))
        if r < 0.5 and self.consts:
            self.use("const-use")
            return self.rng.choice(self.consts)
        if r < 0.6 and self.params:
            self.use("param-use")
            return self.rng.choice(self.params)
        if r < 0.7:
            self.use("self")
            return "self"
        if r < 0.75:
            self.use("big-int", "power")
            return self.rng.choice(["2**31", "1_000_000", "2**2"])
        names = self.visible(("int",))
        vars_ = [n for n, k in self.globals.items() if k == "int"]
        arrays = [f"{n}[{self.rng.randrange(s)}]" for n, (k, s) in self.arrays.items()
                  if k == "int"]  # fmt: skip
        if arrays and self.chance(0.3):
            self.use("index")
            return self.rng.choice(arrays)
        pool = names + vars_
        if pool:
            return self.rng.choice(pool)
        self.use("int")
        return "1"

    def bool_expr(self, depth: int = 0) -> str:
        r = self.rng.random()
        if depth > 1 or r < 0.15:
            self.use("bool")
            return self.rng.choice(["true", "false"])
        if r < 0.5:
            self.use("compare")
            op = self.rng.choice(["==", "!=", "<", "<=", ">", ">="])
            return f"{self.int_expr(depth + 1)} {op} {self.int_expr(depth + 1)}"
        if r < 0.62:
            self.use("and-or")
            op = self.rng.choice(["and", "or"])
            return f"{self.bool_expr(depth + 1)} {op} {self.bool_expr(depth + 1)}"
        if r < 0.7:
            self.use("not")
            return f"not {self.bool_expr(depth + 1)}"
        if r < 0.8:
            fut = self.pick(("future",))
            if fut:
                self.use("is-done")
                return f"is_done({fut})"
        if r < 0.9:
            val = self.pick(("value",))
            if val:
                fn = self.rng.choice(["is_ok", "is_err", "is_none"])
                self.use(fn.replace("_", "-"))
                return f"{fn}({val})"
        self.use("compare")
        return f"{self.int_expr(depth + 1)} == {self.int_expr(depth + 1)}"

    def value_expr(self) -> str:
        """A message or a value: ints, strings, none, ok/err, Python values."""
        r = self.rng.random()
        if r < 0.35:
            return self.int_expr()
        if r < 0.45:
            self.use("string")
            return self.rng.choice(['"a"', '"b c"', '"q\\"x"', '"back\\\\"'])
        if r < 0.5:
            self.use("none")
            return "none"
        if r < 0.62:
            self.use("ok")
            return f"ok({self.int_expr()})"
        if r < 0.72:
            self.use("err", "string")
            return 'err("e")'
        if r < 0.82:
            self.use("pyobj")
            return 'pyobj("obj")'
        if r < 0.9:
            self.use("pyerr")
            return 'pyerr("boom")' if self.chance(0.5) else 'err(pyerr("boom"))'
        self.use("bool")
        return self.bool_expr()

    # ------------------------------------------------------------------ statements

    def block(self, ctx: Ctx, n: int | None = None) -> list[str]:
        self.scopes.append(Scope())
        out: list[str] = []
        count = n if n is not None else self.rng.randint(1, 4)
        for _ in range(count):
            if self.budget <= 0:
                break
            out += self.stmt(ctx)
        if not out:
            self.use("skip")
            out = ["skip"]
        self.scopes.pop()
        return out

    def nested(self, head: str, ctx: Ctx, tail: str = "}", n: int | None = None) -> list[str]:
        body = self.block(ctx, n)
        return [head + " {", *["    " + line for line in body], tail]

    def stmt(self, ctx: Ctx) -> list[str]:
        self.budget -= 1
        if self.fault and not self.fault_done and self.chance(0.15):
            self.fault_done = True
            return [self.faulty(ctx)]
        options = self.options(ctx)
        names, weights = zip(*options, strict=True)
        choice = self.rng.choices(names, weights)[0]
        return getattr(self, "s_" + choice)(ctx)  # type: ignore[no-any-return]

    def options(self, ctx: Ctx) -> list[tuple[str, float]]:
        deep = ctx.depth >= 3
        opts: list[tuple[str, float]] = [
            ("let", 3), ("assign", 2), ("skip", 0.5), ("progress", 0.5), ("assert", 1),
            ("make_resource", 3), ("resource_op", 8), ("channel_op", 4), ("value_op", 2),
            ("any", 1), ("print", 1),
        ]  # fmt: skip
        if ctx.in_atomic:
            return [(n, w) for n, w in opts if n in ("let", "assign", "skip", "progress",
                                                     "make_resource", "assert")] + [
                ("atomic_safe", 4)
            ]  # fmt: skip
        if not deep:
            opts += [("if", 1.5), ("while", 1), ("loop", 0.7), ("choose", 1), ("for", 0.7)]
            opts += [("atomic", 1), ("fork", 0.4)]
            if not ctx.in_suspend:
                opts += [("with_gil", 1.5), ("allow_threads", 1), ("python", 1.5)]
        opts += [("spawn", 1.5), ("call", 1.5), ("future_op", 2), ("pool_op", 2)]
        opts += [("gil_api", 0.7), ("await", 0.5), ("panic", 0.1), ("model", 1)]
        if ctx.in_fn:
            opts.append(("return", 0.5))
        if ctx.in_loop:
            opts += [("break", 0.6), ("continue", 0.3)]
        if ctx.loop_task and not ctx.in_gil_block and not ctx.in_suspend and not deep:
            opts.append(("suspend", 3))
        if ctx.in_suspend:
            opts = [(n, w) for n, w in opts if n not in ("print", "gil_api", "model")]
        return opts

    # simple ones

    def s_skip(self, ctx: Ctx) -> list[str]:
        self.use("skip")
        return ["skip"]

    def s_progress(self, ctx: Ctx) -> list[str]:
        self.use("progress")
        return ["progress"]

    def s_let(self, ctx: Ctx) -> list[str]:
        name = self.fresh("v")
        self.use("let")
        if self.chance(0.6):
            value = self.int_expr()
            self.local(name, "int")
            return [f"let {name} = {value}"]
        value = self.value_expr()
        self.local(name, "value")
        return [f"let {name} = {value}"]

    def s_assign(self, ctx: Ctx) -> list[str]:
        targets = [n for n, k in self.globals.items() if k == "int"]
        for scope in self.scopes:
            targets += [n for n, k in scope.names.items() if k == "int"]
        arrays = [(n, s) for n, (k, s) in self.arrays.items() if k == "int"]
        if arrays and self.chance(0.4):
            name, size = self.rng.choice(arrays)
            self.use("assign-index", "index")
            index = self.rng.choice([str(self.rng.randrange(size)), f"self % {size}"])
            return [f"{name}[{index}] = {self.int_expr()}"]
        if not targets:
            return self.s_let(ctx)
        self.use("assign")
        return [f"{self.rng.choice(targets)} = {self.int_expr()}"]

    def s_assert(self, ctx: Ctx) -> list[str]:
        self.use("assert", "string")
        return [f'assert {self.bool_expr()}, "why"']

    def s_panic(self, ctx: Ctx) -> list[str]:
        self.use("panic")
        return ['panic "boom"']

    def s_print(self, ctx: Ctx) -> list[str]:
        self.use("print")
        return [f"print {self.value_expr()}"]

    def s_any(self, ctx: Ctx) -> list[str]:
        name = self.fresh("a")
        self.local(name, "int")
        if self.chance(0.6):
            self.use("any-small")
            return [f"let {name} = any(0..{self.rng.randint(1, 3)})"]
        self.use("any-symbolic", "power")
        return [f"let {name} = any(0..2**31)"]

    def s_await(self, ctx: Ctx) -> list[str]:
        self.use("await")
        return [f"await {self.bool_expr()}"]

    def s_return(self, ctx: Ctx) -> list[str]:
        self.use("return")
        return [f"return {self.int_expr()}"] if self.chance(0.7) else ["return none"]

    def s_break(self, ctx: Ctx) -> list[str]:
        self.use("break")
        return ["break"]

    def s_continue(self, ctx: Ctx) -> list[str]:
        self.use("continue")
        return ["continue"]

    # control flow

    def sub(self, ctx: Ctx, **changes: object) -> Ctx:
        fields = dict(ctx.__dict__)
        fields.update(changes)
        fields["depth"] = ctx.depth + 1
        return Ctx(**fields)  # type: ignore[arg-type]

    def s_if(self, ctx: Ctx) -> list[str]:
        lines = self.nested(f"if {self.bool_expr()}", self.sub(ctx))
        if self.chance(0.5):
            self.use("if-else")
            lines[-1] = "} else {"
            lines += ["    " + line for line in self.block(self.sub(ctx))] + ["}"]
        else:
            self.use("if")
        return lines

    def s_while(self, ctx: Ctx) -> list[str]:
        self.use("while", "let", "assign", "compare")
        i = self.fresh("i")
        self.local(i, "int")
        body = self.block(self.sub(ctx, in_loop=True))
        return [f"let {i} = 0", f"while {i} < {self.rng.randint(1, 3)} {{", f"    {i} = {i} + 1",
                *["    " + line for line in body], "}"]  # fmt: skip

    def s_loop(self, ctx: Ctx) -> list[str]:
        self.use("loop", "break")
        body = self.block(self.sub(ctx, in_loop=True))
        cond = self.bool_expr()
        return ["loop {", *["    " + line for line in body], f"    if {cond} {{ break }}", "}"]

    def s_choose(self, ctx: Ctx) -> list[str]:
        self.use("choose")
        lines = self.nested("choose", self.sub(ctx))
        for _ in range(self.rng.randint(1, 2)):
            lines[-1] = "} or {"
            lines += ["    " + line for line in self.block(self.sub(ctx))] + ["}"]
        return lines

    def s_for(self, ctx: Ctx) -> list[str]:
        chan = self.pick(("rx", "chan"))
        if chan is None:
            return self.s_make_channel(ctx)
        self.use("for-in")
        var = self.fresh("m")
        self.scopes.append(Scope({var: "value"}))
        lines = self.nested(f"for {var} in {chan}", self.sub(ctx, in_loop=True))
        self.scopes.pop()
        return lines

    def s_atomic(self, ctx: Ctx) -> list[str]:
        self.use("atomic")
        head = "atomic {"
        body = self.block(self.sub(ctx, in_atomic=True, in_loop=False))
        if self.chance(0.4):
            self.use("atomic-await")
            body.insert(0, f"await {self.bool_expr()}")
        return [head, *["    " + line for line in body], "}"]

    def s_atomic_safe(self, ctx: Ctx) -> list[str]:
        """Statements that never block: allowed in atomic { }."""
        r = self.rng.random()
        if r < 0.15:
            ev = self.pick(("event",))
            if ev:
                op = self.rng.choice(["set", "clear"])
                self.use(op)
                return [f"{op} {ev}"]
        if r < 0.3:
            cv = self.pick(("condvar",))
            if cv:
                self.use("notify")
                return [f"notify {cv}"]
        if r < 0.45:
            lock = self.pick(("mutex", "rlock", "semaphore"))
            if lock:
                self.use("try-acquire")
                name = self.fresh("t")
                self.local(name, "int")
                return [f"let {name} = try_acquire {lock}"]
        if r < 0.6:
            fut = self.pick(("future",))
            if fut:
                self.use("complete")
                return [f"complete {fut}, {self.int_expr()}"]
        if r < 0.75:
            return self.s_submit(ctx)
        if r < 0.85:
            latch = self.pick(("latch",))
            if latch:
                self.use("countdown")
                return [f"countdown {latch}"]
        self.use("skip")
        return ["skip"]

    def s_fork(self, ctx: Ctx) -> list[str]:
        self.use("fork")
        return self.nested("fork", self.sub(ctx, in_loop=False))

    def s_with_gil(self, ctx: Ctx) -> list[str]:
        self.use("with-gil")
        return self.nested("with_gil", self.sub(ctx, in_gil_block=True))

    def s_allow_threads(self, ctx: Ctx) -> list[str]:
        self.use("allow-threads")
        return self.nested("allow_threads", self.sub(ctx, in_gil_block=True))

    def s_python(self, ctx: Ctx) -> list[str]:
        self.use("python")
        return self.nested("python", self.sub(ctx))

    def s_suspend(self, ctx: Ctx) -> list[str]:
        self.use("suspend")
        inner = self.sub(ctx, in_suspend=True)
        body: list[str] = []
        fut = self.pick(("future",))
        if fut and self.chance(0.6):
            name = self.fresh("r")
            self.local(name, "value")  # suspend opens no scope
            self.use("result")
            body.append(f"let {name} = result {fut}")
        else:
            body += self.stmt(inner)
        return ["suspend {", *["    " + line for line in body], "}"]

    # resources

    def s_make_resource(self, ctx: Ctx) -> list[str]:
        kind = self.rng.choice([*RESOURCE_KINDS, "future", "future", "pool", "channel"])
        if kind == "channel":
            return self.s_make_channel(ctx)
        arg = {"semaphore": "2", "barrier": "1", "latch": "1", "pool": "2"}.get(kind, "")
        if kind == "barrier" and self.chance(0.5):
            arg = "2"
        self.use(f"make-{kind}")
        slots = [(n, s) for n, (k, s) in self.arrays.items() if k == "slot"]
        if slots and self.chance(0.25) and not ctx.in_atomic:
            name, size = self.rng.choice(slots)
            self.use("make-into-array", "index")
            return [f"{name}[{self.rng.randrange(size)}] = {kind}({arg})"]
        name = self.fresh(kind[0] + "k")
        self.local(name, kind)
        return [f"let {name} = {kind}({arg})"]

    def s_make_channel(self, ctx: Ctx) -> list[str]:
        kind = self.rng.choice(CHANNEL_KINDS)
        tx, rx = self.fresh("tx"), self.fresh("rx")
        self.local(tx, "tx")
        self.local(rx, "rx")
        ctor = {
            "unbounded": "channel(unbounded)",
            "bounded": f"channel({self.rng.randint(1, 2)})",
            "rendezvous": "channel(rendezvous)",
            "oneshot": "oneshot()",
            "queue": f"queue({self.rng.randint(0, 2)})",
        }[kind]
        self.use("make-channel-" + kind if kind in ("unbounded", "bounded", "rendezvous")
                 else "make-" + kind)  # fmt: skip
        return [f"let ({tx}, {rx}) = {ctor}"]

    def timed(self, stmt: str, construct: str, bind: bool = True) -> list[str]:
        if self.chance(0.35):
            self.use(construct + "-timeout")
            if bind and self.chance(0.6):
                name = self.fresh("ok")
                self.local(name, "int")
                return [f"let {name} = {stmt} timeout"]
            return [f"{stmt} timeout"]
        self.use(construct)
        return [stmt]

    def s_resource_op(self, ctx: Ctx) -> list[str]:
        kinds = [k for k in RESOURCE_KINDS if self.visible((k,))]
        if not kinds or self.chance(0.1):
            return self.s_make_resource(ctx)
        kind = self.rng.choice(kinds)
        ref = self.pick((kind,))
        assert ref is not None
        if kind in ("mutex", "rlock", "semaphore"):
            r = self.rng.random()
            if r < 0.45:
                self.use("lock-block")
                return self.nested(f"lock {ref}", self.sub(ctx), n=self.rng.randint(0, 2))
            if r < 0.7:
                lines = self.timed(f"acquire {ref}", "acquire")
                self.use("release")
                return [*lines, f"release {ref}"]
            if r < 0.85:
                self.use("try-acquire")
                name = self.fresh("t")
                self.local(name, "int")
                return [f"let {name} = try_acquire {ref}", f"if {name} {{ release {ref} }}"]
            self.use("release")
            return [f"release {ref}"]
        if kind == "condvar":
            m = self.pick(("mutex", "rlock"))
            r = self.rng.random()
            if m and r < 0.5:
                self.use("acquire", "release")
                return ["acquire " + m, *self.timed(f"wait {ref}, {m}", "wait-cv"), "release " + m]
            op = "notify" if r < 0.8 else "notify_all"
            self.use(op.replace("_", "-"))
            return [f"{op} {ref}"]
        if kind == "once":
            self.use("call-once")
            return self.nested(f"call_once {ref}", self.sub(ctx), n=1)
        if kind == "event":
            r = self.rng.random()
            if r < 0.4:
                self.use("set")
                return [f"set {ref}"]
            if r < 0.55:
                self.use("clear")
                return [f"clear {ref}"]
            return self.timed(f"wait {ref}", "wait-event")
        if kind == "barrier":
            self.use("wait-barrier")
            return [f"wait {ref}"]
        if kind == "rwlock":
            r = self.rng.random()
            if r < 0.3:
                self.use("read-block")
                return self.nested(f"read {ref}", self.sub(ctx), n=1)
            if r < 0.5:
                self.use("write-block")
                return self.nested(f"write {ref}", self.sub(ctx), n=1)
            op = self.rng.choice(["acquire_read", "acquire_write"])
            self.use("release")
            return [*self.timed(f"{op} {ref}", op.replace("_", "-")), f"release {ref}"]
        # latch
        if self.chance(0.5):
            self.use("countdown")
            return [f"countdown {ref}"]
        return self.timed(f"wait {ref}", "wait-latch")

    def s_channel_op(self, ctx: Ctx) -> list[str]:
        r = self.rng.random()
        if r < 0.4:
            ref = self.pick(("tx", "chan"))
            if ref is None:
                return self.s_make_channel(ctx)
            if self.chance(0.3):
                name = self.fresh("sr")
                value = self.value_expr()
                self.local(name, "value")
                self.use("send-result")
                return [f"let {name} = send {ref}, {value}"]
            self.use("send")
            handle = self.pick(("tx", "rx", "mutex", "event", "future"))
            if handle and "[" not in handle and self.chance(0.25):
                self.use("send-handle")
                return [f"send {ref}, {handle}"]
            return [f"send {ref}, {self.value_expr()}"]
        if r < 0.75:
            ref = self.pick(("rx", "chan"))
            if ref is None:
                return self.s_make_channel(ctx)
            name = self.fresh("got")
            if self.chance(0.3):
                self.use("try-recv")
                self.local(name, "value")
                return [f"let {name} = try_recv {ref}"]
            lines = self.timed(f"recv {ref}", "recv", bind=False)
            earlier = self.visible(("value",))
            if earlier and self.chance(0.3):
                self.use("assign-result")
                return [f"{self.rng.choice(earlier)} = {lines[0]}"]
            self.local(name, "value")
            return [f"let {name} = {lines[0]}"]
        if r < 0.85:
            ref = self.pick(("tx",))
            if ref is None or "[" in ref:
                return self.s_make_channel(ctx)
            name = self.fresh("tc")
            self.local(name, "tx")
            self.use("clone")
            return [f"let {name} = clone {ref}"]
        if r < 0.93:
            ref = self.pick(("tx", "rx"))
            if ref is None or "[" in ref:
                return self.s_make_channel(ctx)
            self.use("drop")
            return [f"drop {ref}"]
        ref = self.pick(("chan",))
        if ref is None or ref.split("[")[0] in self.queues:
            return self.s_make_channel(ctx)
        self.use("close")
        return [f"close {ref}"]

    def s_value_op(self, ctx: Ctx) -> list[str]:
        val = self.pick(("value",))
        name = self.fresh("u")
        self.local(name, "value")
        if val is None or self.chance(0.3):
            self.use("unwrap")
            wrapped = self.rng.choice(["ok(1)", 'err(pyerr("x"))'])
            return [f"let {name} = unwrap {wrapped}"]
        if self.chance(0.5):
            self.use("unwrap")
            return [f"let {name} = unwrap {val}"]
        if self.chance(0.5):
            self.use("clone", "pyobj")
            return [f'let {name} = pyobj("o")', f"let {name}c = clone {name}"]
        del self.scopes[-1].names[name]
        self.use("drop")
        return [f"drop {val}"]

    def s_future_op(self, ctx: Ctx) -> list[str]:
        fut = self.pick(("future",))
        if fut is None:
            name = self.fresh("f")
            self.local(name, "future")
            self.use("make-future")
            return [f"let {name} = future()"]
        r = self.rng.random()
        if r < 0.4:
            self.use("complete")
            return [f"complete {fut}, {self.value_expr()}"]
        name = self.fresh("res")
        self.local(name, "value")
        if ctx.loop_task and not ctx.in_gil_block and not ctx.in_suspend and self.chance(0.5):
            self.use("suspend", "result")
            return ["suspend {", f"    let {name} = result {fut}", "}"]
        lines = self.timed(f"result {fut}", "result", bind=False)
        return [f"let {name} = {lines[0]}"]

    def s_pool_op(self, ctx: Ctx) -> list[str]:
        if self.chance(0.8):
            return self.s_submit(ctx)
        p = self.pick(("pool",))
        if p is None:
            return self.s_submit(ctx)
        self.use("shutdown")
        return [f"shutdown {p}"]

    def s_submit(self, ctx: Ctx) -> list[str]:
        to_loop = self.chance(0.4)
        target = self.pick(("loop",) if to_loop else ("pool",))
        tasks = [f for f in self.fns if f.task and f.loop_task == to_loop]
        if target is None or not tasks:
            self.use("skip")
            return ["skip"]
        fn = self.rng.choice(tasks)
        args = ", ".join(self.int_expr() for _ in fn.params)
        name = self.fresh("fut")
        self.local(name, "future")
        self.use("submit-loop" if to_loop else "submit-pool")
        return [f"let {name} = submit {target}, {fn.name}({args})"]

    def args_for(self, fn: Fn) -> str | None:
        args = []
        for kind in fn.params:
            if kind == "int":
                args.append(self.int_expr())
                continue
            ref = self.pick((kind,))
            if ref is None:
                return None
            self.use("handle-argument" if kind in ("tx", "rx") else "resource-argument")
            args.append(ref)
        return ", ".join(args)

    def callable_fns(self, ctx: Ctx) -> list[Fn]:
        return [f for i, f in enumerate(self.fns) if i > ctx.fn_index and not f.task]

    def s_spawn(self, ctx: Ctx) -> list[str]:
        fns = self.callable_fns(ctx)
        if not fns:
            return self.s_skip(ctx)
        fn = self.rng.choice(fns)
        args = self.args_for(fn)
        if args is None:
            return self.s_skip(ctx)
        r = self.rng.random()
        daemon = self.chance(0.3)
        process = r < 0.2
        word = "spawn " + ("daemon " if daemon else "") + ("process " if process else "")
        self.use(("spawn-daemon-process" if daemon else "spawn-process") if process
                 else ("spawn-daemon" if daemon else "spawn"))  # fmt: skip
        if self.chance(0.6):
            h = self.fresh("h")
            self.use("spawn-bind")
            lines = [f"let {h} = {word}{fn.name}({args})"]
            if self.chance(0.6):
                lines += self.timed(f"join {h}", "join")
            else:
                self.local(h, "handle")
            return lines
        return [f"{word}{fn.name}({args})"]

    def s_call(self, ctx: Ctx) -> list[str]:
        fns = self.callable_fns(ctx)
        if not fns:
            return self.s_skip(ctx)
        fn = self.rng.choice(fns)
        args = self.args_for(fn)
        if args is None:
            return self.s_skip(ctx)
        if self.chance(0.5):
            name = self.fresh("c")
            self.local(name, "value")
            self.use("call-bind")
            return [f"let {name} = call {fn.name}({args})"]
        self.use("call")
        return [f"call {fn.name}({args})"]

    def s_gil_api(self, ctx: Ctx) -> list[str]:
        self.use("acquire-gil", "release-gil", "with-gil")
        if ctx.in_atomic or ctx.in_suspend or self.chance(0.2):
            return ["with_gil {", "    release_gil", "    acquire_gil", "}"]
        body = ["    " + line for line in self.block(self.sub(ctx, in_gil_block=True), n=1)]
        return ["with_gil {", "    release_gil", *body, "    acquire_gil", "}"]

    def s_model(self, ctx: Ctx) -> list[str]:
        if not self.models:
            return self.s_skip(ctx)
        model = self.rng.choice(self.models)
        self.use("model-call")
        if model == "std":
            m = self.pick(("mutex",))
            if m:
                return [f"call std_mutex_lock({m})", f"call std_mutex_unlock({m})"]
            return ["skip"]
        if model == "cpython":
            m = self.pick(("mutex",))
            if m:
                return [f"call cpython_lock_acquire({m})", f"call cpython_lock_release({m})"]
            return ["skip"]
        if model == "pyo3":
            return ["call pyo3_attach()"]
        if model == "tokio":
            return ["call tokio_spawn_blocking_enter()", "call tokio_spawn_blocking_exit()"]
        # rayon
        tasks = [f for f in self.fns if f.task and not f.loop_task]
        if not tasks:
            return ["skip"]
        fn = self.rng.choice(tasks)
        args = ", ".join("1" for _ in fn.params)
        name, v = self.fresh("rf"), self.fresh("rv")
        self.local(v, "value")
        return [f"let {name} = submit rayon_global_pool, {fn.name}({args})",
                f"let {v} = call rayon_install({name})"]  # fmt: skip

    # ------------------------------------------------------------------ faults

    def faulty(self, ctx: Ctx) -> str:
        """One statement that makes the spec wrong (or a run-time misuse)."""
        undefined = self.fresh("nope")
        options = [
            "break", "continue", "return 1", f"acquire {undefined}", f"let x = {undefined} + 1",
            f"call {undefined}()", "suspend { skip }", "atomic { loop { skip } }",
            "atomic { let v = recv c0 }", "with_gil { suspend { skip } }",
            "let q = mutex() + 1", "let b = barrier(2)\nwait b timeout",
            "let rw = rwlock()\nlet t = try_acquire rw", "let e = event()\nacquire e",
            "let m = mutex()\nwait m", "let m = mutex()\nsend m, 1", "let m = mutex()\nsubmit m, f()",
            "let (a, b) = channel(unbounded)\nsend b, 1", "let (a, b) = channel(unbounded)\nrecv a",
            "let s = semaphore(-1)", "let p = pool(0)", "let b = barrier(0)",
            "let l = latch(-1)", "let dup = 1\nlet dup = 2", "x[0] = 1", "skip timeout",
            "acquire_gil\nacquire_gil", "release_gil", "python { allow_threads { python { skip } } }",
            "let f = future()\ncomplete f, 1\ncomplete f, 2", "let l = latch(0)\ncountdown l",
            'print pyerr("x")', "let v = unwrap none", "let h = spawn process nope()",
            "let v = result 1", "shutdown 3", "join 1", "let z = 1 / 0",
        ]  # fmt: skip
        if self.fns:
            fn = self.rng.choice(self.fns)
            options.append(f"call {fn.name}({', '.join(['1'] * (len(fn.params) + 1))})")
        self.use("fault")
        return self.rng.choice(options)

    # ------------------------------------------------------------------ items

    def spec(self) -> str:
        rng = self.rng
        items: list[str] = []
        if self.chance(0.7):
            self.use("scenario", "string")
            items.append('scenario "generated"')
        # globals first, so statements can use them
        if self.chance(0.5):
            self.use("const")
            items.append(f"const N{self.counter} = {rng.randint(1, 3)}")
            self.consts.append(f"N{self.counter}")
            self.counter += 1
        if self.chance(0.3):
            name = self.fresh("n")
            self.use("param")
            lo, hi = rng.choice([(1, 4), (0, 1_000_000), (-4, 2**31)])
            items.append(f"param {name}: int in {lo}..{hi}")
            self.params.append(name)
        if self.chance(0.8):
            verdict = rng.choice(VERDICTS)
            if self.params and self.chance(0.4):
                self.use("expect-when")
                items.append(f"expect {verdict} when {self.params[0]} == 2")
            else:
                self.use("expect")
                items.append(f"expect {verdict}")
        if self.chance(0.4):
            host = rng.choice(["python", "rust"])
            self.use("host-" + host)
            items.append(f"host {host}")
        if self.chance(0.3):
            gil = rng.choice(["on", "off"])
            self.use("gil-" + gil)
            items.append(f"gil {gil}")
        if self.chance(0.25):
            model = rng.choice(["pyo3", "tokio", "std", "cpython", "rayon"])
            self.models.append(model)
            self.use("use-" + model)
            items.append(f'use "{model}"')
        for _ in range(rng.randint(0, 2)):
            name = self.fresh("x")
            self.globals[name] = "int"
            self.use("var")
            items.append(f"var {name} = {rng.randint(0, 2)}")
        if self.chance(0.3):
            name = self.fresh("xa")
            size = rng.randint(1, 3)
            self.arrays[name] = ("int", size)
            self.use("var-array")
            items.append(f"var {name}[{size}] = 0")
        if self.chance(0.2):
            name = self.fresh("slot")
            size = rng.randint(1, 2)
            self.arrays[name] = ("slot", size)
            self.use("var-array", "none")
            items.append(f"var {name}[{size}] = none")
        for _ in range(rng.randint(0, 3)):
            kind = rng.choice(RESOURCE_KINDS)
            count = {"semaphore": " = 1", "barrier": " = 2", "latch": " = 1"}.get(kind, "")
            if self.chance(0.25):
                name = self.fresh(kind[:2] + "a")
                size = rng.randint(1, 3)
                self.arrays[name] = (kind, size)
                self.use(kind, "resource-array")
                items.append(f"{kind} {name}[{size}]{count}")
            else:
                name = self.fresh(kind[:2])
                self.globals[name] = kind
                self.use(kind)
                items.append(f"{kind} {name}{count}")
        for _ in range(rng.randint(0, 2)):
            kind = rng.choice(CHANNEL_KINDS)
            decl = {"unbounded": "unbounded", "bounded": f"bounded({rng.randint(1, 2)})",
                    "rendezvous": "rendezvous", "oneshot": "oneshot",
                    "queue": f"queue({rng.randint(0, 2)})"}[kind]  # fmt: skip
            self.use("channel-" + kind)
            if kind == "queue":
                self.queues.add(f"c{self.counter + 1}")
                self.queues.add(f"ca{self.counter + 1}")
            if self.chance(0.2):
                name = self.fresh("ca")
                size = rng.randint(1, 2)
                self.arrays[name] = ("chan", size)
                self.use("channel-array")
                items.append(f"channel {name}[{size}]: {decl}")
            else:
                name = self.fresh("c")
                self.globals[name] = "chan"
                items.append(f"channel {name}: {decl}")
        if self.chance(0.4):
            if self.chance(0.25):
                name = self.fresh("pa")
                self.arrays[name] = ("pool", 2)
                self.use("pool", "pool-array")
                items.append(f"pool {name}[2] = {rng.randint(1, 2)}")
            else:
                name = self.fresh("p")
                self.globals[name] = "pool"
                self.use("pool")
                items.append(f"pool {name} = {rng.randint(1, 2)}")
        if self.chance(0.35):
            r = rng.random()
            if r < 0.25:
                name = self.fresh("lpa")
                self.arrays[name] = ("loop", 2)
                self.use("eventloop", "eventloop-array")
                items.append(f"eventloop {name}[2]")
            else:
                name = self.fresh("lp")
                self.globals[name] = "loop"
                self.use("eventloop")
                if r < 0.5:
                    self.use("eventloop-any-order")
                    items.append(f"eventloop {name}: any_order")
                else:
                    items.append(f"eventloop {name}")
        if "rayon" in self.models:
            self.globals["rayon_global_pool"] = "pool"
        # functions: signatures first (calls go to later functions only)
        for _ in range(rng.randint(0, 4)):
            task = self.chance(0.4)
            if task:
                params = ["int"] * rng.randint(0, 2)
            else:
                kinds = [k for k in PARAM_KINDS if k in ("int", "tx", "rx") or self.has_global(k)]
                params = [rng.choice(kinds) for _ in range(rng.randint(0, 2))]
            self.fns.append(Fn(self.fresh("g"), params, task, task and self.chance(0.5)))
        self.budget = rng.randint(6, 30)
        bodies: list[str] = []
        for i, fn in enumerate(self.fns):
            self.use("fn")
            names = [f"{k[:1]}{j}{self.counter}" for j, k in enumerate(fn.params)]
            self.scopes = [Scope(dict(zip(names, fn.params, strict=True)))]
            ctx = Ctx(in_fn=True, loop_task=fn.loop_task, fn_index=i)
            body = self.block(ctx, rng.randint(1, 3))
            if not fn.task and self.chance(0.4):
                self.use("return")
                body.append(f"return {self.int_expr()}")
            bodies.append(self.item(f"fn {fn.name}({', '.join(names)})", body))
        self.scopes = [Scope()]
        self.use("thread-main")
        main = self.item("thread main", self.block(Ctx(), rng.randint(2, 6)))
        threads = []
        if self.chance(0.3):
            self.use("thread-array", "self")
            self.scopes = [Scope()]
            n = rng.randint(1, 3)
            threads.append(self.item(f"thread w{self.counter}[{n}]", self.block(Ctx(), 2)))
        for hook in ("atexit", "finalizer", "signal"):
            if self.chance(0.12):
                self.use(hook)
                self.scopes = [Scope()]
                threads.append(self.item(hook, self.block(Ctx(depth=1), 1)))
        parts = items + bodies + [main] + threads
        if self.fault and not self.fault_done:
            self.fault_done = True
            spot = rng.randrange(len(parts) + 1)
            parts.insert(spot, self.fault_item())
        if self.chance(0.3):
            rng.shuffle(parts)  # items in any order
        return "\n".join(parts) + "\n"

    def fault_item(self) -> str:
        self.use("fault")
        return self.rng.choice([
            "thread main { skip }", "mutex m[0]", "const K = 1 / 0", "semaphore s = -1",
            "channel c: sometimes", "expect flaky", "host java", "gil maybe",
            'use "nowhere"', "fn f(a, a) { skip }", "param p: int in 5..1",
            "eventloop e = 3", "pool p = 0", "latch l = -1", "barrier b = 0",
            "var v[2**40] = 0", "thread t[0] { skip }", "fn main() { skip }",
            "const C = x0", "expect deadlock when nope == 1", "atexit { return 1 }",
            "signal { break }", "finalizer { suspend { skip } }",
        ])  # fmt: skip

    def has_global(self, kind: str) -> bool:
        return kind in self.globals.values() or any(k == kind for k, _ in self.arrays.values())

    def item(self, head: str, body: list[str]) -> str:
        return "\n".join([head + " {", *["    " + line for line in body], "}"])


def generate(rng: random.Random, fault: bool = False) -> tuple[str, set[str]]:
    """A random spec and the constructs it uses."""
    gen = Gen(rng, fault)
    text = gen.spec()
    if rng.random() < 0.3:
        text = layout(rng, text, gen.used)
    return text, gen.used


def layout(rng: random.Random, text: str, used: set[str]) -> str:
    """The same spec written otherwise: comments, `;` between statements, a newline before
    `else` and `or`, CRLF line ends, tabs."""
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        r = rng.random()
        if r < 0.08 and line.strip():
            used.add("comment-hash")
            line += "   # a comment { with } braces"
        elif r < 0.14 and line.strip():
            used.add("comment-slashes")
            line += "  // x = 1 / 0"
        elif r < 0.2 and line.strip() in ("} else {", "} or {"):
            used.add("newline-before-else-or")
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "}")
            line = indent + line.strip()[2:]
        elif (
            r < 0.35
            and out
            and line.strip()
            and not line.rstrip().endswith("{")
            and not line.strip().startswith(("}", "else", "or"))
            and not out[-1].rstrip().endswith(("{", "}"))
            and "#" not in out[-1]
            and "//" not in out[-1]
            and out[-1].startswith(" ")
        ):
            used.add("semicolons")
            out[-1] += "; " + line.strip()
            continue
        out.append(line)
    text = "\n".join(out)
    if rng.random() < 0.2:
        used.add("tabs")
        text = text.replace("    ", "\t")
    if rng.random() < 0.2:
        used.add("crlf")
        text = text.replace("\n", "\r\n")
    return text


# ---------------------------------------------------------------------- mutations


def blocks_of(lines: list[str]) -> list[tuple[int, int]]:
    """(first, last) line of every block the generator wrote: a line ending in `{` up to
    the `}` line at its indentation."""
    found = []
    for i, line in enumerate(lines):
        if not line.endswith("{"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        for j in range(i + 1, len(lines)):
            other = lines[j]
            depth = len(other) - len(other.lstrip(" "))
            if depth <= indent:
                if other.strip().startswith("}"):
                    found.append((i, j))
                break
    return found


def structural_mutation(rng: random.Random, text: str) -> str:
    """Move, drop, duplicate or wrap a whole block or item, or move a statement line."""
    lines = text.split("\n")
    blocks = blocks_of(lines)
    r = rng.random()
    if blocks and r < 0.5:
        a, b = rng.choice(blocks)
        chunk = lines[a : b + 1]
        rest = lines[:a] + lines[b + 1 :]
        op = rng.randrange(4)
        if op == 0:  # drop it
            return "\n".join(rest)
        if op == 1:  # duplicate it in place
            return "\n".join(lines[: b + 1] + chunk + lines[b + 1 :])
        if op == 2:  # move it elsewhere
            spot = rng.randrange(len(rest) + 1)
            return "\n".join(rest[:spot] + chunk + rest[spot:])
        # wrap it in another block
        opener = rng.choice(["atomic", "with_gil", "allow_threads", "python", "loop",
                             "suspend", "fork", "if true", "while false"])  # fmt: skip
        return "\n".join(lines[:a] + [opener + " {", *chunk, "}"] + lines[b + 1 :])
    if len(lines) > 2:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        if r < 0.7:
            lines[i], lines[j] = lines[j], lines[i]
        elif r < 0.85:
            lines.insert(j, lines[i])
        else:
            del lines[i]
    return "\n".join(lines)
