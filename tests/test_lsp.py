"""`gilcheck lsp`: the language server driven over stdio by a real client, compared with
what the CLI itself reports for the same specs; and its pure functions."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, SPECS
from lsp_wire import LspClient

from gilcheck.lsp.checking import check_document
from gilcheck.lsp.declarations import declared_at, document_names
from gilcheck.lsp.findings import document_findings
from gilcheck.lsp.layout import formatted_text
from gilcheck.lsp.navigation import definition_of, hover_text
from gilcheck.lsp.outline import document_symbols
from gilcheck.lsp.places import Place, name_at, path_of_uri, uri_of_path, whole_text
from gilcheck.lsp.units import from_client, to_client
from gilcheck.syntax.formatter import format_source

pytest.importorskip("pygls")

BUGGY = SPECS / "seed" / "buggy.gil"
FIXED = SPECS / "seed" / "fixed.gil"
LOCKED = SPECS / "cookbook" / "02_result_under_lock_buggy.gil"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[LspClient, Any]]:
    """One server per test module (and xdist worker): starting one takes a second."""
    client = LspClient([sys.executable, "-m", "gilcheck", "lsp"], cwd=ROOT, env=_env())
    try:
        capabilities = client.initialize(ROOT)["capabilities"]
        yield client, capabilities
    finally:
        assert client.close() == 0


def _open(client: LspClient, path: Path, text: str | None = None) -> Any:
    """Open a document; the diagnostics published for it."""
    uri = path.as_uri()
    document = {
        "uri": uri,
        "languageId": "gil",
        "version": 1,
        "text": path.read_text() if text is None else text,
    }
    client.notify("textDocument/didOpen", {"textDocument": document})
    return client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)


def _change(client: LspClient, path: Path, text: str, version: int = 2) -> Any:
    uri = path.as_uri()
    client.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
    )
    return client.wait_for("textDocument/publishDiagnostics", lambda p: p["uri"] == uri)


def _at(path: Path, line: int, character: int) -> dict[str, Any]:
    return {
        "textDocument": {"uri": path.as_uri()},
        "position": {"line": line, "character": character},
    }


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gilcheck", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_env(),
        check=False,
    )


def _cli_errors(spec: Path) -> list[dict[str, Any]]:
    """What `gilcheck parse` prints for each error of a spec: its code, message, help, and
    0-based range (from its `--> file:line:column` and the carets under the line)."""
    done = _cli("parse", str(spec))
    assert done.returncode == 2
    found = []
    for block in done.stderr.split("\n\n"):
        header = re.match(r"error\[([\w-]+)\]: (.*)", block)
        if header is None:
            continue
        where = re.search(r"--> .*:(\d+):(\d+)\n", block)
        caret = re.search(r"^ *\| ( *)(\^+)$", block, re.MULTILINE)
        hint = re.search(r"^help: (.*)$", block, re.MULTILINE)
        assert where is not None and caret is not None and hint is not None, block
        line, column = int(where.group(1)) - 1, int(where.group(2)) - 1
        assert len(caret.group(1)) == column
        found.append(
            {
                "code": header.group(1),
                "message": header.group(2),
                "help": hint.group(1),
                "range": {
                    "start": {"line": line, "character": column},
                    "end": {"line": line, "character": column + len(caret.group(2))},
                },
            }
        )
    return found


def _as_published(diagnostics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "code": d["code"],
            "message": d["message"].split("\nhelp: ")[0],
            "help": d.get("data", {}).get("help"),
            "range": d["range"],
        }
        for d in diagnostics
    ]


# ------------------------------------------------------------------ over stdio


def test_initialize_answers_with_the_capabilities(server: tuple[LspClient, Any]) -> None:
    _, capabilities = server
    assert capabilities["textDocumentSync"]["change"] == 1  # full documents
    for provider in (
        "hoverProvider",
        "definitionProvider",
        "documentSymbolProvider",
        "documentFormattingProvider",
        "codeLensProvider",
    ):
        assert capabilities[provider], provider
    assert capabilities["executeCommandProvider"]["commands"] == ["gilcheck.check"]


def test_errors_are_published_where_the_cli_reports_them_and_cleared_once_fixed(
    server: tuple[LspClient, Any], tmp_path: Path
) -> None:
    client, _ = server
    good = BUGGY.read_text()
    spec = tmp_path / "typos.gil"
    lowering = good.replace("spawn execute_loop(r)", "spawn execute_lop(r)").replace(
        "print ret ", "print rett"
    )
    spec.write_text(lowering.replace("send t, tx", "send t,, tx"))  # and a syntax error
    published = _open(client, spec)
    assert all(d["source"] == "gilcheck" and d["severity"] == 1 for d in published["diagnostics"])
    cli_errors = _cli_errors(spec)
    assert [e["code"] for e in cli_errors] == [
        "undefined-function",
        "syntax-error",
        "undefined-name",
    ]
    assert _as_published(published["diagnostics"]) == cli_errors
    assert published["diagnostics"][0]["message"] == (
        "no function named `execute_lop`\nhelp: did you mean `execute_loop`?"
    )

    assert _change(client, spec, good)["diagnostics"] == []

    published = _change(client, spec, lowering, version=3)  # lowering errors alone
    assert _as_published(published["diagnostics"]) == [
        e for e in cli_errors if e["code"] != "syntax-error"
    ]
    assert _change(client, spec, good, version=4)["diagnostics"] == []


def test_hover_on_a_lock_says_what_it_is_and_where_it_is_declared(
    server: tuple[LspClient, Any],
) -> None:
    client, _ = server
    _open(client, LOCKED)
    lines = LOCKED.read_text().splitlines()
    use = next(i for i, line in enumerate(lines) if "lock cache_lock {" in line)
    hover = client.request("textDocument/hover", _at(LOCKED, use, lines[use].index("cache_lock")))
    text = hover["contents"]["value"]
    assert hover["contents"]["kind"] == "markdown"
    assert "mutex" in text and "lock" in text.replace("cache_lock", "")
    declared = lines.index("mutex cache_lock                     # cache_lock = threading.Lock()")
    assert f"line {declared + 1}" in text
    assert "mutex cache_lock" in text


def test_definition_jumps_to_the_declaration(server: tuple[LspClient, Any]) -> None:
    client, _ = server
    _open(client, BUGGY)
    lines = BUGGY.read_text().splitlines()
    spawn = next(i for i, line in enumerate(lines) if "spawn execute_loop" in line)
    found = client.request(
        "textDocument/definition", _at(BUGGY, spawn, lines[spawn].index("execute_loop") + 3)
    )
    declared = next(i for i, line in enumerate(lines) if line.startswith("fn execute_loop"))
    assert found["uri"] == BUGGY.as_uri()
    assert found["range"]["start"] == {"line": declared, "character": 3}
    assert found["range"]["end"] == {"line": declared, "character": 3 + len("execute_loop")}
    # A local: `tx` in `send t, tx` is the one `let (tx, rx)` declares.
    send = next(i for i, line in enumerate(lines) if "send t, tx" in line)
    local = client.request("textDocument/definition", _at(BUGGY, send, lines[send].index("tx")))
    let = next(i for i, line in enumerate(lines) if "let (tx, rx)" in line)
    assert local["range"]["start"] == {"line": let, "character": lines[let].index("tx")}
    # Nothing is declared by a keyword.
    assert client.request("textDocument/definition", _at(BUGGY, send, 5)) is None


def test_document_symbols_list_the_declarations(server: tuple[LspClient, Any]) -> None:
    client, _ = server
    _open(client, LOCKED)
    symbols = client.request(
        "textDocument/documentSymbol", {"textDocument": {"uri": LOCKED.as_uri()}}
    )
    assert [(s["name"], s["detail"].split()[0]) for s in symbols] == [
        ("ex", "pool"),
        ("cache_lock", "mutex"),
        ("cache", "var"),
        ("refresh", "fn"),
        ("main", "thread"),
    ]
    assert {s["name"]: s["kind"] for s in symbols}["refresh"] == 12  # Function


def test_formatting_returns_what_gilcheck_fmt_writes(
    server: tuple[LspClient, Any], tmp_path: Path, cli: Any
) -> None:
    client, _ = server
    spec = tmp_path / "messy.gil"
    messy = "mutex m ; mutex q # two\nthread main { acquire m\n  release m }\n"
    spec.write_text(messy)
    _open(client, spec)
    options = {"tabSize": 4, "insertSpaces": True}
    (edit,) = client.request(
        "textDocument/formatting", {"textDocument": {"uri": spec.as_uri()}, "options": options}
    )
    assert edit["range"]["start"] == {"line": 0, "character": 0}
    assert edit["range"]["end"] == {"line": 3, "character": 0}
    assert cli("fmt", str(spec)).code == 0
    assert edit["newText"] == spec.read_text() != messy
    # A document that does not parse is left as it is.
    _change(client, spec, "thread main {\n")
    assert (
        client.request(
            "textDocument/formatting", {"textDocument": {"uri": spec.as_uri()}, "options": options}
        )
        == []
    )


def test_the_check_command_reports_the_deadlock_and_its_places(
    server: tuple[LspClient, Any],
) -> None:
    client, _ = server
    _open(client, BUGGY)
    (lens,) = client.request("textDocument/codeLens", {"textDocument": {"uri": BUGGY.as_uri()}})
    assert lens["range"]["start"]["line"] == 0
    assert lens["command"]["title"] == "Check spec"
    result = client.request(
        "workspace/executeCommand",
        {"command": lens["command"]["command"], "arguments": lens["command"]["arguments"]},
    )
    assert result["verdict"] == "deadlock"
    assert result["headline"] == "verdict: deadlock   (expected deadlock: matches)"
    lines = BUGGY.read_text().splitlines()
    blocked = {loc["line"]: loc["message"] for loc in result["locations"]}
    assert lines[min(blocked)].strip().startswith("print ret")
    assert blocked[min(blocked)].startswith("main ")
    assert "execute_loop waits for stdout's lock, held by main" in blocked[max(blocked)]
    shown = client.wait_for("window/showMessage")
    assert shown == {"type": 3, "message": "buggy.gil: " + result["headline"]}
    published = client.wait_for(
        "textDocument/publishDiagnostics", lambda p: p["uri"] == BUGGY.as_uri()
    )
    assert {d["range"]["start"]["line"] for d in published["diagnostics"]} == set(blocked)
    assert {d["severity"] for d in published["diagnostics"]} == {3}  # expected: information
    assert {d["code"] for d in published["diagnostics"]} == {"deadlock"}


def test_the_check_command_on_a_fixed_spec_says_ok(server: tuple[LspClient, Any]) -> None:
    client, _ = server
    _open(client, FIXED)
    result = client.request(
        "workspace/executeCommand", {"command": "gilcheck.check", "arguments": [FIXED.as_uri()]}
    )
    assert result["verdict"] == "ok" and result["locations"] == []
    assert client.wait_for("window/showMessage")["message"].startswith("fixed.gil: verdict: ok")


def test_without_pygls_the_command_says_which_extra_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['pygls'] = None  # as if it were not installed\n"
        "sys.argv = ['gilcheck', 'lsp']\n"
        "from gilcheck.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=_env()
    )
    assert done.returncode == 2
    assert "gilcheck lsp needs the lsp extra: pip install 'gilcheck[lsp]'" in done.stderr
    assert done.stdout == ""


def test_importing_the_command_loads_no_server() -> None:
    code = "import sys, gilcheck.cli.lsp\nprint(sorted(m for m in sys.modules if 'pygls' in m or 'gilcheck.lsp' in m))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=_env()
    )
    assert done.stdout.strip() == "[]", done.stderr


# ------------------------------------------------------------------ pure functions


def test_findings_keep_the_cli_code_span_and_help() -> None:
    text = BUGGY.read_text().replace("spawn execute_loop", "spawn execute_lop")
    (finding,) = document_findings(text, str(BUGGY))
    assert finding.code == "undefined-function"
    assert finding.hint == "did you mean `execute_loop`?"
    assert finding.text.endswith("\nhelp: did you mean `execute_loop`?")
    assert (finding.extent.start, finding.extent.end) == (Place(11, 10), Place(11, 21))
    assert document_findings(BUGGY.read_text(), str(BUGGY)) == ()


def test_a_duplicate_points_at_the_first_definition() -> None:
    (finding,) = document_findings("mutex m\nmutex m\nthread main { skip }\n", "/x.gil")
    assert finding.code == "duplicate-definition"
    assert finding.extent.start == Place(1, 6)
    (first,) = finding.related
    assert first.extent.start == Place(0, 6) and first.message == "first defined here"


def test_an_error_in_a_used_model_is_shown_on_the_use_line(tmp_path: Path) -> None:
    (tmp_path / "broken.gil").write_text("fn f() {\n    skip skip skip +\n}\n")
    spec = tmp_path / "main.gil"
    text = 'scenario "s"\nuse "broken"\nthread main { call f() }\n'
    findings = document_findings(text, str(spec))
    assert findings and all(f.extent.start.line == 1 for f in findings)
    assert findings[0].related[0].path.endswith("broken.gil")


def test_names_resolve_to_locals_before_top_level_declarations() -> None:
    text = "var x = 0\nfn f(x) {\n    let y = x\n    print y\n}\nthread main { x = 1 }\n"
    names = document_names(text, "/s.gil")
    offset_in_f = text.index("= x") + 2
    parameter = declared_at(names, offset_in_f)
    assert parameter is not None and parameter.kind == "parameter" and parameter.line == 2
    shared = declared_at(names, text.index("x = 1"))
    assert shared is not None and shared.kind == "shared variable" and shared.line == 1
    local = declared_at(names, text.index("print y") + 6)
    assert local is not None and local.kind == "local" and local.line == 3


def test_hover_and_definition_reach_into_used_models() -> None:
    text = 'use "pyo3"\nthread main {\n    with_gil { call pyo3_attach_recv(none) }\n}\n'
    place = Place(2, text.splitlines()[2].index("pyo3_attach") + 2)
    hover = hover_text(text, "/tmp/s.gil", place)
    assert hover is not None and "**function**" in hover and "of `pyo3.gil`" in hover
    target = definition_of(text, "/tmp/s.gil", place)
    assert target is not None and target.path.endswith("pyo3.gil")


def test_a_use_line_leads_to_its_model_file() -> None:
    text = 'use "pyo3"\nthread main { skip }\n'
    hover = hover_text(text, "/tmp/s.gil", Place(0, 6))
    assert hover is not None and hover.startswith("**model** `pyo3`")
    target = definition_of(text, "/tmp/s.gil", Place(0, 6))
    assert target is not None and Path(target.path).name == "pyo3.gil"
    assert target.extent.start == Place(0, 0)


def test_hover_works_while_a_line_is_half_typed() -> None:
    text = "mutex m\nthread main {\n    acquire m\n    send ,\n}\n"
    hover = hover_text(text, "/s.gil", Place(2, 12))
    assert hover is not None and "**mutex** `m`" in hover


def test_symbols_of_every_kind() -> None:
    text = (
        "const N = 2\nparam n: int in 1..4\nvar x[N] = 0\nsemaphore s = 2\n"
        "channel c: bounded(1)\nthread w[N] { skip }\nfn f() { skip }\natexit { skip }\n"
        "thread main { skip }\n"
    )
    kinds = [(s.name, s.kind) for s in document_symbols(text, "/s.gil")]
    assert kinds == [
        ("N", "constant"),
        ("n", "param"),
        ("x", "shared variable"),
        ("s", "semaphore"),
        ("c", "channel"),
        ("w", "thread"),
        ("f", "function"),
        ("atexit", "hook"),
        ("main", "thread"),
    ]


def test_formatting_is_gilcheck_fmt_or_nothing() -> None:
    from gilcheck.source import SourceFile

    text = "mutex m ;mutex q\nthread main { skip }\n"
    assert formatted_text(text, "/s.gil") == format_source(SourceFile("/s.gil", text))
    assert formatted_text("thread main {", "/s.gil") is None
    assert formatted_text("thread main { skip }\x00", "/s.gil") is None


def test_check_document_summarises_the_verdict() -> None:
    summary = check_document(BUGGY.read_text(), str(BUGGY))
    assert summary.verdict == "deadlock" and summary.severity == "information"
    assert len(summary.marks) == 2
    unexpected = check_document(BUGGY.read_text().replace("expect deadlock", "expect ok"), "/b.gil")
    assert unexpected.severity == "error" and {m.severity for m in unexpected.marks} == {"error"}
    broken = check_document("thread main {", "/b.gil")
    assert broken.verdict is None and broken.errors and broken.errors[0].code == "unexpected-end"
    assert json.loads(json.dumps(summary.as_json()))["verdict"] == "deadlock"


def test_places_and_units() -> None:
    assert name_at("acquire cache_lock", 12) == ("cache_lock", 8)
    assert name_at("a + b", 2) is None
    assert whole_text("a\nbc").end == Place(1, 2)
    assert path_of_uri(uri_of_path("/tmp/a b.gil")) == "/tmp/a b.gil"
    assert path_of_uri("untitled:Untitled-1") == "untitled:Untitled-1"
    lines = ['print "😋" x']
    place = Place(0, lines[0].index("x"))
    assert to_client(lines, place, "utf-16") == (0, place.character + 1)
    assert to_client(lines, place, "utf-32") == (0, place.character)
    assert from_client(lines, 0, place.character + 1, "utf-16") == place


def test_the_check_command_takes_a_percent_encoded_uri_and_the_project_settings(
    server: tuple[LspClient, Any], tmp_path: Path
) -> None:
    """A folder with a space (VS Code sends `my%20specs`), and a `[tool.gilcheck]` that
    turns spurious wakeups on: the editor's verdict is the CLI's."""
    folder = tmp_path / "my specs"
    folder.mkdir()
    (folder / "pyproject.toml").write_text("[tool.gilcheck]\nspurious-wakeups = true\n")
    spec = folder / "wake.gil"
    spec.write_text(
        "mutex m\ncondvar cv\nvar ready = 0\nthread main {\n    spawn setter()\n"
        "    lock m {\n        if ready == 0 {\n            wait cv, m\n        }\n"
        '        assert ready == 1, "woken only once ready"\n    }\n}\n'
        "fn setter() {\n    lock m {\n        ready = 1\n        notify cv\n    }\n}\n"
        "expect ok\n"
    )
    # From the spec's folder, as the server reads the settings from there.
    cli = subprocess.run(
        [sys.executable, "-m", "gilcheck", "check", "--format", "json", "wake.gil"],
        capture_output=True,
        text=True,
        cwd=folder,
        env=_env(),
        check=False,
    )
    assert '"verdict": "assertion"' in cli.stdout, cli.stdout + cli.stderr
    client, _ = server
    _open(client, spec)
    assert "%20" in spec.as_uri()
    result = client.request(
        "workspace/executeCommand", {"command": "gilcheck.check", "arguments": [spec.as_uri()]}
    )
    assert result["verdict"] == "assertion"
    shown = client.wait_for("window/showMessage")["message"]
    assert shown.startswith("wake.gil: verdict: assertion"), shown


def test_words_in_comments_and_strings_name_nothing() -> None:
    text = 'var x = 0\nthread main {\n    # main reads x\n    print "x is main"\n}\n'
    names = document_names(text, "/c.gil")
    comment = text.index("reads x") + len("reads ")
    string = text.index("is main") + len("is ")
    assert declared_at(names, comment) is None and declared_at(names, string) is None
    assert declared_at(names, text.index("var x") + 4) is not None


def test_a_let_reads_the_binding_before_it() -> None:
    text = "var x = 0\nthread main {\n    let x = x + 1\n    assert x == 1\n}\n"
    names = document_names(text, "/l.gil")
    right = text.index("= x + 1") + 2
    assert declared_at(names, right).kind == "shared variable"  # type: ignore[union-attr]
    after = text.index("assert x") + len("assert ")
    assert declared_at(names, after).kind == "local"  # type: ignore[union-attr]


def test_a_model_file_is_no_spec_without_main() -> None:
    for model in ("pyo3", "cpython", "tokio"):
        path = ROOT / "models" / f"{model}.gil"
        assert document_findings(path.read_text(), str(path)) == ()


@pytest.mark.parametrize("tail", ["fn ", "fn foo(", "mutex ", "const N = ", "thread t[", "use "])
def test_a_declaration_half_typed_at_the_end_keeps_the_outline(tail: str) -> None:
    text = BUGGY.read_text() + "\n" + tail
    assert {s.name for s in document_symbols(text, str(BUGGY))} >= {"main", "execute_loop"}


def test_a_check_in_the_server_frees_its_store(stores_alive: Any) -> None:
    """The server checks in its own long-lived process: the search's store is gone when
    the check returns (no reference cycle holds it until a pass of the collector)."""
    spec = SPECS / "seed" / "buggy.gil"
    summary = check_document(spec.read_text(), str(spec))
    assert summary.verdict == "deadlock"
    made, alive = stores_alive()
    assert made and alive == 0
