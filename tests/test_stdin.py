"""`gilcheck check -`: a spec read from stdin, named by `--stdin-filename`."""

from __future__ import annotations

import io
import json
import sys

import pytest
from conftest import SPECS


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))


def test_a_spec_on_stdin_is_checked(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, (SPECS / "seed" / "buggy.gil").read_text())
    done = cli("check", "-")
    assert done.code == 1
    assert done.stdout.startswith("<stdin>: PyErr sent over a oneshot")


def test_stdin_filename_names_it_in_reports(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, (SPECS / "seed" / "fixed.gil").read_text())
    done = cli("check", "-", "--stdin-filename", "specs/seed/mine.gil", "-f", "json")
    assert done.code == 0
    assert json.loads(done.stdout)["spec"] == "specs/seed/mine.gil"


def test_errors_on_stdin_are_located(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    _stdin(monkeypatch, "thread main {\n    acquire\n}\n")
    done = cli("check", "-")
    assert done.code == 2
    assert "<stdin>:2:12" in done.stderr and "^" in done.stderr


def test_stdin_options_are_checked(cli) -> None:  # type: ignore[no-untyped-def]
    spec = str(SPECS / "seed" / "buggy.gil")
    assert cli("check", "-", spec).code == 2
    assert cli("check", spec, "--stdin-filename", "x.gil").code == 2
