"""The state of drafting one body: the spec statements written so far, the Rust variables
in scope (with their kinds and spec names), the guards each scope holds, and the
temporaries of the statement being drafted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from tree_sitter import Node

from gilcheck.draft.model import Origin, SourceText
from gilcheck.draft.rust.emit import Body
from gilcheck.draft.rust.kinds import Binding, Kind
from gilcheck.draft.rust.parse import origin

_CTORS = r"(mutex|rwlock|rlock|condvar|once|barrier|pool|channel|oneshot)\("
_STATEMENTS = ("let_declaration", "expression_statement")
_CONTAINERS = ("block", "source_file", "closure_expression", "match_arm", "declaration_list")


def statement_of(node: Node) -> Node:
    """The source statement `node` is part of (a `let`, an expression statement, a block's
    tail expression, a closure's expression body): where its drafted statements come from."""
    n = node
    while n.type not in _STATEMENTS and n.parent is not None and n.parent.type not in _CONTAINERS:
        n = n.parent
    return n


@dataclass
class Scope:
    """One Rust block: its variables and the guards it holds (in the order taken)."""

    vars: dict[str, Binding] = field(default_factory=dict)
    guards: list[Binding] = field(default_factory=list)
    loop: bool = False  # a loop's body: `break`/`continue` leave it
    handles: list[str] = field(default_factory=list)  # `thread::scope` joins these at its end
    unrolled: bool = False  # one copy of an unrolled loop's body: `continue` is `break`
    closure: bool = False  # an inlined closure's body, wrapped in `loop { .. break }`
    target: str | None = None  # where that closure's value goes


@dataclass
class Val:
    """A drafted Rust expression: spec text, and whether that text is a statement that
    yields a value (`recv rx`) rather than a pure expression (`err(e)`)."""

    text: str
    kind: Kind = Kind.UNKNOWN
    stmt: bool = False
    names: tuple[str, ...] = ()
    guard: Binding | None = None
    init: str = ""  # a Mutex made with a literal (`Mutex::new(false)`): that literal

    @property
    def bare(self) -> bool:
        """A statement that yields no value (`join h`, `notify cv`, `drop x`)."""
        return self.stmt and self.text.split(" ", 1)[0] in ("join", "notify", "notify_all", "drop")

    @property
    def made(self) -> bool:
        """A new object (`mutex()`, `channel(1)`): no statement by itself, and nothing to
        do when its value is not kept."""
        return self.stmt and re.match(_CTORS, self.text) is not None

    @staticmethod
    def none(kind: Kind = Kind.PLAIN) -> Val:
        """A value the spec leaves out."""
        return Val("none", kind)


@dataclass
class Ctx:
    """Drafting one spec body from Rust code."""

    body: Body
    src: SourceText
    fn_name: str
    depth: int = 0
    scopes: list[Scope] = field(default_factory=list)
    temps: list[Binding] = field(default_factory=list)
    origin_at: Origin | None = None  # statements of a macro's arguments: the macro's origin
    params: list[str] = field(default_factory=list)  # the spec fn's parameters
    returns_guard: bool = False  # a crate fn returning a MutexGuard: its caller holds it

    def where(self, node: Node) -> Origin:
        """The origin of a statement drafted from `node`."""
        if self.origin_at is not None:
            return self.origin_at
        return origin(self.src, statement_of(node))

    def lookup(self, name: str) -> Binding | None:
        """The innermost variable called `name`."""
        for scope in reversed(self.scopes):
            if name in scope.vars:
                return scope.vars[name]
        return None

    def bind(self, name: str, binding: Binding) -> None:
        """Bind a Rust variable in the current scope."""
        self.scopes[-1].vars[name] = binding

    def visible(self) -> list[str]:
        """Every Rust variable in scope."""
        out: dict[str, None] = {}
        for scope in self.scopes:
            out.update(dict.fromkeys(scope.vars))
        return list(out)
