"""Error output of `gilcheck check` for chosen invalid specs, compared with golden files.

Each message must name file:line:col, show the source line with a caret under the
offending text, and end with a `help:` line; the exit code is 2 (the spec is wrong).
"""

from __future__ import annotations

import pytest

# Error cases whose full rendering is pinned.
GOLDEN_CASES = [
    "syntax_misspelt_statement_keywords",
    "syntax_stray_characters_several",
    "syntax_unterminated_string",
    "syntax_unexpected_end_params",
    "undefined_names_in_blocks",
    "wrong_kind_blocks",
    "wrong_arity_functions",
    "duplicate_definition_blocks",
    "break_in_fn_called_from_loop",
    "atomic_loops",
    "missing_main",
    "unknown_use_file",
    "construct_names",
    "gil_api_in_atomic",
    "syntax_gil_api_operand",
    "executor_errors",
    "executor_syntax",
    "syntax_habits",
    "let_in_ended_block",
    "unreadable_state",
]

# `gilcheck export` refusals whose full rendering is pinned (tests/cases/not_exportable).
EXPORT_GOLDEN_CASES = [
    "any_range",
    "choose_in_atomic",
    "try_recv_in_atomic",
    "process_with_loop",
    "var_large",
    "recursive_call",
]


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_error_output_matches_golden(name: str, cli, golden) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", f"tests/cases/errors/{name}.gil")
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    golden(f"errors/{name}.txt", result.stderr)


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_every_error_is_located_and_helped(name: str, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", f"tests/cases/errors/{name}.gil")
    blocks = [b for b in result.stderr.split("\n\n") if b.startswith("error[")]
    assert blocks, result.stderr
    for block in blocks:
        assert f"--> tests/cases/errors/{name}.gil:" in block, block
        assert "^" in block, block
        assert "\nhelp: " in block, block


@pytest.mark.parametrize("name", EXPORT_GOLDEN_CASES)
def test_export_refusal_matches_golden(name: str, cli, golden) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", f"tests/cases/not_exportable/{name}.gil")
    assert result.code == 2, result.stderr
    assert result.stdout == ""
    assert f"--> tests/cases/not_exportable/{name}.gil:" in result.stderr
    assert "\nhelp: " in result.stderr
    golden(f"errors/not_exportable_{name}.txt", result.stderr)
