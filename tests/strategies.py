"""Hypothesis strategies: random well-formed ASTs (for the parser) and random scenario specs
(for the explorer). Reusable by any test."""

from __future__ import annotations

from hypothesis import strategies as st

from gilcheck.syntax import ast
from gilcheck.syntax.keywords import KEYWORDS

_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: n not in KEYWORDS and n not in ("true", "false", "none", "self", "or", "and", "not")
)


def idents() -> st.SearchStrategy[ast.Ident]:
    return _NAMES.map(lambda n: ast.Ident(name=n))


def _leaf() -> st.SearchStrategy[ast.Expr]:
    return st.one_of(
        st.integers(min_value=0, max_value=10**12).map(lambda v: ast.IntLit(value=v)),
        st.booleans().map(lambda v: ast.BoolLit(value=v)),
        st.just(ast.NoneLit()),
        st.just(ast.SelfExpr()),
        st.text(alphabet='ab "\\x', max_size=6).map(lambda v: ast.StrLit(value=v)),
        idents().map(lambda i: ast.Name(ident=i)),
    )


BIN_OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "**"]


def exprs() -> st.SearchStrategy[ast.Expr]:
    return st.recursive(
        _leaf(),
        lambda inner: st.one_of(
            st.builds(
                lambda op, a, b: ast.Binary(op=op, left=a, right=b),
                st.sampled_from(BIN_OPS),
                inner,
                inner,
            ),
            st.builds(
                lambda op, a: ast.Unary(op=op, operand=a), st.sampled_from(["-", "not"]), inner
            ),
            st.builds(
                lambda f, args: ast.BuiltinCall(func=ast.Ident(name=f), args=tuple(args)),
                st.sampled_from(["ok", "err", "pyobj", "is_none", "is_done"]),
                st.lists(inner, min_size=1, max_size=1),
            ),
            st.builds(lambda b, i: ast.Index(base=b, index=i), idents(), inner),
        ),
        max_leaves=8,
    )


def refs() -> st.SearchStrategy[ast.Ref]:
    return st.builds(lambda n, i: ast.Ref(name=n, index=i), idents(), st.none() | exprs())


def blocks(stmts: st.SearchStrategy[ast.Stmt]) -> st.SearchStrategy[ast.Block]:
    return st.lists(stmts, max_size=3).map(lambda b: ast.Block(body=tuple(b)))


def _simple_stmts() -> st.SearchStrategy[ast.Stmt]:
    operations = st.one_of(
        st.builds(lambda r: ast.Recv(channel=r), refs()),
        st.builds(lambda r: ast.TryRecv(channel=r), refs()),
        st.builds(lambda r, e: ast.Send(channel=r, value=e), refs(), exprs()),
        st.builds(lambda r: ast.Clone(source=r), refs()),
        st.builds(lambda e: ast.Unwrap(value=e), exprs()),
        st.builds(
            lambda f, a: ast.Call(func=f, args=tuple(a)), idents(), st.lists(exprs(), max_size=2)
        ),
        st.builds(
            lambda f, a, d: ast.Spawn(func=f, args=tuple(a), daemon=d),
            idents(),
            st.lists(exprs(), max_size=2),
            st.booleans(),
        ),
        st.builds(lambda a, b: ast.AnyValue(low=a, high=b), exprs(), exprs()),
        # statements of an object's primitive (language v1.2), contextual words
        st.builds(
            lambda v, r, e: ast.SyncOp(verb=v, target=r, operand=e),
            st.sampled_from(["countdown", "complete", "result"]),
            refs(),
            st.none() | exprs(),
        ),
    )
    return st.one_of(
        st.builds(lambda n, v: ast.Let(names=(n,), value=v), idents(), exprs() | operations),
        st.builds(  # a constructor (language v1.2)
            lambda n, k, a: ast.Let(
                names=(n,), value=ast.BuiltinCall(func=ast.Ident(name=k), args=tuple(a))
            ),
            idents(),
            st.sampled_from(["mutex", "latch", "future", "semaphore"]),
            st.lists(exprs(), max_size=1),
        ),
        st.builds(
            lambda a, b: ast.Let(
                names=(a, b),
                value=ast.MakeChannel(
                    maker="channel", arg=ast.Name(ident=ast.Ident(name="unbounded"))
                ),
            ),
            idents(),
            idents(),
        ),
        st.builds(lambda r, v: ast.Assign(target=r, value=v), refs(), exprs() | operations),
        operations.map(lambda op: ast.OpStmt(op=op)),
        st.builds(lambda r: ast.Drop(target=r), refs()),
        st.builds(lambda r: ast.Close(channel=r), refs()),
        st.builds(
            lambda r, m: ast.Acquire(target=r, mode=m),
            refs(),
            st.sampled_from(["", "read", "write"]),
        ),
        st.builds(lambda r: ast.Release(target=r), refs()),
        st.builds(lambda r, m: ast.Wait(target=r, mutex=m), refs(), st.none() | refs()),
        st.builds(lambda r, a: ast.Notify(target=r, all=a), refs(), st.booleans()),
        st.builds(lambda r: ast.SetEvent(target=r), refs()),
        st.builds(lambda r: ast.ClearEvent(target=r), refs()),
        st.builds(lambda r: ast.Join(handle=r), refs()),
        st.builds(lambda e: ast.Return(value=e), st.none() | exprs()),
        st.just(ast.Break()),
        st.just(ast.Continue()),
        st.builds(lambda e: ast.Await(cond=e), exprs()),
        st.builds(lambda e, m: ast.Assert(cond=e, message=m), exprs(), st.none() | exprs()),
        st.builds(lambda m: ast.Panic(message=m), st.none() | exprs()),
        st.builds(lambda e: ast.Print(value=e), exprs()),
        st.just(ast.Progress()),
        st.just(ast.Skip()),
    )


def stmts() -> st.SearchStrategy[ast.Stmt]:
    return st.recursive(
        _simple_stmts(),
        lambda inner: st.one_of(
            blocks(inner).map(lambda b: ast.WithGil(body=b)),
            blocks(inner).map(lambda b: ast.AllowThreads(body=b)),
            blocks(inner).map(lambda b: ast.Python(body=b)),
            blocks(inner).map(lambda b: ast.Loop(body=b)),
            blocks(inner).map(lambda b: ast.Atomic(body=b)),
            blocks(inner).map(lambda b: ast.Fork(body=b)),
            st.builds(
                lambda r, b, m: ast.Lock(target=r, body=b, mode=m),
                refs(),
                blocks(inner),
                st.sampled_from(["", "read", "write"]),
            ),
            st.builds(lambda r, b: ast.CallOnce(target=r, body=b), refs(), blocks(inner)),
            st.builds(
                lambda c, t, e: ast.If(cond=c, then=t, orelse=e),
                exprs(),
                blocks(inner),
                st.none() | blocks(inner),
            ),
            st.builds(lambda c, b: ast.While(cond=c, body=b), exprs(), blocks(inner)),
            st.builds(
                lambda v, r, b: ast.For(var=v, channel=r, body=b), idents(), refs(), blocks(inner)
            ),
            st.lists(blocks(inner), min_size=2, max_size=3).map(
                lambda bs: ast.Choose(branches=tuple(bs))
            ),
        ),
        max_leaves=6,
    )


def items() -> st.SearchStrategy[ast.Item]:
    return st.one_of(
        st.text(alphabet="abc d", max_size=8).map(lambda t: ast.Scenario(title=t)),
        st.builds(
            lambda v, w: ast.Expect(verdict=ast.Ident(name=v), when=w),
            st.sampled_from(["ok", "deadlock", "bound"]),
            st.none() | exprs(),
        ),
        st.builds(
            lambda k, v: ast.Setting(key=k, value=ast.Ident(name=v)),
            st.sampled_from(["host", "gil"]),
            st.sampled_from(["rust", "python", "on"]),
        ),
        st.builds(lambda n, v: ast.ConstDecl(name=n, value=v), idents(), exprs()),
        st.builds(
            lambda n, lo, hi: ast.ParamDecl(name=n, type=ast.Ident(name="int"), low=lo, high=hi),
            idents(),
            exprs(),
            exprs(),
        ),
        st.builds(
            lambda n, s, v: ast.VarDecl(name=n, size=s, init=v),
            idents(),
            st.none() | exprs(),
            exprs(),
        ),
        st.builds(
            lambda k, n, s: ast.ResourceDecl(kind=k, name=n, size=s),
            st.sampled_from(["mutex", "rlock", "condvar", "once", "event", "rwlock"]),
            idents(),
            st.none() | exprs(),
        ),
        st.builds(
            lambda n, s, c: ast.ResourceDecl(kind="semaphore", name=n, size=s, count=c),
            idents(),
            st.none() | exprs(),
            exprs(),
        ),
        st.builds(
            lambda n, k, a: ast.ChannelDecl(
                name=n, size=None, kind=ast.ChannelKind(name=ast.Ident(name=k), arg=a)
            ),
            idents(),
            st.sampled_from(["unbounded", "bounded"]),
            st.none() | exprs(),
        ),
        st.builds(
            lambda n, s, b: ast.ThreadDecl(name=n, size=s, body=b),
            idents(),
            st.none() | exprs(),
            blocks(stmts()),
        ),
        st.builds(
            lambda n, ps, b: ast.FnDecl(name=n, params=tuple(ps), body=b),
            idents(),
            st.lists(idents(), max_size=3),
            blocks(stmts()),
        ),
        st.builds(
            lambda k, b: ast.HookDecl(kind=k, body=b),
            st.sampled_from(["atexit", "finalizer", "signal"]),
            blocks(stmts()),
        ),
    )


def modules() -> st.SearchStrategy[ast.Module]:
    # Built at the first draw: building it takes about a second, which every test worker
    # would otherwise pay when it imports a test module that uses it.
    return st.deferred(
        lambda: st.lists(items(), max_size=5).map(
            lambda its: ast.Module(path="gen.gil", items=tuple(its))
        )
    )


# ------------------------------------------------------------------ scenario specs


@st.composite
def scenario_specs(
    draw: st.DrawFn, *, locks: bool = True, gil: bool = True, channels: bool = True
) -> str:
    """A small runnable spec: 2-3 threads over shared vars, and optionally locks, the GIL and
    a bounded global channel. Values stay in 0..2, so the state space is finite."""
    names = ["main", "t1", "t2"][: draw(st.integers(min_value=2, max_value=3))]
    fresh = iter(range(10_000))

    def stmt(depth: int) -> str:
        options = ["assign", "racy", "skip", "choose", "if", "print"]
        if locks:
            options.append("lock")
        if gil:
            options += ["with_gil", "allow"]
        if channels:
            options += ["send", "recv"]
        kind = draw(st.sampled_from(options if depth < 2 else options[:3]))
        k = draw(st.integers(min_value=0, max_value=2))
        var = draw(st.sampled_from(["x", "y"]))
        if kind == "assign":
            return f"{var} = ({var} + {k}) % 3"
        if kind == "racy":
            n = next(fresh)
            return f"let t{n} = {var}\n{var} = (t{n} + 1) % 3"
        if kind == "skip":
            return "skip"
        if kind == "print":
            return f"print {var}"
        if kind == "send":
            return f"send c, {k}"
        if kind == "recv":
            return f"let v{next(fresh)} = recv c"
        body = "\n".join(stmt(depth + 1) for _ in range(draw(st.integers(1, 2))))
        if kind == "choose":
            other = stmt(depth + 1)
            return f"choose {{\n{body}\n}} or {{\n{other}\n}}"
        if kind == "if":
            return f"if {var} == {k} {{\n{body}\n}}"
        if kind == "lock":
            return f"lock m{k % 2} {{\n{body}\n}}"
        if kind == "with_gil":
            return f"with_gil {{\n{body}\n}}"
        return f"with_gil {{\nallow_threads {{\n{body}\n}}\n}}"

    header = ["var x = 0", "var y = 0"]
    if locks:
        header += ["mutex m0", "mutex m1"]
    if channels:
        header.append("channel c: bounded(1)")
    threads = []
    for name in names:
        body = "\n".join(stmt(0) for _ in range(draw(st.integers(1, 3))))
        threads.append(f"thread {name} {{\n{body}\n}}")
    return "\n".join(header + threads) + "\n"


# ------------------------------------------------------------------ differential specs


class SpecGenerator:
    """Random specs over the subset `gilcheck export --format promela` translates: 2-4
    threads, mutexes, an rlock, a semaphore, an event, a condvar, a once, a barrier, GIL
    and python blocks, global channels of every kind, spawn/join, choose, await and
    assertions. Values stay in 0..2
    and no loop runs, so every state space is small and finite; each channel gets at most
    four sends, so an unbounded channel never reaches the exploration bound.

    With `arrays`, the specs also declare arrays of two (shared vars, mutexes, rlocks,
    semaphores, events, condvars, onces, barriers and a global channel of one kind, `ca`)
    and index them with values computed at run time (`x % 2`, `a[y % 2] % 2`, `x`, which
    is out of range when it is 2, ...), also behind `and`; `t1` becomes a thread array of
    two using `self`. Without it, a seed gives the spec it always gave.

    `pick(options)` and `number(lo, hi)` make every random decision, so the same generator
    serves hypothesis (`differential_specs`) and a seeded `random.Random` (`random_spec`).
    """

    INDICES = ("x % 2", "y % 2", "(x + 1) % 2", "a[y % 2] % 2", "1", "x")

    KINDS = (
        "unbounded",
        "bounded(1)",
        "bounded(2)",
        "rendezvous",
        "oneshot",
        "queue(1)",
        "queue(0)",
    )

    def __init__(  # type: ignore[no-untyped-def]
        self,
        pick,
        number,
        *,
        v11: bool = False,
        arrays: bool = False,
        spawns: bool = False,
        gil_api: bool = False,
        calls: bool = False,
        values: bool = False,
        handles: bool = False,
        atexit: bool = False,
        timed: bool = False,
        locks: bool = False,
        pools: bool = False,
        loops: bool = False,
        gil_off: bool = False,
        objects: bool = False,
        processes: bool = False,
        local_steps: bool = False,
    ) -> None:
        self.pick = pick
        self.number = number
        self.arrays = arrays
        # An rwlock `l` (read and write blocks, timed acquires), a latch `done` (countdown,
        # wait, timed wait) and `try_acquire`.
        self.locks = locks
        # A pool `p` of one or two workers running `task1(v)` and `task2()` (random bodies,
        # a value returned); statements submit them (results kept, waited for, timed,
        # `is_done`), store a future in the shared `fs` for another thread, make a
        # `future()` completed by a spawned thread, and `shutdown p`.
        self.pools = pools
        # An event loop `lp` (in ready order or `any_order`) running `coro1(v)` and
        # `coro2()`: random bodies with `suspend` blocks (an await that may block, or
        # `suspend { skip }`), also inside `python { }`; threads submit them and wait.
        self.loops = loops
        self.submitting = pools or loops  # whether a statement generated now may submit
        # Half of the specs free-threaded (`gil off`): GIL blocks attach and detach, and
        # stop-the-world pauses start in Python code.
        self.gil_off = gil_off
        self.free = False  # this spec is `gil off`
        self.submitting = pools  # whether a statement generated now may submit
        # Resources as values (v1.2): main makes two locks in `objs[2]` (mutex, rlock or
        # semaphore), an event in `ob` and a latch in `dl`, the other threads wait until
        # it has; statements lock them through the var and through locals copied out of it,
        # make locks of their own, make a new event, pass locks (made or declared) to
        # `objuser(q)`, spawned and called, compare them, and rarely take the event as a
        # lock (a misuse).
        self.objects = objects
        self.objecting = objects  # whether a statement generated now may call objuser
        # `spawn process` (v1.2): main starts a child process (sometimes a daemon) running
        # `child(lk, ev, q)` with a mutex, an event and a channel passed (shared), whose
        # random statements also use the globals (the child's own copies); main may join it.
        self.processes = processes
        # Statements over a thread's own locals, in native and Python code: `let`, local
        # assignments, branches over locals and a short loop counting a local (a run of them
        # in Python code is merged while the thread holds the GIL).
        self.locals = local_steps
        # Timed waits: `acquire m timeout` (mutex, rlock, semaphore; released when got),
        # `wait e timeout`, `recv c timeout`.
        self.timed = timed
        # One or two `atexit` blocks (run on main after it ends; host python: after the
        # exit join, as Python code).
        self.atexit = atexit
        # Channels made at run time: handles passed to spawned functions, sent over a
        # global channel (a reply sender, as in the seed), cloned, dropped, received from
        # with `recv`, `for` and `try_recv`, sends whose result is kept, `close`, `len`.
        self.handles = handles
        # Python values and results: messages `ok(..)`, `err(..)`, `pyerr(..)`, `pyobj(..)`
        # and strings, received values printed (a Python value needs the GIL), unwrapped
        # (none and err panic) and tested with `is_ok`/`is_err`; `pyobj(..)` made without
        # the GIL (the statement takes it).
        self.values = values
        # Functions `f1(p)`, `f2()`, `f3()` with `call`/`return` (f1 calls f2; f2 may return
        # early from inside a lock, GIL or python block), called from the threads in every
        # context (native, with the GIL, in Python code) and spawned.
        self.calls = calls
        self.calling = calls  # whether a statement generated now may call f1 or f2
        # `release_gil`/`acquire_gil` (v1.2) around blocks and as a bare pair.
        self.gil_api = gil_api
        # Several spawned threads (of one or two functions, some in a loop), whose handles
        # are kept, joined, compared or sent on `hc` to be joined by another thread.
        self.spawns = spawns
        # The v1.1 additions too (rwlock, fork, atexit, finalizer, signal): not exportable
        # to Promela, so only for gilcheck's own agreement tests.
        self.v11 = v11
        self.forks = 0
        self.fresh = 0
        self.sends = {"c": 0, "d": 0, "ca": 0}
        self.kinds: dict[str, str] = {}

    def spec(self) -> str:
        host = self.pick(["rust", "python"])
        kinds = self.kinds = {"c": self.pick(self.KINDS), "d": self.pick(self.KINDS)}
        header = [
            f"host {host}",
            "var x = 0",
            "var y = 0",
            "mutex m0",
            "mutex m1",
            "rlock r",
            f"semaphore s = {self.number(1, 2)}",
            "event e",
            "condvar cv",
            "once o",
            f"barrier b = {self.number(2, 3)}",
            f"channel c: {kinds['c']}",
            f"channel d: {kinds['d']}",
        ]
        self.free = self.gil_off and self.number(0, 1) == 1
        if self.free:
            header.insert(0, "gil off")
        if self.locks:
            header += ["rwlock l", f"latch done = {self.number(1, 3)}"]
        if self.pools:
            header += [f"pool p = {self.number(1, 2)}", "var fs = none"]
        if self.loops:
            header.append(self.pick(["eventloop lp", "eventloop lp: any_order"]))
        if self.objects:
            header += ["var objs[2] = none", "var ob = none", "var dl = none"]
        if self.arrays:
            kinds["ca"] = self.pick(self.KINDS)
            header += [
                "var a[2] = 0",
                "var got[2] = 0",
                "mutex ma[2]",
                "rlock ra[2]",
                f"semaphore sa[2] = {self.number(1, 2)}",
                "event ea[2]",
                "condvar cva[2]",
                "once oa[2]",
                f"barrier ba[2] = {self.number(2, 3)}",
                f"channel ca[2]: {kinds['ca']}",
            ]
        threads = ["main"] + [f"t{i}" for i in range(1, self.number(1, 2) + 1)]
        if self.spawns:
            return self._spawning(header, threads)
        if self.handles:
            return self._handling(header)
        helper = self.number(0, 1) == 1
        bodies = []
        for name in threads:
            lines = [self.stmt(0, python=False) for _ in range(self.number(1, 3))]
            if name == "main" and helper:
                joins = self.number(0, 1) == 1
                lines.insert(0, "let h = spawn helper()" if joins else "spawn helper()")
                if joins:
                    lines.append("join h")
            if self.objects:
                lines = self._made_first(name) + lines
            declared = f"{name}[2]" if self.arrays and name == "t1" else name
            bodies.append(f"thread {declared} {{\n" + "\n".join(lines) + "\n}")
        if helper:
            lines = [self.stmt(0, python=False) for _ in range(self.number(1, 2))]
            bodies.append("fn helper() {\n" + "\n".join(lines) + "\n}")
        if self.calls:
            bodies += self._functions()
        if self.pools:
            bodies += self._tasks()
        if self.loops:
            bodies += self._coros()
        if self.objects:
            self.objecting = False
            body = self.stmt(1, python=False)
            self.objecting = True
            bodies.append(f"fn objuser(q) {{\nlock q {{\n{body}\n}}\n}}")
        if self.processes:
            bodies = self._with_child(bodies)
        if self.atexit:
            for _ in range(self.number(1, 2)):
                lines = [self.stmt(1, python=False) for _ in range(self.number(1, 2))]
                bodies.append("atexit {\n" + "\n".join(lines) + "\n}")
        if self.v11 and not self.locks:  # (with `locks`, `l` is declared above)
            header.append("rwlock l")
            for hook in ("atexit", "finalizer", "signal"):
                if self.number(0, 2) == 0:
                    body = self.stmt(1, python=hook != "atexit")
                    bodies.append(f"{hook} {{\n{body}\n}}")
        return "\n".join(header + bodies) + "\n"

    MADE = ("channel(unbounded)", "channel(1)", "channel(2)", "oneshot()", "queue(1)")

    def _with_child(self, bodies: list[str]) -> list[str]:
        """`main` (the first body) starts `child` as a process, passing a lock, an event and
        a channel; the child's statements use them and its own copies of the globals."""
        daemon = "daemon " if self.number(0, 3) == 0 else ""
        lock, chan = self.pick(["m0", "m1"]), self.pick(["c", "d"])
        main = bodies[0].split("\n")
        main.insert(1, f"let ph = spawn {daemon}process child({lock}, e, {chan})")
        if not daemon and self.number(0, 2) > 0:
            main.insert(len(main) - 1, self.pick(["join ph", "let jd = join ph timeout"]))
        lines: list[str] = []
        for _ in range(self.number(1, 3)):
            kind = self.pick(["lock", "set", "wait", "send", "recv", "own", "own"])
            if kind == "lock":
                lines.append(f"lock lk {{\n{self.stmt(1, python=False)}\n}}")
            elif kind == "set":
                lines.append("set ev")
            elif kind == "wait":
                self.fresh += 1
                lines.append(self.pick(["wait ev", f"let w{self.fresh} = wait ev timeout"]))
            elif kind == "send":
                lines.append(f"send q, {self.number(0, 2)}")
            elif kind == "recv":
                self.fresh += 1
                got = f"let r{self.fresh} = recv q"
                lines.append(self.pick([got, f"{got} timeout"]))
            else:
                lines.append(self.stmt(1, python=False))
        child = "fn child(lk, ev, q) {\n" + "\n".join(lines) + "\n}"
        return ["\n".join(main), *bodies[1:], child]

    def _handling(self, header: list[str]) -> str:
        """`main` makes a channel and hands an end to a spawned function; `client` asks
        `server` over the global `req` with a reply sender of its own (see `handles`)."""
        header = [*header, "channel req: unbounded"]
        made = self.pick(self.MADE)
        oneshot, queue = made == "oneshot()", made.startswith("queue")
        fill = lambda: self.stmt(1, python=False)  # noqa: E731
        main = [f"let (tx, rx) = {made}"]
        if not oneshot and self.number(0, 1):
            main.append("let t2 = clone tx")
            main.append(self.pick(["drop t2", "spawn producer(t2)", "send t2, 2"]))
        which = self.pick(["producer", "consumer"])
        if which == "producer":
            main.append("spawn producer(tx)")
            main.append(fill())
            main.append(
                self.pick(
                    [
                        "let hv1 = recv rx",
                        "for hv1 in rx {\n" + fill() + "\n}",
                        "let hv1 = try_recv rx",
                        f"await len(rx) > {self.number(0, 1)}",
                    ]
                )
            )
        else:
            main.append("spawn consumer(rx)")
            main.append(fill())
            main.append("let res = send tx, 1\nif is_err(res) {\n" + fill() + "\n}")
            if not oneshot:
                main.append(self.pick(["drop tx", "send tx, 0", "skip"]))
        if not queue and self.number(0, 2) == 0:
            main.append(self.pick(["close rx", "skip"]) if which == "producer" else "skip")
        producer = [fill(), "let res = send outbox, 1"]
        if not oneshot:
            producer.append(self.pick(["send outbox, 0", "drop outbox", "skip"]))
        producer.append(self.pick(["if is_err(res) {\n" + fill() + "\n}", "skip"]))
        consumer = [
            self.pick(["for hv in inbox {\n" + fill() + "\n}", "let hv = recv inbox", fill()])
        ]
        reply = self.pick(["oneshot()", "channel(1)"])
        client = [
            f"let (ra, rb) = {reply}",
            "send req, ra",
            fill(),
            self.pick(["let got = recv rb", "let got = try_recv rb", "drop rb"]),
        ]
        server = [
            self.pick(
                [
                    "for sv in req {\n" + fill() + "\nsend sv, 1\n}",
                    "let sv = recv req\n" + fill() + "\nlet sent = send sv, 1",
                ]
            )
        ]
        bodies = [
            "thread main {\n" + "\n".join(main) + "\n}",
            "thread client {\n" + "\n".join(client) + "\n}",
            "thread server {\n" + "\n".join(server) + "\n}",
            "fn producer(outbox) {\n" + "\n".join(producer) + "\n}",
            "fn consumer(inbox) {\n" + "\n".join(consumer) + "\n}",
        ]
        if self.calls:
            bodies += self._functions()
        return "\n".join(header + bodies) + "\n"

    def _spawning(self, header: list[str], threads: list[str]) -> str:
        """The spec's threads, `main` spawning two or three helpers (see `spawns`)."""
        header = [*header, "channel hc: unbounded"]
        functions = ["helper"] if self.number(0, 1) == 0 else ["helper", "other"]
        main: list[str] = []
        kept: list[str] = []
        for i in range(self.number(2, 3)):
            fn = self.pick(functions)
            how = self.pick(["keep", "drop", "loop"] if i == 0 else ["keep", "drop"])
            if how == "loop":
                main += [
                    f"let i{i} = 0",
                    f"while i{i} < 2 {{",
                    f"spawn {fn}()",
                    f"i{i} = i{i} + 1",
                    "}",
                ]
            elif how == "keep":
                main.append(f"let h{i} = spawn {fn}()")
                kept.append(f"h{i}")
            else:
                main.append(f"spawn {fn}()")
        main += [self.stmt(0, python=False) for _ in range(self.number(1, 2))]
        joiner: list[str] = []
        if len(kept) >= 2 and self.number(0, 2) == 0:
            main.append(f"if {kept[0]} == {kept[1]} {{\nassert false\n}}")
        if kept and len(threads) > 1 and self.number(0, 1) == 0:
            sent = kept.pop()
            main.append(f"send hc, {sent}")
            joiner = ["let got = recv hc", "join got"]
        for name in self.pick([kept, list(reversed(kept))]):
            main.append(f"join {name}")
        bodies = []
        for name in threads:
            lines = (
                main
                if name == "main"
                else [self.stmt(0, python=False) for _ in range(self.number(1, 2))]
            )
            if name == threads[-1] and name != "main":
                lines = [*lines, *joiner]
            bodies.append(f"thread {name} {{\n" + "\n".join(lines) + "\n}")
        for fn in functions:
            lines = [self.stmt(0, python=False) for _ in range(self.number(1, 2))]
            bodies.append(f"fn {fn}() {{\n" + "\n".join(lines) + "\n}")
        return "\n".join(header + bodies) + "\n"

    def _functions(self) -> list[str]:
        """`f1(p)`, `f2()` and `f3()` (`calls`): f1 calls f2 and returns a value; f2 returns
        early from inside a block when `x` has a value; f3 falls off its end (none)."""
        self.calling = False
        f1 = [self.stmt(0, python=False) for _ in range(self.number(1, 2))]
        f1.insert(self.number(0, len(f1)), "let q = call f2()")
        f1.append(self.pick(["return (p + q) % 3", "return p"]))
        early = f"if x == {self.number(0, 2)} {{\nreturn 1\n}}"
        block = self.pick(["", "lock m1", "with_gil", "python", "lock r"])
        if block:
            early = f"{block} {{\n{self.stmt(1, python=block == 'python')}\n{early}\n}}"
        f2 = [self.stmt(0, python=False) for _ in range(self.number(0, 1))]
        f2 += [early, "return 0"]
        f3 = [self.stmt(1, python=False) for _ in range(self.number(1, 2))]
        self.calling = True
        return [
            "fn f1(p) {\n" + "\n".join(f1) + "\n}",
            "fn f2() {\n" + "\n".join(f2) + "\n}",
            "fn f3() {\n" + "\n".join(f3) + "\n}",  # falls off its end: none
        ]

    def _tasks(self) -> list[str]:
        """`task1(v)` and `task2()` (`pools`): random bodies that submit nothing, each
        returning a value; `completer(f)` completes a future it is given."""
        self.submitting = False
        task1 = [self.stmt(1, python=False) for _ in range(self.number(1, 2))]
        task2 = [self.stmt(1, python=False) for _ in range(self.number(0, 2))]
        self.submitting = True
        return [
            "fn task1(v) {\n" + "\n".join(task1) + "\nreturn v + 1\n}",
            "fn task2() {\n" + "\n".join([*task2, self.pick(["return 7", "skip"])]) + "\n}",
            "fn completer(f) {\n" + self.stmt(1, python=False) + "\ncomplete f, 3\n}",
        ]

    def _coros(self) -> list[str]:
        """`coro1(v)` and `coro2()` (`loops`): random bodies with `suspend` blocks."""
        self.submitting = False
        bodies = []
        for _ in range(2):
            lines = [self.stmt(1, python=False) for _ in range(self.number(0, 2))]
            for _ in range(self.number(1, 2)):
                lines.insert(self.number(0, len(lines)), self._suspend())
            bodies.append(lines)
        self.submitting = True
        return [
            "fn coro1(v) {\n" + "\n".join(bodies[0]) + "\nreturn v + 1\n}",
            "fn coro2() {\n" + "\n".join(bodies[1]) + "\n}",
        ]

    def _suspend(self) -> str:
        """An await: a block that may have to wait (no statement in it needs the GIL)."""
        self.fresh += 1
        n = self.fresh
        var = self.pick(["x", "y"])
        k = self.number(0, 2)
        inner = self.pick(
            [
                "skip",
                "wait e",
                "set e",
                f"let s{n} = recv {self.pick(['c', 'd'])} timeout",
                f"lock m0 {{\n{var} = ({var} + 1) % 3\n}}",
                f"await {var} != {k}",
                f"let g{n} = wait e timeout",
            ]
        )
        block = f"suspend {{\n{inner}\n}}"
        return self.pick([block, block, f"python {{\n{block}\n}}"])

    def _loop_stmt(self) -> str:
        """A statement of the `loops` option: submit a coroutine, wait for it or not."""
        self.fresh += 1
        n = self.fresh
        k = self.number(0, 2)
        return self.pick(
            [
                f"let f{n} = submit lp, coro1({k})\nlet r{n} = result f{n}\n"
                f'assert r{n} == {k + 1}, "coro1 gave its value"',
                f"let f{n} = submit lp, coro2()",
                f"let f{n} = submit lp, coro2()\nlet r{n} = result f{n} timeout",
            ]
        )

    def _made_first(self, name: str) -> list[str]:
        """main makes the objects the others use; they wait until it has (`objects`)."""
        if name != "main":
            return ["await dl != none"]
        second = self.pick(["mutex()", "rlock()", f"semaphore({self.number(1, 2)})"])
        return [
            "objs[0] = mutex()",
            f"objs[1] = {second}",
            "ob = event()",
            f"dl = latch({self.number(1, 3)})",
        ]

    def _object_stmt(self, depth: int, *, python: bool) -> str:
        """A statement of the `objects` option."""
        self.fresh += 1
        n = self.fresh
        k = self.number(0, 1)
        inner = lambda: self.stmt(depth + 1, python=python)  # noqa: E731
        choices = [
            f"acquire objs[{k}]\nrelease objs[{k}]",
            f"let q{n} = objs[{k}]\nacquire q{n}\nrelease q{n}",
            "set ob",
            "wait ob",
            f"let w{n} = wait ob timeout",
            "clear ob",
            "ob = event()",
            self.pick(["countdown dl", "wait dl"]),
            f"if objs[0] == objs[{k}] {{\n{self.pick(['x = 1', 'skip'])}\n}}",
            'assert objs[0] != objs[1], "two objects"',
            "if x == 2 {\nacquire ob\n}",
        ]
        if depth < 2:
            choices += [
                f"lock objs[{k}] {{\n{inner()}\n}}",
                f"let lk{n} = {self.pick(['mutex()', 'rlock()'])}\nlock lk{n} {{\n{inner()}\n}}",
            ]
        if self.objecting:
            choices += [
                f"spawn objuser(objs[{k}])",
                f"call objuser({self.pick(['m0', 'm1', 'r', f'objs[{k}]'])})",
            ]
        return self.pick(choices)

    def _pool_stmt(self) -> str:
        """A statement of the `pools` option."""
        self.fresh += 1
        n = self.fresh
        k = self.number(0, 2)
        return self.pick(
            [
                f"let f{n} = submit p, task1({k})\nlet r{n} = result f{n}\n"
                f'assert r{n} == {k + 1}, "task1 gave its value"',
                f"let f{n} = submit p, task2()",
                f"let f{n} = submit p, task1({k})\nlet r{n} = result f{n} timeout\n"
                f"if is_ok(r{n}) {{\nlet u{n} = unwrap r{n}\nassert u{n} == {k + 1}\n}}",
                "fs = submit p, task2()",
                f"if fs != none {{\nlet z{n} = result fs\n}}",
                "if fs != none {\nawait is_done(fs)\n}",
                f"let g{n} = future()\nspawn completer(g{n})\nlet w{n} = result g{n}\n"
                f"assert w{n} == 3",
                "shutdown p",
            ]
        )

    def _call(self) -> str:
        """A call of f1 or f2, its value kept or not, or a thread spawned to run one."""
        self.fresh += 1
        k = self.number(0, 2)
        return self.pick(
            [
                f'let r{self.fresh} = call f1({k})\nassert r{self.fresh} != 2, "f1 gave 2"',
                self.pick([f"x = call f1({k})", "y = call f2()"]),
                f"let r{self.fresh} = call f3()\nassert is_none(r{self.fresh})",
                "call f2()",
                f"call f1({k})",
                self.pick([f"spawn f1({k})", "spawn f2()"]),
            ]
        )

    def stmt(self, depth: int, *, python: bool) -> str:
        simple = ["assign", "racy", "skip", "print", "send", "recv", "try_recv", "event"]
        if self.calling:
            simple = [*simple, "call", "call"]
        if self.values:
            simple = [*simple, "pyobj", "use_value", "use_value"]
        if self.timed:
            simple = [*simple, "timed", "timed"]
        if self.locks:
            simple = [*simple, "rw_timed", "latch", "try"]
        if self.pools and self.submitting:
            simple = [*simple, "pool", "pool"]
        if self.loops and self.submitting:
            simple = [*simple, "loop", "loop"]
        if self.objects:
            simple = [*simple, "object", "object", "object"]
        if self.locals:
            simple = [*simple, "local", "local", "local_if", "local_loop"]
        nested = ["choose", "if", "lock", "rlock", "sem", "with_gil", "allow", "python", "once"]
        rare = ["await", "assert", "close", "wait", "cv_wait", "notify", "barrier"]
        if self.locks:
            nested = [*nested, "read", "write", "read"]
        if self.v11:
            simple = [*simple, "rw_pair"]
            nested = [*nested, "read", "write", "fork"]
        if self.gil_api:
            simple = [*simple, "gil_pair"]
            nested = [*nested, "released"]
        if self.arrays:
            simple = [*simple, "a_assign", "a_send", "a_recv", "a_try_recv", "a_event"]
            nested = [*nested, "a_lock", "a_rlock", "a_sem", "a_once", "a_if"]
            rare = [*rare, "a_await", "a_assert", "a_close", "a_wait", "a_cv", "a_barrier"]
        kind = self.pick(simple + (nested if depth < 2 else []) + rare[: self.number(0, 7)])
        if kind.startswith("a_"):
            return self.array_stmt(kind, depth, python=python)
        var = self.pick(["x", "y"])
        k = self.number(0, 2)
        chan = self.pick(["c", "d"])
        if kind == "assign":
            return f"{var} = ({var} + {k}) % 3"
        if kind == "racy":
            self.fresh += 1
            return f"let t{self.fresh} = {var}\n{var} = (t{self.fresh} + 1) % 3"
        if kind == "skip":
            return "skip"
        if kind in ("local", "local_if", "local_loop"):
            return self._local_stmt(kind, depth, python=python)
        if kind == "call":
            return self._call()
        if kind == "pool":
            return self._pool_stmt()
        if kind == "loop":
            return self._loop_stmt()
        if kind == "object":
            return self._object_stmt(depth, python=python)
        if kind == "rw_timed":
            self.fresh += 1
            mode = self.pick(["read", "write"])
            return (
                f"let g{self.fresh} = acquire_{mode} l timeout\nif g{self.fresh} {{\nrelease l\n}}"
            )
        if kind == "latch":
            self.fresh += 1
            return self.pick(
                ["countdown done", "wait done", f"let d{self.fresh} = wait done timeout"]
            )
        if kind == "try":
            self.fresh += 1
            lock = self.pick(["m0", "m1", "r", "s"])
            return (
                f"let y{self.fresh} = try_acquire {lock}\nif y{self.fresh} {{\nrelease {lock}\n}}"
            )
        if kind == "timed":
            self.fresh += 1
            n = self.fresh
            lock = self.pick(["m0", "m1", "r", "s"])
            return self.pick(
                [
                    f"let g{n} = acquire {lock} timeout\nif g{n} {{\n"
                    f"{self.stmt(2, python=python)}\nrelease {lock}\n}}",
                    f"let w{n} = wait e timeout\nassert w{n} or {var} != {k}",
                    f"let q{n} = recv {chan} timeout\nif is_err(q{n}) {{\n{var} = {k}\n}}",
                ]
            )
        if kind == "pyobj":
            self.fresh += 1
            made = f'let o{self.fresh} = pyobj("o{k}")'
            return made + self.pick(["", f"\nprint o{self.fresh}", f"\nsend {chan}, o{self.fresh}"])
        if kind == "use_value":
            self.fresh += 1
            n = self.fresh
            got = f"let v{n} = {self.pick(['recv', 'try_recv'])} {chan}\n"
            use = self.pick(["print", "unwrap", "is_err", "is_ok", "string"])
            if use == "print":
                return got + f"print v{n}"
            if use == "unwrap":
                return got + f"let u{n} = unwrap v{n}"
            if use == "is_err":
                return got + f"if is_err(v{n}) {{\n{self.stmt(2, python=python)}\n}}"
            if use == "is_ok":
                return got + f"assert not is_ok(v{n}) or v{n} != ok({k})"
            return got + f'if v{n} == "s" {{\nprint v{n}\n}}'
        if kind == "print":
            return f"print {var}"
        if kind == "send":
            if self.sends[chan] >= 4:
                return "skip"
            self.sends[chan] += 1
            if self.values:
                message = self.pick(
                    [
                        str(k),
                        f"ok({k})",
                        f"err({k})",
                        'pyerr("e")',
                        'err(pyerr("e"))',
                        'ok(pyobj("o"))',
                        '"s"',
                        "ok(err(none))",
                    ]
                )
                return f"send {chan}, {message}"
            return f"send {chan}, {k}"
        if kind == "recv":
            self.fresh += 1
            return f"let v{self.fresh} = recv {chan}"
        if kind == "try_recv":
            self.fresh += 1
            return f"let v{self.fresh} = try_recv {chan}"
        if kind == "event":
            return self.pick(["set e", "clear e"])
        if kind == "wait":
            return "wait e"
        if kind == "cv_wait":
            return f"lock m0 {{\nif {var} == {k} {{\nwait cv, m0\n}}\n}}"
        if kind == "notify":
            return self.pick(
                ["notify cv", "notify_all cv", f"lock m0 {{\n{var} = {k}\nnotify cv\n}}"]
            )
        if kind == "barrier":
            return "wait b"
        if kind == "await":
            return f"await {var} != {k}"
        if kind == "assert":
            return f'assert {var} != 2, "{var} reached 2"'
        if kind == "close":
            return "skip" if self.kinds[chan].startswith("queue") else f"close {chan}"
        if kind == "rw_pair":
            mode = self.pick(["read", "write"])
            return f"acquire_{mode} l\n{self.stmt(2, python=python)}\nrelease l"
        if kind == "gil_pair":
            return f"acquire_gil\n{self.stmt(2, python=python)}\nrelease_gil"
        if kind == "fork" and self.forks >= 1:
            kind = "if"
        inner = python or kind == "python"
        body = "\n".join(self.stmt(depth + 1, python=inner) for _ in range(self.number(1, 2)))
        if kind == "choose":
            other = self.stmt(depth + 1, python=python)
            return f"choose {{\n{body}\n}} or {{\n{other}\n}}"
        if kind == "if":
            return f"if {var} == {k} {{\n{body}\n}}"
        if kind == "lock":
            return f"lock m{k % 2} {{\n{body}\n}}"
        if kind == "rlock":
            return f"lock r {{\n{body}\n}}"
        if kind == "sem":
            return f"acquire s\n{body}\nrelease s"
        if kind == "once":
            return f"call_once o {{\n{body}\n}}"
        if kind in ("read", "write"):
            return f"{kind} l {{\n{body}\n}}"
        if kind == "fork":
            self.forks += 1
            return f"fork {{\n{body}\n}}"
        if kind == "with_gil":
            return f"with_gil {{\n{body}\n}}"
        if kind == "allow":
            return f"with_gil {{\nallow_threads {{\n{body}\n}}\n}}"
        if kind == "released":
            return f"with_gil {{\nrelease_gil\n{body}\nacquire_gil\n}}"
        return f"python {{\n{body}\n}}"

    def _local_stmt(self, kind: str, depth: int, *, python: bool) -> str:
        """Statements over a local of this thread only (`locals`)."""
        self.fresh += 1
        n, k = self.fresh, self.number(0, 2)
        if kind == "local":
            return self.pick([f"let z{n} = {k}", f"let z{n} = {k}\nz{n} = (z{n} + 1) % 3\nskip"])
        if kind == "local_if":
            inner = self.stmt(2, python=python) if depth < 2 else "skip"
            return f"let z{n} = {k}\nif z{n} == 1 {{\n{inner}\n}} else {{\nz{n} = 2\n}}"
        inner = self.stmt(2, python=python) if depth < 1 else "skip"
        return f"let z{n} = 0\nwhile z{n} < {1 + k % 2} {{\nz{n} = z{n} + 1\n{inner}\n}}"

    def index(self) -> str:
        """An array index: mostly in range, computed at run time; `x` may be 2."""
        if self.number(0, 3) == 0:
            return "self"  # in range in `t1[2]`; 0 elsewhere
        return self.pick(self.INDICES)

    def array_stmt(self, kind: str, depth: int, *, python: bool) -> str:
        """A statement over the arrays (`arrays`)."""
        i, j, k = self.index(), self.index(), self.number(0, 2)
        if self.free and kind not in ("a_assign", "a_await", "a_assert", "a_if"):
            # `gil off`: a blocking statement of Python code whose object is picked through
            # a shared var is not exported; these pick it by `self` (`self + 1` may be 2).
            i, j = (self.pick(["self", "1", "self + 1", "0"]) for _ in "ij")
        if kind == "a_assign":
            return f"a[{i}] = (a[{j}] + {k}) % 3"
        if kind == "a_send":
            if self.sends["ca"] >= 4:
                return "skip"
            self.sends["ca"] += 1
            return f"send ca[{i}], {k}"
        if kind in ("a_recv", "a_try_recv"):
            self.fresh += 1
            op = "recv" if kind == "a_recv" else "try_recv"
            if self.number(0, 1) == 0:
                return f"got[{j}] = {op} ca[{i}]"  # may be none: no arithmetic on `got`
            return f"let v{self.fresh} = {op} ca[{i}]"
        if kind == "a_event":
            return self.pick([f"set ea[{i}]", f"clear ea[{i}]"])
        if kind == "a_await":
            return f"await a[{i}] != {k}"
        if kind == "a_assert":
            name = self.pick(["a", "got"])
            return f'assert {name}[{i}] != 2, "{name} reached 2"'
        if kind == "a_close":
            return "skip" if self.kinds["ca"].startswith("queue") else f"close ca[{i}]"
        if kind == "a_wait":
            return f"wait ea[{i}]"
        if kind == "a_cv":
            return self.pick(
                [
                    f"lock ma[{j}] {{\nif a[{i}] == {k} {{\nwait cva[{i}], ma[{j}]\n}}\n}}",
                    f"notify cva[{i}]",
                    f"notify_all cva[{i}]",
                    f"lock ma[{j}] {{\na[{i}] = {k}\nnotify cva[{i}]\n}}",
                ]
            )
        if kind == "a_barrier":
            return f"wait ba[{i}]"
        body = "\n".join(self.stmt(depth + 1, python=python) for _ in range(self.number(1, 2)))
        if kind == "a_lock":
            return f"lock ma[{i}] {{\n{body}\n}}"
        if kind == "a_rlock":
            return f"lock ra[{i}] {{\n{body}\n}}"
        if kind == "a_sem":
            return f"acquire sa[{i}]\n{body}\nrelease sa[{i}]"
        if kind == "a_once":
            return f"call_once oa[{i}] {{\n{body}\n}}"
        # a_if: the right side of `and` runs only when the left one holds.
        var = self.pick(["x", "y"])
        return f"if {var} < 2 and a[{var}] == {k} {{\n{body}\n}}"


def random_spec(  # type: ignore[no-untyped-def]
    rng,
    *,
    v11: bool = False,
    arrays: bool = False,
    calls: bool = False,
    values: bool = False,
    handles: bool = False,
    atexit: bool = False,
    timed: bool = False,
    locks: bool = False,
    gil_api: bool = False,
    pools: bool = False,
    loops: bool = False,
    gil_off: bool = False,
    objects: bool = False,
    processes: bool = False,
    local_steps: bool = False,
) -> str:
    """A differential spec from a seeded `random.Random` (`SpecGenerator`'s options: the
    v1.1 additions, arrays indexed at run time, functions called, Python values and
    results, channels made at run time and their handles, `atexit` blocks, timed waits,
    rwlocks/latches/`try_acquire`, `release_gil`/`acquire_gil`, `gil off`)."""
    return SpecGenerator(
        rng.choice,
        rng.randint,
        v11=v11,
        arrays=arrays,
        calls=calls,
        values=values,
        handles=handles,
        atexit=atexit,
        timed=timed,
        locks=locks,
        gil_api=gil_api,
        pools=pools,
        loops=loops,
        gil_off=gil_off,
        objects=objects,
        processes=processes,
        local_steps=local_steps,
    ).spec()


@st.composite
def differential_specs(
    draw: st.DrawFn,
    *,
    v11: bool = False,
    arrays: bool = False,
    spawns: bool = False,
    gil_api: bool = False,
    calls: bool = False,
    values: bool = False,
    handles: bool = False,
    atexit: bool = False,
    timed: bool = False,
    locks: bool = False,
    pools: bool = False,
    loops: bool = False,
    gil_off: bool = False,
    objects: bool = False,
    local_steps: bool = False,
) -> str:
    """A differential spec drawn by hypothesis (shrinks towards short, simple specs)."""
    return SpecGenerator(
        lambda options: draw(st.sampled_from(options)),
        lambda lo, hi: draw(st.integers(min_value=lo, max_value=hi)),
        v11=v11,
        arrays=arrays,
        spawns=spawns,
        gil_api=gil_api,
        calls=calls,
        values=values,
        handles=handles,
        atexit=atexit,
        timed=timed,
        locks=locks,
        pools=pools,
        loops=loops,
        gil_off=gil_off,
        objects=objects,
        local_steps=local_steps,
    ).spec()


def random_spawning_spec(rng) -> str:  # type: ignore[no-untyped-def]
    """A differential spec whose `main` spawns several helpers, from a seeded Random."""
    return SpecGenerator(rng.choice, rng.randint, spawns=True).spec()


# ------------------------------------------------------------------ symmetric specs


class SymmetricSpecGenerator:
    """Random specs with a thread array `w[N]` (N = 2 or 3) whose `self` is used the ways
    symmetry reduction accepts: indexing arrays of N (mutexes, rlocks, events, vars and a
    channel array), sent on `ids` and received into locals, compared with `==` between
    such values. `main` and `u` use the shared vars, a shared mutex, the GIL and the
    channels. With `breaking`, a statement may also break the symmetry (`self` in
    arithmetic or a condition, `m[0]`, `print self`), which the analysis must notice.
    Values stay in 0..2 and sends are bounded, so every state space is finite.
    """

    def __init__(  # type: ignore[no-untyped-def]
        self, pick, number, *, breaking: bool = False, gil_api: bool = False
    ) -> None:
        self.pick = pick
        self.number = number
        self.breaking = breaking
        self.gil_api = gil_api  # `release_gil`/`acquire_gil` (v1.2) around blocks
        self.fresh = 0
        self.sends = {"ids": 0, "c": 0}
        self.received: list[str] = []  # locals of the current thread holding an index

    def spec(self) -> str:
        n = self.number(2, 3)
        self.n = n
        kind = self.pick(["unbounded", "bounded(1)", "bounded(2)", "rendezvous"])
        header = [
            f"host {self.pick(['rust', 'python'])}",
            f"const N = {n}",
            "var x = 0",
            "var a[N] = 0",
            "mutex g",
            "mutex m[N]",
            "rlock r[N]",
            "event e[N]",
            f"semaphore s = {self.number(1, 2)}",
            f"channel ids: {kind}",
            f"channel c[N]: {self.pick(['unbounded', 'bounded(1)'])}",
        ]
        bodies = []
        for name in ("w[N]", "main", "u"):
            if name == "u" and self.number(0, 1) == 0:
                continue
            self.received = []
            worker = name == "w[N]"
            lines = [self.stmt(0, worker) for _ in range(self.number(1, 3))]
            bodies.append(f"thread {name} {{\n" + "\n".join(lines) + "\n}")
        return "\n".join(header + bodies) + "\n"

    def stmt(self, depth: int, worker: bool) -> str:
        shared = ["x", "g", "gil", "python", "allow", "sem", "recv_ids", "skip", "if_x"]
        own = ["m", "r", "a", "set_e", "wait_e", "send_ids", "send_c", "recv_c", "cmp"]
        options = shared + (own if worker else ["send_c_plain"])
        if self.gil_api:
            options = [*options, "released", "gil_pair"]
        if self.breaking and worker and self.number(0, 5) == 0:
            options = ["break"]
        kind = self.pick(options)
        k = self.number(0, 2)
        nested = depth < 2

        def body() -> str:
            return "\n".join(self.stmt(depth + 1, worker) for _ in range(self.number(1, 2)))

        if kind == "x":
            return f"x = (x + {k}) % 3"
        if kind == "skip":
            return "skip"
        if kind == "if_x" and nested:
            return f"if x == {k} {{\n{body()}\n}}"
        if kind == "g" and nested:
            return f"lock g {{\n{body()}\n}}"
        if kind == "gil" and nested:
            return f"with_gil {{\n{body()}\n}}"
        if kind == "python" and nested:
            return f"python {{\n{body()}\n}}"
        if kind == "allow" and nested:
            return f"with_gil {{\nallow_threads {{\n{body()}\n}}\n}}"
        if kind == "released" and nested:
            return f"with_gil {{\nrelease_gil\n{body()}\nacquire_gil\n}}"
        if kind == "gil_pair" and nested:
            return f"acquire_gil\n{body()}\nrelease_gil"
        if kind == "sem" and nested:
            return f"acquire s\n{body()}\nrelease s"
        if kind == "m" and nested:
            return f"lock m[self] {{\n{body()}\n}}"
        if kind == "r" and nested:
            return f"lock r[self] {{\n{body()}\n}}"
        if kind == "a":
            return f"a[self] = (a[self] + {k}) % 3"
        if kind == "set_e":
            return "set e[self]"
        if kind == "wait_e":
            return "wait e[self]"
        if kind == "send_ids" and self.sends["ids"] < 3:
            self.sends["ids"] += 1
            return "send ids, self"
        if kind == "recv_ids":
            self.fresh += 1
            if depth == 0:  # still in scope for the statements after it
                self.received.append(f"v{self.fresh}")
            return f"let v{self.fresh} = recv ids"
        if kind == "cmp" and self.received and nested:
            other = self.pick([*self.received, "self"])
            return f"if {self.received[-1]} == {other} {{\n{body()}\n}}"
        if kind in ("send_c", "send_c_plain") and self.sends["c"] < 3:
            self.sends["c"] += 1
            return f"send c[self], {k}" if kind == "send_c" else f"send ids, {k}"
        if kind == "recv_c":
            self.fresh += 1
            return f"let v{self.fresh} = recv c[self]"
        if kind == "break":
            self.fresh += 1
            return self.pick(
                [
                    "a[0] = 1",
                    "print self",
                    f"if self == {k % self.n} {{\nx = 1\n}}",
                    "x = (self + 1) % 3",
                    "lock m[(self + 1) % N] {\nskip\n}",
                    f"let r{self.fresh} = send ids, self",  # err(self) once `ids` is closed
                    "close ids",
                ]
            )
        return "skip"


def random_symmetric_spec(rng, *, breaking: bool = False) -> str:  # type: ignore[no-untyped-def]
    """A spec with a symmetric thread array from a seeded `random.Random`."""
    return SymmetricSpecGenerator(rng.choice, rng.randint, breaking=breaking).spec()


@st.composite
def symmetric_specs(draw: st.DrawFn, *, breaking: bool = False, gil_api: bool = False) -> str:
    """A spec with a symmetric thread array, drawn by hypothesis."""
    return SymmetricSpecGenerator(
        lambda options: draw(st.sampled_from(options)),
        lambda lo, hi: draw(st.integers(min_value=lo, max_value=hi)),
        breaking=breaking,
        gil_api=gil_api,
    ).spec()


@st.composite
def ring_specs(draw: st.DrawFn) -> str:
    """A spec whose thread array `w[N]` uses its index as `(i + k) % N`, as the dining
    philosophers name their right fork: symmetric under rotations only. Its threads take
    ring locks and a shared semaphore, update ring vars, send on ring channels and pass
    indexes to `main` over `ids`, which locks the lock it names."""
    n = draw(st.integers(min_value=2, max_value=4))
    offsets = st.integers(min_value=0, max_value=n + 1)
    sends = {"ids": 0, "lets": 0}

    def ring(k: int) -> str:
        return "self" if k == 0 else f"(self + {k}) % N"

    def stmt(depth: int) -> str:
        kinds = ["lock", "var", "gil", "seat", "send", "recv", "ids", "let", "skip"]
        kind = draw(st.sampled_from(kinds if depth < 2 else ["var", "send", "skip"]))
        k = draw(offsets)
        if kind in ("lock", "gil", "seat", "let"):
            body = "\n".join(stmt(depth + 1) for _ in range(draw(st.integers(1, 2))))
            if kind == "lock":
                return f"lock m[{ring(k)}] {{\n{body}\n}}"
            if kind == "gil":
                return f"with_gil {{\n{body}\n}}"
            if kind == "seat":
                return f"acquire s\n{body}\nrelease s"
            sends["lets"] += 1
            name = f"j{sends['lets']}"
            return f"let {name} = {ring(k)}\nlock m[{name}] {{\n{body}\n}}"
        if kind == "var":
            return f"a[{ring(k)}] = (a[{ring(draw(offsets))}] + 1) % 3"
        if kind == "send":
            return f"send c[{ring(k)}], 1"
        if kind == "recv":
            sends["lets"] += 1
            return f"let v{sends['lets']} = try_recv c[self]" if draw(st.booleans()) else "skip"
        if kind == "ids" and sends["ids"] < 2:
            sends["ids"] += 1
            return f"send ids, {ring(k)}"
        return "skip"

    worker = "\n".join(stmt(0) for _ in range(draw(st.integers(1, 3))))
    main = "\n".join(
        f"let who{i} = recv ids\nlock m[who{i}] {{\n    skip\n}}" for i in range(sends["ids"])
    )
    return (
        f"const N = {n}\nmutex m[N]\nvar a[N] = 0\nsemaphore s = {draw(st.integers(1, n))}\n"
        f"channel c[N]: bounded(1)\nchannel ids: bounded(2)\n"
        f"thread w[N] {{\n{worker}\n}}\nthread main {{\n{main or 'skip'}\n}}\n"
    )
