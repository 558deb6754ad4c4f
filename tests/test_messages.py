"""Messages name constructs as the spec writes them (`any(..)`, `spawn`, `with_gil { }`,
`channel c: bounded(1)`), never by the IR class they were lowered to (`AnyInt`, `SpawnFn`).

Run-time messages of tests/cases/messages (each says what it must print in a `# says:`
line), `gilcheck.semantics.describe` on its own, and a scan of many specs through
`check` and `export` for any IR class name in what they print.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import typing
from pathlib import Path

import pytest
from conftest import CASES, ROOT, SPECS, relative

from gilcheck.diagnostics import SpecError
from gilcheck.export.promela import export_promela
from gilcheck.pipeline import analyze_spec, checkable_program, parse_spec, parse_text
from gilcheck.semantics import describe, ir

MESSAGES = sorted((CASES / "messages").glob("*.gil"))


def _says(path: Path) -> list[str]:
    found = re.findall(r"^# says: (.*)$", path.read_text(), re.M)
    assert found, f"{path.name} has no `# says:` line"
    return found


@pytest.mark.parametrize("path", MESSAGES, ids=[p.stem for p in MESSAGES])
def test_run_time_messages_name_values_and_constructs_as_written(path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", relative(path))
    ok = re.search(r"^expect ok$", path.read_text(), re.M) is not None
    assert result.code == (0 if ok else 1), result.stderr
    for text in _says(path):
        assert text in result.stdout
    assert "internal error" not in result.stderr


# ---------------------------------------------------------------- describe


def _program(text: str) -> ir.Program:
    return analyze_spec(parse_text("describe.gil", text))


def test_statements_read_back_as_spec_text() -> None:
    program = _program(
        "var a[2] = 0\nmutex m\nrwlock l\ncondvar cv\nchannel c[2]: bounded(1)\n"
        "fn worker(n) { skip }\n"
        "thread main {\n"
        "    let x = any(0..3)\n"
        "    a[x % 2] = -x + 1\n"
        "    send c[self], not (x > 1 and x < 3)\n"
        "    let v = try_recv c[0]\n"
        "    let h = spawn daemon worker(x * (x - 1))\n"
        "    acquire_read l\n"
        "    release l\n"
        "    lock m {\n"
        "        wait cv, m\n"
        "    }\n"
        "    await is_none(v) or len(c[1]) == 0\n"
        "}\n"
    )
    code = program.codes[program.threads[0].code]
    texts = [describe.statement(i, program.codes) for i in code.instrs]
    for wanted in (
        "x = any(0..3)",
        "a[x % 2] = -x + 1",
        "send c[self], not (x > 1 and x < 3)",
        "v = try_recv c[0]",
        "h = spawn daemon worker(x * (x - 1))",
        "acquire_read l",
        "release l",
        "acquire m",
        "wait cv, m",
        "await is_none(v) or len(c[1]) == 0",
    ):
        assert wanted in texts, texts


def test_constructs_and_declarations_use_the_spec_words() -> None:
    program = _program(
        'var s = "hi"\nsemaphore sem = 2\nchannel c: bounded(1)\nchannel q: queue(0)\n'
        "thread w[3] { skip }\n"
        "thread main {\n    with_gil {\n        let (tx, rx) = oneshot()\n    }\n"
        "    for v in c {\n        skip\n    }\n}\n"
    )
    assert [describe.declaration(v) for v in program.vars] == ['var s = "hi"']
    assert [describe.declaration(r) for r in program.resources] == ["semaphore sem = 2"]
    assert [describe.declaration(c) for c in program.channels] == [
        "channel c: bounded(1)",
        "channel q: queue(0)",
    ]
    assert [describe.declaration(t) for t in program.threads] == ["thread w[3]", "thread main"]
    code = program.codes[program.threads[1].code]
    constructs = {describe.construct(i) for i in code.instrs}
    assert {"`with_gil { }`", "`oneshot()`", "`for`"} <= constructs
    assert "let (tx, rx) = oneshot()" in {describe.statement(i) for i in code.instrs}
    assert [describe.a_kind(k) for k in ("mutex", "rlock", "event", "once")] == [
        "a mutex",
        "an rlock",
        "an event",
        "a `once`",
    ]


def test_every_instruction_has_a_construct_in_the_spec_words() -> None:
    for cls in typing.get_args(ir.Instr):
        sample = _sample(cls)
        assert describe.construct(sample) != "this statement", cls.__name__
        assert not _leaks(describe.construct(sample)), cls.__name__
        assert not _leaks(describe.statement(sample)), cls.__name__


def _sample(cls: type) -> ir.Instr:
    """An instruction of class `cls` with placeholder fields."""
    values: dict[str, object] = {}
    target = ir.LocalTarget(slot=0, name="x")
    resource = ir.ResourceRef(kind="mutex", base=0, size=None, name="m")
    for f in dataclasses.fields(cls):
        if f.name in ("span", "context"):
            continue
        if f.name in ("channel",):
            values[f.name] = ir.GlobalChannel(base=0, size=None, name="c")
        elif f.name in ("resource", "mutex"):
            values[f.name] = resource
        elif f.name in ("target", "sender", "receiver"):
            values[f.name] = target
        elif f.name in ("value", "cond", "low", "high", "source", "message", "capacity"):
            values[f.name] = ir.Const(value=1)
        elif f.name == "handle":
            values[f.name] = ir.Local(slot=0, name="h")
        elif f.name in ("args", "targets", "slots"):
            values[f.name] = ()
        elif f.name in ("kind", "mode", "name"):
            values[f.name] = "bounded" if f.name == "kind" else ("" if f.name == "mode" else "x")
        elif f.name in ("daemon", "all"):
            values[f.name] = False
        else:
            values[f.name] = 0
    return cls(**values)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- the scan


def _ir_classes() -> list[type]:
    return [
        value
        for value in vars(ir).values()
        if isinstance(value, type)
        and value.__module__ == ir.__name__
        and (dataclasses.is_dataclass(value) or issubclass(value, enum.Enum))
    ]


def _internal_names() -> re.Pattern[str]:
    """What a message must never show: an IR class name in CamelCase (`AnyInt`, also
    lowercased: `tryrecv`), any IR class name quoted (`Send`), an enum member
    (`Verdict.OK`) or a dataclass repr (`Const(value=1)`)."""
    names = [cls.__name__ for cls in _ir_classes()]
    camel = [n for n in names if sum(c.isupper() for c in n) >= 2]
    assert {"AnyInt", "SpawnFn", "GilEnter", "ChannelInfo"} <= set(camel)
    return re.compile(
        r"(?i:\b(?:" + "|".join(camel) + r")\b)"
        r"|`(?:" + "|".join(names) + r")`"
        r"|\b(?:"
        + "|".join(c.__name__ for c in _ir_classes() if issubclass(c, enum.Enum))
        + r")\.[A-Z]"
        r"|\b(?:" + "|".join(names) + r")\(\w+="
    )


def _leaks(text: str) -> list[str]:
    pattern = _internal_names()
    return [line for line in text.splitlines() if pattern.search(line)]


def test_the_scan_sees_the_names_it_looks_for() -> None:
    assert _leaks("error[not-exportable]: `AnyInt` cannot be exported to Promela")
    assert _leaks("`tryrecv` on a channel handle")
    assert _leaks("`Branch` inside `atomic`")
    assert _leaks("kind Verdict.MISUSE")
    assert _leaks("cannot compile Const(value=1)")
    assert not _leaks("Wait-for chain: main waits for the GIL, held by worker.")
    assert not _leaks("`any(0..100)`, whose range is not constant, cannot be exported")


def _spec_files(*folders: Path) -> list[str]:
    return [relative(p) for folder in folders for p in sorted(folder.rglob("*.gil"))]


GOLDEN_REPORTS = sorted((ROOT / "tests" / "golden" / "reports").rglob("*.*"))


def test_no_check_output_names_an_ir_class() -> None:
    # The text and JSON reports of every bundled spec and test case, errors included, as
    # the CLI prints them: tests/test_golden_reports.py pins each to its golden file.
    assert len(GOLDEN_REPORTS) > 1_000
    leaks = {
        str(path.relative_to(ROOT)): found
        for path in GOLDEN_REPORTS
        if (found := _leaks(path.read_text()))
    }
    assert not leaks


def test_no_text_report_names_an_ir_class(cli) -> None:  # type: ignore[no-untyped-def]
    for path in _spec_files(CASES / "messages"):
        result = cli("check", path)
        assert not _leaks(result.stdout + result.stderr), path


def test_no_export_refusal_names_an_ir_class() -> None:
    # The specs and cases through the export, as `gilcheck export` runs it: what it refuses
    # (the `not-exportable` errors).
    refused = 0
    for path in _spec_files(
        SPECS, CASES / "not_exportable", CASES / "messages", CASES / "valid", CASES / "scenarios"
    ):
        try:
            export_promela(checkable_program(parse_spec(path)))
        except SpecError as error:
            refused += 1
            for d in error.diagnostics:
                assert not _leaks(f"{d.message}\n{d.help or ''}"), (path, d.message)
    assert refused > 30  # (the export translates nearly every bundled spec)
