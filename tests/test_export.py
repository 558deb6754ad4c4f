"""`gilcheck export --format promela` through the CLI, and a slice of the differential
test against SPIN (the full run is `bench/differential --count 1000`)."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from strategies import differential_specs, random_spec

from gilcheck.export.promela import export_promela
from gilcheck.pipeline import checkable_program, parse_text

sys.path.insert(0, str(ROOT / "bench"))

HAVE_SPIN = shutil.which("spin") is not None and shutil.which("gcc") is not None


def test_export_writes_a_promela_model(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", "specs/semantics/bounded_channel_buggy.gil")
    assert result.code == 0
    assert "proctype T_main(byte me; byte self_)" in result.stdout
    assert "init {" in result.stdout
    out = tmp_path / "model.pml"
    assert cli("export", "-o", str(out), "specs/semantics/lost_update_buggy.gil").code == 0
    assert "assert((v_hits == 2))" in out.read_text()


def test_export_refuses_what_it_cannot_translate_with_a_located_error(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", "specs/seed/buggy.gil")
    assert result.code == 2
    assert "error[not-exportable]" in result.stderr
    assert "specs/seed/buggy.gil:10:" in result.stderr
    assert "^" in result.stderr
    assert cli("explain", "not-exportable").code == 0


def test_export_of_a_bad_spec_is_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { aquire m }\n")
    assert cli("export", str(bad)).code == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs())
def test_every_generated_spec_checks_and_exports(text: str) -> None:
    loaded = parse_text("generated.gil", text)
    program = checkable_program(loaded)
    promela = export_promela(program)
    assert promela.count("proctype") >= 2


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", range(7000, 7003))
def test_gilcheck_and_spin_agree_on_generated_specs(seed: int) -> None:
    from spindiff import compare  # type: ignore[import-not-found]

    outcome, text = compare(seed)
    assert outcome.status != "disagree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
def test_spin_finds_the_deadlock_gilcheck_finds_in_a_bundled_spec(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "m.pml"
    assert cli("export", "-o", str(model), "specs/primitives/semaphore_gil_buggy.gil").code == 0
    subprocess.run(["spin", "-a", "m.pml"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["gcc", "-DSAFETY", "-o", "pan", "pan.c"], cwd=tmp_path, check=True)
    done = subprocess.run(["./pan", "-A"], cwd=tmp_path, capture_output=True, text=True)
    assert "invalid end state" in done.stdout


def test_generator_is_deterministic_per_seed() -> None:
    assert random_spec(random.Random(5)) == random_spec(random.Random(5))
