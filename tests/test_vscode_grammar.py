"""The VS Code extension (editors/vscode/): its TextMate grammar tokenizes every bundled spec
as VS Code does (vscode-textmate on Oniguruma, editors/vscode/test/tokenize.js), leaves no
token of code without a scope of its own and agrees with the parser (grammar.lark) on what
each token is; it knows every keyword of the language; its manifest and language
configuration are what VS Code reads.

The tokenizer's node modules are installed by `npm ci --prefix editors/vscode/test` (.ci/run
does it). Without node or those modules the tokenizing tests are skipped, except where the
environment variable CI is set: there they fail.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from lark import Lark
from lark import Token as LarkToken
from lark.exceptions import UnexpectedInput

from gilcheck.source import SourceFile
from gilcheck.syntax import keywords
from gilcheck.syntax.annotations import scan_annotations
from gilcheck.syntax.grammar import _OPTIONS
from gilcheck.syntax.parse import parse_source

EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "gil.tmLanguage.json"
TOKENIZER = EXTENSION / "test" / "tokenize.js"
NODE_MODULES = EXTENSION / "test" / "node_modules"

Token = dict[str, Any]

# Scopes a keyword may get (a declaration's kind is a storage type, a constructor or a
# channel kind a support name, `true` a language constant, `self` a language variable).
KEYWORD_SCOPES = ("keyword.", "storage.type", "support.", "constant.language", "variable.language")


def _node() -> str:
    node = shutil.which("node")
    missing = ["node is not on PATH"] if node is None else []
    modules = ("vscode-textmate", "vscode-oniguruma")
    if not all((NODE_MODULES / module / "package.json").is_file() for module in modules):
        missing.append(
            "the tokenizer's node modules are not installed (`npm ci --prefix editors/vscode/test`)"
        )
    if missing:
        why = "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"the VS Code grammar cannot be tested in CI: {why}")
        pytest.skip(why)
    assert node is not None
    return node


def _tokenize(files: list[Path]) -> dict[str, list[Token]]:
    """Every token of each file, in one node process."""
    done = subprocess.run(
        [_node(), str(TOKENIZER)],
        input="\n".join(str(file) for file in files),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    tokens: dict[str, list[Token]] = json.loads(done.stdout)
    return tokens


@functools.cache
def _token_parser() -> Lark:
    """The parser of grammar.lark, as gilcheck builds it, keeping every token in its tree."""
    text = resources.files("gilcheck.syntax").joinpath("grammar.lark").read_text("utf-8")
    return Lark(text, **{**_OPTIONS, "keep_all_tokens": True, "propagate_positions": False})


def _parser_tokens(path: Path) -> list[LarkToken] | None:
    """What the parser's contextual lexer made of a spec, its tokens but the separators;
    None when the spec does not parse or has a malformed `#@` annotation, and for the
    fuzzer's hostile inputs (nested deeper than Python's recursion limit, for some)."""
    if "fuzz_corpus" in path.parts:
        return None
    try:
        text = path.read_text(encoding="utf-8")
        tree = _token_parser().parse(text)
        tokens = list(tree.scan_values(lambda value: isinstance(value, LarkToken)))
    except (UnexpectedInput, UnicodeDecodeError):
        return None
    if scan_annotations(SourceFile(str(path), text))[1]:
        return None
    return [token for token in tokens if token.type not in ("_NL", "_ELSE", "_OR")]


def _agrees(token: LarkToken, scopes: list[str]) -> bool:
    """Whether the scopes of the grammar's token that starts where the parser's `token` does
    fit the parser's kind: a name, a number, a string, a keyword (contextual ones included),
    an operator or punctuation."""
    innermost = scopes[-1]
    if token.type == "NAME":  # the verdict of `expect deadlock` and the value of `host python`
        names = ("variable.", "entity.name.", "support.", "constant.language.verdict")
        return innermost.startswith((*names, "constant.language.setting"))
    if token.type == "INT":
        return innermost.startswith("constant.numeric.")
    if token.type == "STRING":
        return any(scope.startswith("string.quoted.") for scope in scopes)
    if token.value.isidentifier():
        return innermost.startswith(KEYWORD_SCOPES)
    return innermost.startswith(("punctuation.", "keyword.operator."))


def _doc_examples(folder: Path) -> list[Path]:
    """The ```gil blocks of the README and docs/, each written to a file of its own."""
    written = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for index, text in enumerate(re.findall(r"```gil\n(.*?)```", doc.read_text(), re.S)):
            path = folder / f"{doc.stem}-{index}.gil"
            path.write_text(text)
            written.append(path)
    return written


def test_every_bundled_spec_has_a_scope_for_every_token(tmp_path: Path) -> None:
    """Every token of every bundled spec, model and test case (and of the docs' examples)
    has a scope of its own; in those that parse none is `invalid`, and each of the
    parser's tokens is a token of the same kind in the grammar."""
    bundled = [
        path
        for folder in ("specs", "models", "tests")
        for path in sorted((ROOT / folder).rglob("*.gil"))
    ]
    files = bundled + _doc_examples(tmp_path)
    _node()
    with ThreadPoolExecutor(1) as background:  # node tokenizes while the parser parses
        tokenizing = background.submit(_tokenize, files)
        seen_by_parser = {file: _parser_tokens(file) for file in files}
        found = tokenizing.result()
    assert set(found) == {str(file) for file in files}
    specs_and_models = [p for p in bundled if p.relative_to(ROOT).parts[0] in ("specs", "models")]
    assert len(specs_and_models) > 250
    assert all(seen_by_parser[file] is not None for file in specs_and_models)
    problems = []
    for file in files:
        tokens = found[str(file)]
        parsed = seen_by_parser[file]
        for token in tokens:
            # In a spec that does not parse, a stray character is `invalid.illegal`; no
            # token may be left with no scope at all.
            if token["text"].strip() and (
                len(token["scopes"]) < 2
                or (parsed is not None and any(s.startswith("invalid.") for s in token["scopes"]))
            ):
                where = f"{file}:{token['line'] + 1}:{token['start'] + 1}"
                problems.append(f"{where} {token['text']!r} {' '.join(token['scopes'])}")
        if parsed is None:
            continue
        at = {(t["line"], t["start"]): t for t in tokens}
        for seen in parsed:
            mine = at.get((seen.line - 1, seen.column - 1))
            if mine is None or not _agrees(seen, mine["scopes"]):
                where = f"{file}:{seen.line}:{seen.column}"
                scopes = " ".join(mine["scopes"]) if mine else "inside a token of the grammar"
                problems.append(f"{where} the parser's {seen.type} {seen.value!r} is {scopes}")
    assert not problems, "\n".join(problems[:50])
    assert sum(parsed is not None for parsed in seen_by_parser.values()) > 900
    assert sum(len(tokens) for tokens in found.values()) > 100_000


SNIPPET = """\
scenario "the # in a string, and acquire m"   // thread main
expect deadlock when n == 7   # keep
host python
gil off
use "pyo3"
const N = 2**31 - 1_000
param n: int in 1..10
var result[N] = none
mutex m
channel c[N]: bounded(2)
pool p = 4
eventloop lp: any_order
thread worker[3] {
    let (tx, rx) = channel(unbounded)
    acquire m                   #@ app.py:41:5 ~1a2b3c4d
    # acquire m, with_gil { thread }
    x = 1   # a plain #@ comment
    shutdown = true
    let f = submit p, g(m, "\\"acquire\\"")
    let ok = acquire m timeout
    spawn process(x)
    let h = spawn daemon process g(1)
    choose { skip } or { notify_all cv }
    for v in rx { print v }
}
#@ assume app.py:41:5 ~9b1e22aa "assumed not to block: `client.fetch()`"
#@ draft app.py --entry worker --unroll 3
#@ source "my app.py" ~0b1c2d3e
fn g(a, b) {
    release_gil
    return ok(pyerr("x"))
}
"""


@pytest.fixture(scope="module")
def snippet(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("vscode") / "snippet.gil"
    path.write_text(SNIPPET)
    parse_source(SourceFile(str(path), SNIPPET))  # the snippet is a spec of the language
    tokens = _tokenize([path])[str(path)]
    lines = SNIPPET.splitlines()
    # One line of text per token, "LINE|TEXT|SCOPE SCOPE ...", for the checks below.
    return [f"{lines[t['line']]}|{t['text']}|{' '.join(t['scopes'])}" for t in tokens]


def _scopes(tokens: list[str], line: str, text: str) -> str:
    """The scopes of the token `text` on the line that starts (after its indent) with `line`."""
    found = [
        scopes
        for token in tokens
        for code, word, scopes in [token.rsplit("|", 2)]
        if code.lstrip().startswith(line) and word == text
    ]
    assert found, f"no token {text!r} on a line starting {line!r}"
    return found[0]


def test_keywords_get_keyword_scopes(snippet: list[str]) -> None:
    assert "keyword.other.directive.scenario" in _scopes(snippet, "scenario", "scenario")
    assert "storage.type.thread" in _scopes(snippet, "thread worker", "thread")
    assert "storage.type.function" in _scopes(snippet, "fn g", "fn")
    assert "keyword.other.statement" in _scopes(snippet, "acquire m ", "acquire")
    assert "keyword.control" in _scopes(snippet, "choose", "choose")
    assert "keyword.control.choose" in _scopes(snippet, "choose", "or")
    assert "keyword.other.statement" in _scopes(snippet, "release_gil", "release_gil")
    assert "keyword.other.timeout" in _scopes(snippet, "let ok = acquire", "timeout")
    assert "keyword.other.statement" in _scopes(snippet, "let f = submit", "submit")
    assert "keyword.other.statement" in _scopes(snippet, "let h = spawn", "process")
    assert "keyword.operator.comparison" in _scopes(snippet, "expect", "==")
    assert "constant.language.verdict" in _scopes(snippet, "expect", "deadlock")
    assert "meta.directive.expect" in _scopes(snippet, "expect", "when")
    assert "constant.language.setting" in _scopes(snippet, "host", "python")


def test_declared_names_get_entity_scopes(snippet: list[str]) -> None:
    assert "entity.name.variable.resource" in _scopes(snippet, "mutex m", "m")
    assert "entity.name.variable.resource" in _scopes(snippet, "pool p", "p")
    assert "entity.name.variable.channel" in _scopes(snippet, "channel c", "c")
    assert "entity.name.function.thread" in _scopes(snippet, "thread worker", "worker")
    assert "entity.name.function" in _scopes(snippet, "fn g", "g")
    assert "variable.parameter" in _scopes(snippet, "fn g", "b")
    assert "entity.name.variable.local" in _scopes(snippet, "let (tx, rx)", "rx")
    assert "entity.name.variable.shared" in _scopes(snippet, "var result", "result")
    # A used name is a variable; a word that is a keyword only in place is a name elsewhere.
    assert "variable.other" in _scopes(snippet, "acquire m ", "m")
    assert "variable.other" in _scopes(snippet, "shutdown = true", "shutdown")
    assert "entity.name.function.call" in _scopes(snippet, "spawn process(x)", "process")


def test_an_origin_annotation_is_an_annotation_not_a_plain_comment(snippet: list[str]) -> None:
    line = "acquire m                   #@"
    for text, scope in [
        ("#@", "punctuation.definition.annotation"),
        ("app.py", "string.unquoted.path"),
        ("41", "constant.numeric.integer.line"),
        ("5", "constant.numeric.integer.column"),
        ("1a2b3c4d", "constant.other.hash"),
    ]:
        scopes = _scopes(snippet, line, text)
        assert "meta.annotation.origin.gil" in scopes and scope in scopes
        assert "comment.line.number-sign" not in scopes
    assert "storage.type.annotation.assume" in _scopes(snippet, "#@ assume", "assume")
    assert "string.quoted.double" in _scopes(
        snippet, "#@ assume", "assumed not to block: `client.fetch()`"
    )
    assert "variable.parameter.option" in _scopes(snippet, "#@ draft", "--entry")
    assert "string.quoted.double.path" in _scopes(snippet, "#@ source", '"my app.py"')
    # `#` then anything but `@` is a plain comment, `#@` included later on its line.
    plain = _scopes(snippet, "x = 1", " a plain #@ comment")
    assert "comment.line.number-sign" in plain and "annotation" not in plain


def test_strings_numbers_and_comments(snippet: list[str]) -> None:
    assert "constant.numeric.integer" in _scopes(snippet, "const N", "1_000")
    assert "keyword.operator.arithmetic" in _scopes(snippet, "const N", "**")
    assert "keyword.operator.range" in _scopes(snippet, "param n", "..")
    assert "support.type.kind" in _scopes(snippet, "param n", "int")
    assert "constant.language" in _scopes(snippet, "var result", "none")
    assert "string.quoted.double" in _scopes(snippet, "use", "pyo3")
    assert "constant.character.escape" in _scopes(snippet, "let f = submit", '\\"')
    assert "support.function.builtin" in _scopes(snippet, "return", "pyerr")
    assert "support.function.constructor" in _scopes(snippet, "let (tx, rx)", "channel")
    assert "support.constant.channel-kind" in _scopes(snippet, "let (tx, rx)", "unbounded")
    assert "comment.line.double-slash" in _scopes(snippet, "scenario", " thread main")
    assert "comment.line.number-sign" in _scopes(snippet, "expect", " keep")


def test_keywords_in_comments_and_strings_stay_comments_and_strings(snippet: list[str]) -> None:
    comment = _scopes(snippet, "# acquire m", " acquire m, with_gil { thread }")
    assert "comment.line.number-sign" in comment and "keyword" not in comment
    string = _scopes(snippet, "scenario", "the # in a string, and acquire m")
    assert "string.quoted.double" in string and "keyword" not in string
    quoted = _scopes(snippet, "let f = submit", "acquire")
    assert "string.quoted.double" in quoted and "keyword" not in quoted


def _contextual_terminals() -> dict[str, tuple[str, ...]]:
    """The words of grammar.lark's contextual terminals (`SUBMIT.2: /(?:submit)(?=...)/`):
    keywords only in place, so not in keywords.KEYWORDS."""
    lark = (ROOT / "gilcheck" / "syntax" / "grammar.lark").read_text()
    return {
        name: tuple(words.split("|"))
        for name, words in re.findall(r"^([A-Z_]+)\.\d+: /\(\?:([a-z_|]+)\)", lark, re.M)
    }


# Each contextual terminal in a place where it is a keyword (`{}` is the word).
CONTEXTS = {
    "DECL_KIND": "{} x = 2",
    "EVENTLOOP": "{} lp",
    "SYNC_VERB": "    let v = {} x",
    "SUBMIT": "    let f = {} p, g()",
    "TRY_ACQUIRE": "    let r = {} m",
    "GIL_CALL": "    {}",
    "TIMEOUT": "    let r = acquire m {}",
    "SUSPEND": "    {} {{ skip }}",
    "PROCESS": "    let h = spawn {} g(1)",
}


def test_every_keyword_of_the_language_is_a_keyword_of_the_grammar(tmp_path: Path) -> None:
    contextual = _contextual_terminals()
    assert set(contextual) == set(CONTEXTS), "a contextual word has no context in CONTEXTS"
    assert set(keywords.OPERANDLESS_STATEMENTS) == set(contextual["GIL_CALL"])
    cases: list[tuple[str, str]] = [(word, word) for word in keywords.KEYWORDS]
    for terminal, words in contextual.items():
        cases += [(word, CONTEXTS[terminal].format(word)) for word in words]
        # Elsewhere the same words are names.
        cases += [(word, f"    x = {word} + 1") for word in words]
    path = tmp_path / "keywords.gil"
    path.write_text("".join(f"{line}\n" for _, line in cases))
    tokens = _tokenize([path])[str(path)]
    wrong = []
    for number, (word, line) in enumerate(cases):
        scopes = [t["scopes"] for t in tokens if t["line"] == number and t["text"] == word]
        assert scopes, f"{word!r} is not a token of {line!r}"
        as_name = line == f"    x = {word} + 1"
        keyword = any(scope.startswith(KEYWORD_SCOPES) for scope in scopes[0][1:])
        if keyword == as_name:
            wrong.append(f"{line!r}: {word!r} is {' '.join(scopes[0])}")
    assert not wrong, "\n".join(wrong)


def test_the_grammar_keyword_rules_name_every_reserved_word() -> None:
    grammar = json.loads(GRAMMAR.read_text())
    assert grammar["scopeName"] == "source.gil"
    rules = [re.compile(p["match"]) for p in grammar["repository"]["keywords"]["patterns"]]
    for word in keywords.KEYWORDS:
        matching = [rule.pattern for rule in rules if rule.fullmatch(word)]
        assert len(matching) == 1, f"{word!r} is matched by {len(matching)} keyword rules"


def test_the_manifest_is_an_extension_for_gil_files() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text())
    assert manifest["name"] == "gilcheck" and manifest["publisher"]
    assert manifest["engines"]["vscode"].startswith("^1.")
    assert manifest["activationEvents"] == ["onLanguage:gil"]
    assert (EXTENSION / manifest["main"]).is_file()
    assert manifest["dependencies"]["vscode-languageclient"].startswith("^9")
    [language] = manifest["contributes"]["languages"]
    assert language["id"] == "gil" and language["extensions"] == [".gil"]
    assert language["aliases"]
    assert (EXTENSION / language["configuration"]).is_file()
    [grammar] = manifest["contributes"]["grammars"]
    assert grammar["language"] == "gil" and grammar["scopeName"] == "source.gil"
    assert (EXTENSION / grammar["path"]).resolve() == GRAMMAR
    settings = manifest["contributes"]["configuration"]["properties"]
    assert settings["gilcheck.path"]["default"] == "gilcheck"
    assert settings["gilcheck.args"]["default"] == []
    # The extension starts the language server, over stdio, for gil documents.
    code = (EXTENSION / manifest["main"]).read_text()
    assert '"lsp"' in code and "vscode-languageclient/node" in code
    assert 'language: "gil"' in code and "TransportKind.stdio" in code
    # The tokenizer's modules are pinned, and locked for `npm ci`.
    tool = json.loads((EXTENSION / "test" / "package.json").read_text())
    lock = json.loads((EXTENSION / "test" / "package-lock.json").read_text())
    assert tool["dependencies"] == {"vscode-textmate": "9.3.2", "vscode-oniguruma": "2.0.1"}
    for module, version in tool["dependencies"].items():
        assert lock["packages"][f"node_modules/{module}"]["version"] == version


def test_the_language_configuration_fits_the_language() -> None:
    config = json.loads((EXTENSION / "language-configuration.json").read_text())
    assert config["comments"]["lineComment"] == "#"
    assert ["{", "}"] in config["brackets"] and ["(", ")"] in config["brackets"]
    assert {"open": "{", "close": "}"} in config["autoClosingPairs"]
    assert ['"', '"'] in config["surroundingPairs"]
    word = re.compile(config["wordPattern"])
    assert word.fullmatch("notify_all") and word.fullmatch("1_000")
    rules = config["indentationRules"]
    opens, closes = (
        re.compile(rules["increaseIndentPattern"]),
        re.compile(rules["decreaseIndentPattern"]),
    )
    for line in ("thread main {", "    with_gil {   # held", "} else {", "choose { skip } or {"):
        assert opens.search(line), line
    for line in ("    lock m { skip }", 'print "{"', "# {", "x = 1"):
        assert not opens.search(line), line
    assert closes.search("    }") and closes.search("} else {") and not closes.search("x = 1")
