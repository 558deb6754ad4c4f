"""The shape of a drafted scenario: a binary's `fn main` (host rust) or an extension
module's entry points called from Python threads (host python), and the spec's layout."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from tree_sitter import Node

from gilcheck.draft.model import Draft, DraftError, DraftOptions, SourceText
from gilcheck.draft.rust.context import Ctx, Scope
from gilcheck.draft.rust.crate import Crate, FnDef, collect
from gilcheck.draft.rust.emit import Body
from gilcheck.draft.rust.kinds import Binding, Kind, kind_of_type
from gilcheck.draft.rust.names import NameTable
from gilcheck.draft.rust.parse import origin, parse_rust, text, walk
from gilcheck.draft.rust.spec import Spec
from gilcheck.draft.rust.translate import Drafter, has_return
from gilcheck.draft.rust.vocabulary import CURRENT_THREAD
from gilcheck.draft.writer import SpecWriter

_STATIC_ITEMS = {
    "mutex": ("mutex", Kind.MUTEX),
    "rwlock": ("rwlock", Kind.RWLOCK),
    "condvar": ("condvar", Kind.CONDVAR),
    "once": ("once", Kind.ONCE),
    "oncelock": ("once", Kind.ONCE),
    "py_once_lock": ("once", Kind.ONCE),
    "lazy": ("once", Kind.UNKNOWN),
}

# Words in a function's text that show it touches a lock, a channel, a once-cell, a
# thread or a runtime (an entry worth running concurrently).
_SYNC_WORDS = re.compile(
    r"\.(lock|read|write|recv|blocking_recv|send|blocking_send|join|wait|wait_while|"
    r"call_once|get_or_init|get_or_try_init|block_on|par_iter|into_par_iter|install|"
    r"allow_threads|detach|notify_one|notify_all)\s*\(|thread::spawn|with_gil|attach|"
    r"println!|rayon::join"
)


def draft_rust(
    sources: Sequence[SourceText], options: DraftOptions, edition: str = "2021"
) -> Draft:
    """Draft one spec from Rust/PyO3 sources: `fn main` becomes `thread main` (host
    rust); without one, the crate's `#[pyfunction]`/`#[pymethods]` entry points run on
    Python threads (host python). Raises `DraftError` on a syntax error or a construct
    the draft refuses.

    Temporaries live as in Rust edition 2021 (those of an `if let`'s value to the end of
    its `else`), unless `edition` is "2024" (to the end of its `then` block): see
    `cargo_edition`."""
    if not sources:
        raise DraftError("no source to draft", "", hint="give at least one .rs file")
    parsed: list[tuple[SourceText, Node]] = [(s, parse_rust(s).root_node) for s in sources]
    crate = collect(parsed)
    spec = Spec(SpecWriter(), NameTable())
    drafter = Drafter(crate, options, spec, edition)
    check_entries(crate, options, sources[0])
    _declare_statics(crate, spec)
    main = crate.fns.get("main")
    spec.host = "rust" if main is not None and main.is_main else "python"
    if main is not None and main.is_main:
        host, title, thread = _binary(drafter, main)
    else:
        host, title, thread = _extension(drafter, crate, options, sources[0])
    writer = spec.writer
    for dropper in {id(f): f for f in crate.fns.values()}.values():
        if dropper.trait == "Drop" and _touches_sync(crate, dropper):
            writer.assume(
                origin(dropper.src, dropper.node),
                f"the Drop of `{dropper.owner}` is not drafted: assumed not to block",
            )
    names = ", ".join(s.path.rsplit("/", 1)[-1] for s in sources)
    writer.header(f"# Drafted from {names} by gilcheck draft")
    writer.header(f'scenario "{title}"')
    writer.header(f"host {host}")
    for model in spec.uses:
        writer.header(f'use "{model}"')
    for item, where in spec.items:
        writer.item(item, where)
    if spec.items:
        writer.blank()
    thread.write(writer)
    for fn in spec.fns:
        writer.blank()
        fn.write(writer)
    return Draft(writer.render(), tuple(writer.assumptions), tuple(sources))


def _declare_statics(crate: Crate, spec: Spec) -> None:
    """Top-level items for the crate's statics (locks, once-cells, lazy values)."""
    for name, st in crate.statics.items():
        where = origin(st.src, st.node)
        if st.kind == "gil_once_cell":
            spec_name = spec.names.claim(name)
            spec.item(f"var {spec_name} = false", where)
            spec.statics[name] = Binding(Kind.UNKNOWN, (spec_name,))
        elif st.kind in _STATIC_ITEMS:
            word, kind = _STATIC_ITEMS[st.kind]
            if st.kind == "lazy" and "Runtime" in st.type_text:
                spec.statics[name] = Binding(Kind.RUNTIME, ())
                continue
            spec_name = spec.names.claim(name)
            spec.item(f"{word} {spec_name}", where)
            spec.statics[name] = Binding(kind, (spec_name,))
            init = re.fullmatch(
                r"\w+::new\(\s*(true|false|-?\d+)\s*\)", text(st.node.child_by_field_name("value"))
            )
            if kind == Kind.MUTEX and init:
                spec.data_init[spec_name] = (init.group(1), where)
        elif "Runtime" in st.type_text:
            spec.statics[name] = Binding(Kind.RUNTIME, ())


def _binary(drafter: Drafter, main: FnDef) -> tuple[str, str, Body]:
    """A binary embedding Python: `thread main` from `fn main`'s body."""
    spec = drafter.spec
    spec.names.used.add("main")
    body = Body("thread main", None)
    prev = main.node.prev_named_sibling
    while prev is not None and prev.type in ("attribute_item", "line_comment", "block_comment"):
        if "current_thread" in text(prev):
            spec.writer.assume(origin(main.src, prev), CURRENT_THREAD)
        prev = prev.prev_named_sibling
    block = main.node.child_by_field_name("body")
    if block is not None and has_return(block):
        # `return` ends `fn main`; a spec thread has no `return`: its body is a fn
        name = spec.names.claim("rust_main")
        inner = Body(f"fn {name}()", origin(main.src, main.node))
        drafter.block(Ctx(inner, main.src, name, 0, [Scope()]), block)
        spec.fns.insert(0, inner)
        body.stmt(f"call {name}()", origin(main.src, main.node))
    elif block is not None:
        drafter.block(Ctx(body, main.src, "main", 0, [Scope()]), block)
    path = main.src.path.rsplit("/", 1)[-1]
    return "rust", f"{path}: fn main", body


def _touches_sync(crate: Crate, fn: FnDef, seen: set[str] | None = None) -> bool:
    """The function (or a crate function it calls) takes a lock, uses a channel, a
    once-cell, a thread, a runtime or the GIL explicitly."""
    seen = seen if seen is not None else set()
    if fn.name in seen:
        return False
    seen.add(fn.name)
    body = text(fn.node.child_by_field_name("body"))
    if _SYNC_WORDS.search(body) or any(
        re.search(rf"\b{re.escape(s)}\b", body) for s in crate.statics
    ):
        return True
    for n in walk(fn.node):
        if n.type == "call_expression":
            callee = text(n.child_by_field_name("function")).rsplit(".", 1)[-1]
            other = crate.fns.get(callee)
            if other is not None and _touches_sync(crate, other, seen):
                return True
    return False


def cargo_edition(files: Sequence[Path]) -> str:
    """The Rust edition of the crate a source file belongs to: `edition = "..."` of the
    nearest Cargo.toml in its folder or a folder above it; 2021 when none says."""
    for f in files[:1]:
        for folder in list(f.resolve().parents)[:4]:
            manifest = folder / "Cargo.toml"
            if manifest.is_file():
                try:
                    found = re.search(
                        r'^\s*edition\s*=\s*"(\d{4})"', manifest.read_text(), re.MULTILINE
                    )
                except (OSError, UnicodeDecodeError):
                    return "2021"
                return found.group(1) if found else "2021"
    return "2021"


def check_entries(crate: Crate, options: DraftOptions, src: SourceText) -> None:
    """Every entry point named in the options is a function of the crate."""
    for name in options.entries:
        if name not in crate.fns:
            raise DraftError(
                f"no function `{name}` to start as an entry point",
                src.path,
                hint="name a #[pyfunction], a method of a #[pymethods] block or another "
                "function of the crate",
                code="draft-error",
            )


def entry_points(crate: Crate, options: DraftOptions, src: SourceText) -> list[FnDef]:
    """The entries to run on Python threads: those named in the options, or else every
    `#[pyfunction]`/`#[pymethods]` entry that touches a lock, a channel, a once-cell, a
    thread or the GIL explicitly (all of them in one scenario, one thread each; a single
    such entry runs on two threads, as two Python threads calling it)."""
    if options.entries:
        check_entries(crate, options, src)
        return [crate.fns[name] for name in options.entries]
    pyentries = [crate.fns[k] for k in dict.fromkeys(crate.order) if crate.fns[k].is_pyentry]
    chosen = [fn for fn in pyentries if _touches_sync(crate, fn)]
    if len(chosen) == 1:
        chosen = chosen * 2
    return chosen


def _extension(
    drafter: Drafter, crate: Crate, options: DraftOptions, src: SourceText
) -> tuple[str, str, Body]:
    """An extension module: `thread main` starts one Python thread per entry point, each
    calling it from Python code, and joins them."""
    entries = entry_points(crate, options, src)
    if not entries:
        raise DraftError(
            "no entry point: no `fn main` and no #[pyfunction] that touches a lock, a "
            "channel, a once-cell, a thread or the GIL",
            src.path,
            hint="name the functions to run concurrently with `--entry FUNCTION`",
            refused=True,
            code="no-entry",
        )
    spec = drafter.spec
    spec.names.used.add("main")
    main = Body("thread main", None)
    handles: list[str] = []
    wrappers: dict[str, str] = {}
    for fn in entries:
        ctx = Ctx(main, fn.src, "main", 0, [Scope()])
        spec_name = drafter.calls.crate_fn(ctx, fn, fn.node)
        if spec_name is None:
            continue
        args = [
            f'pyobj("{name}")' if kind_of_type(t) == Kind.PYVAL else "none"
            for name, t in fn.params()
            if name != "self" and kind_of_type(t) != Kind.PY
        ]
        thread_fn = wrappers.get(spec_name, "")
        if not thread_fn:
            thread_fn = wrappers[spec_name] = spec.names.claim(f"python_thread_{spec_name}")
            wrapper = Body(f"fn {thread_fn}()", None)
            wrapper.open("python")
            wrapper.stmt(f"call {spec_name}({', '.join(args)})", origin(fn.src, fn.node))
            wrapper.close()
            spec.fns.insert(0, wrapper)
        h = spec.names.fresh("t")
        main.stmt(f"let {h} = spawn {thread_fn}()")
        handles.append(h)
    for h in handles:
        main.stmt(f"join {h}")
    names = ", ".join(dict.fromkeys(fn.name for fn in entries))
    path = src.path.rsplit("/", 1)[-1]
    return "python", f"{path}: {names} called from Python threads", main
