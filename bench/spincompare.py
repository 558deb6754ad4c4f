"""Compare gilcheck with SPIN on the benchmark model families (`bench/compare --help`).

Per model (a family of bench/gen_models.py at a size: `gil_workers:5`,
`philosophers_fixed:4`, ...): the spec is written to a file, checked by gilcheck
(`gilcheck check --format json`), exported by gilcheck (`gilcheck export --format
promela`) and checked by SPIN (`spin -a`, `gcc -O2 -DSAFETY`, `./pan -c0`). Each tool
runs in child processes, timed by the wall clock and measured with `os.wait4`: SPIN's
seconds add up its three steps, its peak RSS is the largest of the three. The export is
timed on its own and counted for neither tool.

The verdicts agree when gilcheck's `ok` (or `stuck`/`livelock`, which are not safety
properties) meets no SPIN error, its `deadlock` meets an invalid end state and its
`assertion`, `panic` or `misuse` meets a failed assertion. `pan -c0` names only the first
error it finds; when that is not the kind gilcheck reported and there are others, one more
untimed `pan` run (`-E`: assertions only, or `-A`: invalid end states only) looks for it.
Needs `spin` and `gcc` (Debian: `apt-get install spin gcc`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gen_models import FAMILIES, HAND_WRITTEN_PROMELA, ModelRequest, generate  # noqa: E402

DEFAULT = [
    "gil_workers:4",
    "gil_workers:5",
    "gil_workers_fixed:3",
    "gil_workers_fixed:4",
    "philosophers:4",
    "philosophers:5",
    "philosophers_fixed:4",
    "philosophers_fixed:5",
    "pipeline:3",
    "pipeline:4",
    "pipeline_fixed:3",
    "pipeline_fixed:4",
]
"""The default set: every family, buggy and fixed, at two sizes (a few minutes in all;
the exported gil_workers_fixed:5 has about 70 million states for SPIN, 11 GB)."""

SPIN_MEMORY_MB = 8192
"""pan's memory limit (`-DMEMLIM`, `--spin-memory`): past it, SPIN's verdict is `out of
memory` (BASELINES.md measures SPIN within 8 GB)."""

SAFETY = {"assertion", "panic", "misuse"}
NOT_SAFETY = {"ok", "stuck", "livelock"}


@dataclass
class Run:
    """A child process's exit status, output, wall-clock seconds and peak RSS (MiB)."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    rss_mb: float


@dataclass
class Row:
    """One model's figures for both tools."""

    model: str
    gilcheck_verdict: str = ""
    gilcheck_states: int | None = None
    gilcheck_seconds: float | None = None
    gilcheck_rss_mb: float | None = None
    spin_model: str = "export"  # or "hand-written"
    spin_verdict: str = ""
    spin_states: int | None = None
    spin_errors: int | None = None
    spin_seconds: float | None = None
    spin_rss_mb: float | None = None
    spin_steps: dict[str, float] = field(default_factory=dict)
    export_seconds: float | None = None
    ratio: float | None = None  # gilcheck seconds / SPIN seconds
    agree: bool | None = None  # None: no verdict to compare (bound, inconclusive, an error)
    note: str = ""


def spin_available() -> bool:
    """Whether `spin` and `gcc` are on the PATH."""
    return shutil.which("spin") is not None and shutil.which("gcc") is not None


def parse_model(model: str) -> ModelRequest:
    """`family:N` or `family_fixed:N` (N defaults to 4) as a ModelRequest; ValueError if not."""
    family, _, size = model.partition(":")
    fixed = family.endswith("_fixed")
    base = family.removesuffix("_fixed")
    if base not in FAMILIES:
        raise ValueError(f"unknown family {family!r} (one of {', '.join(sorted(FAMILIES))})")
    if size and not size.isdigit():
        raise ValueError(f"the size of {model!r} is not a number")
    return ModelRequest(family=base, n=int(size or 4), fixed=fixed)


def gilcheck_command() -> list[str]:
    """The gilcheck next to this Python (a virtual environment's), or `python -m`."""
    exe = Path(sys.executable).with_name("gilcheck")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "gilcheck.cli"]


def run(command: list[str], cwd: Path) -> Run:
    """Run one child process to its end: its output, wall-clock seconds and peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            process.returncode,
            out.read().decode(errors="replace"),
            err.read().decode(errors="replace"),
            seconds,
            usage.ru_maxrss / 1024,  # KiB on Linux
        )


def pan_result(stdout: str) -> tuple[int, int, str]:
    """(errors, states stored, the first error's kind) from pan's output; the kind is
    `assertion`, `deadlock` (an invalid end state), another message, or "" (no error)."""
    errors = re.search(r"errors: (\d+)", stdout)
    states = re.search(r"(\d+) states, stored", stdout)
    if errors is None or states is None:
        raise RuntimeError(f"pan gave no result:\n{stdout[-2000:]}")
    first = re.search(r"^pan:\d+: (.*?)(?: \(at depth \d+\))?$", stdout, re.MULTILINE)
    kind = ""
    if first is not None:
        message = first.group(1)
        if "assertion violated" in message:
            kind = "assertion"
        elif "invalid end state" in message:
            kind = "deadlock"
        else:
            kind = message
    return int(errors.group(1)), int(states.group(1)), kind


def check_with_gilcheck(row: Row, spec: Path, work: Path) -> None:
    """gilcheck's verdict, states, seconds and peak RSS."""
    done = run([*gilcheck_command(), "check", "--format", "json", str(spec)], work)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        row.gilcheck_verdict = "error"
        row.note = f"gilcheck: {done.stderr.strip()[-300:]}"
        return
    row.gilcheck_verdict = str(report["verdict"])
    row.gilcheck_states = int(report["states"])
    row.gilcheck_seconds = round(done.seconds, 3)
    row.gilcheck_rss_mb = round(done.rss_mb, 1)


def spin_model(model: str, choice: str) -> str:
    """Which SPIN model a row runs: `hand` (the family's hand-written Promela model) or
    `export` (gilcheck's export of the spec); `auto` is `hand` for the distinct-thread
    family (whose export is far too large for SPIN) and `export` for the others."""
    family = parse_model(model).family
    if choice == "auto":
        choice = "hand" if family == "gil_workers_distinct" else "export"
    if choice == "hand" and family not in HAND_WRITTEN_PROMELA:
        raise ValueError(f"{family} has no hand-written SPIN model")
    return choice


def check_with_spin(
    row: Row, spec: Path, work: Path, model: str = "export", memory_mb: int = SPIN_MEMORY_MB
) -> None:
    """Export the spec (or write the family's hand-written model), then SPIN's verdict,
    states, seconds and peak RSS."""
    if model == "hand":
        request = parse_model(row.model)
        (work / "model.pml").write_text(HAND_WRITTEN_PROMELA[request.family](request))
        row.spin_model = "hand-written"
    else:
        exported = run(
            [*gilcheck_command(), "export", "--format", "promela", "-o", "model.pml", str(spec)],
            work,
        )
        row.export_seconds = round(exported.seconds, 3)
        if exported.code != 0:
            row.spin_verdict = "refused"
            row.note = f"export: {exported.stderr.strip()[-300:]}"
            return
    runs: list[Run] = []
    steps = [
        ("spin -a", ["spin", "-a", "model.pml"]),
        ("gcc", ["gcc", "-O2", "-DSAFETY", f"-DMEMLIM={memory_mb}", "-o", "pan", "pan.c"]),
        ("pan", ["./pan", "-c0"]),
    ]
    for name, command in steps:
        done = run(command, work)
        depth = 10_000
        while name == "pan" and "max search depth too small" in done.stdout:
            # The search was cut short: again with a deeper stack (both runs are timed).
            runs.append(done)
            depth *= 10
            done = run([*command, f"-m{depth}"], work)
        runs.append(done)
        row.spin_steps[name] = round(sum(r.seconds for r in runs[len(row.spin_steps) :]), 3)
        if done.code != 0 and name != "pan":
            row.spin_verdict = "error"
            row.note = f"{name}: {(done.stderr or done.stdout).strip()[-300:]}"
            return
    row.spin_seconds = round(sum(r.seconds for r in runs), 3)
    row.spin_rss_mb = round(max(r.rss_mb for r in runs), 1)
    errors, states, kind = pan_result(runs[-1].stdout)
    row.spin_errors, row.spin_states = errors, states
    row.spin_verdict = "ok" if errors == 0 else kind
    if "reached -DMEMLIM bound" in runs[-1].stdout:
        row.spin_verdict = "out of memory"  # pan stopped at --spin-memory: no verdict
        row.spin_states = row.spin_errors = None
        return
    wanted = (
        "deadlock"
        if row.gilcheck_verdict == "deadlock"
        else "assertion"
        if row.gilcheck_verdict in SAFETY
        else ""
    )
    if wanted and errors > 1 and kind != wanted:
        # pan -c0 names the first error only: look for the kind gilcheck reported.
        flag = "-A" if wanted == "deadlock" else "-E"  # -A: no assertions; -E: no end states
        other = run(["./pan", "-c1", flag], work)
        if pan_result(other.stdout)[0] > 0:
            row.spin_verdict = f"{kind}+{wanted}"


def agreement(gilcheck: str, spin: str) -> bool | None:
    """Whether the verdicts agree (None: gilcheck gave none to compare)."""
    if spin == "out of memory":
        return None  # SPIN gave no verdict
    found = set(spin.split("+")) if spin not in ("", "ok") else set()
    if gilcheck in NOT_SAFETY:
        return spin == "ok"
    if gilcheck == "deadlock":
        return "deadlock" in found
    if gilcheck in SAFETY:
        return "assertion" in found
    return None


def compare(model: str, choice: str = "auto", memory_mb: int = SPIN_MEMORY_MB) -> Row:
    """Check one model with both tools."""
    row = Row(model)
    request = parse_model(model)
    with tempfile.TemporaryDirectory(prefix="gilcheck-compare-") as tmp:
        work = Path(tmp)
        spec = work / "model.gil"
        spec.write_text(generate(request), encoding="utf-8")
        check_with_gilcheck(row, spec, work)
        try:
            check_with_spin(row, spec, work, spin_model(model, choice), memory_mb)
        except RuntimeError as error:
            row.spin_verdict, row.note = "error", str(error)[-300:]
    if row.gilcheck_seconds and row.spin_seconds:
        row.ratio = round(row.gilcheck_seconds / row.spin_seconds, 2)
    row.agree = agreement(row.gilcheck_verdict, row.spin_verdict)
    return row


COLUMNS = (
    f"{'model':<30}{'states gilcheck':>16}{'states SPIN':>13}{'s gilcheck':>12}{'s SPIN':>9}"
    f"{'ratio':>8}{'MB gilcheck':>13}{'MB SPIN':>9}  {'gilcheck':<14}{'SPIN':<14}agree"
)


RAW_STATES = 5_000_000
"""gilcheck's raw speed is measured over at most this many states (`--raw-states`)."""


def raw_speed(model: str, states: int = RAW_STATES) -> str:
    """gilcheck's search with every reduction off (states, seconds of search, states/s) on
    one thread and with its default thread count (every core while that pays) and, in the
    same run, SPIN's pan alone on the family's hand-written model, with the ratios."""
    request = parse_model(model)
    reports = []
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        spec = work / "model.gil"
        spec.write_text(generate(request))
        command = [
            *gilcheck_command(), "check", "--format", "json", "--no-por", "--no-symmetry",
            "--max-states", str(states),
        ]  # fmt: skip
        for threads in ("1", "0"):
            done = run([*command, "--threads", threads, str(spec)], work)
            try:
                reports.append(json.loads(done.stdout))
            except json.JSONDecodeError:
                return f"raw speed, {model}: gilcheck failed: {done.stderr.strip()[-300:]}"
        pan = _pan_alone(request, work) if request.family in HAND_WRITTEN_PROMELA else None
    rates = []
    lines = []
    for report, label in zip(reports, ("one thread", "every core (default)"), strict=True):
        found, seconds = int(report["states"]), float(report["seconds"])
        rates.append(found / seconds if seconds > 0 else 0.0)
        lines.append(
            f"raw speed, {model} (every reduction off), gilcheck on {label}: {found:,} states "
            f"in {seconds:.2f} s of search, {rates[-1]:,.0f} states/s, verdict "
            f"{report['verdict']}"
        )
    per_state = reports[0].get("bytes_per_state")
    storage = reports[0].get("storage") or {}
    parts = ", ".join(f"{name} {size:g}" for name, size in storage.items())
    lines.append(f"    gilcheck bytes/state: {per_state} resident growth; store: {parts or '-'}")
    rate = rates[0]
    if pan is None:
        lines.append(f"    SPIN: {request.family} has no hand-written model")
    elif isinstance(pan, str):
        lines.append(f"    SPIN: {pan}")
    else:
        pan_states, pan_seconds = pan
        pan_rate = pan_states / pan_seconds if pan_seconds > 0 else 0.0
        ratio = rate / pan_rate if pan_rate else 0.0
        every = rates[1] / pan_rate if pan_rate else 0.0
        lines.append(
            f"    SPIN pan alone, hand-written model: {pan_states:,} states in "
            f"{pan_seconds:.2f} s, {pan_rate:,.0f} states/s; gilcheck/SPIN rate {ratio:.2f} "
            f"on one thread, {every:.2f} on every core"
        )
    return "\n".join(lines)


def _pan_alone(request: ModelRequest, work: Path) -> tuple[int, float] | str:
    """(states, seconds) of pan alone on the family's hand-written model (its compilation
    untimed), or why it did not run."""
    (work / "hand.pml").write_text(HAND_WRITTEN_PROMELA[request.family](request))
    for command in (["spin", "-a", "hand.pml"], ["gcc", "-O2", "-DSAFETY", "-o", "pan", "pan.c"]):
        made = run(command, work)
        if made.code != 0:
            return f"{command[0]} failed: {(made.stderr or made.stdout).strip()[-300:]}"
    searched = run(["./pan", "-c0", "-w26"], work)
    try:
        _, states, _ = pan_result(searched.stdout)
    except RuntimeError as error:
        return str(error)[-300:]
    elapsed = re.search(r"pan: elapsed time ([0-9.e+-]+) seconds", searched.stdout)
    return states, float(elapsed.group(1)) if elapsed else searched.seconds


def _number(value: float | int | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table_line(row: Row) -> str:
    """One row of the printed table."""
    agree = {True: "yes", False: "NO", None: "n/a"}[row.agree]
    return (
        f"{row.model:<30}{_number(row.gilcheck_states, ','):>16}"
        f"{_number(row.spin_states, ','):>13}{_number(row.gilcheck_seconds, '.2f'):>12}"
        f"{_number(row.spin_seconds, '.2f'):>9}{_number(row.ratio, '.1f'):>8}"
        f"{_number(row.gilcheck_rss_mb, '.0f'):>13}{_number(row.spin_rss_mb, '.0f'):>9}"
        f"  {row.gilcheck_verdict:<14}{row.spin_verdict:<14}{agree}"
    )


def main(argv: list[str] | None = None) -> int:
    """Print the table (and write JSON); exit 1 when a verdict disagrees or a tool fails."""
    parser = argparse.ArgumentParser(
        description="Run gilcheck and SPIN on the benchmark models: states, seconds, ratio, "
        "peak RSS and verdicts of both tools.",
    )
    parser.add_argument(
        "models",
        nargs="*",
        default=None,
        help="family:N or family_fixed:N (families: " + ", ".join(sorted(FAMILIES)) + ")",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    parser.add_argument(
        "--raw",
        action="append",
        default=[],
        metavar="MODEL",
        help="after the table, gilcheck's raw speed on MODEL: every reduction off, one core, "
        "beside SPIN's pan alone on the family's hand-written model (e.g. --raw "
        "gil_workers_fixed:5)",
    )
    parser.add_argument(
        "--raw-states",
        type=int,
        default=RAW_STATES,
        metavar="N",
        help=f"gilcheck's raw speed over at most N states (default {RAW_STATES:,})",
    )
    parser.add_argument(
        "--spin-memory",
        type=int,
        default=SPIN_MEMORY_MB,
        metavar="MB",
        help=f"pan's memory limit (-DMEMLIM; default {SPIN_MEMORY_MB}): past it SPIN's "
        "verdict is `out of memory`",
    )
    parser.add_argument(
        "--spin-model",
        choices=["auto", "export", "hand"],
        default="auto",
        help="the model SPIN checks in the table: gilcheck's export of the spec, or the "
        "family's hand-written model (auto: hand-written for gil_workers_distinct, whose "
        "export is too large for SPIN; the export otherwise)",
    )
    args = parser.parse_args(argv)
    if args.models is None:  # the default set, unless only raw speeds were asked for
        args.models = [] if args.raw else DEFAULT
    for model in [*args.models, *args.raw]:
        try:
            generate(parse_model(model))
            if model in args.models:
                spin_model(model, args.spin_model)
        except ValueError as error:
            parser.error(f"{model}: {error}")
    if not spin_available():
        print("spin and gcc are needed (Debian: apt-get install spin gcc)", file=sys.stderr)
        return 2
    rows = []
    if args.models:
        print(COLUMNS, flush=True)
    for model in args.models:
        row = compare(model, args.spin_model, args.spin_memory)
        rows.append(row)
        print(table_line(row), flush=True)
        if row.spin_model != "export":
            print(f"    SPIN checked the {row.spin_model} model", flush=True)
        if row.note:
            print(f"    {row.note}", flush=True)
    if args.models:
        print("seconds: wall clock (SPIN: spin -a + gcc -O2 -DSAFETY + ./pan -c0)")
        print("ratio: gilcheck seconds / SPIN seconds; MB: peak RSS (SPIN: the largest step)")
    for model in args.raw:
        print(raw_speed(model, args.raw_states), flush=True)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")
    failed = any(r.agree is False or r.note for r in rows)
    return 1 if failed else 0
