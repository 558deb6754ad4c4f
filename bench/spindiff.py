"""Differential testing against SPIN: random specs checked by gilcheck and, exported to
Promela, by SPIN; every disagreement is printed and saved.

    bench/differential --count 1000 --seed 1 --jobs 2 --save disagreements/
    bench/differential --arrays --count 300      # also arrays indexed at run time
    bench/differential --calls --count 300       # also functions called and returning
    bench/differential --values --count 300      # also Python values, strings, ok/err
    bench/differential --bundled                 # every bundled spec the export translates

Per spec: gilcheck's verdict (in process), then `gilcheck export --format promela`,
`spin -a`, `gcc -DSAFETY` and `./pan` twice: `-E` (assertions only) and `-A` (invalid end
states only). They agree when gilcheck's `ok` (or `stuck`/`livelock`, which are not
safety properties) meets no SPIN error, its `deadlock` meets an invalid end state, and
its `assertion`, `panic` or `misuse` meets a failed assertion. Specs gilcheck ends with
`bound` or `inconclusive` are counted as skipped. SPIN gets a budget per spec
(`--spin-seconds`, `--spin-memory`): a spec past it is counted as unfinished, never as
agreement. Needs `spin` and `gcc` (Debian: `apt-get install spin`).
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
from gilcheck.pipeline import (  # noqa: E402
    Loaded,
    check_spec,
    checkable_program,
    parse_spec,
    parse_text,
)

SAFETY = {"assertion", "panic", "misuse"}


@dataclass
class Outcome:
    """One spec's comparison."""

    seed: int | str  # a generated spec's seed, or a bundled spec's path
    verdict: str
    spin_assertions: int | None = None
    spin_deadlocks: int | None = None
    spin_states: int | None = None
    gilcheck_states: int = 0
    gilcheck_states_unreduced: int = 0  # with --no-merge
    status: str = "agree"  # agree, disagree, skipped, unfinished, refused
    note: str = ""


def spin_available() -> bool:
    """Whether `spin` and `gcc` are on the PATH."""
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


SPIN_SECONDS = 120.0  # SPIN's budget per spec and per run of pan
SPIN_MEMORY_MB = 2048


class Unfinished(Exception):
    """SPIN did not finish within its budget."""


def run_spin(
    promela: str,
    workdir: Path,
    seconds: float | None = None,
    memory_mb: int | None = None,
) -> tuple[int, int, int]:
    """(assertion errors, invalid end states, states stored) from SPIN's full search;
    Unfinished when a run of pan passes `seconds` or `memory_mb` (default: the budget set
    by the command line)."""
    seconds = SPIN_SECONDS if seconds is None else seconds
    memory_mb = SPIN_MEMORY_MB if memory_mb is None else memory_mb
    (workdir / "model.pml").write_text(promela)
    subprocess.run(["spin", "-a", "model.pml"], cwd=workdir, check=True, capture_output=True)
    subprocess.run(
        ["gcc", "-O0", "-DSAFETY", "-DNOREDUCE", f"-DMEMLIM={memory_mb}", "-o", "pan", "pan.c"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )

    def pan(flag: str) -> tuple[int, int]:
        try:
            done = subprocess.run(
                ["./pan", "-m1000000", flag],
                cwd=workdir,
                capture_output=True,
                text=True,
                timeout=seconds,
            )
        except subprocess.TimeoutExpired:
            raise Unfinished(f"pan {flag} past {seconds:g} s") from None
        if "max search depth too small" in done.stdout:
            raise RuntimeError("pan: search depth too small")
        if "MEMLIM" in done.stdout or "out of memory" in done.stdout:
            raise Unfinished(f"pan {flag} past {memory_mb} MB")
        errors = re.search(r"errors: (\d+)", done.stdout)
        states = re.search(r"(\d+) states, stored", done.stdout)
        if errors is None or states is None:
            raise RuntimeError(f"pan gave no result:\n{done.stdout}\n{done.stderr}")
        return int(errors.group(1)), int(states.group(1))

    assertions, states = pan("-E")
    deadlocks, _ = pan("-A")
    return assertions, deadlocks, states


def compare(
    seed: int, arrays: bool = False, calls: bool = False, values: bool = False
) -> tuple[Outcome, str]:
    """Check one generated spec with both tools (`arrays`, `calls`, `values`: the
    generator's options)."""
    text = random_spec(random.Random(seed), arrays=arrays, calls=calls, values=values)
    try:
        loaded = parse_text(f"differential_{seed}.gil", text)
    except SpecError as error:
        return Outcome(
            seed, "error", status="disagree", note=str(error.diagnostics[0].message)
        ), text
    return compare_loaded(seed, loaded, refused_is_error=True), text


def compare_bundled(path: str) -> tuple[Outcome, str]:
    """Check one bundled spec with both tools; one the export refuses is `refused`."""
    text = Path(path).read_text()
    try:
        loaded = parse_spec(path)
    except SpecError as error:
        return Outcome(path, "error", status="skipped", note=error.diagnostics[0].message), text
    return compare_loaded(path, loaded, refused_is_error=False), text


def compare_loaded(label: int | str, loaded: Loaded, *, refused_is_error: bool) -> Outcome:
    """Check a parsed spec with gilcheck and, exported, with SPIN."""
    try:
        program = checkable_program(loaded)
        promela = export_promela(program)
    except SpecError as error:
        first = error.diagnostics[0]
        if refused_is_error or first.code != "not-exportable":
            return Outcome(label, "error", status="disagree", note=str(first.message))
        return Outcome(label, "", status="refused", note=str(first.message))
    result = check_spec(loaded, CheckOptions(max_states=500_000, timeout=120))
    outcome = Outcome(label, result.verdict, gilcheck_states=result.stats.states)
    if result.verdict == "ok":
        unreduced = check_spec(
            loaded, CheckOptions(max_states=500_000, timeout=120, merge_local_steps=False)
        )
        outcome.gilcheck_states_unreduced = unreduced.stats.states
    if result.verdict in ("bound", "inconclusive"):
        outcome.status, outcome.note = "skipped", result.verdict
        return outcome
    with tempfile.TemporaryDirectory(prefix="gilcheck-spin-") as tmp:
        try:
            a, d, states = run_spin(promela, Path(tmp))
        except Unfinished as error:
            outcome.status, outcome.note = "unfinished", f"spin: {error}"
            return outcome
        except (RuntimeError, subprocess.SubprocessError) as error:
            outcome.status, outcome.note = "skipped", f"spin: {error}"
            return outcome
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
    return outcome


def bundled_specs() -> list[str]:
    """Every bundled spec (specs/ and the docs' examples are the user-facing set)."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").rglob("*.gil"))


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
    parser.add_argument(
        "--calls", action="store_true", help="specs that also call functions that return values"
    )
    parser.add_argument(
        "--values",
        action="store_true",
        help="specs that also send and use Python values, strings and ok/err results",
    )
    parser.add_argument(
        "--bundled",
        action="store_true",
        help="every bundled spec under specs/ instead of generated ones (those the export "
        "refuses are counted, by the construct refused first)",
    )
    parser.add_argument("--spin-seconds", type=float, default=120.0, help="SPIN's budget")
    parser.add_argument("--spin-memory", type=int, default=2048, help="SPIN's budget (MB)")
    args = parser.parse_args()
    if not spin_available():
        print("spin and gcc are needed (Debian: apt-get install spin gcc)", file=sys.stderr)
        return 2
    _budget(args.spin_seconds, args.spin_memory)
    started = time.monotonic()
    inputs: list[int] | list[str]
    if args.bundled:
        inputs = bundled_specs()
        check = compare_bundled
    else:
        inputs = list(range(args.seed, args.seed + args.count))
        check = functools.partial(compare, arrays=args.arrays, calls=args.calls, values=args.values)  # type: ignore[assignment]
    tally = {"agree": 0, "disagree": 0, "skipped": 0, "unfinished": 0, "refused": 0}
    refusals: dict[str, int] = {}
    ok_states = {"gilcheck": 0, "gilcheck --no-merge": 0, "spin": 0}
    verdicts: dict[str, int] = {}
    with ProcessPoolExecutor(
        max_workers=args.jobs, initializer=_budget, initargs=(args.spin_seconds, args.spin_memory)
    ) as pool:
        for outcome, text in pool.map(check, inputs, chunksize=1 if args.bundled else 4):
            tally[outcome.status] += 1
            if outcome.status == "refused":
                what = re.sub(r"`(\w*)[^`]*`", r"`\1`", outcome.note.split(" cannot be")[0])
                refusals[what] = refusals.get(what, 0) + 1
                continue
            if outcome.verdict == "ok" and outcome.spin_states is not None:
                ok_states["gilcheck"] += outcome.gilcheck_states
                ok_states["gilcheck --no-merge"] += outcome.gilcheck_states_unreduced
                ok_states["spin"] += outcome.spin_states
            verdicts[outcome.verdict] = verdicts.get(outcome.verdict, 0) + 1
            if outcome.status == "disagree":
                print(f"DISAGREE {_name(outcome)}: {outcome.note}")
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    saved = Path(str(outcome.seed)).stem if args.bundled else f"seed_{outcome.seed}"
                    (args.save / f"{saved}.gil").write_text(text)
            elif outcome.status in ("skipped", "unfinished"):
                print(f"{outcome.status} {_name(outcome)}: {outcome.note}")
    seconds = time.monotonic() - started
    print(
        f"{len(inputs)} specs: {tally['agree']} agree, {tally['disagree']} disagree, "
        f"{tally['unfinished']} unfinished by SPIN, {tally['skipped']} skipped"
        + (f", {tally['refused']} refused by the export" if args.bundled else "")
        + "; gilcheck verdicts "
        + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
        + f"; {seconds:.0f} s"
    )
    if refusals:
        print("refused first for:")
        for what, count in sorted(refusals.items(), key=lambda item: -item[1]):
            print(f"  {count:4}  {what}")
    # Full state spaces only (ok specs). The encodings differ (the export has GIL hand-overs
    # nobody waits for and program-end escapes; SPIN runs without its reduction), so the
    # counts are shown side by side, not compared.
    print(
        "states of the ok specs: "
        + ", ".join(f"{tool} {count:,}" for tool, count in ok_states.items())
    )
    return 1 if tally["disagree"] else 0


def _budget(seconds: float, memory_mb: int) -> None:
    """SPIN's budget in a worker process."""
    global SPIN_SECONDS, SPIN_MEMORY_MB
    SPIN_SECONDS, SPIN_MEMORY_MB = seconds, memory_mb


def _name(outcome: Outcome) -> str:
    return f"seed {outcome.seed}" if isinstance(outcome.seed, int) else str(outcome.seed)
