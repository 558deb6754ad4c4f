"""The items of a crate the drafter needs: its functions (with their PyO3 attributes) and
its statics (locks, once-cells, lazily initialised values), across every source file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from gilcheck.draft.model import SourceText
from gilcheck.draft.rust.parse import named, parse_fragment, text, walk


@dataclass
class FnDef:
    """A function of the crate: a free function, or a method of an `impl` block."""

    name: str
    node: Node
    src: SourceText
    attributes: tuple[str, ...]
    owner: str = ""  # the `impl` type of a method
    is_async: bool = False
    trait: str = ""  # the trait of the `impl` block (`Drop`), if any

    @property
    def is_main(self) -> bool:
        """`fn main` at the top of a binary."""
        return self.name == "main" and not self.owner

    @property
    def is_pyentry(self) -> bool:
        """A `#[pyfunction]`, or a method of a `#[pymethods]` block: callable from Python."""
        return any(a in ("pyfunction", "pymethods") for a in self.attributes)

    def params(self) -> list[tuple[str, str]]:
        """The parameters as (name, written type); `self` has the type `Self`."""
        out: list[tuple[str, str]] = []
        params = self.node.child_by_field_name("parameters")
        for p in named(params) if params is not None else []:
            if p.type == "self_parameter":
                out.append(("self", "Self"))
            elif p.type == "parameter":
                pat = p.child_by_field_name("pattern")
                out.append(
                    (text(pat).replace("mut ", "").strip(), text(p.child_by_field_name("type")))
                )
        return out


@dataclass
class StaticDef:
    """A `static` (or `lazy_static!` item) that the spec declares at the top level."""

    name: str
    kind: str  # mutex, rwlock, condvar, once, oncelock, gil_once_cell, py_once_lock, lazy, other
    type_text: str
    node: Node
    src: SourceText
    init: Node | None = None  # a lazy static's initializer expression


@dataclass
class Crate:
    """Every function and static of the sources."""

    fns: dict[str, FnDef] = field(default_factory=dict)
    statics: dict[str, StaticDef] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    modules: set[str] = field(default_factory=lambda: {"crate", "self", "super"})
    fields: dict[str, list[str]] = field(default_factory=dict)  # struct field: its types

    def add_fn(self, fn: FnDef) -> None:
        """Record a function (by its plain name, and `Type::name` for methods)."""
        keys = [fn.name] if not fn.owner else [f"{fn.owner}::{fn.name}", fn.name]
        for key in keys:
            if key not in self.fns:
                self.fns[key] = fn
        self.order.append(keys[0])


def _attributes(node: Node) -> tuple[str, ...]:
    """The attributes written just before an item (`pyfunction`, `tokio::main`)."""
    out: list[str] = []
    prev = node.prev_named_sibling
    while prev is not None and prev.type in ("attribute_item", "line_comment", "block_comment"):
        if prev.type == "attribute_item":
            attr = text(prev).strip("#[] \n")
            out.append(re.split(r"[(\s]", attr, maxsplit=1)[0])
        prev = prev.prev_named_sibling
    return tuple(out)


def static_kind(type_text: str, init_text: str) -> str:
    """The kind of a static from its type (and initializer, for `Lazy`/`LazyLock`)."""
    t = type_text.replace(" ", "")
    if re.match(r"(\w+::)*(GILOnceCell)<", t):
        return "gil_once_cell"
    if re.match(r"(\w+::)*(PyOnceLock)<", t):
        return "py_once_lock"
    if re.match(r"(\w+::)*(OnceLock|OnceCell)<", t):
        return "oncelock"
    if re.match(r"(\w+::)*Once$", t):
        return "once"
    inner = re.sub(r"^(\w+::)*(LazyLock|Lazy|Arc)<(.*)>$", r"\3", t)
    lazy_init = re.search(r"(LazyLock|Lazy)::new\(", init_text) is not None
    if re.match(r"(\w+::)*Mutex<", inner):
        return "mutex"
    if re.match(r"(\w+::)*RwLock<", inner):
        return "rwlock"
    if re.match(r"(\w+::)*Condvar$", inner):
        return "condvar"
    if lazy_init or t.startswith(("LazyLock<", "Lazy<")):
        return "lazy"
    return "other"


def collect(sources: list[tuple[SourceText, Node]]) -> Crate:
    """The functions and statics of every parsed source file."""
    crate = Crate()
    for src, root in sources:
        crate.modules.add(src.path.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".rs"))
        _collect_items(crate, src, root, owner="", owner_attrs=())
        for n in walk(root):  # statics declared inside function bodies are statics too
            if n.type == "static_item" and text(n.child_by_field_name("name")) not in crate.statics:
                _add_static(crate, src, n, n)
            if (  # and so are functions (`fn helper()` inside `fn main`)
                n.type == "function_item"
                and n.parent is not None
                and n.parent.type == "block"
                and text(n.child_by_field_name("name")) not in crate.fns
            ):
                _collect_items(crate, src, n.parent, owner="", owner_attrs=(), only=n)
    return crate


def _collect_items(
    crate: Crate,
    src: SourceText,
    node: Node,
    owner: str,
    owner_attrs: tuple[str, ...],
    trait: str = "",
    only: Node | None = None,
) -> None:
    for item in named(node):
        if only is not None and item != only:
            continue
        if item.type == "function_item":
            mods = [c for c in item.children if c.type == "function_modifiers"]
            crate.add_fn(
                FnDef(
                    text(item.child_by_field_name("name")),
                    item,
                    src,
                    _attributes(item) + owner_attrs,
                    owner,
                    any("async" in text(m) for m in mods),
                    trait,
                )
            )
        elif item.type == "impl_item":
            body = item.child_by_field_name("body")
            if body is not None:
                type_name = re.sub(r"<.*", "", text(item.child_by_field_name("type")))
                trait_name = re.sub(r"<.*", "", text(item.child_by_field_name("trait")))
                _collect_items(
                    crate, src, body, type_name, _attributes(item), trait_name.rsplit("::")[-1]
                )
        elif item.type == "struct_item":
            body = item.child_by_field_name("body")
            for f in named(body) if body is not None else []:
                if f.type == "field_declaration":
                    name = text(f.child_by_field_name("name"))
                    crate.fields.setdefault(name, []).append(text(f.child_by_field_name("type")))
        elif item.type == "mod_item":
            crate.modules.add(text(item.child_by_field_name("name")))
            body = item.child_by_field_name("body")
            if body is not None:
                _collect_items(crate, src, body, owner, owner_attrs)
        elif item.type == "static_item":
            _add_static(crate, src, item, item)
        elif item.type == "macro_invocation" and text(item.child_by_field_name("macro")) in (
            "lazy_static",
            "lazy_static::lazy_static",
        ):
            _lazy_static(crate, src, item)


def _add_static(crate: Crate, src: SourceText, item: Node, where: Node) -> None:
    name = text(item.child_by_field_name("name"))
    type_text = text(item.child_by_field_name("type"))
    value = item.child_by_field_name("value")
    kind = static_kind(type_text, text(value))
    init: Node | None = None
    if kind == "lazy" and value is not None:
        init = value
        if value.type == "call_expression":  # LazyLock::new(|| ..)
            args = value.child_by_field_name("arguments")
            first = named(args)[0] if args is not None and named(args) else None
            if first is not None and first.type == "closure_expression":
                init = first.child_by_field_name("body")
            elif first is not None and first.type in ("identifier", "scoped_identifier"):
                init = first  # LazyLock::new(build): the function, called at first use
    crate.statics[name] = StaticDef(name, kind, type_text, where, src, init)


def _lazy_static(crate: Crate, src: SourceText, macro: Node) -> None:
    """`lazy_static! { static ref X: T = expr; }`: each item is a lazy static."""
    body = text(macro)
    inner = body[body.index("{") + 1 : body.rindex("}")] if "{" in body else ""
    code = re.sub(r"\bstatic\s+ref\b", "static", inner)
    root = parse_fragment(code)
    for item in named(root):
        if item.type == "static_item":
            name = text(item.child_by_field_name("name"))
            type_text = text(item.child_by_field_name("type"))
            value = item.child_by_field_name("value")
            kind = static_kind(type_text, "")
            if kind == "other":
                kind = "lazy"
            crate.statics[name] = StaticDef(name, kind, type_text, macro, src, value)
