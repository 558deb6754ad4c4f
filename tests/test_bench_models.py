"""The benchmark model families (bench/gen_models.py) give the verdicts they state, and the
hand-written SPIN models of gil_workers find what gilcheck finds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))

from gen_models import FAMILIES, HAND_WRITTEN_PROMELA, ModelRequest, generate

SIZES = {"gil_workers": 2, "gil_workers_distinct": 2, "philosophers": 3, "pipeline": 2}


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("fixed", [False, True])
def test_every_family_gives_the_verdict_it_expects(cli, tmp_path, family, fixed) -> None:  # type: ignore[no-untyped-def]
    messages = 3 if family == "pipeline" else 2  # the buggy pipeline needs 3
    request = ModelRequest(family=family, n=SIZES.get(family, 2), fixed=fixed, messages=messages)
    spec = tmp_path / f"{family}.gil"
    spec.write_text(generate(request))
    done = cli("check", "--expect", str(spec))
    assert done.code == 0, done.stdout + done.stderr


@pytest.mark.skipif(shutil.which("spin") is None or shutil.which("gcc") is None,
                    reason="spin and gcc are not installed")  # fmt: skip
@pytest.mark.parametrize("fixed", [False, True])
def test_the_hand_written_spin_model_agrees(tmp_path: Path, fixed: bool) -> None:
    request = ModelRequest(family="gil_workers", n=2, fixed=fixed)
    (tmp_path / "m.pml").write_text(HAND_WRITTEN_PROMELA["gil_workers"](request))
    for command in (["spin", "-a", "m.pml"], ["gcc", "-O2", "-DSAFETY", "-o", "pan", "pan.c"]):
        subprocess.run(command, cwd=tmp_path, check=True, capture_output=True, timeout=120)
    pan = subprocess.run(["./pan", "-c0"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    if fixed:
        assert "errors: 0" in pan.stdout
    else:
        assert "invalid end state" in pan.stdout


def test_bench_scale_runs_the_partitioned_search_beside_one_process() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale"), "gil_workers_fixed:3", "--workers", "2",
         "--every-thread"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gil_workers_fixed:3: ") and "one process on one thread" in lines[0]
    states = lines[0].split()[1]
    for at, variant in ((1, "sampled"), (5, "every thread")):
        assert lines[at].startswith(f"2 processes ({variant} partition): {states} states in ")
        assert "of one process" in lines[at]
        assert "states sent between workers" in lines[at + 1]
        assert [line.split(":")[0].strip() for line in lines[at + 2 : at + 4]] == [
            "worker 0",
            "worker 1",
        ]
    assert len(lines) == 9


def test_bench_scale_compares_one_thread_several_and_the_default() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale"), "gil_workers_fixed:3", "--threads", "2",
         "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("gil_workers_fixed:3: the C loop on 1 and 2 threads")
    rows = [line.split() for line in lines[2:5]]
    assert [row[1] for row in rows] == ["1", "2", "0"]  # (the default: "0 (auto)")
    assert len({row[-5] for row in rows}) == 1  # the same states whatever the count
    assert lines[-1].startswith("peak RSS of the process: ")
