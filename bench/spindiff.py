"""Differential testing against SPIN: random specs checked by gilcheck and, exported to
Promela, by SPIN; every disagreement is printed and saved.

    bench/differential --count 1000 --seed 1 --jobs 2 --save disagreements/
    bench/differential --arrays --count 300      # also arrays indexed at run time

Per spec: gilcheck's verdict (in process), then `gilcheck export --format promela`,
`spin -a`, `gcc -DSAFETY` and `./pan` twice: `-E` (assertions only) and `-A` (invalid end
states only). They agree when gilcheck's `ok` (or `stuck`/`livelock`, which are not
safety properties) meets no SPIN error, its `deadlock` meets an invalid end state, and
its `assertion`, `panic` or `misuse` meets a failed assertion. Specs gilcheck ends with
`bound` or `inconclusive` are counted as skipped. Needs `spin` and `gcc` (Debian: `apt-get
install spin`).
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from strategies import random_spec  # noqa: E402

from gilcheck.diagnostics import SpecError  # noqa: E402
from gilcheck.export.promela import export_promela  # noqa: E402
from gilcheck.options import CheckOptions  # noqa: E402
from gilcheck.pipeline import check_spec, checkable_program, parse_text  # noqa: E402

SAFETY = {"assertion", "panic", "misuse"}


@dataclass
class Outcome:
    """One spec's comparison."""

    seed: int
    verdict: str
    spin_assertions: int | None = None
    spin_deadlocks: int | None = None
    spin_states: int | None = None
    gilcheck_states: int = 0
    gilcheck_states_unreduced: int = 0  # with --no-merge
    status: str = "agree"  # agree, disagree, skipped
    note: str = ""


def spin_available() -> bool:
    """Whether `spin` and `gcc` are on the PATH."""
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def run_spin(promela: str, workdir: Path) -> tuple[int, int, int]:
    """(assertion errors, invalid end states, states stored) from SPIN's full search."""
    (workdir / "model.pml").write_text(promela)
    subprocess.run(["spin", "-a", "model.pml"], cwd=workdir, check=True, capture_output=True)
    subprocess.run(
        ["gcc", "-O0", "-DSAFETY", "-DNOREDUCE", "-o", "pan", "pan.c"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )

    def pan(flag: str) -> tuple[int, int]:
        done = subprocess.run(
            ["./pan", "-m1000000", flag], cwd=workdir, capture_output=True, text=True, timeout=300
        )
        if "max search depth too small" in done.stdout:
            raise RuntimeError("pan: search depth too small")
        errors = re.search(r"errors: (\d+)", done.stdout)
        states = re.search(r"(\d+) states, stored", done.stdout)
        if errors is None or states is None:
            raise RuntimeError(f"pan gave no result:\n{done.stdout}\n{done.stderr}")
        return int(errors.group(1)), int(states.group(1))

    assertions, states = pan("-E")
    deadlocks, _ = pan("-A")
    return assertions, deadlocks, states


def compare(seed: int, arrays: bool = False) -> tuple[Outcome, str]:
    """Check one generated spec with both tools (`arrays`: the generator's array option)."""
    text = random_spec(random.Random(seed), arrays=arrays)
    path = f"differential_{seed}.gil"
    try:
        loaded = parse_text(path, text)
        program = checkable_program(loaded)
        result = check_spec(loaded, CheckOptions(max_states=500_000, timeout=120))
        promela = export_promela(program)
    except SpecError as error:
        return Outcome(
            seed, "error", status="disagree", note=str(error.diagnostics[0].message)
        ), text
    outcome = Outcome(seed, result.verdict, gilcheck_states=result.stats.states)
    if result.verdict == "ok":
        unreduced = check_spec(
            loaded, CheckOptions(max_states=500_000, timeout=120, merge_local_steps=False)
        )
        outcome.gilcheck_states_unreduced = unreduced.stats.states
    if result.verdict in ("bound", "inconclusive"):
        outcome.status, outcome.note = "skipped", result.verdict
        return outcome, text
    with tempfile.TemporaryDirectory(prefix="gilcheck-spin-") as tmp:
        try:
            a, d, states = run_spin(promela, Path(tmp))
        except (RuntimeError, subprocess.SubprocessError) as error:
            outcome.status, outcome.note = "skipped", f"spin: {error}"
            return outcome, text
    outcome.spin_assertions, outcome.spin_deadlocks, outcome.spin_states = a, d, states
    verdict = result.verdict
    if verdict in ("ok", "stuck", "livelock"):
        agree = a == 0 and d == 0
    elif verdict == "deadlock":
        agree = d > 0
    elif verdict in SAFETY:
        agree = a > 0
    else:
        agree = False
    if not agree:
        outcome.status = "disagree"
        outcome.note = f"gilcheck {verdict}; spin: {a} assertion error(s), {d} invalid end state(s)"
    return outcome, text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--save", type=Path, help="folder for the specs that disagree")
    parser.add_argument(
        "--arrays",
        action="store_true",
        help="specs that also index arrays (and channel arrays) with values computed at run time",
    )
    args = parser.parse_args()
    if not spin_available():
        print("spin and gcc are needed (Debian: apt-get install spin gcc)", file=sys.stderr)
        return 2
    started = time.monotonic()
    seeds = range(args.seed, args.seed + args.count)
    tally = {"agree": 0, "disagree": 0, "skipped": 0}
    ok_states = {"gilcheck": 0, "gilcheck --no-merge": 0, "spin": 0}
    verdicts: dict[str, int] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        check = functools.partial(compare, arrays=args.arrays)
        for outcome, text in pool.map(check, seeds, chunksize=4):
            tally[outcome.status] += 1
            if outcome.verdict == "ok" and outcome.spin_states is not None:
                ok_states["gilcheck"] += outcome.gilcheck_states
                ok_states["gilcheck --no-merge"] += outcome.gilcheck_states_unreduced
                ok_states["spin"] += outcome.spin_states
            verdicts[outcome.verdict] = verdicts.get(outcome.verdict, 0) + 1
            if outcome.status == "disagree":
                print(f"DISAGREE seed {outcome.seed}: {outcome.note}")
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    (args.save / f"seed_{outcome.seed}.gil").write_text(text)
            elif outcome.status == "skipped":
                print(f"skipped seed {outcome.seed}: {outcome.note}")
    seconds = time.monotonic() - started
    print(
        f"{args.count} specs: {tally['agree']} agree, {tally['disagree']} disagree, "
        f"{tally['skipped']} skipped; gilcheck verdicts "
        + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
        + f"; {seconds:.0f} s"
    )
    # Full state spaces only (ok specs). The encodings differ (the export has GIL hand-overs
    # nobody waits for and program-end escapes; SPIN runs without its reduction), so the
    # counts are shown side by side, not compared.
    print(
        "states of the ok specs: "
        + ", ".join(f"{tool} {count:,}" for tool, count in ok_states.items())
    )
    return 1 if tally["disagree"] else 0
