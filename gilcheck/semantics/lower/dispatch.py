"""The full lowerer: every statement family over one context, and the table from AST
statement class to handler, checked at import to cover every statement of the grammar."""

from __future__ import annotations

import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Final, TypeVar, cast

from gilcheck.semantics.lower.bindings import BindingLowerer
from gilcheck.semantics.lower.control import ControlLowerer
from gilcheck.semantics.lower.sync import SyncLowerer
from gilcheck.semantics.lower.threads import ThreadLowerer
from gilcheck.syntax import ast


class BodyLowerer(BindingLowerer, ControlLowerer, ThreadLowerer, SyncLowerer):
    """Lowers one code unit (thread body, function or hook)."""

    def stmt(self, s: ast.Stmt) -> None:
        HANDLERS[type(s)](self, s)


Handler = Callable[[BodyLowerer, ast.Stmt], None]
_S = TypeVar("_S", bound=ast.Stmt)


def _on(cls: type[_S], handler: Callable[[BodyLowerer, _S], None]) -> tuple[type, Handler]:
    """One table entry; mypy checks that `handler` takes statements of class `cls`."""
    return cls, cast(Handler, handler)


def check_handlers(table: Mapping[type, object], statements: Iterable[type]) -> None:
    """Fail unless `table` has exactly one entry for each statement class."""
    wanted = set(statements)
    missing = sorted(t.__name__ for t in wanted - table.keys())
    extra = sorted(t.__name__ for t in table.keys() - wanted)
    if missing or extra:
        raise TypeError(
            "statement lowering table out of step with gilcheck.syntax.ast.Stmt: "
            + "; ".join(
                part
                for part in (
                    "no handler for " + ", ".join(missing) if missing else "",
                    "handlers for non-statements " + ", ".join(extra) if extra else "",
                )
                if part
            )
        )


HANDLERS: Final[Mapping[type, Handler]] = dict(
    [
        # bindings and simple statements
        _on(ast.Let, BodyLowerer.stmt_let),
        _on(ast.Assign, BodyLowerer.stmt_assign),
        _on(ast.OpStmt, BodyLowerer.stmt_opstmt),
        _on(ast.Drop, BodyLowerer.stmt_drop),
        _on(ast.Assert, BodyLowerer.stmt_assert),
        _on(ast.Panic, BodyLowerer.stmt_panic),
        _on(ast.Progress, BodyLowerer.stmt_progress),
        _on(ast.Skip, BodyLowerer.stmt_skip),
        # channels
        _on(ast.Close, BodyLowerer.stmt_close),
        # threads and the GIL
        _on(ast.WithGil, BodyLowerer.stmt_withgil),
        _on(ast.AllowThreads, BodyLowerer.stmt_allowthreads),
        _on(ast.Python, BodyLowerer.stmt_python),
        _on(ast.Join, BodyLowerer.stmt_join),
        _on(ast.Print, BodyLowerer.stmt_print),
        _on(ast.Fork, BodyLowerer.stmt_fork),
        _on(ast.Suspend, BodyLowerer.stmt_suspend),
        _on(ast.AcquireGil, BodyLowerer.stmt_acquiregil),
        _on(ast.ReleaseGil, BodyLowerer.stmt_releasegil),
        # resources
        _on(ast.Acquire, BodyLowerer.stmt_acquire),
        _on(ast.Release, BodyLowerer.stmt_release),
        _on(ast.Lock, BodyLowerer.stmt_lock),
        _on(ast.Wait, BodyLowerer.stmt_wait),
        _on(ast.Notify, BodyLowerer.stmt_notify),
        _on(ast.CallOnce, BodyLowerer.stmt_callonce),
        _on(ast.SetEvent, BodyLowerer.stmt_setevent),
        _on(ast.ClearEvent, BodyLowerer.stmt_clearevent),
        # control flow
        _on(ast.Return, BodyLowerer.stmt_return),
        _on(ast.If, BodyLowerer.stmt_if),
        _on(ast.While, BodyLowerer.stmt_while),
        _on(ast.Loop, BodyLowerer.stmt_loop),
        _on(ast.For, BodyLowerer.stmt_for),
        _on(ast.Break, BodyLowerer.stmt_break),
        _on(ast.Continue, BodyLowerer.stmt_continue),
        _on(ast.Choose, BodyLowerer.stmt_choose),
        _on(ast.Await, BodyLowerer.stmt_await),
        _on(ast.Atomic, BodyLowerer.stmt_atomic),
    ]
)

check_handlers(HANDLERS, typing.get_args(ast.Stmt))
