"""Differential testing against SPIN: random specs checked by gilcheck and, exported to
Promela, by SPIN; every disagreement is printed and saved.

    bench/differential --count 1000 --seed 1 --jobs 2 --save disagreements/
    bench/differential --arrays --count 300      # also arrays indexed at run time
    bench/differential --calls --count 300       # also functions called and returning
    bench/differential --values --count 300      # also Python values, strings, ok/err
    bench/differential --all --count 300         # every generator option at once
    bench/differential --handles --count 300     # channels made at run time, handles
    bench/differential --pools --count 300       # thread pools and futures
    bench/differential --loops --count 300       # event loops and suspend
    bench/differential --v11 --count 300         # also fork, atexit, finalizer, signal
    bench/differential --objects --count 300     # resources as values
    bench/differential --liveness --count 500    # liveness specs (livelock, stuck)
    bench/differential --bundled                 # every bundled spec the export translates

Per spec: gilcheck's verdict (in process), then `gilcheck export --format promela`,
`spin -a`, `gcc -DSAFETY` and `./pan` twice: `-E` (assertions only) and `-A` (invalid end
states only). They agree when gilcheck's `ok` (or `stuck`/`livelock`, which are not
safety properties) meets no SPIN error, its `deadlock` meets an invalid end state, and
its `assertion`, `panic` or `misuse` meets a failed assertion. Specs gilcheck ends with
`bound` or `inconclusive` are counted as skipped.

Liveness, one direction (docs/promela.md, "Liveness"): gilcheck's `livelock` must be a
non-progress cycle for SPIN under weak fairness (`gcc -DNP`, `./pan -l -f`), and its
`stuck` a weakly fair cycle on which the stuck thread never moves while the program runs
on (a never claim over `_last`, `./pan -a -f`). SPIN's other cycles are counted, not
compared (`--liveness` and `--bundled` count the non-progress cycles of the `ok` and
`stuck` specs). SPIN gets a budget per spec
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

from liveness_strategies import random_liveness_spec  # noqa: E402
from strategies import random_spec  # noqa: E402

from gilcheck.analysis.verdicts import OTHERS_STILL_RUN  # noqa: E402
from gilcheck.diagnostics import SpecError  # noqa: E402
from gilcheck.export.promela import export_promela  # noqa: E402
from gilcheck.export.promela.children import DAEMON_STARTED  # noqa: E402
from gilcheck.options import CheckOptions  # noqa: E402
from gilcheck.pipeline import (  # noqa: E402
    Loaded,
    check_spec,
    checkable_program,
    parse_spec,
    parse_text,
)
from gilcheck.trace.model import CheckResult  # noqa: E402

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
    status: str = "agree"  # agree, disagree, explained, skipped, unfinished, refused
    note: str = ""
    spin_npc: int | None = None  # SPIN's non-progress cycles (-DNP, -l -f): errors
    spin_starved: int | None = None  # for stuck: SPIN's starvation cycles (-a -f): errors
    stuck_thread: str = ""  # for stuck: the thread checked, `name (#id)`


def spin_available() -> bool:
    """Whether `spin` and the C compiler `_build` uses are on the PATH."""
    return shutil.which("spin") is not None and shutil.which(_compiler()[0]) is not None


def _compiler() -> list[str]:
    """The command that compiles pan: `SPINDIFF_CC` (`tcc`, say: it compiles pan.c about
    ten times faster than gcc, which matters for many small models), else `gcc -O0`.
    The compiler changes how fast pan builds and runs, never what it finds."""
    chosen = os.environ.get("SPINDIFF_CC", "").split()
    return chosen or ["gcc", "-O0"]


SPIN_SECONDS = 120.0  # SPIN's budget per spec and per run of pan
SPIN_MEMORY_MB = 2048
GILCHECK_MEMORY_MB = 4096  # gilcheck's memory budget per spec (its peak resident memory)
COUNTED_SECONDS = 20.0  # the budget of a run whose result is only counted


class Unfinished(Exception):
    """SPIN did not finish within its budget."""


class LimitReached(Unfinished):
    """SPIN's search reached one of the export's own limits (`!(limit_hit)`)."""


def run_spin(
    promela: str,
    workdir: Path,
    seconds: float | None = None,
    memory_mb: int | None = None,
) -> tuple[int, int, int]:
    """(assertion errors, invalid end states, states stored) from SPIN's full search;
    Unfinished when a run of pan passes `seconds` or `memory_mb` (default: the budget set
    by the command line). When the assertion search reaches one of the export's limits, an
    invalid end state the other search finds (it ignores assertions, and a path ends at a
    limit) is still a real one: (-1, deadlocks, states), -1 for "not known"; without one,
    LimitReached."""
    _build(promela, workdir, ["-DSAFETY"], memory_mb)
    try:
        assertions, states = _pan(workdir, ["-E"], seconds, memory_mb)
    except LimitReached:
        deadlocks, states = _pan(workdir, ["-A"], seconds, memory_mb)
        if deadlocks:
            return -1, deadlocks, states
        raise
    deadlocks, _ = _pan(workdir, ["-A"], seconds, memory_mb)
    return assertions, deadlocks, states


def run_spin_npc(
    promela: str, workdir: Path, seconds: float | None = None, memory_mb: int | None = None
) -> int:
    """The errors of SPIN's search for non-progress cycles under weak fairness (pan
    compiled with `-DNP`, run with `-l -f`): more than 0 when one is found. A state is a
    progress state when a thread is at a `progress` statement's label (`progress_L5`)."""
    _build(promela, workdir, ["-DNP"], memory_mb)
    return _pan(workdir, ["-l", "-f"], seconds, memory_mb)[0]


def starvation_model(promela: str, thread: int) -> str:
    """The exported model with a never claim for `<>[] starved`: from some point on, the
    program has not ended, gilcheck's thread `thread` (its `me`) has started and not
    finished, and it takes no step (`_last`, the pid of the process that took the last
    step, is never its pid). Each `run` records the new process's pid in `pid_of[me]`, and
    a thread records its end in `fin_[me]` (its last statement, `skip` in the export);
    neither adds a step or a behaviour."""
    model, runs = re.subn(r"\brun (\w+)\(([^,)]+)", r"pid_of[\2] = run \1(\2", promela)
    model, ends = re.subn(r"^end_exit: skip$", "end_exit: fin_[me] = 1", model, flags=re.M)
    if not runs or not ends:
        raise RuntimeError("the export's `run` or `end_exit` lines were not found")
    pid = f"pid_of[{thread}]"
    starved = f"(!ended && {pid} != 0 && !fin_[{thread}] && _last != {pid})"
    claim = (
        "byte pid_of[MAXT];  /* differential test: the pid of each thread */\n"
        "bool fin_[MAXT];    /* differential test: threads past their end */\n"
        f"#define STARVED {starved}\n"
        "never {  /* <>[] STARVED */\n"
        "T0_init:\n  do\n  :: STARVED -> goto accept_S\n  :: true\n  od;\n"
        "accept_S:\n  do\n  :: STARVED\n  od\n}\n\n"
    )
    first = model.index("\nproctype ") + 1
    return model[:first] + claim + model[first:]


def run_spin_starved(
    promela: str,
    thread: int,
    workdir: Path,
    seconds: float | None = None,
    memory_mb: int | None = None,
) -> int:
    """The errors of SPIN's search for acceptance cycles of `starvation_model` under weak
    fairness (`-a -f`): more than 0 when there is a weakly fair infinite run on which the
    thread never moves again while the program runs on."""
    _build(starvation_model(promela, thread), workdir, [], memory_mb)
    return _pan(workdir, ["-a", "-f"], seconds, memory_mb)[0]


def _build(promela: str, workdir: Path, flags: list[str], memory_mb: int | None) -> None:
    """`spin -a` and gcc (without partial-order reduction) in `workdir`."""
    memory_mb = SPIN_MEMORY_MB if memory_mb is None else memory_mb
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "model.pml").write_text(promela)
    subprocess.run(["spin", "-a", "model.pml"], cwd=workdir, check=True, capture_output=True)
    subprocess.run(
        [*_compiler(), *flags, "-DNOREDUCE", f"-DMEMLIM={memory_mb}", "-o", "pan", "pan.c"],
        cwd=workdir,
        check=True,
        capture_output=True,
    )


def _pan(
    workdir: Path, flags: list[str], seconds: float | None, memory_mb: int | None
) -> tuple[int, int]:
    """(errors, states stored) of one run of pan."""
    seconds = SPIN_SECONDS if seconds is None else seconds
    memory_mb = SPIN_MEMORY_MB if memory_mb is None else memory_mb
    what = " ".join(flags)
    try:
        # A smaller hash table (`-wN`) starts faster on small models; the tests set one.
        bits = os.environ.get("SPINDIFF_HASH_BITS")
        table = [f"-w{int(bits)}"] if bits else []
        done = subprocess.run(
            ["./pan", "-m1000000", *table, *flags],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=seconds,
        )
    except subprocess.TimeoutExpired:
        raise Unfinished(f"pan {what} past {seconds:g} s") from None
    if "max search depth too small" in done.stdout:
        raise RuntimeError("pan: search depth too small")
    if "MEMLIM" in done.stdout or "out of memory" in done.stdout:
        raise Unfinished(f"pan {what} past {memory_mb} MB")
    if re.search(r"assertion violated\s+!\(limit_hit\)", done.stdout):
        # The export's own limit (a slot of run-time objects, a bound it provides), not a
        # violation of the spec: SPIN did not finish the spec's search.
        raise LimitReached(f"pan {what}: the export's limit was reached (LIMIT in the model)")
    errors = re.search(r"errors: (\d+)", done.stdout)
    states = re.search(r"(\d+) states, stored", done.stdout)
    if errors is None or states is None:
        raise RuntimeError(f"pan gave no result:\n{done.stdout}\n{done.stderr}")
    return int(errors.group(1)), int(states.group(1))


# The generator's options (tests/strategies.py, `SpecGenerator`), each a flag of its own.
GENERATOR_OPTIONS = (
    "arrays",
    "calls",
    "values",
    "handles",
    "atexit",
    "timed",
    "locks",
    "gil_api",
    "pools",
    "loops",
    "v11",
    "gil_off",
    "objects",
    "processes",
    "local_steps",
)


def compare(seed: int, liveness: bool = False, **options: bool) -> tuple[Outcome, str]:
    """Check one generated spec with both tools (`options`: the generator's, see
    GENERATOR_OPTIONS; `liveness`: a spec of `tests/liveness_strategies.py` instead, with
    SPIN's non-progress cycles looked for in every spec without a safety violation)."""
    if liveness:
        text = random_liveness_spec(random.Random(seed), gil_off=options.get("gil_off", False))
    else:
        text = random_spec(random.Random(seed), **options)
    try:
        loaded = parse_text(f"differential_{seed}.gil", text)
    except SpecError as error:
        return Outcome(
            seed, "error", status="disagree", note=str(error.diagnostics[0].message)
        ), text
    # With `gil_api`, a spec may reach a statement with two GIL counts (a `release_gil` in
    # one branch only), which the export refuses: counted as refused, not as disagreement.
    # With `processes` and loops, `spawn process` in a spec with event loops is refused
    # too; with `gil_off` and loops, `gil off` with an event loop; with pools and loops
    # (`--all`), a `submit` to a value in a spec with event loops.
    refusals_wrong = not (
        options.get("gil_api", False)
        or (options.get("pools", False) and options.get("loops", False))
        or (options.get("processes", False) and options.get("loops", False))
        or (options.get("gil_off", False) and options.get("loops", False))
    )
    return compare_loaded(seed, loaded, refused_is_error=refusals_wrong, every_npc=liveness), text


def compare_bundled(path: str) -> tuple[Outcome, str]:
    """Check one bundled spec with both tools; one the export refuses is `refused`."""
    text = Path(path).read_text()
    try:
        loaded = parse_spec(path)
    except SpecError as error:
        return Outcome(path, "error", status="skipped", note=error.diagnostics[0].message), text
    return compare_loaded(path, loaded, refused_is_error=False, every_npc=True), text


def compare_loaded(
    label: int | str, loaded: Loaded, *, refused_is_error: bool, every_npc: bool = False
) -> Outcome:
    """Check a parsed spec with gilcheck and, exported, with SPIN: the safety verdicts
    always, and for `livelock` and `stuck` the liveness check (see `liveness`); with
    `every_npc`, SPIN's non-progress cycles of the `ok` and `stuck` specs too (counted,
    not compared: SPIN's cycles need not be terminal)."""
    try:
        program = checkable_program(loaded)
        promela = export_promela(program)
    except SpecError as error:
        first = error.diagnostics[0]
        if refused_is_error or first.code != "not-exportable":
            return Outcome(label, "error", status="disagree", note=str(first.message))
        return Outcome(label, "", status="refused", note=str(first.message))
    # gilcheck's budget: a spec past it is `inconclusive` (skipped), never a worker the
    # machine runs out of memory for.
    budget = {"max_states": 500_000, "timeout": 120, "max_memory_mb": GILCHECK_MEMORY_MB}
    result = check_spec(loaded, CheckOptions(**budget))
    outcome = Outcome(label, result.verdict, gilcheck_states=result.stats.states)
    if result.verdict == "ok":
        unreduced = check_spec(loaded, CheckOptions(**budget, merge_local_steps=False))
        outcome.gilcheck_states_unreduced = unreduced.stats.states
    if result.verdict in ("bound", "inconclusive"):
        outcome.status, outcome.note = "skipped", result.verdict
        return outcome
    with tempfile.TemporaryDirectory(prefix="gilcheck-spin-") as tmp:
        try:
            a, d, states = run_spin(promela, Path(tmp) / "safety")
            if a == 0 and d == 0:
                liveness(outcome, result, promela, Path(tmp), every_npc=every_npc)
        except Unfinished as error:
            outcome.status, outcome.note = "unfinished", f"spin: {error}"
            return outcome
        except (RuntimeError, subprocess.SubprocessError) as error:
            outcome.status, outcome.note = "skipped", f"spin: {error}"
            return outcome
    outcome.spin_assertions, outcome.spin_deadlocks, outcome.spin_states = a, d, states
    verdict = result.verdict
    if a < 0 and verdict != "deadlock":
        # SPIN's assertion search stopped at the export's limit: only an invalid end state
        # it found is known.
        outcome.status = "unfinished"
        outcome.note = f"spin: the export's limit reached; {d} invalid end state(s)"
        return outcome
    if verdict in ("ok", "stuck", "livelock"):
        agree = a == 0 and d == 0
    elif verdict == "deadlock":
        agree = d > 0
    elif verdict in SAFETY:
        agree = a > 0
    else:
        agree = False
    if not agree and verdict == "deadlock" and _daemon_child_deadlock(result, promela, loaded):
        outcome.status = "explained"
        outcome.note = (
            "gilcheck: a daemon child process deadlocked while its parent still ran (then "
            "terminated it); SPIN judges deadlock over all processes, and finds the child "
            "blocked for ever once daemon children are joined instead of terminated"
        )
    elif not agree:
        outcome.status = "disagree"
        outcome.note = f"gilcheck {verdict}; spin: {a} assertion error(s), {d} invalid end state(s)"
    elif verdict == "livelock" and not outcome.spin_npc:
        outcome.status = "disagree"
        outcome.note = "gilcheck livelock; spin: no non-progress cycle under weak fairness"
    elif verdict == "stuck" and not outcome.spin_starved:
        outcome.status = "disagree"
        outcome.note = (
            f"gilcheck stuck ({outcome.stuck_thread}); spin: no weakly fair cycle on which "
            "it never moves"
        )
    return outcome


def _daemon_child_deadlock(result: CheckResult, promela: str, loaded: Loaded) -> bool:
    """Whether a `deadlock` SPIN does not find is the known difference of the process
    rulings (docs/promela.md, `spawn process`): gilcheck judges each process, and found a
    daemon child deadlocked while other processes still ran; SPIN judges the whole system,
    and the parent's exit terminates the child. Confirmed by SPIN on the model in which
    daemon children are joined instead of terminated: the child must block for ever there."""
    daemon = DAEMON_STARTED.format(1)
    if OTHERS_STILL_RUN not in result.message or daemon not in promela:
        return False
    joined = promela.replace(daemon, DAEMON_STARTED.format(0))
    with tempfile.TemporaryDirectory(prefix="gilcheck-spin-") as tmp:
        try:
            _, deadlocks, _ = run_spin(joined, Path(tmp) / "joined")
        except (Unfinished, RuntimeError, subprocess.SubprocessError):
            return False
    return deadlocks > 0


def liveness(
    outcome: Outcome, result: CheckResult, promela: str, workdir: Path, *, every_npc: bool
) -> None:
    """SPIN's side of a liveness verdict, into `outcome`.

    `livelock`: gilcheck found a terminal strongly connected component C with a step in
    which no `progress` statement runs; SPIN must find a non-progress cycle under weak
    fairness (`run_spin_npc`). A walk through every step of C is such a cycle: every thread
    not ended moves in C (one enabled in a state of C moves to a state of C, and one
    blocked in all of C would make the verdict `stuck`), so each process either executes
    in the cycle or has ended, and no state of C has a thread at a `progress` statement
    (it would run it in C, or wait at it in all of C, which is `stuck` again).

    `stuck`: gilcheck found a terminal component C in all of whose states thread W is
    blocked, while C has steps. A non-progress cycle is not the SPIN property: the others
    may run `progress` in C. SPIN must find a weakly fair infinite run on which, from some
    point on, W (started, not finished) never moves and the program does not end
    (`run_spin_starved`): a walk through every step of C is one (W is not executable in
    any state of it, so weak fairness does not make it move; every other thread moves in C
    or is blocked throughout it)."""
    verdict = result.verdict
    if verdict == "livelock":
        outcome.spin_npc = run_spin_npc(promela, workdir / "npc")
    elif every_npc and verdict in ("ok", "stuck"):
        # Counted, not compared: with a budget of its own, and past it just not counted.
        try:
            outcome.spin_npc = run_spin_npc(
                promela, workdir / "npc", seconds=min(SPIN_SECONDS, COUNTED_SECONDS)
            )
        except (Unfinished, RuntimeError, subprocess.SubprocessError):
            outcome.spin_npc = None
    if verdict == "stuck":
        thread = stuck_thread(result)
        if thread is None:
            raise RuntimeError("gilcheck's stuck trace names no blocked thread")
        outcome.stuck_thread = f"{thread[1]} (#{thread[0]})"
        outcome.spin_starved = run_spin_starved(promela, thread[0], workdir / "starved")


def stuck_thread(result: CheckResult) -> tuple[int, str] | None:
    """(id, name) of the first thread gilcheck's `stuck` report names: its index in the
    trace's last snapshot (declared threads in the order written, then spawned ones in the
    order spawned, as the export numbers them: its `me`)."""
    trace = result.trace
    if trace is None or not trace.waits or not trace.steps:
        return None
    name = trace.waits[0].thread
    after = trace.steps[-1].after
    if after is None:
        return None
    names = [t.name for t in after.threads]
    return (names.index(name), name) if name in names else None


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
        "--handles",
        action="store_true",
        help="specs whose channels are made at run time: handles passed, sent, cloned, dropped",
    )
    parser.add_argument("--atexit", action="store_true", help="specs with `atexit` blocks")
    parser.add_argument(
        "--timed", action="store_true", help="specs with timed waits on locks, events, channels"
    )
    parser.add_argument(
        "--locks", action="store_true", help="specs with an rwlock, a latch and `try_acquire`"
    )
    parser.add_argument(
        "--gil-api", action="store_true", help="specs with `release_gil`/`acquire_gil`"
    )
    parser.add_argument(
        "--pools",
        action="store_true",
        help="specs with a thread pool: tasks submitted, results waited for (timed too), "
        "futures shared and completed, shutdown",
    )
    parser.add_argument(
        "--loops",
        action="store_true",
        help="specs with an event loop: coroutines with `suspend` blocks submitted and waited for",
    )
    parser.add_argument(
        "--v11",
        action="store_true",
        help="specs with the v1.1 additions: an rwlock, `fork` blocks, `atexit`, `finalizer` "
        "and `signal` blocks",
    )
    parser.add_argument(
        "--gil-off", action="store_true", help="half of the specs free-threaded (`gil off`)"
    )
    parser.add_argument(
        "--objects",
        action="store_true",
        help="specs with resources as values: locks and events made at run time, kept in "
        "vars and locals, passed to functions (declared ones too), compared",
    )
    parser.add_argument(
        "--processes",
        action="store_true",
        help="specs where main starts a child process (sometimes a daemon) with a lock, an "
        "event and a channel passed, its statements on its own copies of the globals",
    )
    parser.add_argument(
        "--local-steps",
        action="store_true",
        help="specs with statements over a thread's own locals, in native and Python code "
        "(lets, assignments, branches and short loops over them)",
    )
    parser.add_argument(
        "--all",
        action="store_true",
        help="every generator option above at once but --handles (which shapes the spec on "
        "its own), --gil-api (whose refused specs are counted apart), --v11, --gil-off and "
        "--processes: give them alongside",
    )
    parser.add_argument(
        "--liveness",
        action="store_true",
        help="liveness specs (tests/liveness_strategies.py: spin-waits, await, retry loops, "
        "progress, threads running on while another is blocked); SPIN's non-progress cycles "
        "are also looked for in the ok and stuck specs, and counted",
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
        chosen = {
            name: getattr(args, name)
            or (args.all and name not in ("handles", "gil_api", "v11", "gil_off", "processes"))
            for name in GENERATOR_OPTIONS
        }
        check = functools.partial(  # type: ignore[assignment]
            compare, liveness=args.liveness, **chosen
        )
    tally = {
        "agree": 0,
        "disagree": 0,
        "explained": 0,
        "skipped": 0,
        "unfinished": 0,
        "refused": 0,
    }
    refusals: dict[str, int] = {}
    ok_states = {"gilcheck": 0, "gilcheck --no-merge": 0, "spin": 0}
    verdicts: dict[str, int] = {}
    # Per gilcheck verdict: specs SPIN checked for liveness, and those where it found a
    # non-progress cycle (`npc`) or, for stuck, a cycle starving the stuck thread.
    live: dict[str, dict[str, int]] = {}
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
            if outcome.spin_npc is not None or outcome.spin_starved is not None:
                row = live.setdefault(outcome.verdict, {"checked": 0, "npc": 0, "starved": 0})
                row["checked"] += 1
                row["npc"] += bool(outcome.spin_npc)
                row["starved"] += bool(outcome.spin_starved)
            if outcome.status == "disagree":
                print(f"DISAGREE {_name(outcome)}: {outcome.note}")
                if args.save:
                    args.save.mkdir(parents=True, exist_ok=True)
                    saved = Path(str(outcome.seed)).stem if args.bundled else f"seed_{outcome.seed}"
                    (args.save / f"{saved}.gil").write_text(text)
            elif outcome.status in ("skipped", "unfinished", "explained"):
                print(f"{outcome.status} {_name(outcome)}: {outcome.note}")
    seconds = time.monotonic() - started
    print(
        f"{len(inputs)} specs: {tally['agree']} agree, {tally['disagree']} disagree, "
        + (f"{tally['explained']} explained, " if tally["explained"] else "")
        + f"{tally['unfinished']} unfinished by SPIN, {tally['skipped']} skipped"
        + (f", {tally['refused']} refused by the export" if tally["refused"] else "")
        + "; gilcheck verdicts "
        + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
        + f"; {seconds:.0f} s"
    )
    if live:
        # livelock: SPIN must find a non-progress cycle; stuck: a weakly fair cycle on which
        # the stuck thread never moves. The other counts are shown, not compared.
        print("liveness (gilcheck verdict: SPIN's findings):")
        for verdict, row in sorted(live.items()):
            starved = f", starvation cycle {row['starved']}" if verdict == "stuck" else ""
            print(
                f"  {verdict:8} {row['checked']:4} checked: non-progress cycle {row['npc']}"
                + starved
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
