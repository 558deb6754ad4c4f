"""A statement's text and place as reports quote them: `app.gil:12`, `let v = result f`."""

from __future__ import annotations

from gilcheck.semantics import describe, ir
from gilcheck.source import SourceMap


def condition_text(sources: SourceMap, instr: ir.Await) -> str:
    """The condition of an `await` as written (`x == N`), or as the IR has it (`x == 3`)."""
    source = sources.get(instr.span.path)
    if source is not None:
        text = source.text[instr.span.start : instr.span.end].strip()
        if text.startswith("await") and len(text) > len("await") and text[5].isspace():
            return " ".join(text[5:].split())
    return describe.expression(instr.cond)


def statement_text(sources: SourceMap, instr: ir.Instr) -> str:
    """The source line an instruction starts on, without its comment (spec text when the
    source is not known)."""
    source = sources.get(instr.span.path)
    if source is None:
        return describe.statement(instr)
    line = source.line_col(instr.span.start).line
    return uncommented(source.line_text(line).strip())


def uncommented(text: str) -> str:
    """A line without its trailing comment (`#` or `//` outside a string)."""
    for marker in (" #", " //"):
        cut = text.find(marker)
        if cut > 0 and text.count('"', 0, cut) % 2 == 0:
            text = text[:cut].rstrip()
    return text


def written_text(sources: SourceMap, instr: ir.Instr) -> str:
    """An instruction's own statement as written, where its line holds more (`assert n < 5`
    in `thread t { assert n < 5 }`): the first line of its text without a block's `{`, a
    value with what it is assigned to (`let x = 1`), a condition with its `if` or `while`;
    spec text when the source is not known."""
    source = sources.get(instr.span.path)
    span = instr.span
    if source is None or span.end <= span.start:
        return describe.statement(instr)
    text = uncommented(source.text[span.start : span.end].split("\n", 1)[0].strip())
    text = text.removesuffix("{").rstrip()
    before = source.text[: span.start].rsplit("\n", 1)[-1]
    head = before[max(before.rfind("{"), before.rfind(";")) + 1 :].strip()
    if isinstance(instr, ir.Branch) and head.split()[-1:] in (["if"], ["while"]):
        text = f"{head.split()[-1]} {text}"  # `} else if c`: the `if`
    elif head.endswith("=") and not head.endswith("=="):  # `let x =`, `a[i] =`
        text = f"{head} {text}"
    return " ".join(text.split()) or describe.statement(instr)
