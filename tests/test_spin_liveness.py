"""A slice of the liveness comparison with SPIN (the full run is `bench/differential
--liveness --count 500`): gilcheck's `livelock` meets a non-progress cycle under weak
fairness, its `stuck` a weakly fair cycle on which the stuck thread never moves, and the
fixed versions meet neither. Through the functions `bench/differential` uses."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from gilcheck.export.promela import export_promela
from gilcheck.pipeline import checkable_program, parse_text

sys.path.insert(0, str(ROOT / "bench"))

HAVE_SPIN = shutil.which("spin") is not None and shutil.which("gcc") is not None

pytestmark = pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")

# Two threads that keep flipping a shared var; with `progress` in one loop the work is
# marked and every cycle makes progress.
SPINNING = """
var turn = 0
thread t {
    loop {
        turn = 1 - turn
    }
}
thread main {
    loop {
        turn = 1 - turn
        PROGRESS
    }
}
"""

# A worker waits for a job nobody sends while main serves a client for ever; fixed, main
# sends it first.
WORKER = """
channel jobs: unbounded
channel requests: bounded(1)
thread worker {
    let job = recv jobs
}
thread client {
    loop {
        send requests, 1
    }
}
thread main {
    SEND
    loop {
        let r = recv requests
        progress
    }
}
"""


@pytest.mark.parametrize(
    ("progress", "verdict", "npc"), [("skip", "livelock", 1), ("progress", "ok", 0)]
)
def test_a_livelock_is_a_non_progress_cycle_for_spin(progress: str, verdict: str, npc: int) -> None:
    from spindiff import compare_loaded

    loaded = parse_text("spinning.gil", SPINNING.replace("PROGRESS", progress))
    outcome = compare_loaded("spinning", loaded, refused_is_error=True, every_npc=True)
    assert (outcome.status, outcome.verdict) == ("agree", verdict), outcome.note
    assert outcome.spin_npc == npc


def test_a_stuck_thread_is_starved_on_a_fair_cycle_for_spin() -> None:
    from spindiff import compare_loaded

    loaded = parse_text("worker.gil", WORKER.replace("SEND", "skip"))
    outcome = compare_loaded("worker", loaded, refused_is_error=True, every_npc=True)
    assert (outcome.status, outcome.verdict) == ("agree", "stuck"), outcome.note
    assert outcome.stuck_thread == "worker (#0)"
    assert outcome.spin_starved
    # main makes progress in the cycle: not a non-progress cycle, so that is not the check
    assert outcome.spin_npc == 0


def test_the_fixed_worker_is_starved_on_no_fair_cycle(tmp_path: Path) -> None:
    from spindiff import compare_loaded, run_spin_starved

    loaded = parse_text("worker.gil", WORKER.replace("SEND", "send jobs, 1"))
    outcome = compare_loaded("worker", loaded, refused_is_error=True)
    assert (outcome.status, outcome.verdict) == ("agree", "ok"), outcome.note
    promela = export_promela(checkable_program(loaded))
    assert run_spin_starved(promela, 0, tmp_path) == 0  # the worker gets its job and ends
    assert run_spin_starved(promela, 1, tmp_path / "client") == 0  # the client sends on
