"""The parser on text: lexical forms, precedence, separators, and located errors."""

from __future__ import annotations

import pytest

from gilcheck.diagnostics import SpecError
from gilcheck.semantics import ir
from gilcheck.semantics.analyze import analyze
from gilcheck.source import SourceFile
from gilcheck.syntax import ast
from gilcheck.syntax.parse import parse_source


def parse(text: str) -> ast.Module:
    return parse_source(SourceFile("t.gil", text))


def const_value(expr_text: str) -> object:
    module = parse(f"const K = {expr_text}\nthread main {{ skip }}")
    program = analyze([module])
    return dict(program.consts).get("K")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1_000_000", 1_000_000),
        ("2**31", 2**31),
        ("-2**2", -4),
        ("2**3**2", 512),
        ("7 / 2", 3),
        ("-7 / 2", -3),
        ("-7 % 3", -1),
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("10 - 4 - 3", 3),
    ],
)
def test_integer_forms_and_precedence(text: str, value: int) -> None:
    assert const_value(text) == value


def test_not_binds_looser_than_comparison_and_or_looser_than_and() -> None:
    module = parse("var x = not 1 == 2 or true and false\nthread main { skip }")
    init = module.items[0].init  # type: ignore[union-attr]
    assert isinstance(init, ast.Binary) and init.op == "or"
    assert isinstance(init.left, ast.Unary) and init.left.op == "not"
    assert isinstance(init.right, ast.Binary) and init.right.op == "and"


def test_separators_comments_and_newlines_before_else_and_or() -> None:
    module = parse(
        "// header\n# another\nvar x = 0; var y = 1\n"
        "thread main {\n  if x == 0 { skip } # c\n  // c2\n  else { skip }\n"
        "  choose { skip }\n  or { skip; skip }\n  let z = x == 1\n    or y == 1\n}\n"
    )
    body = module.items[2].body.body  # type: ignore[union-attr]
    assert isinstance(body[0], ast.If) and body[0].orelse is not None
    assert isinstance(body[1], ast.Choose) and len(body[1].branches) == 2
    assert isinstance(body[2], ast.Let)


def test_comments_containing_or_and_else_stay_comments() -> None:
    module = parse(
        "var done = false # false, or true\nthread main {\n"
        "  if done { skip } # nothing else\n  skip\n}\n"
    )
    assert module.items[0].init == ast.BoolLit(value=False)  # type: ignore[union-attr]
    assert module.items[1].body.body[0].orelse is None  # type: ignore[union-attr]


def test_string_escapes() -> None:
    module = parse('scenario "a \\"quoted\\" \\\\ title"\nthread main { skip }')
    assert module.items[0].title == 'a "quoted" \\ title'  # type: ignore[union-attr]


def test_spans_point_at_the_source() -> None:
    text = "thread main {\n    print 42\n}\n"
    module = parse(text)
    stmt = module.items[0].body.body[0]  # type: ignore[union-attr]
    assert text[stmt.span.start : stmt.span.end] == "print 42"


def test_all_syntax_errors_of_a_file_are_reported() -> None:
    with pytest.raises(SpecError) as info:
        parse("thread main {\n  sned c, 1\n  let x = \n  skip $\n}\n")
    assert [d.code for d in info.value.diagnostics] == [
        "syntax-error",
        "syntax-error",
        "unexpected-character",
    ]


def test_unterminated_string_is_located_where_it_starts() -> None:
    with pytest.raises(SpecError) as info:
        parse('scenario "abc\nthread main { skip }\n')
    diag = info.value.diagnostics[0]
    assert diag.code == "unterminated-string" and diag.span.start == 9


def test_lowering_gives_flat_code_with_jump_targets() -> None:
    module = parse("var x = 0\nthread main {\n  while x < 2 { x = x + 1 }\n  skip\n}\n")
    program = analyze([module])
    code = program.codes[program.threads[0].code].instrs
    kinds = [type(i).__name__ for i in code]
    assert kinds == ["Branch", "Assign", "Jump", "Skip", "End"]
    branch, jump = code[0], code[2]
    assert isinstance(branch, ir.Branch) and branch.if_false == 3
    assert isinstance(jump, ir.Jump) and jump.target == 0
    assert all(i.span.end > i.span.start for i in code)


def test_break_out_of_lock_and_with_gil_runs_their_exits() -> None:
    module = parse(
        "mutex m\nthread main {\n  loop {\n    with_gil {\n      lock m {\n"
        "        break\n      }\n    }\n  }\n}\n"
    )
    program = analyze([module])
    kinds = [type(i).__name__ for i in program.codes[0].instrs]
    assert kinds[:6] == ["GilEnter", "Acquire", "Release", "GilExit", "Jump", "Release"]
