"""Syntax errors: lark's parse errors turned into diagnostics with hints, and the patching of
a broken line so that parsing can go on and report the next error."""

from __future__ import annotations

import re
from collections.abc import Callable

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from gilcheck.diagnostics import Diagnostic, DiagnosticSink, Label, did_you_mean
from gilcheck.source import SourceFile, Span
from gilcheck.syntax import habits
from gilcheck.syntax.grammar import parser
from gilcheck.syntax.keywords import (
    ITEM_KEYWORDS,
    KEYWORDS,
    OPERANDLESS_STATEMENTS,
    STATEMENT_KEYWORDS,
)

_TOKEN_WORDS = {
    "NAME": "a name",
    "INT": "an integer",
    "STRING": "a string",
    "_NL": "end of line",
    "$END": "end of file",
    "COMP_OP": "a comparison",
    "SETTING_KEY": "`host` or `gil`",
    "_ELSE": "`else`",
    "_OR": "`or`",
}


def _describe_terminal(name: str) -> str:
    if name in _TOKEN_WORDS:
        return _TOKEN_WORDS[name]
    for term in parser().terminals:
        if term.name == name:
            if term.pattern.type == "str":
                return f"`{term.pattern.value}`"
            # A contextual keyword (`SYNC_VERB`, `DECL_KIND`): the words it matches.
            words = re.match(r"\(\?:([\w|]+)\)", term.pattern.value)
            if words is not None:
                return " or ".join(f"`{word}`" for word in words.group(1).split("|"))
            return name.lower()
    return name.lower()


def _describe_token(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "$END":
        return "end of file"
    if tok.type in ("_ELSE", "_OR"):
        return f"`{str(tok).strip()}`"
    if tok.type == "STRING":
        return f"string {tok}"
    if tok.type == "INT":
        return f"integer `{tok}`"
    if tok.type == "NAME":
        return f"name `{tok}`"
    return f"`{tok}`"


def _expected_phrase(expected: set[str]) -> str:
    if {"NAME", "INT", "STRING"} <= expected:
        return "expected an expression"
    names = sorted({_describe_terminal(e) for e in expected if not e.startswith("__")})
    if len(names) > 8:
        return ""
    if len(names) == 1:
        return f"expected {names[0]}"
    return "expected one of " + ", ".join(names)


def _first_word(line: str) -> str:
    m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", line)
    return m.group(1) if m else ""


def _unclosed_brace(text: str) -> int | None:
    """Offset of the innermost `{` still open at the end of the text, if any."""
    stack: list[int] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = text.find('"', i + 1)
            while end > 0 and text[end - 1] == "\\":
                end = text.find('"', end + 1)
            i = end + 1 if end > 0 else len(text)
            continue
        if ch == "#" or text.startswith("//", i):
            end = text.find("\n", i)
            i = end if end >= 0 else len(text)
            continue
        if ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            stack.pop()
        i += 1
    return stack[-1] if stack else None


def _token_span(source: SourceFile, tok: Token) -> Span:
    start = tok.start_pos or 0
    if tok.type in ("_NL", "_ELSE", "_OR"):
        text = str(tok)
        stripped = len(text) - len(text.lstrip("; \t\r\f"))
        if tok.type == "_NL":
            return source.span(start + stripped, start + stripped + 1)
        word = text.strip()
        word_start = start + text.rfind(word[-4:] if tok.type == "_ELSE" else "or")
        return source.span(word_start, word_start + len(word.split()[-1]))
    end = tok.end_pos if tok.end_pos is not None else start + len(str(tok))
    return source.span(start, max(end, start + 1))


def syntax_diagnostic(source: SourceFile, err: UnexpectedInput) -> Diagnostic:
    """The diagnostic for one lark parse error: what was found, what was expected, a hint."""
    sink = DiagnosticSink()
    if isinstance(err, UnexpectedCharacters):
        pos = err.pos_in_stream or 0
        ch = source.text[pos] if pos < len(source.text) else ""
        if ch == '"':
            sink.error(
                "unterminated-string",
                "unterminated string",
                source.span(pos, pos + 1),
                help='strings end on the line they start: close it with `"`',
            )
        elif ch == "." and (found := _habit_at(source, pos, habits.method_call)) is not None:
            return found
        else:
            sink.error(
                "unexpected-character",
                f"unexpected character `{ch}`",
                source.span(pos, pos + 1),
                help="remove it; names are ASCII letters, digits and `_`",
            )
        return sink.items[0]
    tok: Token | None = getattr(err, "token", None)
    expected: set[str] = set(getattr(err, "expected", None) or getattr(err, "accepts", None) or ())
    if isinstance(err, UnexpectedEOF) or tok is None or tok.type == "$END":
        end = len(source.text)
        brace = _unclosed_brace(source.text)
        labels = (
            (Label(source.span(brace, brace + 1), "this `{` is never closed"),)
            if brace is not None
            else ()
        )
        sink.error(
            "unexpected-end",
            "unexpected end of file",
            source.span(max(0, end - 1), end) if end else source.span(0, 0),
            help="add the missing `}`" if brace is not None else "the last statement is incomplete",
            labels=labels,
        )
        return sink.items[0]
    span = _token_span(source, tok)
    line_no = source.line_col(span.start).line
    line = source.line_text(line_no)
    word = _first_word(line)
    indent = len(line) - len(line.lstrip())
    if tok.type == "_NL":
        code = re.split(r"#|//", line)[0].rstrip()
        at = source.offset_of(line_no, len(code) + 1)
        span = source.span(at, at + 1)
    col = source.line_col(span.start).col - 1
    if (
        word in OPERANDLESS_STATEMENTS
        and col >= indent + len(word)
        and not line[indent + len(word) : col].strip()
    ):
        # `acquire_gil x`: the token right after the word is an operand
        sink.error(
            "syntax-error",
            f"`{word}` takes no operand",
            span,
            help=f"write `{word}` as a statement of its own, ended by a newline, `;` or `}}`",
        )
        return sink.items[0]
    if word == "with" and (habit := habits.with_block(line)) is not None:
        return _habit_diagnostic(source, line_no, habit)
    tried = re.match(r"\s*(?:(?:let\s+)?\w+\s*=\s*)?try_acquire\s+(\S+)", line)
    if tried is not None and str(tok) == "timeout":
        sink.error(
            "syntax-error",
            "`try_acquire` never waits, so it takes no `timeout`",
            span,
            help=f"a wait with a deadline is `let ok = acquire {tried.group(1)} timeout`; "
            f"`let ok = try_acquire {tried.group(1)}` tries once",
        )
        return sink.items[0]
    if (
        word
        and word not in KEYWORDS
        and col > indent
        and (habit := habits.unknown_statement(line)) is not None
    ):
        return _habit_diagnostic(source, line_no, habit)
    if (
        word
        and word not in KEYWORDS
        and word not in OPERANDLESS_STATEMENTS
        and word not in habits.CONTEXTUAL_WORDS
        and source.line_col(span.start).col - 1 > indent
        and did_you_mean(word, STATEMENT_KEYWORDS + ITEM_KEYWORDS)
    ):
        guess = did_you_mean(word, STATEMENT_KEYWORDS + ITEM_KEYWORDS)
        at = source.offset_of(line_no, indent + 1)
        sink.error(
            "syntax-error",
            f"unknown statement `{word}`",
            source.span(at, at + len(word)),
            help=f"did you mean `{guess}`? (`{word}` is not a keyword)",
        )
        return sink.items[0]
    message = f"unexpected {_describe_token(tok)}"
    expected_text = _expected_phrase(expected)
    if expected_text:
        message += f", {expected_text}"
    help_text = _syntax_hint(tok, expected, line, source, span)
    sink.error("syntax-error", message, span, help=help_text)
    return sink.items[0]


def _habit_diagnostic(source: SourceFile, line_no: int, habit: habits.Habit) -> Diagnostic:
    sink = DiagnosticSink()
    start = source.offset_of(line_no, habit.start + 1)
    sink.error(
        "syntax-error",
        habit.message,
        source.span(start, start + max(1, habit.end - habit.start)),
        help=habit.help,
    )
    return sink.items[0]


def _habit_at(
    source: SourceFile, pos: int, recognise: Callable[[str, int], habits.Habit | None]
) -> Diagnostic | None:
    """The habit `recognise` finds at offset `pos`, as a diagnostic."""
    at = source.line_col(pos)
    habit = recognise(source.line_text(at.line), at.col - 1)
    return None if habit is None else _habit_diagnostic(source, at.line, habit)


def _syntax_hint(tok: Token, expected: set[str], line: str, source: SourceFile, span: Span) -> str:
    word = _first_word(line)
    line_start_col = len(line) - len(line.lstrip())
    at_line_start = source.line_col(span.start).col - 1 <= line_start_col
    if word and word not in KEYWORDS and word not in habits.CONTEXTUAL_WORDS and not at_line_start:
        guess = did_you_mean(word, STATEMENT_KEYWORDS + ITEM_KEYWORDS)
        if guess:
            return f"did you mean `{guess}`? (`{word}` is not a keyword)"
    if tok.type == "NAME":
        guess = did_you_mean(str(tok), KEYWORDS)
        if guess and guess.upper() in expected:
            return f"did you mean `{guess}`?"
    if str(tok) in KEYWORDS and "NAME" in expected:
        return f"`{tok}` is a keyword and cannot be used as a name here: rename it"
    if tok.type == "_NL" and "LBRACE" in expected:
        return "the block's `{` must be on the same line as its statement"
    if tok.type == "_NL" and "TIMEOUT" in expected:
        return (
            "only a timed wait yields a value (`let ok = acquire m timeout`); without "
            "`timeout`, write the wait as a statement of its own"
        )
    if tok.type == "_NL":
        return "the statement is incomplete: finish it on this line"
    if "_NL" in expected or "RBRACE" in expected:
        return "statements are separated by a newline or `;`"
    if tok.type == "LBRACE" and "NAME" in expected:
        return "a name is missing before the block"
    if word in ITEM_KEYWORDS and at_line_start:
        return "see LANGUAGE.md for the form of this item"
    return "see `gilcheck explain syntax-error`"


def _neutralize_line(text: str, line_start: int, depth_before: int) -> str | None:
    """The text with one line replaced by a harmless one of the same length, or None."""
    end = text.find("\n", line_start)
    end = len(text) if end < 0 else end
    line = text[line_start:end]
    code = re.sub(r'"(\\.|[^"\\])*"?', '""', line)
    code = re.split(r"#|//", code)[0]
    opens, closes = code.count("{"), code.count("}")
    if opens == 0 and closes == 0:
        replacement = ""
    else:
        opener = "fn _(){" if depth_before - closes <= 0 else "loop{"
        replacement = "}" * closes + (";" if closes and opens else "") + opener * opens
    if len(replacement) > len(line):
        return None
    return text[:line_start] + replacement.ljust(len(line)) + text[end:]


def recover(text: str, source: SourceFile, line: int, diag: Diagnostic) -> str | None:
    """The text patched so that parsing can go on after an error on `line`, or None."""
    line_start = source.offset_of(line, 1)
    line_end = text.find("\n", line_start)
    if diag.message.startswith("unexpected end of line") and line_end >= 0:
        rest = text[line_end + 1 :].lstrip(" \t")
        if rest.startswith("{"):
            # A block opened on the next line: join the lines (same length, same offsets).
            line_text = text[line_start:line_end]
            code = re.split(
                r"#|//", re.sub(r'"(\\.|[^"\\])*"?', lambda m: "x" * len(m.group(0)), line_text)
            )[0]
            joined = line_text[: len(code)].ljust(len(line_text))
            return text[:line_start] + joined + " " + text[line_end + 1 :]
    return _neutralize_line(text, line_start, _brace_depth(text, line_start))


def _brace_depth(text: str, upto: int) -> int:
    depth = 0
    code = re.sub(r'"(\\.|[^"\\\n])*"?', '""', text[:upto])
    code = re.sub(r"(#|//)[^\n]*", "", code)
    for ch in code:
        depth += {"{": 1, "}": -1}.get(ch, 0)
    return max(depth, 0)
