"""The draft of a whole program: the main module's top-level code (and its `__main__`
block) as `thread main`, or the entry points named in the options started as threads;
the functions they reach as `fn`s; declarations, exit handlers, finalizers and signal
handlers; then the spec's text."""

from __future__ import annotations

import ast
from collections.abc import Sequence

from gilcheck.draft.model import Draft, DraftError, DraftOptions, SourceText
from gilcheck.draft.python import exprs, functions, stmts
from gilcheck.draft.python.ir import Block, Node, emit
from gilcheck.draft.python.names import Namer, legal
from gilcheck.draft.python.program import Module, Program, canonical, parse_sources, simple_value
from gilcheck.draft.python.state import Frame, State
from gilcheck.draft.python.values import UNKNOWN, Const, Func, Value
from gilcheck.draft.writer import SpecWriter


def draft_python(sources: Sequence[SourceText], options: DraftOptions) -> Draft:
    """Draft one spec (`host python`) for the program made of these Python files.

    Data the draft does not follow is written as a stand-in literal where it enters a
    channel, a return or a future (`exprs.message`); a comparison of a value that may
    be such a stand-in is a choice where the stand-in cannot decide it. Which stand-ins
    the spec uses is known only at the end, so a draft that compared such values is made
    again knowing them."""
    guard: frozenset[str] = frozenset()
    while True:
        st, draft = _draft_once(sources, options, guard)
        used = frozenset(st.placeholders_used)
        if not st.vague_compared or used <= guard:
            return draft
        guard = guard | used


def _draft_once(
    sources: Sequence[SourceText], options: DraftOptions, guard: frozenset[str]
) -> tuple[State, Draft]:
    program = parse_sources(sources)
    st = State(program, options, SpecWriter(), Namer())
    st.guard = guard
    st.gnames.taken.add("main")
    main_module = program.main
    frame = Frame(module=main_module, namer=st.gnames.child(), env=st.genv, is_module=True)
    frame.blocks = [[]]
    st.frame = frame
    _prepare(st, program)
    for module in program.modules:
        if module is not main_module:
            _module_setup(st, module)
    frame.module = main_module
    stmts.block(st, main_module.tree.body)
    if options.entries:
        _entries(st, main_module.tree, options.entries)
    _check_loops(st)
    lets = st.hoisted_lets(frame)
    main_nodes = lets + frame.blocks[0]
    return st, Draft(
        _render(st, main_module.src, main_nodes), tuple(st.writer.assumptions), tuple(sources)
    )


def _prepare(st: State, program: Program) -> None:
    """Module-level names: functions, read-only constants, and the shared variables that
    functions change (`var`)."""
    for name in program.functions:
        st.genv[name] = Func(name)
    for m in program.modules:
        for node in ast.walk(m.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                st.read_in_functions.update(n.id for n in ast.walk(node) if isinstance(n, ast.Name))
    main = program.main
    st.uses_logging_module = program.uses_fork and any(
        canonical(m, a).split(".")[0] == "logging" for m in program.modules for a in m.aliases
    )
    assigned: dict[str, list[ast.stmt]] = {}
    for s in main.tree.body:
        for n in _assignments(s):
            assigned.setdefault(n, []).append(s)
    walrus = {n.target.id for n in ast.walk(main.tree) if isinstance(n, ast.NamedExpr)}
    writes_elsewhere = _function_writes(program)
    for name, where in assigned.items():
        first = where[0]
        value = first.value if isinstance(first, ast.Assign | ast.AnnAssign) else None
        if not isinstance(value, ast.Constant):
            continue
        literal = exprs.literal(value.value)
        if literal is None:
            continue
        if name not in program.global_writes and len(where) == 1 and name not in walrus:
            st.constants.add(name)
            st.genv[name] = Const(value.value)  # type: ignore[arg-type]
            st.skip_nodes.add(id(first))
            continue
        if not all(simple_value(v) for v in writes_elsewhere.get(name, [])):
            continue
        var = st.global_name(name)
        st.declare(f"var {var} = {literal}", first, var)
        st.shared[name] = var
        st.genv[name] = _data(var)
        st.skip_nodes.add(id(first))


def _data(var: str) -> object:
    from gilcheck.draft.python.values import Data

    return Data(var)


def _assignments(s: ast.stmt) -> list[str]:
    """The names a module-level statement binds, nested blocks included (not the
    bodies of functions and classes)."""
    if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return []
    found: list[str] = []
    if isinstance(s, ast.Assign):
        for t in s.targets:
            found += [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]
    elif isinstance(s, ast.AnnAssign | ast.AugAssign) and isinstance(s.target, ast.Name):
        found.append(s.target.id)
    elif isinstance(s, ast.For | ast.AsyncFor):
        found += [n.id for n in ast.walk(s.target) if isinstance(n, ast.Name)]
    elif isinstance(s, ast.With | ast.AsyncWith):
        for item in s.items:
            if item.optional_vars is not None:
                found += [n.id for n in ast.walk(item.optional_vars) if isinstance(n, ast.Name)]
    for field in ("body", "orelse", "finalbody"):
        for inner in getattr(s, field, []) or []:
            if isinstance(inner, ast.stmt):
                found += _assignments(inner)
    for handler in getattr(s, "handlers", []) or []:
        for inner in handler.body:
            found += _assignments(inner)
    return found


def _function_writes(program: Program) -> dict[str, list[ast.expr]]:
    out: dict[str, list[ast.expr]] = {}
    for m in program.modules:
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Name):
                        out.setdefault(t.id, []).append(node.value)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                out.setdefault(node.target.id, []).append(node.value)
    return out


def _module_setup(st: State, module: Module) -> None:
    """Another file of the program: its top-level objects and classes (what importing it
    makes)."""
    st.f.module = module
    body: list[ast.stmt] = [
        s for s in module.tree.body if isinstance(s, ast.Assign | ast.AnnAssign | ast.ClassDef)
    ]
    stmts.block(st, body)


def _entries(st: State, tree: ast.Module, entries: tuple[str, ...]) -> None:
    """Each named entry point started on a thread of its own, then joined."""
    handles = []
    for name in entries:
        info = st.program.functions.get(name)
        if info is None:
            raise DraftError(
                f"no function `{name}` to start as an entry point",
                st.f.module.src.path,
                hint="name a function defined at the top level of the module",
                code="unknown-entry",
            )
        args: list[Value] = [UNKNOWN] * len(info.params)
        made = functions.instantiate(st, info, args, {}, info.node)
        if made is None:
            continue
        fname, passed = made
        handles.append(
            st.temp(f"{legal(name)}_thread", f"spawn {fname}({', '.join(passed)})", info.node)
        )
    for h in handles:
        st.out(f"join {h}")


def _check_loops(st: State) -> None:
    for name, node in st.loops_declared:
        if name not in st.loops_started:
            raise st.refuse(
                node,
                "an event loop that no thread runs",
                "the draft models a loop run by `threading.Thread(target=loop.run_forever)` "
                "or `loop.run_until_complete`; a loop that never runs leaves its tasks "
                "pending for ever: write that by hand",
            )


def _render(st: State, src: SourceText, main_nodes: list[Node]) -> str:
    w = st.writer
    others = [m.src.path for m in st.program.modules if m.src.path != src.path]
    w.header(f"# Drafted from {', '.join([src.path, *others])} by gilcheck draft")
    w.header(f'scenario "{st.program.main.name}"')
    w.header("host python")
    if st.uses_cpython:
        w.header('use "cpython"')
    if st.items:
        for text, origin in st.items:
            w.item(text, origin)
        w.blank()
    emit(w, [Block("thread main", None, [Block("python", None, main_nodes)])])
    for fn in st.fns:
        w.blank()
        emit(w, [Block(f"fn {fn.name}({', '.join(fn.params)})", fn.origin, fn.body)])
    if st.atexit:
        w.blank()
        emit(w, [Block("atexit", None, st.atexit)])
    for body in st.finalizers:
        w.blank()
        emit(w, [Block("finalizer", None, body)])
    for body in st.signals:
        w.blank()
        emit(w, [Block("signal", None, body)])
    return w.render()
