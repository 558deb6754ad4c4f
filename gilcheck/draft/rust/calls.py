"""The calls and values the draft recognises: PyO3 (`with_gil`, `allow_threads`, errors,
Python objects), threads, channels, locks, once-cells, tokio, rayon and formatting
macros, the crate's own functions; anything else is an assumption."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from gilcheck.draft.rust.closures import closure_params
from gilcheck.draft.rust.context import Ctx, Scope, Val
from gilcheck.draft.rust.crate import FnDef
from gilcheck.draft.rust.emit import Op
from gilcheck.draft.rust.kinds import GIL, RESOURCES, Binding, Kind, kind_of_type
from gilcheck.draft.rust.macros import ERR_PRINT_MACROS, PRINT_MACROS, format_args, macro_name
from gilcheck.draft.rust.parse import named, text, unwrap_parens, walk

if TYPE_CHECKING:
    from gilcheck.draft.rust.translate import Drafter

# Methods that pass their receiver's value through (for the draft's purposes).
PASSTHROUGH = frozenset(
    {
        "unwrap",
        "expect",
        "unwrap_or_default",
        "unwrap_or",
        "unwrap_or_else",
        "ok",
        "into",
        "as_ref",
        "as_mut",
        "borrow",
        "borrow_mut",
        "to_owned",
        "clone_ref",
        "into_inner",
        "map_err",
        "context",
        "unbind",
        "bind",
        "into_py",
        "into_pyobject",
        "into_any",
    }
)
# Methods on plain data that never block and are not Python values.
HARMLESS = frozenset(
    {
        "for_each",
        "try_for_each",
        "filter_map",
        "flat_map",
        "inspect",
        "retain",
        "and_then",
        "map_or",
        "map_or_else",
        "push",
        "pop",
        "len",
        "is_empty",
        "iter",
        "iter_mut",
        "into_iter",
        "map",
        "filter",
        "collect",
        "insert",
        "remove",
        "get",
        "get_mut",
        "contains",
        "contains_key",
        "extend",
        "as_str",
        "as_bytes",
        "trim",
        "split",
        "join",
        "to_vec",
        "sum",
        "count",
        "sort",
        "sort_unstable",
        "keys",
        "values",
        "entry",
        "or_insert",
        "or_default",
        "chars",
        "bytes",
        "parse",
        "is_some",
        "is_none",
        "is_ok",
        "is_err",
        "starts_with",
        "ends_with",
        "first",
        "last",
        "min",
        "max",
        "abs",
        "wrapping_add",
        "checked_add",
        "saturating_sub",
        "fetch_add",
        "fetch_sub",
        "load",
        "store",
        "swap",
        "enumerate",
        "zip",
        "rev",
        "take",
        "skip",
        "cloned",
        "copied",
        "fold",
        "any",
        "all",
        "find",
        "position",
        "elapsed",
        "as_secs",
        "as_millis",
        "to_lowercase",
        "to_uppercase",
        "replace",
        "format",
        "lines",
        "truncate",
        "clear",
        "reserve",
        "with_capacity",
        "push_str",
        "unwrap_err",
        "is_finished",
        "name",
        "id",
    }
)
HARMLESS_FUNCTIONS = frozenset(
    {
        "thread::sleep",
        "std::thread::sleep",
        "sleep",
        "Duration::from_secs",
        "Duration::from_millis",
        "Duration::from_micros",
        "Instant::now",
        "Vec::new",
        "Vec::with_capacity",
        "HashMap::new",
        "BTreeMap::new",
        "HashSet::new",
        "String::new",
        "pyo3::prepare_freethreaded_python",
        "prepare_freethreaded_python",
        "Python::initialize",
        "thread::current",
        "std::thread::current",
        "thread::yield_now",
        "std::process::exit",
        "AtomicUsize::new",
        "AtomicBool::new",
        "AtomicU64::new",
        "AtomicI64::new",
        "Some",
        "std::hint::black_box",
        "std::mem::take",
        "mem::take",
        "tokio::time::sleep",
        "time::sleep",
        "tokio::task::yield_now",
        "Runtime::new",
        "tokio::runtime::Runtime::new",
        "Handle::current",
        "tokio::runtime::Handle::current",
        "RefCell::new",
        "Cell::new",
        "Box::new",
        "Rc::new",
    }
)
# Methods on a Python value or `py` that run Python code (the GIL may pass on).
RUNS_PYTHON = frozenset(
    {
        "call",
        "call0",
        "call1",
        "call_method",
        "call_method0",
        "call_method1",
        "import",
        "import_bound",
        "run",
        "run_bound",
        "eval",
        "eval_bound",
    }
)
CHANNEL_CTORS = {
    "channel": "unbounded",
    "unbounded_channel": "unbounded",
    "unbounded": "unbounded",
    "sync_channel": "bounded",
    "bounded": "bounded",
}


class Calls:
    """Recognises calls, methods and macros, and drafts each."""

    def __init__(self, drafter: Drafter) -> None:
        self.d = drafter
        self.spawn_count = 0

    # ------------------------------------------------------------------ shapes

    def _callee(self, node: Node) -> tuple[str, Node | None, list[Node]]:
        """(path or method name, receiver node for methods, argument nodes)."""
        fn = node.child_by_field_name("function")
        args_node = node.child_by_field_name("arguments")
        args = named(args_node) if args_node is not None else []
        if fn is None:
            return "", None, args
        if fn.type == "field_expression":
            return (
                "." + text(fn.child_by_field_name("field")),
                fn.child_by_field_name("value"),
                args,
            )
        if fn.type == "generic_function":
            inner = fn.child_by_field_name("function")
            return re.sub(r"\s", "", text(inner)), None, args
        return re.sub(r"\s", "", text(fn)), None, args

    def _closure_arg(self, args: list[Node]) -> Node | None:
        for a in args:
            a = unwrap_parens(a)
            if a.type in ("closure_expression", "async_block"):
                return a
        return None

    def is_blocklike(self, ctx: Ctx, node: Node) -> bool:
        """A call that drafts to a block (`with_gil { }`, `allow_threads { }`, a block_on
        of an async block, a `thread::scope`)."""
        node = unwrap_parens(node)
        while node.type == "call_expression" and self._callee(node)[0] in (".unwrap", ".expect"):
            recv = self._callee(node)[1]
            if recv is None:
                break
            node = unwrap_parens(recv)
        if node.type != "call_expression":
            return False
        name, recv, args = self._callee(node)
        if name.endswith(("with_gil", "attach")) and "Python" in name:
            return True
        if name in (".allow_threads", ".detach") and self._closure_arg(args) is not None:
            return True
        if name.endswith("thread::scope") or (name == "scope" and self._closure_arg(args)):
            return True
        return (
            bool(args)
            and name.endswith("block_on")
            and (unwrap_parens(args[-1]).type == "async_block")
        )

    def blocklike(self, ctx: Ctx, node: Node, target: str | None, ret: bool) -> None:
        """Draft a block-like call (see `is_blocklike`)."""
        node = unwrap_parens(node)
        while node.type == "call_expression" and self._callee(node)[0] in (".unwrap", ".expect"):
            recv = self._callee(node)[1]
            if recv is None:
                break
            node = unwrap_parens(recv)
        name, recv, args = self._callee(node)
        closure = self._closure_arg(args)
        d = self.d
        if name.endswith("block_on"):
            body = unwrap_parens(args[-1])
            d.block(ctx, body, target, ret)
            return
        if closure is None:
            d.effect(ctx, args[0] if args else node, target, ret)
            return
        scope = Scope()
        params = closure_params(closure)
        body = closure.child_by_field_name("body") or closure
        if "scope" in name:
            for p in params:
                scope.vars[p] = Binding(Kind.SCOPE)
            d.block(ctx, body, target, ret, scope=scope)
            return
        word = "with_gil" if "Python" in name else "allow_threads"
        for p in params:
            scope.vars[p] = Binding(Kind.PY)
        ctx.body.open(word, ctx.where(node))
        d.inline_closure(ctx, node, body, target, ret, scope)
        ctx.body.close()

    def receiver_of(self, ctx: Ctx, node: Node | None) -> tuple[str, Kind] | None:
        """The spec name of the receiver a loop receives from: `rx`, `&rx`, `rx.iter()`,
        `rx.recv()`, `rx.blocking_recv()`, `rx.recv().await`, `rx.into_iter()`."""
        if node is None:
            return None
        node = unwrap_parens(node)
        if node.type == "await_expression":
            node = unwrap_parens(named(node)[0])
        if node.type == "identifier":
            b = ctx.lookup(text(node))
            if b is not None and b.kind == Kind.RECEIVER:
                return b.name, b.element
            return None
        if node.type == "call_expression":
            name, recv, _ = self._callee(node)
            if recv is not None and name in (
                ".iter",
                ".into_iter",
                ".recv",
                ".blocking_recv",
                ".unwrap",
                ".ok",
                ".recv_async",
            ):
                return self.receiver_of(ctx, recv)
        return None

    # ------------------------------------------------------------------ values

    def value(self, ctx: Ctx, node: Node) -> Val:
        """Draft an expression for its value."""
        d = self.d
        t = node.type
        if t in ("parenthesized_expression", "reference_expression", "try_expression"):
            inner = named(node)
            return self.value(ctx, inner[-1]) if inner else Val.none()
        if t == "unary_expression":
            inner = named(node)
            val = self.value(ctx, inner[-1]) if inner else Val.none()
            if text(node).startswith("*"):
                if val.guard is not None:
                    var = d.spec.data_var(val.guard.target)
                    return Val(var, Kind.PLAIN) if var is not None else Val.none()
                return val if val.kind in (Kind.PAIR, Kind.MUTEX) else Val.none()
            return (
                Val.none()
                if val.stmt or val.kind != Kind.PLAIN
                else Val(("not " if text(node).startswith("!") else "-") + val.text, Kind.PLAIN)
            )
        if t == "identifier":
            name = text(node)
            b = ctx.lookup(name)
            if b is None and name in d.crate.statics and d.crate.statics[name].kind == "lazy":
                self.lazy_init(ctx, node, name)
            if b is None:
                b = d.spec.statics.get(name)
            if b is None:
                if name == "None":
                    return Val.none()
                return Val.none(Kind.UNKNOWN)
            if b.kind == Kind.GUARD:
                return Val("none", Kind.GUARD, guard=b)
            return Val(b.name, b.kind, names=b.names)
        if t == "integer_literal":
            digits = re.sub(r"[a-z].*$", "", text(node).replace("_", ""))
            return Val(digits if digits.isdigit() else "0", Kind.PLAIN)
        if t == "float_literal":
            return Val("0", Kind.PLAIN)
        if t == "string_literal":
            return Val('"' + _escape(text(node)[1:-1]) + '"', Kind.PLAIN)
        if t == "raw_string_literal":
            return Val('"raw string"', Kind.PLAIN)
        if t == "char_literal":
            return Val('"' + _escape(text(node)[1:-1]) + '"', Kind.PLAIN)
        if t == "boolean_literal":
            return Val(text(node), Kind.PLAIN)
        if t == "unit_expression":
            return Val.none()
        if t == "binary_expression":
            left = self.value(ctx, node.child_by_field_name("left") or node)
            right = self.value(ctx, node.child_by_field_name("right") or node)
            op = text(node.child_by_field_name("operator"))
            op = {"&&": "and", "||": "or"}.get(op, op)
            if left.stmt or right.stmt or left.kind != Kind.PLAIN or right.kind != Kind.PLAIN:
                return Val.none()
            if op not in ("+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or"):
                return Val.none()
            return Val(f"{left.text} {op} {right.text}", Kind.PLAIN)
        if t == "await_expression":
            return self.awaited(ctx, node)
        if t == "call_expression":
            return self.call(ctx, node)
        if t == "macro_invocation":
            return self.macro(ctx, node)
        if t == "tuple_expression":
            parts = named(node)
            texts = [text(p) for p in parts]
            if len(parts) == 2 and "Mutex::new" in texts[0] and "Condvar::new" in texts[1]:
                m = d.spec.names.fresh("pair_m")
                cv = d.spec.names.fresh("pair_cv")
                d.stmt(ctx, node, f"let {m} = mutex()")
                d.stmt(ctx, node, f"let {cv} = condvar()")
                inner = named(parts[0].child_by_field_name("arguments") or parts[0])
                if _literal(inner):
                    d.spec.data_init[m] = (_literal(inner), ctx.where(node))
                return Val(m, Kind.PAIR, names=(m, cv))
            for p in parts:
                v = self.value(ctx, p)
                if v.stmt:
                    d.stmt(ctx, p, v.text)
            return Val.none()
        if t == "closure_expression":
            d.assume(ctx, node, "a closure kept for later is assumed not to block: {code}")
            return Val.none()
        if t in (
            "block",
            "async_block",
            "unsafe_block",
            "if_expression",
            "match_expression",
            "loop_expression",
        ):
            tmp = d.spec.names.fresh("tmp")
            d.stmt(ctx, node, f"let {tmp} = none")
            d.effect(ctx, node, target=tmp)
            return Val(tmp, Kind.UNKNOWN, names=(tmp,))
        if t == "field_expression":
            base = node.child_by_field_name("value")
            if base is not None and text(base) not in ("self",):
                v = self.value(ctx, base)
                if v.kind == Kind.PAIR and text(node.child_by_field_name("field")) in ("0", "1"):
                    i = int(text(node.child_by_field_name("field")))
                    return Val(v.names[i], (Kind.MUTEX, Kind.CONDVAR)[i], names=(v.names[i],))
            return Val.none(Kind.UNKNOWN)
        if t in (
            "struct_expression",
            "array_expression",
            "index_expression",
            "range_expression",
            "type_cast_expression",
            "scoped_identifier",
            "self",
            "generic_function",
        ):
            return Val.none(Kind.UNKNOWN if t in ("index_expression", "self") else Kind.PLAIN)
        return Val.none(Kind.UNKNOWN)

    def awaited(self, ctx: Ctx, node: Node) -> Val:
        """`x.await`: a oneshot receiver or a JoinHandle blocks the awaiting thread; an
        awaited call is drafted as the call."""
        inner = unwrap_parens(named(node)[0])
        if inner.type == "identifier":
            b = ctx.lookup(text(inner))
            if b is not None and b.kind == Kind.RECEIVER:
                return Val(f"recv {b.name}", Kind.UNKNOWN, stmt=True)
            if b is not None and b.kind == Kind.HANDLE:
                return Val(f"join {b.name}", Kind.PLAIN, stmt=True)
        if inner.type == "call_expression":
            return self.call(ctx, inner)
        return self.value(ctx, inner)

    # ------------------------------------------------------------------ calls

    def call(self, ctx: Ctx, node: Node) -> Val:
        """A function or method call."""
        name, recv, args = self._callee(node)
        if recv is not None:
            return self.method(ctx, node, name[1:], recv, args)
        return self.function(ctx, node, name, args)

    def function(self, ctx: Ctx, node: Node, path: str, args: list[Node]) -> Val:
        """A call of a path: `thread::spawn(..)`, `mpsc::channel()`, `Ok(x)`, `f(a)`."""
        d = self.d
        last = path.rsplit("::", 1)[-1]
        if path in ("Ok", "Err", "Some"):
            inner = self.value(ctx, args[0]) if args else Val.none()
            inner = d.hoist(ctx, node, inner)
            if path == "Some":
                return inner
            kind = Kind.PYVAL if inner.kind == Kind.PYVAL else Kind.PLAIN
            return Val(f"{path.lower()}({inner.text})", kind)
        if last in ("new_err",) or path.startswith("PyErr::new") or last == "new_err_arguments":
            msg = _message(args[0]) if args else "error"
            return Val(f'pyerr("{_escape(msg)}")', Kind.PYVAL)
        if path in ("String::from", "str::to_string") and args:
            return self.value(ctx, args[0])
        if path.endswith("Python::acquire_gil") or path.endswith("GILGuard::acquire"):
            # the GIL is held until the guard is dropped: `with_gil {` up to there
            ctx.body.open("with_gil", ctx.where(node))
            at = [str(ctx.body.depth - 1), str(len(ctx.body.ops) - 1)]
            g = Binding(Kind.GUARD, (), target=GIL, extra=at)
            ctx.temps.append(g)
            return Val("none", Kind.GUARD, guard=g)
        if path.endswith(("Python::assume_gil_acquired", "Python::assume_attached")):
            return Val.none(Kind.PY)
        if path.endswith(("Arc::new", "Rc::new", "Box::new")) and args:
            return self.value(ctx, args[0])
        if path.endswith(("Arc::clone", "Rc::clone")) and args:
            return self.cloned(ctx, node, self.value(ctx, args[0]))
        if last == "new" and re.search(r"(^|::)(Mutex|RwLock|Condvar)::new$", path):
            kind = {"Mutex": Kind.MUTEX, "RwLock": Kind.RWLOCK, "Condvar": Kind.CONDVAR}[
                path.rsplit("::", 2)[-2]
            ]
            return Val(f"{kind.value}()", kind, stmt=True, init=_literal(args))
        if last == "new" and re.search(r"(^|::)ReentrantMutex::new$", path):
            return Val("rlock()", Kind.MUTEX, stmt=True)
        if last == "new" and re.search(r"(^|::)Barrier::new$", path):
            n = text(args[0]).replace("_", "") if args else ""
            if not n.isdigit() or n == "0":
                self.d.assume(ctx, node, "assumed a barrier of 2 parties: {code}")
                n = "2"
            return Val(f"barrier({n})", Kind.BARRIER, stmt=True)
        if last == "new" and re.search(r"(^|::)(Once|OnceLock)::new$", path):
            return Val("once()", Kind.ONCE, stmt=True)
        if last in CHANNEL_CTORS and (
            "::" not in path or re.search(r"(mpsc|crossbeam\w*|channel|oneshot|flume)::", path)
        ):
            return self.channel(ctx, node, path, args)
        if path == "drop" or path.endswith("mem::drop"):
            return self.drop(ctx, node, args)
        if last in ("spawn", "spawn_blocking") and (
            "thread" in path or "task" in path or "tokio" in path or path == "spawn"
        ):
            return self.spawn(ctx, node, args, "thread" if "thread" in path else "task")
        if path.endswith("rayon::join") or (path == "join" and len(args) == 2):
            return self.rayon_join(ctx, node, args)
        if path.endswith("rayon::spawn"):
            call = self.closure_call(ctx, args, "rayon_job")
            d.spec.use("rayon")
            return Val(f"submit rayon_global_pool, {call}", Kind.UNKNOWN, stmt=True)
        if last == "block_on" and args:
            return self.block_on(ctx, node, args[-1])
        fn = d.crate.fns.get(path)
        owner = path.rsplit("::", 1)[0] if "::" in path else ""
        if fn is None and owner == "Self":
            fn = self._method_fn(last)
        if fn is None and owner and owner.rsplit("::", 1)[-1] in d.crate.modules:
            fn = d.crate.fns.get(last)  # crate::worker::run(), super::run()
            owner = fn.owner if fn is not None else owner
        if fn is not None and (not fn.owner or owner in (fn.owner, "Self")):
            return self.call_crate(ctx, node, fn, args)
        if re.search(r"(^|::)(Runtime::new|Handle::current)$", path):
            return Val.none(Kind.RUNTIME)
        if path in ("Vec::new", "Vec::with_capacity"):
            return Val.none(Kind.HANDLES)
        if path in HARMLESS_FUNCTIONS or path.endswith("Duration::from_secs"):
            return Val.none()
        if re.search(r"(^|::)(Py\w+)::(new|new_bound|import|import_bound|empty)", path):
            self.python(ctx, node, path)
            return Val(f'pyobj("{_escape(_short(node))}")', Kind.PYVAL)
        d.assume(ctx, node, "assumed not to block: {code}")
        for a in args:  # arguments are still evaluated
            v = self.value(ctx, a)
            if v.stmt:
                d.stmt(ctx, a, v.text)
        return Val.none(Kind.UNKNOWN)

    def block_on(self, ctx: Ctx, node: Node, fut: Node) -> Val:
        """`rt.block_on(fut)`: the future runs on the calling thread (an async block or an
        async fn: drafted inline); a JoinHandle is waited for (`join`)."""
        v = self.value(ctx, fut)
        if v.kind == Kind.HANDLE and not v.stmt:
            return Val(f"join {v.text}", Kind.PLAIN, stmt=True)
        return v

    def python(self, ctx: Ctx, node: Node, what: str) -> None:
        """A call that runs Python code (an import, a Python callable)."""
        if what.rsplit(".", 1)[-1].rsplit("::", 1)[-1] in RUNS_PYTHON or "import" in what:
            ctx.body.open("python", ctx.where(node))
            ctx.body.stmt("skip", ctx.where(node))
            ctx.body.close()

    def method(self, ctx: Ctx, node: Node, name: str, recv: Node, args: list[Node]) -> Val:
        """A method call `recv.name(args)`."""
        d = self.d
        if name in ("par_iter", "into_par_iter", "par_iter_mut", "par_bridge", "par_chunks"):
            return self.par_iter(ctx, node, node, [])
        chain = self._chain_rayon(node)
        if chain is not None:
            return self.par_iter(ctx, node, chain, args)
        static = self._static(ctx, recv)
        if static is not None:
            return self.static_method(ctx, node, static, name, args)
        if name == "spawn" and "Builder" in text(recv) and "ThreadPool" not in text(recv):
            return self.spawn(ctx, node, args, "thread")  # thread::Builder::new().spawn(..)
        if name == "build" and "ThreadPoolBuilder" in text(recv):
            m = re.search(r"num_threads\((\d+)\)", text(recv))
            return Val(f"pool({m.group(1) if m else 2})", Kind.POOL, stmt=True)
        if name in ("build", "enable_all", "worker_threads") and re.search(
            r"runtime|new_multi_thread|new_current_thread", text(recv), re.IGNORECASE
        ):
            return Val.none(Kind.RUNTIME)
        rv = self.value(ctx, recv)
        k = rv.kind
        if k == Kind.UNKNOWN and rv.names and not rv.stmt:
            # a value received or passed in: its methods tell what it is
            if name in ("send", "blocking_send", "try_send") and len(args) == 1:
                k = Kind.SENDER
            elif (name in ("recv", "blocking_recv", "try_recv") and not args) or (
                name == "recv_timeout" and len(args) == 1
            ):
                k = Kind.RECEIVER
            elif name == "join" and not args:
                k = Kind.HANDLE
        if name in PASSTHROUGH:
            return rv
        if name == "clone":
            return self.cloned(ctx, node, rv)
        if name == "to_string" or name == "to_owned":
            if k == Kind.PYVAL:
                return self.format_python(ctx, node)
            return rv if rv.kind == Kind.PLAIN and rv.text.startswith('"') else Val.none()
        if rv.guard is not None and rv.guard.target == GIL and name == "python":
            return Val.none(Kind.PY)
        if k == Kind.SENDER:
            if name in ("send", "blocking_send", "send_async", "unbounded_send"):
                v = self.message(ctx, node, args)
                return Val(f"send {rv.text}, {v.text}", Kind.UNKNOWN, stmt=True)
            if name == "try_send":
                v = self.message(ctx, node, args)
                d.assume(ctx, node, "assumed to find room in the channel: {code}")
                return Val(f"send {rv.text}, {v.text}", Kind.UNKNOWN, stmt=True)
        if k == Kind.RECEIVER:
            if name in ("recv", "blocking_recv", "recv_async"):
                return Val(f"recv {rv.text}", Kind.UNKNOWN, stmt=True)
            if name == "try_recv":
                return Val(f"try_recv {rv.text}", Kind.UNKNOWN, stmt=True)
            if name in ("recv_timeout", "recv_deadline"):
                return Val(f"recv {rv.text} timeout", Kind.UNKNOWN, stmt=True)
            if name == "close":
                return Val.none()
        if k == Kind.MUTEX and name in ("lock", "blocking_lock"):
            return self.lock(ctx, node, rv.text, "acquire", True)
        if k == Kind.MUTEX and name == "try_lock":
            d.assume(ctx, node, "assumed to take the lock or go on: {code}")
            return Val.none()
        if k == Kind.RWLOCK and name in ("read", "write", "blocking_read", "blocking_write"):
            word = "acquire_read" if "read" in name else "acquire_write"
            return self.lock(ctx, node, rv.text, word, "write" in name)
        if k == Kind.CONDVAR:
            return self.condvar(ctx, node, rv.text, name, args)
        if k == Kind.BARRIER and name == "wait":
            d.stmt(ctx, node, f"wait {rv.text}")
            return Val.none()
        if k == Kind.ONCE and name in ("call_once", "call_once_force", "get_or_init"):
            self.call_once(ctx, node, rv.text, self._closure_arg(args))
            return Val.none(Kind.UNKNOWN)
        if k == Kind.HANDLE and name == "join":
            return Val(f"join {rv.text}", Kind.PLAIN, stmt=True)
        if k == Kind.HANDLES and name == "push" and args:
            v = self.value(ctx, args[0])
            b = ctx.lookup(text(recv))
            if v.stmt and v.text.startswith("spawn ") and b is not None and b.extra:
                h = d.spec.names.fresh("handle")
                at = int(b.extra[0]) + len(b.names)
                ctx.body.ops.insert(at, Op("stmt", f"let {h} = none", ctx.where(node)))
                d.stmt(ctx, node, f"{h} = {v.text}")
                b.names = (*b.names, h)
                return Val.none()
            if v.stmt:
                d.stmt(ctx, node, v.text)
            return Val.none()
        if k == Kind.SCOPE and name == "spawn":
            call = self.closure_call(ctx, args, "scoped")
            h = d.spec.names.fresh("handle")
            d.stmt(ctx, node, f"let {h} = spawn {call}")
            for scope in reversed(ctx.scopes):
                if any(b.kind == Kind.SCOPE for b in scope.vars.values()):
                    scope.handles.append(h)
                    break
            return Val(h, Kind.HANDLE, names=(h,))
        if k == Kind.POOL and name in ("install", "spawn", "scope"):
            call = self.closure_call(ctx, args, "rayon_job")
            d.spec.use("rayon")
            fut = d.hoist(
                ctx, node, Val(f"submit {rv.text}, {call}", Kind.UNKNOWN, stmt=True), "job"
            )
            if name == "spawn":
                return Val.none()
            return Val(f"call rayon_install({fut.text})", Kind.UNKNOWN, stmt=True)
        if k == Kind.RUNTIME or (name in ("block_on",) and k == Kind.UNKNOWN):
            if name == "block_on" and args:
                return self.block_on(ctx, node, args[-1])
            if name in ("spawn", "spawn_blocking"):
                return self.spawn(ctx, node, args, "task")
        if k == Kind.PY and name in ("allow_threads", "detach"):
            body = self._closure_arg(args)
            tmp = d.spec.names.fresh("tmp")
            d.stmt(ctx, node, f"let {tmp} = none")
            ctx.body.open("allow_threads", ctx.where(node))
            if body is not None:
                d.inline_closure(
                    ctx, node, body.child_by_field_name("body") or body, tmp, False, Scope()
                )
            ctx.body.close()
            return Val(tmp, Kind.UNKNOWN, names=(tmp,))
        if k in (Kind.PY, Kind.PYVAL):
            if name in ("is_instance_of", "is_none", "get_type", "value", "traceback"):
                return Val.none(Kind.PYVAL)
            self.python(ctx, node, name)
            return Val(f'pyobj("{_escape(_short(node))}")', Kind.PYVAL)
        if recv.type == "self" or text(recv) == "self":
            fn = self._method_fn(name)
            if fn is not None:
                return self.call_crate(ctx, node, fn, args)
        if k == Kind.UNKNOWN and name in ("lock", "read", "write") and not args:
            # a lock reached through data the draft does not follow: one global lock
            kind = "mutex" if name == "lock" else "rwlock"
            key = f"{kind} {text(recv)}"
            lockname = d.spec.unknown_locks.get(key, "")
            if not lockname:
                stem = re.sub(r"\W+", "_", text(recv)).strip("_") or "lock"
                lockname = d.spec.unknown_locks[key] = d.spec.names.claim(stem)
                d.spec.item(f"{kind} {lockname}", ctx.where(node))
            d.assume(ctx, node, "assumed one lock shared by every caller: {code}")
            word = {"lock": "acquire", "read": "acquire_read", "write": "acquire_write"}[name]
            return self.lock(ctx, node, lockname, word, name != "read")
        if name in HARMLESS:
            for a in args:
                a = unwrap_parens(a)
                if a.type == "closure_expression":
                    self.iterator_closure(ctx, node, a)
                    continue
                v = self.value(ctx, a)
                if v.stmt:
                    d.stmt(ctx, a, v.text)
            return Val.none()
        fn = self._method_fn(name) if recv.type != "identifier" or k == Kind.UNKNOWN else None
        if fn is not None and fn.owner:
            return self.call_crate(ctx, node, fn, args)
        d.assume(ctx, node, "assumed not to block: {code}")
        return Val.none(Kind.UNKNOWN)

    def message(self, ctx: Ctx, node: Node, args: list[Node]) -> Val:
        """The value a send sends: a value the draft leaves out is sent as its source text
        (a `none` message would end the receiver's `for` loop, which a Rust value does
        not)."""
        v = self.d.hoist(ctx, node, self.value(ctx, args[0]) if args else Val.none())
        if v.text == "none" and args and text(args[0]) != "None":
            return Val('"' + _escape(_short(args[0])) + '"', Kind.PLAIN)
        return v

    def iterator_closure(self, ctx: Ctx, node: Node, closure: Node) -> None:
        """A closure given to an iterator adaptor or a container method (`map`,
        `for_each`, `retain`): run in place, at most `unroll` times, when it calls
        anything; a closure of pure arithmetic is left out."""
        body = closure.child_by_field_name("body") or closure
        if not any(n.type in ("call_expression", "macro_invocation") for n in walk(body)):
            return
        self.d.bounded(
            ctx, node, body, closure_params(closure), "the closure of {code} runs at most {n} times"
        )

    def _method_fn(self, name: str) -> FnDef | None:
        for fn in self.d.crate.fns.values():
            if fn.owner and fn.name == name:
                return fn
        return None

    def _chain_rayon(self, node: Node) -> Node | None:
        """The `par_iter()` call at the start of a method chain, if any."""
        cur: Node | None = node
        while cur is not None and cur.type == "call_expression":
            name, recv, _ = self._callee(cur)
            if name in (
                ".par_iter",
                ".into_par_iter",
                ".par_iter_mut",
                ".par_bridge",
                ".par_chunks",
            ):
                return cur
            cur = unwrap_parens(recv) if recv is not None else None
        return None

    def _static(self, ctx: Ctx, recv: Node) -> str | None:
        node = unwrap_parens(recv)
        if node.type == "identifier" and ctx.lookup(text(node)) is None:
            name = text(node)
            if name in self.d.crate.statics:
                return name
        return None

    # ------------------------------------------------------------------ statics

    def static_method(self, ctx: Ctx, node: Node, name: str, method: str, args: list[Node]) -> Val:
        """A method of a static: a lock, a once-cell, a lazily initialised value."""
        d = self.d
        st = d.crate.statics[name]
        b = d.spec.statics[name]
        if st.kind == "mutex" and method in ("lock", "blocking_lock"):
            return self.lock(ctx, node, b.name, "acquire", True)
        if st.kind == "rwlock" and method in ("read", "write"):
            return self.lock(ctx, node, b.name, "acquire_" + method, method == "write")
        if st.kind == "condvar":
            return self.condvar(ctx, node, b.name, method, args)
        if st.kind == "once" and method in ("call_once", "call_once_force"):
            self.call_once(ctx, node, b.name, self._closure_arg(args))
            return Val.none()
        if st.kind in ("oncelock", "py_once_lock") and method in (
            "get_or_init",
            "get_or_try_init",
            "get_or_init_py_attached",
        ):
            closure = self._closure_arg(args)
            if st.kind == "py_once_lock":
                ctx.body.open("allow_threads", ctx.where(node))
                ctx.body.open("call_once " + b.name, ctx.where(node))
                ctx.body.open("with_gil", ctx.where(node))
                self._closure_body(ctx, closure)
                ctx.body.close()
                ctx.body.close()
                ctx.body.close()
            else:
                self.call_once(ctx, node, b.name, closure)
            return Val.none(Kind.UNKNOWN)
        if st.kind == "gil_once_cell" and method in (
            "get_or_init",
            "get_or_try_init",
            "import",
            "get_or_try_init_type_ref",
        ):
            closure = self._closure_arg(args)
            ctx.body.open("with_gil", ctx.where(node))
            ctx.body.open(f"if not {b.name}", ctx.where(node))
            if closure is not None:
                self._closure_body(ctx, closure)
            else:
                self.python(ctx, node, "import")
            ctx.body.stmt(f"{b.name} = true", ctx.where(node))
            ctx.body.close()
            ctx.body.close()
            return Val.none(Kind.PYVAL)
        if method in ("get", "set", "is_completed"):
            return Val.none(Kind.UNKNOWN)
        if st.kind == "lazy" and "Runtime" in st.type_text:
            if method == "block_on" and args:
                return self.block_on(ctx, node, args[-1])
            if method in ("spawn", "spawn_blocking"):
                return self.spawn(ctx, node, args, "task")
        if st.kind == "lazy":
            self.lazy_init(ctx, node, name)
            rv = Val(b.name, b.kind, names=b.names)
            return self.method_on(ctx, node, rv, method, args)
        d.assume(ctx, node, "assumed not to block: {code}")
        return Val.none(Kind.UNKNOWN)

    def method_on(self, ctx: Ctx, node: Node, rv: Val, method: str, args: list[Node]) -> Val:
        """A method on the value of a lazy static (its initializer has run)."""
        if method in PASSTHROUGH or method in HARMLESS or method in ("clone", "to_string"):
            return Val.none()
        self.d.assume(ctx, node, "assumed not to block: {code}")
        return Val.none(Kind.UNKNOWN)

    def lazy_init(self, ctx: Ctx, node: Node, name: str) -> None:
        """The first use of a lazy static runs its initializer once; others wait for it."""
        st = self.d.crate.statics[name]
        b = self.d.spec.statics[name]
        once = b.extra[0] if b.extra else b.name
        ctx.body.open(f"call_once {once}", ctx.where(node))
        if st.init is not None:
            saved = ctx.origin_at
            ctx.origin_at = ctx.where(node)  # the initializer is drafted at its first use
            self.d.block(ctx, st.init)
            ctx.origin_at = saved
        ctx.body.close()

    def call_once(self, ctx: Ctx, node: Node, once: str, closure: Node | None) -> None:
        """`call_once o { initializer }`."""
        ctx.body.open(f"call_once {once}", ctx.where(node))
        self._closure_body(ctx, closure)
        ctx.body.close()

    def _closure_body(self, ctx: Ctx, closure: Node | None) -> None:
        if closure is None:
            return
        scope = Scope()
        for p in closure_params(closure):
            scope.vars[p] = Binding(Kind.UNKNOWN)
        body = closure.child_by_field_name("body") or closure
        self.d.inline_closure(ctx, closure, body, None, False, scope)

    # ------------------------------------------------------------------ kinds of calls

    def channel(self, ctx: Ctx, node: Node, path: str, args: list[Node]) -> Val:
        """A channel constructor: the (sender, receiver) pair."""
        last = path.rsplit("::", 1)[-1]
        if "oneshot" in path:
            return Val("oneshot()", Kind.UNKNOWN, stmt=True, names=("tx", "rx"))
        if last == "channel" and args:  # tokio::sync::mpsc::channel(n)
            last = "bounded"
        kind = CHANNEL_CTORS[last]
        if kind == "bounded":
            n = text(args[0]).replace("_", "") if args else "1"
            if not n.isdigit():
                self.d.assume(ctx, node, "assumed a capacity of 1: {code}")
                n = "1"
            spec = "rendezvous" if n == "0" else n
            return Val(f"channel({spec})", Kind.UNKNOWN, stmt=True, names=("tx", "rx"))
        return Val("channel(unbounded)", Kind.UNKNOWN, stmt=True, names=("tx", "rx"))

    def cloned(self, ctx: Ctx, node: Node, rv: Val) -> Val:
        """`x.clone()` / `Arc::clone(&x)`: a sender is cloned, a shared object aliased."""
        if rv.kind == Kind.SENDER:
            return Val(f"clone {rv.text}", Kind.SENDER, stmt=True)
        if rv.kind in (*RESOURCES, Kind.PAIR):
            return rv
        return rv if not rv.stmt else Val.none()

    def drop(self, ctx: Ctx, node: Node, args: list[Node]) -> Val:
        """`drop(x)`: a guard releases its lock; a handle is dropped."""
        if not args:
            return Val.none()
        arg = unwrap_parens(args[0])
        if arg.type == "identifier":
            b = ctx.lookup(text(arg))
            if b is not None and b.kind == Kind.GUARD and b.target == GIL:
                if not b.released and ctx.body.depth == int(b.extra[0]) + 1:
                    self._hoist_lets(ctx, int(b.extra[1]))
                    ctx.body.close()
                    b.released = True
                elif not b.released:
                    raise self.d.refuse(
                        ctx,
                        node,
                        "a GILGuard dropped inside a block opened after it cannot be drafted",
                        "drop the GILGuard in the block where it was taken, or use with_gil",
                    )
                return Val.none()
            if b is not None and b.kind == Kind.GUARD:
                if not b.released:
                    self.d.stmt(ctx, node, f"release {b.target}")
                    b.released = True
                return Val.none()
            if b is not None and b.kind in (Kind.SENDER, Kind.RECEIVER, Kind.HANDLE):
                return Val(f"drop {b.name}", Kind.PLAIN, stmt=True)
        return Val.none()

    def _hoist_lets(self, ctx: Ctx, opened: int) -> None:
        """Before a `with_gil {` opened for a GILGuard closes early (`drop(gil)`): its own
        `let x = ..` become `x = ..` after a `let x = none` before the block, so that the
        Rust variables stay visible after it."""
        ops = ctx.body.ops
        depth = 0
        hoisted: list[Op] = []
        for i in range(opened + 1, len(ops)):
            op = ops[i]
            if op.kind == "open":
                depth += 1
            elif op.kind == "close" and not op.text:
                depth -= 1
            elif op.kind == "stmt" and depth == 0 and re.match(r"let \w+ = ", op.text):
                name, rest = op.text[4:].split(" = ", 1)
                ops[i] = Op("stmt", f"{name} = {rest}", op.origin)
                hoisted.append(Op("stmt", f"let {name} = none", op.origin))
        ops[opened:opened] = hoisted

    def lock(self, ctx: Ctx, node: Node, lockname: str, word: str, write: bool) -> Val:
        """`m.lock()`: take the lock now; the guard is held to the end of the statement
        unless a `let` keeps it (then to the end of its block, or `drop`)."""
        self.d.stmt(ctx, node, f"{word} {lockname}")
        g = Binding(Kind.GUARD, (), target=lockname, write=write)
        ctx.temps.append(g)
        return Val("none", Kind.GUARD, guard=g)

    def condvar(self, ctx: Ctx, node: Node, cv: str, name: str, args: list[Node]) -> Val:
        """`cv.wait(guard)`, `wait_while`, `wait_timeout`, `notify_one`, `notify_all`."""
        d = self.d
        if name in ("notify_one", "notify"):
            return Val(f"notify {cv}", Kind.PLAIN, stmt=True)
        if name in ("notify_all", "notify_waiters"):
            return Val(f"notify_all {cv}", Kind.PLAIN, stmt=True)
        if name.startswith("wait") and args:
            gv = self.value(ctx, args[0])
            g = gv.guard
            if g is None:
                d.assume(ctx, node, "assumed not to block: {code}")
                return Val.none()
            if name in ("wait_while", "wait_timeout_while") and len(args) > 1:
                cond = self.predicate(ctx, g, args[-1])
                if cond is not None:
                    timed = " timeout" if "timeout" in name else ""
                    ctx.body.open(f"while {cond}", ctx.where(node))
                    ctx.body.stmt(f"wait {cv}, {g.target}{timed}", ctx.where(node))
                    ctx.body.close()
                    return Val("none", Kind.GUARD, guard=g)
                d.assume(
                    ctx,
                    node,
                    "the condition of {code} is assumed true when the wait starts "
                    "(it waits at least once)",
                )
            timed = " timeout" if "timeout" in name else ""
            d.stmt(ctx, node, f"wait {cv}, {g.target}{timed}")
            return Val("none", Kind.GUARD, guard=g)
        d.assume(ctx, node, "assumed not to block: {code}")
        return Val.none()

    def predicate(self, ctx: Ctx, g: Binding, closure: Node) -> str | None:
        """The condition of `wait_while(guard, |v| cond)` over the mutex's modelled data."""
        closure = unwrap_parens(closure)
        if closure.type != "closure_expression":
            return None
        scope = Scope()
        for p in closure_params(closure):
            scope.vars[p] = Binding(Kind.GUARD, (), target=g.target)
        ctx.scopes.append(scope)
        try:
            body = closure.child_by_field_name("body") or closure
            if body.type == "block" and len(named(body)) == 1:
                body = named(body)[0]
            return self.d.pure_condition(ctx, body)
        finally:
            ctx.scopes.pop()

    def spawn(self, ctx: Ctx, node: Node, args: list[Node], stem: str) -> Val:
        """`thread::spawn(move || ..)`, `tokio::spawn(async move { .. })`,
        `spawn_blocking(..)`: a new thread running the closure's spec `fn`."""
        call = self.closure_call(ctx, args, stem)
        return Val(f"spawn {call}", Kind.HANDLE, stmt=True)

    def closure_call(self, ctx: Ctx, args: list[Node], stem: str, params: bool = False) -> str:
        """The spec call `f(captured..)` of a closure argument (a crate fn passed by name:
        that fn)."""
        d = self.d
        closure = self._closure_arg(args)
        if not args:
            return "none()"
        if closure is None:
            arg = unwrap_parens(args[0])
            if arg.type == "call_expression":  # tokio::spawn(async_fn(a))
                fname = text(arg.child_by_field_name("function"))
                fn = d.crate.fns.get(fname)
                if fn is not None:
                    spec = self.crate_fn(ctx, fn, arg)
                    argv = self.arguments(
                        ctx, arg, fn, named(arg.child_by_field_name("arguments") or arg)
                    )
                    if spec is not None:
                        return f"{spec}({', '.join(argv)})"
            if arg.type == "identifier" and text(arg) in d.crate.fns:
                fn = d.crate.fns[text(arg)]
                spec = self.crate_fn(ctx, fn, arg)
                if spec is not None:
                    return f"{spec}()"
        if closure is None:
            raise d.refuse(
                ctx,
                args[0],
                "the code a thread or task runs is not a closure or a function of the crate",
                "pass a closure (`move || ..`) or a function of the crate",
            )
        return d.closure_fn(ctx, closure, stem, pass_params=params)

    def rayon_join(self, ctx: Ctx, node: Node, args: list[Node]) -> Val:
        """`rayon::join(|| a, || b)`: two jobs on rayon's pool; the caller waits for both."""
        d = self.d
        d.spec.use("rayon")
        futs = []
        for a in args[:2]:
            call = self.closure_call(ctx, [a], "rayon_job")
            f = d.spec.names.fresh("job")
            d.stmt(ctx, node, f"let {f} = submit rayon_global_pool, {call}")
            futs.append(f)
        return Val(f"call rayon_join({', '.join(futs)})", Kind.PLAIN, stmt=True)

    def par_iter(self, ctx: Ctx, node: Node, start: Node, args: list[Node]) -> Val:
        """`xs.par_iter().map(|x| ..).collect()`: two jobs (two chunks) on rayon's pool
        running the closure; the caller waits for both."""
        d = self.d
        closures: list[Node] = []
        cur: Node | None = node
        while cur is not None and cur.type == "call_expression":
            _, recv, cargs = self._callee(cur)
            c = self._closure_arg(cargs)
            if c is not None:
                closures.insert(0, c)
            if cur == start:
                break
            cur = unwrap_parens(recv) if recv is not None else None
        d.spec.use("rayon")
        if not closures:
            return Val.none()
        d.spec.writer.assume(ctx.where(node), "the parallel iterator is assumed split into 2 jobs")
        call = d.closure_fn(
            ctx, closures[-1] if len(closures) == 1 else closures[0], "par_job", pass_params=True
        )
        futs = []
        for _ in range(2):
            f = d.spec.names.fresh("job")
            d.stmt(ctx, node, f"let {f} = submit rayon_global_pool, {call}")
            futs.append(f)
        return Val(f"call rayon_join({', '.join(futs)})", Kind.PLAIN, stmt=True)

    # ------------------------------------------------------------------ the crate's fns

    def crate_fn(self, ctx: Ctx, fn: FnDef, node: Node) -> str | None:
        """The spec name of a crate function, drafted on first use (None beyond the
        inlining depth: an assumption)."""
        d = self.d
        key = f"{fn.owner}::{fn.name}" if fn.owner else fn.name
        if key in d.spec.drafted:
            return d.spec.drafted[key]
        if ctx.depth + 1 > d.options.inline_depth:
            d.assume(ctx, node, "beyond the inlining depth, assumed not to block: {code}")
            return None
        name = d.spec.names.claim(fn.name if not fn.owner else f"{fn.owner}_{fn.name}")
        d.spec.drafted[key] = name
        body = d.function_body(fn, name, ctx.depth + 1)
        d.spec.fns.append(body)
        return name

    def call_crate(self, ctx: Ctx, node: Node, fn: FnDef, args: list[Node]) -> Val:
        """`f(a, b)` of the crate's own function: `call f(a, b)`."""
        name = self.crate_fn(ctx, fn, node)
        if name is None:
            return Val.none(Kind.UNKNOWN)
        argv = self.arguments(ctx, node, fn, args)
        return Val(f"call {name}({', '.join(argv)})", Kind.UNKNOWN, stmt=True)

    def arguments(self, ctx: Ctx, node: Node, fn: FnDef, args: list[Node]) -> list[str]:
        """The spec arguments of a call of a crate function (its `py` left out)."""
        params = [(n, t) for n, t in fn.params() if n != "self"]
        out: list[str] = []
        for i, (_, ptype) in enumerate(params):
            if i >= len(args):
                break
            kind = kind_of_type(ptype)
            if kind == Kind.PY:
                continue
            arg = args[i]
            v = self.value(ctx, arg)
            if kind == Kind.PAIR and v.kind == Kind.PAIR:
                out.extend(v.names)
                continue
            if kind == Kind.PAIR:
                out.extend(["none", "none"])
                continue
            if v.kind == Kind.SENDER and arg.type == "reference_expression":
                v = Val(f"clone {v.text}", Kind.SENDER, stmt=True)
            v = self.d.hoist(ctx, arg, v, "arg")
            out.append(v.text)
        return out

    # ------------------------------------------------------------------ macros

    def macro(self, ctx: Ctx, node: Node) -> Val:
        """`println!`, `eprintln!`, `format!`, `panic!`, `vec!`, ..."""
        d = self.d
        name = macro_name(node)
        if name in PRINT_MACROS:
            d.stmt(ctx, node, "print " + self.printed(ctx, node))
            return Val.none()
        if name in ERR_PRINT_MACROS:
            d.spec.item("rlock rust_stderr")
            ctx.body.open("lock rust_stderr", ctx.where(node))
            if self._formats_python(ctx, node):
                ctx.body.open("with_gil", ctx.where(node))
                ctx.body.stmt("skip", ctx.where(node))
                ctx.body.close()
            else:
                ctx.body.stmt("skip", ctx.where(node))
            ctx.body.close()
            return Val.none()
        if name in ("format", "write", "writeln", "format_args"):
            if self._formats_python(ctx, node):
                return self.format_python(ctx, node)
            return Val('"' + _escape(format_args(node).template) + '"', Kind.PLAIN)
        if name in ("panic", "unreachable", "todo", "unimplemented"):
            d.stmt(ctx, node, f'panic "{_escape(format_args(node).template or name)}"')
            return Val.none()
        if name == "vec":
            return Val.none(Kind.HANDLES)
        if name in (
            "assert",
            "assert_eq",
            "assert_ne",
            "debug_assert",
            "dbg",
            "info",
            "debug",
            "trace",
            "warn",
            "error",
            "matches",
            "concat",
            "stringify",
            "include_str",
            "env",
            "line",
            "file",
            "column",
            "cfg",
        ):
            if name in ("info", "debug", "trace", "warn", "error"):
                d.assume(ctx, node, "the logger is assumed not to take the GIL: {code}")
            return Val.none()
        d.assume(ctx, node, "assumed not to block: {code}")
        return Val.none(Kind.UNKNOWN)

    def _formatted(self, ctx: Ctx, node: Node) -> list[Val]:
        fmt = format_args(node)
        saved = ctx.origin_at
        ctx.origin_at = ctx.where(node)
        out: list[Val] = []
        try:
            for n in fmt.names:
                b = ctx.lookup(n) or self.d.spec.statics.get(n)
                if b is not None and n in fmt.debug_names and _unbound_py(b.type_text):
                    out.append(Val.none())  # Debug of an unbound Py<T>: a pointer, no GIL
                elif b is not None and b.kind != Kind.GUARD:
                    out.append(Val(b.name, b.kind, names=b.names))
                else:
                    out.append(Val.none())
            for i, a in enumerate(fmt.args):
                v = self.value(ctx, a)
                if v.stmt:
                    v = self.d.hoist(ctx, node, v)
                debug = i < len(fmt.debug_args) and fmt.debug_args[i]
                b = ctx.lookup(text(a)) if a.type == "identifier" else None
                if debug and b is not None and _unbound_py(b.type_text):
                    v = Val.none()
                out.append(v)
        finally:
            ctx.origin_at = saved
        return out

    def _formats_python(self, ctx: Ctx, node: Node) -> bool:
        return any(v.kind == Kind.PYVAL for v in self._formatted(ctx, node))

    def printed(self, ctx: Ctx, node: Node) -> str:
        """What `print` prints for a `println!`: a Python value if it formats one (the
        GIL is then taken inside stdout's lock), a value whose kind shows at run time, or
        the format string."""
        vals = self._formatted(ctx, node)
        for v in vals:
            if v.kind == Kind.PYVAL:
                return v.text
        for v in vals:
            if v.kind == Kind.UNKNOWN and v.text != "none":
                return v.text
        return '"' + _escape(format_args(node).template) + '"'

    def format_python(self, ctx: Ctx, node: Node) -> Val:
        """Formatting a Python value (`format!("{e}")`, `e.to_string()`) takes the GIL for
        that step; the result is a plain string."""
        ctx.body.open("with_gil", ctx.where(node))
        ctx.body.stmt("skip", ctx.where(node))
        ctx.body.close()
        return Val('"' + _escape(_short(node)) + '"', Kind.PLAIN)


def _unbound_py(type_text: str) -> bool:
    """`Py<T>`/`PyObject`: PyO3's Debug of it prints a pointer and takes no GIL."""
    return re.match(r"^(&\s*)?(Py\s*<|PyObject\b)", type_text.strip()) is not None


def _literal(args: list[Node]) -> str:
    """The literal a `Mutex::new(..)` holds, when it is a `bool` or an integer."""
    if len(args) != 1:
        return ""
    t = text(args[0]).replace("_", "")
    if t in ("true", "false"):
        return t
    m = re.fullmatch(r"(-?\d+)(u8|u16|u32|u64|usize|i8|i16|i32|i64|isize)?", t)
    return m.group(1) if m else ""


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _short(node: Node) -> str:
    s = " ".join(text(node).split())
    return s if len(s) <= 40 else s[:37] + "..."


def _message(node: Node) -> str:
    node = unwrap_parens(node)
    if node.type == "string_literal":
        return text(node)[1:-1]
    if node.type == "call_expression" and text(node.child_by_field_name("function")).endswith(
        ("to_string", "to_owned", "String::from", "into")
    ):
        inner = [n for n in named(node) if n.type == "string_literal"]
        if inner:
            return text(inner[0])[1:-1]
        fn = node.child_by_field_name("function")
        base = (
            fn.child_by_field_name("value")
            if fn is not None and fn.type == ("field_expression")
            else None
        )
        if base is not None and base.type == "string_literal":
            return text(base)[1:-1]
    if node.type == "macro_invocation":
        return format_args(node).template
    return " ".join(text(node).split())
