"""The pre-commit hooks and the composite Action run gilcheck commands that work: each
hook's entry, and each gilcheck step of action.yml with its inputs filled in."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import yaml
from conftest import ROOT, SPECS

SPEC = SPECS / "seed" / "buggy.gil"


def test_pre_commit_hooks_run(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"gilcheck-check", "gilcheck-fmt"}
    for hook in hooks.values():
        assert re.search(hook["files"], "specs/seed/buggy.gil")
        assert not re.search(hook["files"], "app.py")
        assert hook["entry"].startswith("gilcheck ")
    check = shlex.split(hook_entry(hooks["gilcheck-check"]))
    assert cli(*check, str(SPEC)).code == 0
    messy = tmp_path / "messy.gil"
    messy.write_text("thread main {\n  skip\n}\n")
    assert cli(*shlex.split(hook_entry(hooks["gilcheck-fmt"])), str(messy)).code == 0
    assert messy.read_text() == "thread main {\n    skip\n}\n"


def hook_entry(hook: dict[str, str]) -> str:
    return hook["entry"].removeprefix("gilcheck ")


def test_the_actions_gilcheck_steps_run(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    inputs = {name: spec["default"] for name, spec in action["inputs"].items()}
    inputs["paths"] = str(SPEC)
    shutil.copy(SPEC, tmp_path / SPEC.name)
    monkeypatch.chdir(tmp_path)
    steps = [s["run"] for s in action["runs"]["steps"] if "gilcheck check" in s.get("run", "")]
    assert len(steps) == 2
    for run in steps:
        command = re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: inputs[m.group(1)], run)
        tolerant = "|| true" in command  # a report step: a violation must not stop the job
        words = shlex.split(command.split("||")[0])
        assert words[0] == "gilcheck"
        assert cli(*words[1:]).code in ((0, 1) if tolerant else (0,)), command
    assert (tmp_path / "gilcheck.sarif").exists()


def test_github_annotations_error_on_the_blocking_line_and_notice_on_expect(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    wrong = tmp_path / "wrong.gil"
    wrong.write_text("expect ok\nmutex m\nthread main {\n    acquire m\n    acquire m\n}\n")
    done = cli("check", "--format", "github", str(SPEC), str(wrong))
    assert done.code == 1
    lines = done.stdout.splitlines()
    expect_line = SPEC.read_text().splitlines().index("expect deadlock") + 1
    (notice,) = [line for line in lines if line.startswith("::notice")]
    assert f"file={SPEC},line={expect_line}," in notice
    assert "deadlock (expected deadlock)" in notice
    (error,) = [line for line in lines if line.startswith("::error")]
    assert f"file={wrong},line=5,col=5,endLine=5" in error
    assert "title=gilcheck%3A deadlock (expected ok)" in error
