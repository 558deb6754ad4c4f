"""`gilcheck trace` through the CLI: Mermaid, DOT, Markdown and text, as golden files and as
well-formed documents (DOT parsed by pydot, Mermaid checked for its structure)."""

from __future__ import annotations

import re

import pydot
import pytest
from conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore:.setParseAction. deprecated")

SEED = "specs/seed/buggy.gil"
OK_SPEC = "specs/seed/fixed.gil"
# One spec per kind of ending: deadlock, stuck, livelock, assertion, misuse, a self-wait.
KINDS = [
    SEED,
    "specs/progress/stuck_worker_buggy.gil",
    "specs/progress/polite_spin_buggy.gil",
    "specs/semantics/lost_update_buggy.gil",
    "specs/semantics/double_release_buggy.gil",
    "specs/primitives/once_reentry_buggy.gil",
    "specs/semantics/choose_lock_order_buggy.gil",
    "specs/primitives/condvar_under_gil_buggy.gil",
]
# Two locks taken in opposite orders; its lines end with comments longer than any screen.
TWO_LOCKS = """scenario "Two locks taken in opposite orders, with long trailing comments"
expect deadlock

mutex a
mutex b

thread main {
    spawn other()
    acquire a        # the first lock: this comment goes on and on, far past any reasonable width of a source panel, so that nothing after it on the line fits in view
    acquire b        # the second lock: again a very long comment that runs well beyond the right edge of the listing in the page, and then some more words
    release b
    release a
}

fn other() {
    acquire b        # the other order: b first, then a; this comment is long too, long enough that nothing after it fits on screen, however wide the screen
    acquire a        # and here it waits for a, held by main, which waits for b, held by this thread: the classic cycle of two locks, told at length
    release a
    release b
}
"""
# Text that means something to Mermaid, DOT, Markdown or HTML, in names, values and lines.
HOSTILE = """scenario "a | b; c # d <b>end</b> \\"q\\" `tick` *x*"
expect deadlock

mutex m_1
channel c: bounded(1)

thread main {
    lock m_1 {
        send c, "x; y # <i>end</i> | z -> w \\\\ \\"q\\""
        send c, "second; # <script>"
    }
}
"""


def _stable(text: str) -> str:
    return re.sub(r"\d+\.\d\d s \(", "X.XX s (", text)


def test_text_is_checks_report(cli, golden) -> None:  # type: ignore[no-untyped-def]
    drawn = cli("trace", SEED)
    checked = cli("check", SEED)
    assert drawn.code == checked.code == 1
    assert _stable(drawn.stdout) == _stable(checked.stdout)
    golden("pictures/seed_buggy.txt", _stable(drawn.stdout))


def test_mermaid_golden(cli, golden) -> None:  # type: ignore[no-untyped-def]
    result = cli("trace", SEED, "--format", "mermaid")
    assert result.code == 1 and result.stderr == ""
    validate_mermaid(result.stdout)
    golden("pictures/seed_buggy.mmd", result.stdout)


def test_dot_golden_and_parses(cli, golden) -> None:  # type: ignore[no-untyped-def]
    result = cli("trace", SEED, "--format", "dot")
    assert result.code == 1
    graph = parse_dot(result.stdout)
    red = {
        (e.get_source().strip('"'), e.get_destination().strip('"'))
        for e in graph.get_edges()
        if e.get("color") == '"red"'
    }
    assert red == {("main", "execute_loop"), ("execute_loop", "main")}
    golden("pictures/seed_buggy.dot", result.stdout)


def test_markdown_golden_for_trace_and_check(cli, golden) -> None:  # type: ignore[no-untyped-def]
    drawn = cli("trace", SEED, "--format", "markdown")
    checked = cli("check", SEED, "--format", "markdown")
    assert drawn.code == checked.code == 1
    assert drawn.stdout == checked.stdout
    text = drawn.stdout
    assert "| 9 | main | buggy.gil:15 | `print ret` |" in text
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    validate_mermaid(block)
    golden("pictures/seed_buggy.md", text)


def test_state_graph_of_the_seed(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("trace", SEED, "--format", "dot", "--graph", "states")
    assert result.code == 1
    graph = parse_dot(result.stdout)
    nodes = [n for n in graph.get_nodes() if re.fullmatch(r"s\d+", n.get_name())]
    # Every state, past the first deadlock too (check stops there, at 13).
    assert len(nodes) == 14
    deadlocks = [n for n in nodes if "(deadlock)" in n.get("label")]
    assert len(deadlocks) == 2
    path = [e for e in graph.get_edges() if e.get("color") == '"red"']
    assert len(path) == 9  # the shortest trace, step by step
    assert path[-1].get_destination() in {n.get_name() for n in deadlocks}


def test_state_graph_too_large_is_refused_with_a_hint(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("trace", "bench/models/gil_workers_5.gil", "-f", "dot", "--graph", "states")
    assert result.code == 2
    assert "more than 2,000 states" in result.stderr and "help: " in result.stderr
    assert result.stdout == ""


def test_state_graph_needs_dot(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("trace", SEED, "--graph", "states", "--format", "mermaid")
    assert result.code == 2 and "add `--format dot`" in result.stderr


@pytest.mark.parametrize("spec", KINDS)
def test_every_kind_of_trace_is_well_formed(spec: str, cli) -> None:  # type: ignore[no-untyped-def]
    mermaid = cli("trace", spec, "-f", "mermaid")
    assert mermaid.code == 1, mermaid.stderr
    validate_mermaid(mermaid.stdout)
    dot = cli("trace", spec, "-f", "dot")
    assert dot.code == 1
    parse_dot(dot.stdout)
    markdown = cli("trace", spec, "-f", "markdown")
    assert markdown.code == 1
    validate_markdown_tables(markdown.stdout)


def test_a_loop_is_drawn_as_a_mermaid_loop(cli) -> None:  # type: ignore[no-untyped-def]
    text = cli("trace", "specs/progress/polite_spin_buggy.gil", "-f", "mermaid").stdout
    assert "    loop the program can repeat these steps for ever" in text
    assert text.count("\n    end\n") == 1


def test_hostile_text_is_escaped(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "hostile.gil"
    spec.write_text(HOSTILE)
    mermaid = cli("trace", str(spec), "-f", "mermaid")
    assert mermaid.code == 1, mermaid.stderr
    validate_mermaid(mermaid.stdout)
    assert 'x#59; y #35; #60;i#62;end#60;/i#62; | z -#62; w \\\\ \\"q\\"' in mermaid.stdout
    dot = cli("trace", str(spec), "-f", "dot")
    parse_dot(dot.stdout)
    states = cli("trace", str(spec), "-f", "dot", "--graph", "states")
    labels = [n.get("label") or "" for n in parse_dot(states.stdout).get_nodes()]
    assert any('c: [\\"x; y # <i>end</i> | z -> w' in label for label in labels), labels
    markdown = cli("trace", str(spec), "-f", "markdown")
    validate_markdown_tables(markdown.stdout)
    assert "&lt;i&gt;end&lt;/i&gt;" in markdown.stdout
    # Markup stays literal: only inside code spans (and the diagram's entity codes).
    prose = re.sub(r"`[^`]*`", "", markdown.stdout.split("```mermaid")[0])
    assert "<i>" not in prose and "<b>" not in prose and "<script>" not in prose


# Text beyond ASCII, in the places the language allows it: the scenario and strings.
UNICODE = """scenario "ロックの順序 🔒"
expect deadlock

mutex m
channel c: bounded(1)

thread main {
    lock m {
        send c, "ロック; x # y 🔒"
        send c, "second"
    }
}
"""


def test_unicode_reaches_mermaid_as_it_is(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "unicode.gil"
    spec.write_text(UNICODE, encoding="utf-8")
    mermaid = cli("trace", str(spec), "-f", "mermaid")
    validate_mermaid(mermaid.stdout)
    assert "title unicode.gil: ロックの順序 🔒 (verdict deadlock)" in mermaid.stdout
    assert 'sends "ロック#59; x #35; y 🔒" on c' in mermaid.stdout
    # Nothing of its own is put in the text: no full-width stand-ins, no other escapes.
    assert not re.search("[\uff00-\uffef]", mermaid.stdout)


def _wait_edges(text: str) -> list[tuple[str, str, str]]:
    graph = parse_dot(text)
    return [
        (e.get_source().strip('"'), e.get_destination().strip('"'), e.get("label") or "")
        for e in graph.get_edges()
        if e.get_destination() != "note"
    ]


def test_dot_wait_edges_say_what_is_waited_for(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    edges = _wait_edges(cli("trace", SEED, "-f", "dot").stdout)
    assert edges == [
        ("main", "execute_loop", '"waits for the GIL to format\\na Python value"'),
        ("execute_loop", "main", '"waits for stdout\'s lock"'),
    ]
    spec = tmp_path / "two_locks.gil"
    spec.write_text(TWO_LOCKS)
    edges = _wait_edges(cli("trace", str(spec), "-f", "dot").stdout)
    assert edges == [("main", "other", '"waits for b"'), ("other", "main", '"waits for a"')]
    for kind in [*KINDS, "tests/cases/scenarios/21_philosophers_buggy.gil"]:
        edges = _wait_edges(cli("trace", kind, "-f", "dot").stdout)
        # One label per edge, never the same words twice between the same two threads,
        # and each says what it waits for: more than the bare verb.
        assert len(set(edges)) == len(edges), (kind, edges)
        pairs = [(a, b) for a, b, _ in edges]
        assert len(set(pairs)) == len(pairs), (kind, edges)
        for _, _, label in edges:
            words = label.strip('"').replace("\\n", " ")
            assert words and words not in ("waits for", "waits on"), (kind, label)


def test_wait_labels_name_what_is_waited_for() -> None:
    from gilcheck.report.text import wait_label
    from gilcheck.trace.model import Location, Wait

    def label(text: str, holders: tuple[str, ...] = ("h",)) -> str:
        return wait_label(Wait("t", text, holders, Location("a.gil", 1), "s"))

    assert label("waits for the GIL, held by worker") == "waits for the GIL"
    assert label("waits for stdout's lock, held by main") == "waits for stdout's lock"
    assert (
        label("holds stdout's lock and waits for the GIL to format a Python value, held by b")
        == "waits for the GIL to format a Python value"
    )
    assert label("in process g: waits for m, held by main") == "waits for m"
    assert label("waits for worker to end (join)") == "waits for worker to end"
    assert label("waits on rx, empty, whose sender tx is owned by p, blocked at a.gil:9") == (
        "waits on rx"
    )
    assert label("waits for future #1 (made at a.gil:2): its task t runs on p.worker") == (
        "waits for future #1"
    )
    assert label("waits until `f(a, b) == 1` holds") == "waits until `f(a, b) == 1` holds"
    assert (
        label(
            "has returned; the exit join waits for non-daemon thread w[0], w[1]", ("w[0]", "w[1]")
        )
        == "the exit join waits for non-daemon thread w[0], w[1]"
    )


def test_ok_spec_says_there_is_no_counterexample(cli) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("mermaid", "dot", "markdown"):
        result = cli("trace", OK_SPEC, "-f", fmt)
        assert result.code == 0, fmt
        assert "no counterexample" in result.stderr
        assert "verdict ok" in result.stdout or "ok (expected ok" in result.stdout
    validate_mermaid(cli("trace", OK_SPEC, "-f", "mermaid").stdout)
    parse_dot(cli("trace", OK_SPEC, "-f", "dot").stdout)
    assert cli("trace", OK_SPEC, "-f", "dot", "--graph", "states").code == 0
    assert "```mermaid" not in cli("trace", OK_SPEC, "-f", "markdown").stdout


def test_output_file(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "seed.mmd"
    result = cli("trace", SEED, "-f", "mermaid", "-o", str(target))
    assert result.code == 1 and result.stdout == ""
    assert target.read_text() == cli("trace", SEED, "-f", "mermaid").stdout
    text = tmp_path / "seed.txt"
    assert cli("trace", SEED, "-o", str(text)).stdout == ""
    assert "verdict: deadlock" in text.read_text()
    unwritable = cli("trace", SEED, "-f", "dot", "-o", str(tmp_path / "no" / "such" / "x.dot"))
    assert unwritable.code == 2 and "error[unwritable-output]" in unwritable.stderr


def test_bad_spec_is_located_exit_2(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "bad.gil"
    spec.write_text("thread main {\n    acquire nosuch\n}\n")
    for fmt in ("text", "mermaid", "dot", "markdown", "html"):
        result = cli("trace", str(spec), "-f", fmt)
        assert result.code == 2, fmt
        assert "bad.gil:2:13" in result.stderr and "Traceback" not in result.stderr
    missing = cli("trace", str(tmp_path / "missing.gil"), "-f", "mermaid")
    assert missing.code == 2 and "error[unreadable-file]" in missing.stderr


def test_check_markdown_for_several_specs(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "-f", "markdown", SEED, OK_SPEC, "specs/seed/ok_value.gil")
    assert result.code == 1
    text = result.stdout
    assert text.startswith("## gilcheck: 3 specs\n")
    assert f"| `{SEED}` | deadlock | deadlock | matches |" in text
    assert f"| `{OK_SPEC}` | ok | ok | matches |" in text
    validate_markdown_tables(text)
    # Every spec matches its expect: no details to show.
    assert "<details>" not in text


def test_check_markdown_details_what_is_not_as_expected(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    unannounced = tmp_path / "unannounced.gil"
    unannounced.write_text("mutex m\nthread main {\n    acquire m\n    acquire m\n}\n")
    wrong = tmp_path / "wrong.gil"
    wrong.write_text("expect ok\nmutex m\nthread main {\n    release m\n}\n")
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { acquire nosuch }\n")
    result = cli("check", "-f", "markdown", OK_SPEC, str(unannounced), str(wrong), str(bad))
    assert result.code == 2
    text = result.stdout
    validate_markdown_tables(text)
    assert f"| `{wrong}` | misuse | ok | **MISMATCH** |" in text
    assert f"| `{unannounced}` | deadlock |  | no expect line |" in text
    assert f"| `{bad}` | spec error | |" in text
    summaries = re.findall(r"<summary>(.*)</summary>", text)
    assert summaries == [f"{unannounced}: deadlock", f"{wrong}: misuse"]
    assert text.count("```mermaid") == 2


# Checkers of the documents' structure.

_DECLARED = re.compile(r"^    participant (\w+) as (.+)$")
_MESSAGE = re.compile(r"^    (\w+)(->>|-->>|-x|--x)(\w+): (.+)$")
_NOTE = re.compile(r"^    Note over (\w+)(?:,(\w+))?: (.+)$")


def validate_mermaid(text: str) -> None:
    """A sequence diagram: header, participants declared before use, balanced loops, and
    text in which `#`, `;`, `<` and `>` (syntax or markup to Mermaid) appear only in entity
    codes (`#59;`)."""
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "sequenceDiagram"
    assert lines[1].startswith("    title ")
    declared: set[str] = set()
    depth = 0
    used = False
    for line in lines[2:]:
        if m := _DECLARED.match(line):
            assert not used, f"participant declared after use: {line}"
            assert m.group(1) not in declared
            declared.add(m.group(1))
            texts = [m.group(2)]
        elif m := _MESSAGE.match(line):
            used = True
            assert {m.group(1), m.group(3)} <= declared, line
            texts = [m.group(4)]
        elif m := _NOTE.match(line):
            used = True
            assert {m.group(1), m.group(2) or m.group(1)} <= declared, line
            texts = [m.group(3)]
        elif line.startswith("    loop "):
            depth += 1
            texts = [line[9:]]
        elif line == "    end":
            depth -= 1
            assert depth >= 0
            texts = []
        else:
            raise AssertionError(f"not a sequence diagram statement: {line!r}")
        for part in texts:
            bare = re.sub(r"#\d+;", "", part.replace("<br/>", ""))  # entity codes: `#59;`
            assert not re.search(r"[#;<>]", bare), f"unescaped: {part!r}"
            assert part.strip(), line
    assert depth == 0
    assert declared


def parse_dot(text: str) -> pydot.Dot:
    """The single graph of a DOT document (pydot raises or returns None when it is not one)."""
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1
    return graphs[0]


def validate_markdown_tables(text: str) -> None:
    """Every table row has as many cells as its header (escaped pipes are not separators)."""
    width = None
    for line in text.split("\n"):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.split(r"(?<!\\)\|", line)) - 2
        if width is None:
            width = cells
        assert cells == width, line


def test_the_docs_show_the_current_diagram(cli) -> None:  # type: ignore[no-untyped-def]
    doc = (ROOT / "docs" / "pictures.md").read_text()
    block = doc.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block == cli("trace", SEED, "-f", "mermaid").stdout
