"""`gilcheck fmt`: the canonical layout, every comment kept, idempotent, the same spec."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import modules

from gilcheck.pipeline import analyze_spec, parse_spec, parse_text
from gilcheck.source import SourceFile
from gilcheck.syntax import ast
from gilcheck.syntax.formatter import format_source, scan_comments
from gilcheck.syntax.parse import parse_source
from gilcheck.syntax.unparse import unparse

MESSY = """\
# head


// about the title
scenario   "t\\tx"   # title
const N=1_000  # big
mutex m ; mutex q # two on a line
thread main { # opens
  if N>0 { skip } # then
  # between
  else { loop { } }
  choose { } # c1
  or { # c2
  }
  lock m {
      acquire q


      release q
      # last in the block

  } // after the block
}
fn f(a,b){
}   # empty
"""

CANONICAL = """\
# head

// about the title
scenario "t\\tx"      # title
const N = 1_000      # big
mutex m
mutex q              # two on a line
thread main {        # opens
    if N > 0 {
        skip
        # between
    } else {         # then
        loop { }
    }
    choose { } or {  # c1  # c2
    }
    lock m {
        acquire q

        release q
        # last in the block
    }           // after the block
}
fn f(a, b) { }  # empty
"""


def _comments(text: str) -> list[str]:
    return [c.text for c in scan_comments(SourceFile("x.gil", text))]


def test_fmt_rewrites_a_spec_in_the_canonical_layout(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "messy.gil"
    spec.write_text(MESSY)
    result = cli("fmt", str(spec))
    assert result.code == 0, result.stderr
    assert f"reformatted {spec}" in result.stderr
    assert spec.read_text() == CANONICAL
    again = cli("fmt", "--check", str(spec))
    assert again.code == 0 and again.stdout == ""
    assert "0 of 1 spec would be reformatted" in again.stderr


def test_check_lists_the_specs_that_would_change_and_rewrites_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    messy = tmp_path / "messy.gil"
    messy.write_text(MESSY)
    tidy = tmp_path / "tidy.gil"
    tidy.write_text(CANONICAL)
    result = cli("fmt", "--check", str(tmp_path))
    assert result.code == 1
    assert result.stdout == f"would reformat {messy}\n"
    assert messy.read_text() == MESSY
    assert cli("fmt", "--check", str(tidy)).code == 0


def test_diff_prints_the_change_and_rewrites_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "messy.gil"
    spec.write_text(MESSY)
    result = cli("fmt", "--diff", str(spec))
    assert result.code == 0
    assert result.stdout.startswith(f"--- {spec}\n+++ {spec} (formatted)\n")
    assert "-const N=1_000  # big\n" in result.stdout
    assert "+const N = 1_000      # big\n" in result.stdout
    assert spec.read_text() == MESSY
    assert cli("fmt", "--diff", "--check", str(spec)).code == 1


def test_a_spec_with_a_syntax_error_is_refused_and_left_as_it_is(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main {  aquire m }\n")
    good = tmp_path / "good.gil"
    good.write_text("thread main {  skip }\n")
    result = cli("fmt", str(bad), str(good))
    assert result.code == 2
    assert "error[syntax-error]" in result.stderr and f"{bad}:1:23" in result.stderr
    assert "Traceback" not in result.stderr
    assert bad.read_text() == "thread main {  aquire m }\n"
    assert good.read_text() == "thread main {\n    skip\n}\n"


def test_a_file_that_is_not_utf8_or_missing_is_refused(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    latin = tmp_path / "latin.gil"
    latin.write_bytes(b"thread main {  skip }  # caf\xe9\n")
    result = cli("fmt", str(latin))
    assert result.code == 2
    assert "is not UTF-8 text" in result.stderr and f"{latin}:1:29" in result.stderr
    assert latin.read_bytes() == b"thread main {  skip }  # caf\xe9\n"
    missing = cli("fmt", str(tmp_path / "missing.gil"))
    assert missing.code == 2 and "error[unreadable-file]" in missing.stderr
    assert cli("fmt", str(tmp_path / "empty")).code == 2


def test_every_spec_and_model_keeps_its_comments_and_its_meaning(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for folder in ("specs", "models"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    originals = {p: p.read_text() for p in sorted(tmp_path.rglob("*.gil"))}
    assert len(originals) > 50
    result = cli("fmt", str(tmp_path / "specs"), str(tmp_path / "models"))
    assert result.code == 0, result.stderr
    for path, original in originals.items():
        formatted = path.read_text()
        kept = _comments(formatted)
        for comment in _comments(original):
            assert any(comment in k for k in kept), (path, comment)
        assert parse_source(SourceFile(str(path), formatted)) == parse_source(
            SourceFile(str(path), original)
        ), path
        if path.parent.name != "models":
            before = analyze_spec(parse_text(str(path), original))
            assert analyze_spec(parse_spec(str(path))) == before, path
    again = cli("fmt", "--check", str(tmp_path))
    assert again.code == 0, again.stdout  # idempotent


# Built once: building these recursive strategies is what costs, not drawing from them.
_MODULES = modules()
_WORDS = st.text(alphabet='ab #/{}"\\;', max_size=8)


@st.composite
def commented_specs(draw: st.DrawFn) -> tuple[ast.Module, str, list[str]]:
    """A random module printed with random indentation, blank lines and comments."""
    module = draw(_MODULES)
    words = _WORDS
    comments: list[str] = []
    lines = []
    for line in unparse(module).splitlines():
        if draw(st.integers(0, 4)) == 0:
            own = draw(st.sampled_from(["#", "//"])) + draw(words)
            comments.append(own.rstrip())
            lines.append(" " * draw(st.integers(0, 5)) + own)
        if draw(st.integers(0, 5)) == 0:
            lines.append("")
        text = " " * draw(st.integers(0, 5)) + line.strip()
        if draw(st.booleans()):
            trailing = draw(st.sampled_from(["#", "//"])) + draw(words)
            comments.append(trailing.rstrip())
            text += " " * draw(st.integers(1, 3)) + trailing
        lines.append(text)
    return module, "\n".join(lines) + "\n", comments


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(commented_specs())
def test_formatting_keeps_comments_and_meaning_and_is_idempotent(
    case: tuple[ast.Module, str, list[str]],
) -> None:
    module, text, comments = case
    formatted = format_source(SourceFile("gen.gil", text))
    assert parse_source(SourceFile("gen.gil", formatted)) == module, text
    kept = _comments(formatted)
    for comment in comments:
        assert any(comment in k for k in kept), (comment, text, formatted)
    assert format_source(SourceFile("gen.gil", formatted)) == formatted
    assert not any(line != line.rstrip() for line in formatted.splitlines())
    indents = {len(line) - len(line.lstrip(" ")) for line in formatted.splitlines()}
    assert all(i % 4 == 0 for i in indents), formatted
