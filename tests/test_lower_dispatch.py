"""The statement lowering table covers every AST statement, checked at import."""

from __future__ import annotations

import typing

import pytest

from gilcheck.semantics.lower import HANDLERS
from gilcheck.semantics.lower.dispatch import check_handlers
from gilcheck.semantics.lower.sync import ACCEPTS
from gilcheck.sync import registry
from gilcheck.syntax import ast


def test_every_statement_has_a_handler() -> None:
    assert set(HANDLERS) == set(typing.get_args(ast.Stmt))


def test_a_missing_handler_is_named() -> None:
    table = {k: v for k, v in HANDLERS.items() if k is not ast.Wait}
    with pytest.raises(TypeError, match=r"no handler for Wait"):
        check_handlers(table, typing.get_args(ast.Stmt))


def test_a_handler_for_a_non_statement_is_named() -> None:
    table = {**HANDLERS, ast.Ident: HANDLERS[ast.Skip]}
    with pytest.raises(TypeError, match=r"non-statements Ident"):
        check_handlers(table, typing.get_args(ast.Stmt))


def test_resource_statements_accept_only_declared_kinds() -> None:
    for op, accepts in ACCEPTS.items():
        assert accepts.kinds, op
        assert set(accepts.kinds) <= set(registry.KINDS), op
