"""Bodies to flat IR: scopes, name resolution, static checks and jump targets, in one walk.

One module per statement family (`bindings`, `channels`, `threads`, `sync`, `control`) over
the shared context of `core` and the expressions of `expressions`; `dispatch` joins them
into `BodyLowerer` with the table from AST statement class to handler, checked at import."""

from gilcheck.semantics.lower.core import LocalInfo
from gilcheck.semantics.lower.dispatch import HANDLERS, BodyLowerer

__all__ = ["HANDLERS", "BodyLowerer", "LocalInfo"]
