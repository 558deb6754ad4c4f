"""The keyword lists of gilcheck.syntax.keywords agree with grammar.lark, the syntax's source."""

from __future__ import annotations

import re
from importlib import resources

from gilcheck.syntax import ast, keywords


def _grammar() -> str:
    text = resources.files("gilcheck.syntax").joinpath("grammar.lark").read_text("utf-8")
    return re.sub(r"//[^\n]*", "", text)


def test_keywords_are_the_grammar_words() -> None:
    quoted = set(re.findall(r'"([a-z_][a-z_0-9]*)"', _grammar()))
    # `else` and `or` are regex terminals (_ELSE, _OR) that may follow a newline.
    assert quoted | {"else", "or"} == set(keywords.KEYWORDS)
    assert len(set(keywords.KEYWORDS)) == len(keywords.KEYWORDS)


def test_resource_kinds_are_the_grammar_resource_kinds() -> None:
    rule = re.search(r"!resource_kind:([^\n]*)", _grammar())
    assert rule is not None
    assert tuple(re.findall(r'"([a-z_]+)"', rule.group(1))) == keywords.RESOURCE_KINDS
    assert ast.RESOURCE_KINDS is keywords.RESOURCE_KINDS


def test_statement_and_item_keywords_are_keywords() -> None:
    assert set(keywords.STATEMENT_KEYWORDS) | set(keywords.ITEM_KEYWORDS) <= set(keywords.KEYWORDS)
    assert not set(keywords.STATEMENT_KEYWORDS) & set(keywords.ITEM_KEYWORDS)


def test_operandless_statements_are_the_grammar_gil_calls() -> None:
    rule = re.search(r"GIL_CALL\.2: /\(\?:([\w|]+)\)", _grammar())
    assert rule is not None
    assert tuple(rule.group(1).split("|")) == keywords.OPERANDLESS_STATEMENTS
    assert not set(keywords.OPERANDLESS_STATEMENTS) & set(keywords.KEYWORDS)
