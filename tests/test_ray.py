"""`--backend ray`: the hash-partitioned search on a local Ray instance (skipped without Ray)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from gilcheck.cli.app import _terminate
from gilcheck.explore.distributed import start_ray

pytest.importorskip("ray")

DEADLOCK = "bench/models/gil_workers_5.gil"
FIXED = "bench/models/gil_workers_fixed_4.gil"


def test_ray_gives_the_sequential_verdicts_and_shortest_traces(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    alone = json.loads(cli("check", "-f", "json", "--no-symmetry", DEADLOCK).stdout)
    run = cli(
        "check", "-f", "json", "--backend", "ray", "--workers", "2", "--no-symmetry", DEADLOCK
    )
    on_ray = json.loads(run.stdout)
    assert run.code == 1 and on_ray["verdict"] == alone["verdict"] == "deadlock"
    depth = len({s["index"] for s in on_ray["steps"]})
    assert depth == len({s["index"] for s in alone["steps"]})
    saved = tmp_path / "trace.json"
    saved.write_text(run.stdout)
    assert cli("replay", str(saved)).code == 0  # a real run of the program
    # Ray's SIGTERM handler does not stay in place of gilcheck's (which reports what was
    # explored, as Ctrl-C does).
    assert signal.getsignal(signal.SIGTERM) is _terminate


def test_a_running_ray_instance_serves_several_checks_and_stays(cli) -> None:  # type: ignore[no-untyped-def]
    # A check that finds Ray running uses it and leaves it running (Ray starts in about
    # 5 s: the checks after the first save that).
    import ray

    start_ray(ray, None, 2)
    try:
        proven = cli("check", "--backend", "ray", "--workers", "2", "--no-symmetry", FIXED)
        assert proven.code == 0 and "16,270 states" in proven.stdout
        assert ray.is_initialized()
        # A `stuck` verdict (a cycle no thread leaves) as breadth-first search gives it.
        spec = "specs/progress/stuck_worker_buggy.gil"
        alone = json.loads(cli("check", "-f", "json", spec).stdout)
        on_ray = json.loads(
            cli("check", "-f", "json", "--backend", "ray", "--workers", "2", spec).stdout
        )
        assert on_ray["verdict"] == alone["verdict"] == "stuck"
        assert ray.is_initialized()
    finally:
        ray.shutdown()
