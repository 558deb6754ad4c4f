"""What a draft has made so far, shared by every body being drafted: the spec's
top-level items, functions and `use`d models, the crate functions already drafted, the
statics' spec names, and the shared vars that model mutexes' data."""

from __future__ import annotations

from dataclasses import dataclass, field

from gilcheck.draft.model import Origin
from gilcheck.draft.rust.emit import Body
from gilcheck.draft.rust.kinds import Binding
from gilcheck.draft.rust.names import NameTable
from gilcheck.draft.writer import SpecWriter


@dataclass
class Spec:
    """What the draft has made so far: top-level items, functions, `use`d models."""

    writer: SpecWriter
    names: NameTable
    host: str = "rust"  # `python`: threads the crate spawns are daemons (never joined at exit)
    items: list[tuple[str, Origin | None]] = field(default_factory=list)
    fns: list[Body] = field(default_factory=list)
    uses: list[str] = field(default_factory=list)
    drafted: dict[str, str] = field(default_factory=dict)  # crate fn key -> spec fn name
    statics: dict[str, Binding] = field(default_factory=dict)
    # mutex -> the literal it was made with, and where
    data_init: dict[str, tuple[str, Origin | None]] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)  # mutex -> the var of its data
    unknown_locks: dict[str, str] = field(default_factory=dict)  # source text -> global lock
    # spec fn -> the lock of the guard it returns, held by its caller: a global lock's
    # name, or `#i` for the lock passed as its i-th parameter
    returned: dict[str, str] = field(default_factory=dict)

    def data_var(self, lock: str) -> str | None:
        """The shared var that holds a mutex's data (a literal `bool` or integer), declared
        on first use; None when the data is not modelled."""
        if lock in self.data:
            return self.data[lock]
        if lock not in self.data_init:
            return None
        var = self.names.claim(f"{lock}_data")
        init, where = self.data_init[lock]
        self.item(f"var {var} = {init}", where)
        self.data[lock] = var
        return var

    @property
    def spawn(self) -> str:
        """The word that starts a thread of the crate's: with `host python` a Rust thread
        is not joined when the interpreter exits, so it is a daemon."""
        return "spawn daemon" if self.host == "python" else "spawn"

    def use(self, model: str) -> None:
        """Use a model library (`use "rayon"`)."""
        if model not in self.uses:
            self.uses.append(model)

    def item(self, text: str, origin: Origin | None = None) -> None:
        """A top-level declaration, once."""
        if all(text != t for t, _ in self.items):
            self.items.append((text, origin))
