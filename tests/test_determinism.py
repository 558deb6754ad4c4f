"""The same spec gives the same verdict, trace and JSON: run twice in one process, and in
fresh processes with different PYTHONHASHSEED values (set and dict order of strings)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest
from conftest import ROOT, SPECS

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

# Violations of every kind found during exploration and from the finished graph, and ok
# specs whose whole state space is explored.
SPEC_NAMES = [
    "seed/buggy.gil",  # deadlock, with a wait-for cycle
    "semantics/lost_update_buggy.gil",  # assertion after 20 steps: BFS tie-breaking shows
    "realworld/rc_redis_pubsub_exit_join_buggy.gil",  # stuck (graph analysis)
    "progress/polite_spin_buggy.gil",  # livelock (graph analysis)
    "semantics/double_release_buggy.gil",  # misuse
    "realworld/rc_grpc_ssl_creds_once_fixed.gil",  # ok, 800 states
    "seed/fixed.gil",  # ok
]
HASH_SEEDS = ["0", "1", "12345"]
# The specs also run in fresh processes, one per PYTHONHASHSEED (kept few: each is a start).
SUBPROCESS_SPECS = SPEC_NAMES[:3] + SPEC_NAMES[5:6]
TIMING_KEYS = {"seconds", "elapsed", "time", "rate", "states_per_second"}


def without_timing(value: Any) -> Any:
    """A JSON value with its timing fields taken out."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def text_without_timing(text: str) -> str:
    return re.sub(r"\b\d+(\.\d+)? s\b", "<t> s", re.sub(r"[\d,.]+ states/s", "<r>", text))


def test_the_chosen_specs_cover_several_verdicts(cli) -> None:  # type: ignore[no-untyped-def]
    verdicts = set()
    for name in SPEC_NAMES:
        report = json.loads(cli("check", "--format", "json", str(SPECS / name)).stdout)
        verdicts.add(report["verdict"])
        assert report["matches"] is not False, (name, report["verdict"])
    assert {"ok", "deadlock", "assertion", "stuck", "livelock", "misuse"} <= verdicts


@pytest.mark.parametrize("name", SPEC_NAMES)
def test_two_runs_in_one_process_agree(name: str, cli) -> None:  # type: ignore[no-untyped-def]
    spec = str(SPECS / name)
    first = cli("check", "--format", "json", spec)
    second = cli("check", "--format", "json", spec)
    assert first.code == second.code
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert "seconds" in a  # the field this test must ignore is where it is expected
    assert without_timing(a) == without_timing(b)
    if a["verdict"] != "ok":
        assert a["steps"], "a violation comes with its trace"
    text1 = cli("check", spec)
    text2 = cli("check", spec)
    assert text1.code == text2.code == first.code
    assert text_without_timing(text1.stdout) == text_without_timing(text2.stdout)


def _run_with_hash_seeds() -> dict[tuple[str, str], tuple[int, str, str]]:
    """`python -m gilcheck.cli check --format json SPEC` per spec and hash seed, in parallel."""
    running = {}
    for name in SUBPROCESS_SPECS:
        for seed in HASH_SEEDS:
            env = {**os.environ, "PYTHONHASHSEED": seed, "COLUMNS": "200"}
            command = [sys.executable, "-m", "gilcheck.cli", "check", "--format", "json"]
            running[(name, seed)] = subprocess.Popen(
                [*command, str(SPECS / name)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
    done = {}
    for key, process in running.items():
        out, err = process.communicate(timeout=120)
        done[key] = (process.returncode, out, err)
    return done


@pytest.fixture(scope="module")
def hash_seed_runs() -> dict[tuple[str, str], tuple[int, str, str]]:
    return _run_with_hash_seeds()


@pytest.mark.parametrize("name", SUBPROCESS_SPECS)
def test_same_json_across_hash_seeds(name: str, hash_seed_runs, cli) -> None:  # type: ignore[no-untyped-def]
    reports = []
    for seed in HASH_SEEDS:
        code, out, err = hash_seed_runs[(name, seed)]
        assert code in (0, 1), f"PYTHONHASHSEED={seed}: exit {code}\n{err}"
        assert "Traceback" not in err
        reports.append((code, without_timing(json.loads(out))))
    # The in-process run (this process has its own random hash seed) agrees too.
    here = cli("check", "--format", "json", str(SPECS / name))
    reports.append((here.code, without_timing(json.loads(here.stdout))))
    assert all(r == reports[0] for r in reports), [
        (HASH_SEEDS + ["in process"])[i] for i, r in enumerate(reports) if r != reports[0]
    ]
    first = reports[0][1]
    if first["verdict"] != "ok":
        assert first["steps"], "the trace compared is not empty"
