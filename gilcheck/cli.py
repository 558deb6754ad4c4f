"""The command line: arguments -> options -> pipeline -> report -> exit code.

The only module that prints or exits; `exit_code` holds the exit-code table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import importlib.util
import json
import os
import random
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from gilcheck import __version__
from gilcheck.analysis.retrace import retrace
from gilcheck.analysis.simulate import simulate
from gilcheck.diagnostics import CODES, Diagnostic, SpecError
from gilcheck.explore.distributed import RayUnavailable
from gilcheck.explore.graph import GraphTooLarge
from gilcheck.explore.parallel import ParallelUnavailable
from gilcheck.export.promela import export_promela
from gilcheck.files import MAX_DATA_BYTES, read_regular_file
from gilcheck.memory import memory_limit_reason, pause_memory_watch, watch_memory
from gilcheck.options import CheckOptions
from gilcheck.pipeline import (
    Loaded,
    analyze_spec,
    check_spec,
    checkable_program,
    parse_spec,
    state_graph_of_spec,
)
from gilcheck.private import NotPrivate, proof_key
from gilcheck.progress import ProgressDisplay
from gilcheck.report.diagnostic_text import render_diagnostics
from gilcheck.report.dot import render_state_graph_dot, render_waitfor_dot
from gilcheck.report.dump import dump_ast, dump_ir
from gilcheck.report.html import render_html, source_texts
from gilcheck.report.json import (
    errors_object,
    file_error_object,
    render_errors_json,
    render_json,
    result_object,
)
from gilcheck.report.json_read import BadTrace, read_result
from gilcheck.report.json_schema import schema_text
from gilcheck.report.junit import JUnitCase, render_junit
from gilcheck.report.markdown import MarkdownSpec, render_markdown, render_markdown_many
from gilcheck.report.mermaid import render_mermaid
from gilcheck.report.proof import identity, load_cached, record, store
from gilcheck.report.run_text import render_run
from gilcheck.report.sarif import render_sarif
from gilcheck.report.text import expected_phrase, render_text, verdict_phrase
from gilcheck.source import SourceMap
from gilcheck.syntax.formatter import format_file
from gilcheck.trace.model import CheckResult, Stats

app = typer.Typer(
    name="gilcheck",
    help="A model checker for GIL, lock and channel interleavings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)

EXIT_OK, EXIT_VIOLATION, EXIT_USAGE, EXIT_INCONCLUSIVE, EXIT_INTERNAL = 0, 1, 2, 3, 4


class Backend(StrEnum):
    """Where the workers of a parallel search run."""

    PROCESSES = "processes"
    RAY = "ray"


class Outcome(StrEnum):
    """What a command ended with, before it becomes an exit code."""

    OK = "ok"
    VIOLATION = "violation"
    BAD_INPUT = "bad-input"
    INCONCLUSIVE = "inconclusive"
    INTERNAL = "internal"


def exit_code(outcome: Outcome) -> int:
    """The exit-code table: 0 ok, 1 violation, 2 bad spec or command, 3 inconclusive."""
    return {
        Outcome.OK: EXIT_OK,
        Outcome.VIOLATION: EXIT_VIOLATION,
        Outcome.BAD_INPUT: EXIT_USAGE,
        Outcome.INCONCLUSIVE: EXIT_INCONCLUSIVE,
        Outcome.INTERNAL: EXIT_INTERNAL,
    }[outcome]


def _finish(outcome: Outcome) -> NoReturn:
    _write_records()
    raise typer.Exit(exit_code(outcome))


# Control characters and bidirectional overrides from a spec are shown escaped, never sent
# to the terminal (where they could move the cursor, retitle or clear it).
_UNPRINTABLE = {
    c: f"\\x{c:02x}" for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if c not in (0x09, 0x0A)
} | {c: f"\\u{c:04x}" for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]}


def printable(text: str) -> str:
    """Text safe to print on a terminal: control characters escaped."""
    return text.translate(_UNPRINTABLE)


def _spec_error(error: SpecError, sources: SourceMap) -> NoReturn:
    err.print(printable(render_diagnostics(error.diagnostics, sources)), markup=False, end="")
    _finish(Outcome.BAD_INPUT)


@contextlib.contextmanager
def _reporting_spec_errors(
    spec: Path, sources: SourceMap, *, json_errors: bool = False
) -> Iterator[None]:
    """A spec that cannot be read or does not mean anything ends the command with exit 2."""
    try:
        yield
    except SpecError as error:
        if json_errors:
            report = render_errors_json(str(spec), error.diagnostics, sources)
            _emit(lambda: out.print(report, markup=False, end=""))
        _spec_error(error, sources)
    except RecursionError:
        _too_deep(spec)
    except OSError as error:
        _unreadable(spec, error)


def _too_deep(path: Path) -> NoReturn:
    err.print(
        f"error[nesting-too-deep]: `{path}` nests blocks or expressions too deeply\n"
        "help: flatten the nesting (see `gilcheck explain nesting-too-deep`)",
        markup=False,
    )
    _finish(Outcome.BAD_INPUT)


def _unreadable(path: Path, error: OSError) -> NoReturn:
    reason = error.strerror or str(error)
    err.print(f"error[unreadable-file]: cannot read `{path}`: {reason}", markup=False)
    err.print("help: check the path; `gilcheck check` takes a spec file (*.gil)", markup=False)
    _finish(Outcome.BAD_INPUT)


class DumpStage(StrEnum):
    """What `gilcheck parse --dump` prints."""

    AST = "ast"
    IR = "ir"


@app.command()
def parse(
    spec: Annotated[Path, typer.Argument(help="The spec file (*.gil).")],
    dump: Annotated[
        DumpStage | None, typer.Option("--dump", help="Print the syntax tree or the IR.")
    ] = None,
) -> None:
    """Parse and check a spec without exploring it; optionally dump a stage."""
    sources = SourceMap()
    with _reporting_spec_errors(spec, sources):
        loaded = parse_spec(str(spec), sources)
        program = analyze_spec(loaded)
    if dump is DumpStage.AST:
        for module in loaded.modules:
            out.print(printable(dump_ast(module, sources)), markup=False, end="")
    elif dump is DumpStage.IR:
        out.print(printable(dump_ir(program, sources)), markup=False, end="")
    else:
        threads = len(program.threads)
        functions = len(program.functions)
        out.print(
            f"{spec}: ok ({threads} thread{'s' if threads != 1 else ''}, "
            f"{functions} function{'s' if functions != 1 else ''}, "
            f"{sum(len(c.instrs) for c in program.codes)} instructions)",
            markup=False,
        )
    _finish(Outcome.OK)


class OutputFormat(StrEnum):
    """How `gilcheck check` prints its result."""

    TEXT = "text"
    JSON = "json"
    JUNIT = "junit"
    SARIF = "sarif"
    MARKDOWN = "markdown"


VERDICT_OUTCOME = {
    "ok": Outcome.OK,
    "bound": Outcome.INCONCLUSIVE,
    "inconclusive": Outcome.INCONCLUSIVE,
}


def outcome_of(verdict: str) -> Outcome:
    """A verdict's outcome: ok, inconclusive (bound, limits) or a violation."""
    return VERDICT_OUTCOME.get(verdict, Outcome.VIOLATION)


@app.command()
def check(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Spec files (*.gil), folders (every *.gil inside) or globs such as "
            "'specs/**/*_fixed.gil'.",
            show_default=False,
        ),
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            "-f",
            help="text, json, junit (JUnit XML), sarif (SARIF 2.1.0) or markdown (for a "
            "pull request).",
        ),
    ] = OutputFormat.TEXT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the report to FILE instead of stdout."),
    ] = None,
    max_states: Annotated[
        int, typer.Option("--max-states", min=1, help="Stop (inconclusive) after this many states.")
    ] = 5_000_000,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.001, help="Stop (inconclusive) after SECONDS."),
    ] = None,
    channel_bound: Annotated[
        int,
        typer.Option(
            "--channel-bound",
            min=1,
            help="Messages an unbounded channel (or queue(0)) may hold before the verdict "
            "is `bound`.",
        ),
    ] = 8,
    max_memory: Annotated[
        int | None,
        typer.Option(
            "--max-memory",
            min=16,
            metavar="MB",
            help="Stop (inconclusive) when gilcheck's memory passes MB megabytes "
            "[default: 70% of the machine's memory].",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
    spurious_wakeups: Annotated[
        bool,
        typer.Option(
            "--spurious-wakeups",
            help="Let a thread waiting on a condvar wake up without a notify, as std's Condvar "
            "and CPython's Condition may.",
        ),
    ] = False,
    expect_mode: Annotated[
        bool,
        typer.Option(
            "--expect",
            help="Prove the specs' `expect` lines: exit 0 when every verdict matches its "
            "spec's `expect` (a buggy spec that deadlocks passes), 1 when one does not.",
        ),
    ] = False,
    no_merge: Annotated[
        bool,
        typer.Option(
            "--no-por",
            "--no-merge",
            help="Turn partial-order reduction off: keep every intermediate state (no local "
            "steps or releases merged into the step before, no ample sets). Slower; the same "
            "violations are found, though of two with traces of equal length another may be "
            "reported.",
        ),
    ] = False,
    no_symmetry: Annotated[
        bool,
        typer.Option(
            "--no-symmetry",
            help="Turn symmetry reduction off: explore every permutation of identical "
            "threads of a `thread name[N]` array (slower; the same verdicts).",
        ),
    ] = False,
    no_step_table: Annotated[
        bool,
        typer.Option(
            "--no-step-table",
            help="Interpret every step instead of patching states from the table of each "
            "thread's steps (slower; the same states, in the same order).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            help="Search with N processes, each owning a share of the states (0: one per "
            "core). The same verdict and a trace as short; for machines with many cores (on "
            "two it gains little).",
        ),
    ] = 1,
    backend: Annotated[
        Backend,
        typer.Option(
            "--backend",
            help="Where the --workers run: forked processes on this machine, or Ray actors "
            "(pip install 'gilcheck\\[ray]'; a local Ray instance unless --address).",
        ),
    ] = Backend.PROCESSES,
    address: Annotated[
        str | None,
        typer.Option("--address", help="With --backend ray: an existing Ray cluster to join."),
    ] = None,
    record_file: Annotated[
        Path | None,
        typer.Option(
            "--record",
            metavar="FILE",
            help="Write a proof record per spec (content hashes of the spec and its models, "
            "semantics version, bounds, states, exhaustive, verdict) to FILE as JSON.",
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            "--cache",
            metavar="DIR",
            help="Keep proof records in DIR and skip a spec whose record is still valid "
            "(same spec, models, semantics and bounds; conclusive verdict).",
        ),
    ] = None,
) -> None:
    """Explore every interleaving of a spec and report its verdict.

    Exit codes: 0 no violation, 1 violation found, 2 the spec or the command is wrong,
    3 inconclusive (a limit or a channel bound was hit). With several specs: 2 if one is
    wrong, else 1 if one has a violation, else 3 if one is inconclusive, else 0. With
    `--expect`: 0 when every verdict matches its `expect`, 1 when one does not.
    """
    options = CheckOptions(
        max_states=max_states,
        timeout=timeout,
        channel_bound=channel_bound,
        merge_local_steps=not no_merge,
        symmetry=not no_symmetry,
        step_table=not no_step_table,
        workers=workers or os.cpu_count() or 1,
        backend=backend.value,
        address=address,
        spurious_wakeups=spurious_wakeups,
        max_memory_mb=max_memory if max_memory is not None else default_memory_limit_mb(),
    )
    watch_memory(options.max_memory_mb)
    if address is not None and backend is not Backend.RAY:
        err.print("error: `--address` is the address of a Ray cluster", markup=False)
        err.print("help: add `--backend ray`", markup=False)
        _finish(Outcome.BAD_INPUT)
    if backend is Backend.RAY and importlib.util.find_spec("ray") is None:
        err.print("error: `--backend ray` needs Ray, which is not installed", markup=False)
        err.print("help: pip install 'gilcheck[ray]'", markup=False)
        _finish(Outcome.BAD_INPUT)
    if output is not None:
        _report_to(output)
    _proofs.cache, _proofs.record, _proofs.records = cache_dir, record_file, []
    if cache_dir is not None:
        try:
            _proofs.key = proof_key()
        except NotPrivate as error:
            err.print(f"warning: the proof cache is off: {error}", markup=False)
            err.print(
                "help: gilcheck keeps the key that signs cached proofs in a private folder "
                "(GILCHECK_HOME); or share one with GILCHECK_PROOF_KEY",
                markup=False,
            )
            _proofs.cache = None
    specs = expand_spec_paths(paths)
    if not specs:
        where = ", ".join(f"`{p}`" for p in paths)
        err.print(f"error[unreadable-file]: no spec (*.gil) in {where}", markup=False)
        err.print("help: give spec files, folders that hold some, or globs", markup=False)
        _finish(Outcome.BAD_INPUT)
    junit = output_format in (OutputFormat.JUNIT, OutputFormat.SARIF)
    if len(specs) != 1 or len(paths) != 1 or expect_mode or paths[0].is_dir() or junit:
        _check_many(specs, options, output_format, expect_mode, quiet)
    spec = specs[0]
    sources = SourceMap()
    _working_on[:] = [str(spec)]
    with _reporting_spec_errors(spec, sources, json_errors=output_format is OutputFormat.JSON):
        loaded = parse_spec(str(spec), sources)
        result = _run_check(loaded, options, quiet, spec)
    if output_format is OutputFormat.JSON:
        _emit(lambda: out.print(render_json(result), markup=False, end=""))
    elif output_format is OutputFormat.MARKDOWN:
        _emit(lambda: out.print(render_markdown(result), markup=False, end=""))
    else:
        _emit(lambda: _print_text(result))
    _finish(outcome_of(result.verdict))


def _report_to(path: Path) -> None:
    """Send the report (stdout's part) to a file; diagnostics stay on stderr."""
    global out
    try:
        handle = path.open("w", encoding="utf-8")
    except OSError as error:
        err.print(f"error[unwritable-output]: cannot write {path}: {error.strerror}", markup=False)
        _finish(Outcome.BAD_INPUT)
    out = Console(file=handle, highlight=False, soft_wrap=True, emoji=False, color_system=None)


def expand_spec_paths(paths: list[Path]) -> list[Path]:
    """Files as given, folders as every *.gil inside (sorted), globs expanded."""
    specs: list[Path] = []
    for path in paths:
        if path.is_dir():
            specs.extend(sorted(p for p in path.rglob("*.gil") if p.is_file()))
        elif not path.exists() and any(c in str(path) for c in "*?["):
            specs.extend(sorted(Path(p) for p in glob.glob(str(path), recursive=True)))
        else:
            specs.append(path)
    return specs


@dataclass
class _SpecOutcome:
    """One spec of a multi-spec check."""

    spec: Path
    result: CheckResult | None = None
    report: dict[str, object] | None = None  # its JSON object
    error: Diagnostic | None = None

    @property
    def outcome(self) -> Outcome:
        return outcome_of(self.result.verdict) if self.result is not None else Outcome.BAD_INPUT


def _check_many(
    specs: list[Path],
    options: CheckOptions,
    output_format: OutputFormat,
    expect_mode: bool,
    quiet: bool,
) -> NoReturn:
    """Check several specs: a line per spec, then a summary (or one JSON object)."""
    done: list[_SpecOutcome] = []
    json_mode = output_format is not OutputFormat.TEXT
    for number, spec in enumerate(specs, start=1):
        sources = SourceMap()
        _working_on[:] = [str(spec)]
        watch_memory(options.max_memory_mb)  # each spec gets the whole limit
        try:
            loaded = parse_spec(str(spec), sources)
            result = _run_check(loaded, options, quiet, spec, number, len(specs))
        except KeyboardInterrupt:
            reason = memory_limit_reason()
            if reason is None:
                raise
            result = _stopped_before_a_verdict(spec, reason)
        except SpecError as error:
            report = errors_object(str(spec), error.diagnostics, sources)
            done.append(_SpecOutcome(spec, report=report, error=error.diagnostics[0]))
            err.print(
                printable(render_diagnostics(error.diagnostics, sources)), markup=False, end=""
            )
            continue
        except RecursionError:
            message = f"`{spec}` nests too deeply"
            report = file_error_object(str(spec), "nesting-too-deep", message, None)
            done.append(_SpecOutcome(spec, report=report))
            err.print(f"error[nesting-too-deep]: {message}", markup=False)
            continue
        except OSError as error:
            message = f"cannot read `{spec}`: {error.strerror or error}"
            report = file_error_object(str(spec), "unreadable-file", message, None)
            done.append(_SpecOutcome(spec, report=report))
            err.print(f"error[unreadable-file]: {message}", markup=False)
            continue
        done.append(_SpecOutcome(spec, result, result_object(result)))
        if not json_mode:
            match = {True: "matches", False: "MISMATCH", None: "no expect"}[result.matches]
            line = printable(
                f"{result.spec}: {verdict_phrase(result)} "
                f"(expected {expected_phrase(result) or '-'}: {match}), "
                f"{result.stats.states:,} states, {result.stats.seconds:.2f} s"
                + (" (cached proof, not checked again)" if result.notes else "")
            )
            _emit(lambda text=line: out.print(text, markup=False))  # type: ignore[misc]
    # Not as expected: a spec error, a verdict against its `expect`, and with `--expect`
    # also a spec without an `expect` line (it proves nothing).
    mismatches = [
        d
        for d in done
        if d.result is None
        or d.result.matches is False
        or (expect_mode and d.result.matches is None)
    ]
    if output_format is OutputFormat.SARIF:
        checked = [d.result for d in done if d.result is not None]
        _emit(lambda: out.print(render_sarif(checked), markup=False, end=""))
    elif output_format is OutputFormat.JUNIT:
        cases = [
            JUnitCase(
                str(d.spec),
                d.result,
                d.error.message if d.error is not None else "the spec could not be read",
            )
            for d in done
        ]
        _emit(lambda: out.print(render_junit(cases), markup=False, end=""))
    elif output_format is OutputFormat.MARKDOWN:
        items = [
            MarkdownSpec(str(d.spec), d.result, d.error.message if d.error else "not checked")
            for d in done
        ]
        _emit(lambda: out.print(render_markdown_many(items, expect_mode), markup=False, end=""))
    elif json_mode:
        summary = {
            "schema": "gilcheck.results",
            "version": 1,
            "expect_mode": expect_mode,
            "results": [d.report for d in done],
            "mismatches": [str(d.spec) for d in mismatches],
        }
        _emit(lambda: out.print(json.dumps(summary, indent=2), markup=False))
    else:
        _emit(lambda: _print_summary(done, mismatches, expect_mode))
    if any(d.outcome is Outcome.BAD_INPUT for d in done) or not done:
        _finish(Outcome.BAD_INPUT)
    if expect_mode:
        _finish(Outcome.VIOLATION if mismatches else Outcome.OK)
    for outcome in (Outcome.VIOLATION, Outcome.INCONCLUSIVE):
        if any(d.outcome is outcome for d in done):
            _finish(outcome)
    _finish(Outcome.OK)


def _print_summary(done: list[_SpecOutcome], mismatches: list[_SpecOutcome], expect: bool) -> None:
    counts: dict[str, int] = {}
    for d in done:
        verdict = d.result.verdict if d.result is not None else "spec error"
        counts[verdict] = counts.get(verdict, 0) + 1
    table = Table(title=f"{len(done)} spec{'s' if len(done) != 1 else ''}", show_edge=False)
    table.add_column("verdict")
    table.add_column("specs", justify="right")
    for verdict, count in sorted(counts.items()):
        table.add_row(verdict, str(count))
    out.print(table)
    if mismatches:
        out.print(f"{len(mismatches)} not as expected:", markup=False)
        for d in mismatches:
            if d.result is None:
                line = f"  {d.spec}: spec error (not checked)"
            else:
                want = expected_phrase(d.result) or "nothing: no expect line"
                line = f"  {d.spec}: {verdict_phrase(d.result)} (expected {want})"
            out.print(printable(line), markup=False)
    elif expect:
        out.print("every verdict matches its spec's expect", markup=False)


def _emit(write: Callable[[], None]) -> None:
    """Write the report; a closed pipe (`| head`) ends quietly, a full disk is reported."""
    try:
        write()
        out.file.flush()
        sys.stdout.flush()
    except SystemExit:
        pass  # rich's own handling of a closed pipe: stdout already points at /dev/null
    except BrokenPipeError:
        _silence_stdout()
    except OSError as error:
        _silence_stdout()
        err.print(
            f"error[unwritable-output]: cannot write the report: {error.strerror}", markup=False
        )
        _finish(Outcome.BAD_INPUT)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


@dataclass
class _Proofs:
    """`--cache DIR` and `--record FILE` of one `gilcheck check`."""

    cache: Path | None = None
    key: bytes = b""  # signs and checks the cache's records
    record: Path | None = None
    records: list[dict[str, object]] = field(default_factory=list)


_proofs = _Proofs()


def _stopped_before_a_verdict(spec: Path, reason: str) -> CheckResult:
    """The `inconclusive` result of a spec whose reading or checking a limit stopped."""
    return CheckResult(
        spec=str(spec),
        title=None,
        verdict="inconclusive",
        expected=None,
        message=f"stopped by {reason} before a verdict; nothing was proved",
        stats=Stats(states=0, transitions=0, seconds=0.0, exhaustive=False),
        trace=None,
        limit=reason,
    )


def _run_check(
    loaded: Loaded, options: CheckOptions, quiet: bool, spec: Path, index: int = 1, total: int = 1
) -> CheckResult:
    """Check (or find a still valid cached proof), with a progress line on stderr for long
    runs (only on a terminal); the result carries its proof record. The memory watch ends
    with the check: what remains is reporting."""
    try:
        return _check_or_recall(loaded, options, quiet, spec, index, total)
    finally:
        pause_memory_watch()


def _check_or_recall(
    loaded: Loaded, options: CheckOptions, quiet: bool, spec: Path, index: int, total: int
) -> CheckResult:
    texts = {m.path: s.text for m in loaded.modules if (s := loaded.sources.get(m.path))}
    who = identity(loaded.modules[0].path if loaded.modules else str(spec), texts)
    if _proofs.cache is not None:
        hit = load_cached(_proofs.cache, who, options, _proofs.key)
        if hit is not None:
            note = (
                "proof still valid: the same spec, models, semantics and bounds were checked before"
            )
            hit = dataclasses.replace(
                hit, notes=(note,), proof=record(who, options, hit, cached=True)
            )
            _proofs.records.append(hit.proof or {})
            return hit
    try:
        if quiet or not err.is_terminal:
            result = check_spec(loaded, options)
        else:
            with ProgressDisplay(err).spec(printable(str(spec)), index, total) as progress:
                result = check_spec(loaded, options, progress)
    except (RayUnavailable, ParallelUnavailable) as error:
        err.print(f"error: {error}", markup=False)
        err.print("help: run without `--workers` and `--backend`", markup=False)
        _finish(Outcome.BAD_INPUT)
    result = dataclasses.replace(result, proof=record(who, options, result))
    if _proofs.cache is not None:
        try:
            store(_proofs.cache, who, options, result, _proofs.key)
        except OSError as error:
            err.print(f"warning: cannot write the proof cache: {error}", markup=False)
    _proofs.records.append(result.proof or {})
    return result


def _write_records() -> None:
    """`--record FILE`: every proof record of this run."""
    if _proofs.record is None:
        return
    target, _proofs.record = _proofs.record, None
    payload = {"schema": "gilcheck.proofs", "version": 1, "records": _proofs.records}
    try:
        target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        err.print(
            f"error[unwritable-output]: cannot write {target}: {error.strerror}",
            markup=False,
        )


def _print_text(result: CheckResult) -> None:
    style = {"ok": "bold green", "bound": "bold yellow", "inconclusive": "bold yellow"}.get(
        result.verdict, "bold red"
    )
    for line in printable(render_text(result)).splitlines():
        if line.startswith("verdict:"):
            out.print(Text(line, style=style))
        else:
            out.print(line, markup=False)


class TraceFormat(StrEnum):
    """What `gilcheck trace` draws."""

    TEXT = "text"
    MERMAID = "mermaid"
    DOT = "dot"
    MARKDOWN = "markdown"
    HTML = "html"


class GraphKind(StrEnum):
    """Which graph `gilcheck trace --format dot` draws."""

    WAITFOR = "waitfor"
    STATES = "states"


STATE_GRAPH_LIMIT = 2_000


@app.command()
def trace(
    spec: Annotated[Path, typer.Argument(help="The spec file (*.gil).")],
    trace_format: Annotated[
        TraceFormat,
        typer.Option(
            "--format",
            "-f",
            help="text (as `check`), mermaid (sequence diagram), dot (Graphviz), markdown "
            "(for a pull request) or html (one self-contained page with a trace player).",
        ),
    ] = TraceFormat.TEXT,
    graph: Annotated[
        GraphKind,
        typer.Option(
            "--graph",
            help="With --format dot: the wait-for graph of the final state, or every state "
            f"and step of the spec (at most {STATE_GRAPH_LIMIT:,} states).",
        ),
    ] = GraphKind.WAITFOR,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    max_states: Annotated[
        int, typer.Option("--max-states", min=1, help="Stop (inconclusive) after this many states.")
    ] = 5_000_000,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.001, help="Stop (inconclusive) after SECONDS."),
    ] = None,
    channel_bound: Annotated[
        int, typer.Option("--channel-bound", min=1, help="As for `gilcheck check`.")
    ] = 8,
    spurious_wakeups: Annotated[
        bool, typer.Option("--spurious-wakeups", help="As for `gilcheck check`.")
    ] = False,
    no_merge: Annotated[
        bool, typer.Option("--no-por", "--no-merge", help="As for `gilcheck check`.")
    ] = False,
    no_symmetry: Annotated[
        bool, typer.Option("--no-symmetry", help="As for `gilcheck check`.")
    ] = False,
) -> None:
    """Draw the shortest counterexample of a spec: text, Mermaid, DOT, Markdown or HTML.

    Exit codes as for `gilcheck check`: 0 ok (the picture says there is no
    counterexample), 1 violation, 2 the spec or the command is wrong, 3 inconclusive.
    """
    if graph is GraphKind.STATES and trace_format is not TraceFormat.DOT:
        err.print("error: `--graph states` draws a DOT graph", markup=False)
        err.print("help: add `--format dot`", markup=False)
        _finish(Outcome.BAD_INPUT)
    options = CheckOptions(
        max_states=max_states,
        timeout=timeout,
        channel_bound=channel_bound,
        merge_local_steps=not no_merge,
        symmetry=not no_symmetry,
        spurious_wakeups=spurious_wakeups,
        max_memory_mb=default_memory_limit_mb(),
    )
    sources = SourceMap()
    with _reporting_spec_errors(spec, sources):
        loaded = parse_spec(str(spec), sources)
        if graph is GraphKind.STATES:  # before the check: a graph too large is refused at once
            try:
                states = state_graph_of_spec(loaded, options, STATE_GRAPH_LIMIT)
            except GraphTooLarge as error:
                err.print(f"error: `{spec}` has {error}: too many to draw", markup=False)
                err.print(
                    "help: draw the final state's wait-for graph (`--graph waitfor`), the "
                    "trace (`--format mermaid` or `html`), or a smaller spec (fewer threads)",
                    markup=False,
                )
                _finish(Outcome.BAD_INPUT)
        result = _run_check(loaded, options, False, spec)
    if trace_format is TraceFormat.TEXT:
        if output is not None:
            _report_to(output)
        _emit(lambda: _print_text(result))
        _finish(outcome_of(result.verdict))
    if graph is GraphKind.STATES:
        text = render_state_graph_dot(states)
    elif trace_format is TraceFormat.HTML:
        text = render_html(result, source_texts(result, sources))
    else:
        render = {
            TraceFormat.MERMAID: render_mermaid,
            TraceFormat.DOT: render_waitfor_dot,
            TraceFormat.MARKDOWN: render_markdown,
        }[trace_format]
        text = render(result)
    _write(text, output)
    if result.trace is None or not result.trace.steps:
        err.print(printable(f"{spec}: verdict {result.verdict}, no counterexample"), markup=False)
    _finish(outcome_of(result.verdict))


def _write(text: str, output: Path | None) -> None:
    """Write a document to FILE, or to stdout."""
    if output is None:
        _emit(lambda: out.print(text, markup=False, end=""))
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        err.print(
            f"error[unwritable-output]: cannot write {output}: {error.strerror}", markup=False
        )
        _finish(Outcome.BAD_INPUT)


@app.command("fmt")
def fmt_specs(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Spec files, folders or globs, as for `check`.", show_default=False),
    ],
    check_only: Annotated[
        bool,
        typer.Option(
            "--check", help="Rewrite nothing; exit 1 and list the specs that would change."
        ),
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Rewrite nothing; print what would change as a diff.")
    ] = False,
) -> None:
    """Rewrite specs in the canonical layout, keeping every comment.

    Exit codes: 0 done (or, with --check, every spec already formatted), 1 with --check
    when a spec would change, 2 when a spec does not parse (it is left as it is).
    """
    specs = expand_spec_paths(paths)
    if not specs:
        where = ", ".join(f"`{p}`" for p in paths)
        err.print(f"error[unreadable-file]: no spec (*.gil) in {where}", markup=False)
        _finish(Outcome.BAD_INPUT)
    changed = bad = 0
    for spec in specs:
        sources = SourceMap()
        try:
            result = format_file(spec, sources)
        except SpecError as error:
            err.print(
                printable(render_diagnostics(error.diagnostics, sources)), markup=False, end=""
            )
            bad += 1
            continue
        except OSError as error:
            reason = error.strerror or str(error)
            err.print(f"error[unreadable-file]: cannot read `{spec}`: {reason}", markup=False)
            bad += 1
            continue
        except RecursionError:
            err.print(f"error[nesting-too-deep]: `{spec}` nests too deeply", markup=False)
            bad += 1
            continue
        if not result.changed:
            continue
        changed += 1
        if diff:
            patch = printable(result.diff())
            _emit(lambda text=patch: out.print(text, markup=False, end=""))  # type: ignore[misc]
        if check_only or diff:
            status = f"would reformat {spec}"
            (err if diff else out).print(printable(status), markup=False)
        else:
            try:
                result.write()
            except OSError as error:
                message = f"error[unwritable-output]: cannot write {spec}: {error.strerror}"
                err.print(message, markup=False)
                bad += 1
                continue
            err.print(printable(f"reformatted {spec}"), markup=False)
    verb = "would be reformatted" if check_only or diff else "reformatted"
    err.print(
        f"{changed} of {len(specs)} spec{'s' if len(specs) != 1 else ''} {verb}", markup=False
    )
    if bad:
        _finish(Outcome.BAD_INPUT)
    _finish(Outcome.VIOLATION if check_only and changed else Outcome.OK)


@app.command("simulate")
def simulate_spec(
    spec: Annotated[Path, typer.Argument(help="The spec file (*.gil).")],
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="The random seed: the same seed gives the same run.",
            show_default="random",
        ),
    ] = None,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Stop after N steps.")] = 1000,
    channel_bound: Annotated[
        int, typer.Option("--channel-bound", min=1, help="As for `check`.")
    ] = 8,
) -> None:
    """Take one random run through a spec and print it like a trace.

    Exit codes: 0 the run ended or used up its steps, 1 it hit a violation (a deadlock, a
    failed assert, ...), 2 the spec is wrong, 3 it hit a channel bound or another limit.
    """
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    sources = SourceMap()
    with _reporting_spec_errors(spec, sources):
        program = checkable_program(parse_spec(str(spec), sources))
        run = simulate(program, sources, CheckOptions(channel_bound=channel_bound), seed, steps)
    taken = f"{run.steps:,} step{'s' if run.steps != 1 else ''}"
    head = f"simulation with seed {seed}: {run.outcome} after {taken}"
    text = render_run(str(spec), program.title, head, run.message, run.trace)
    _emit(lambda: out.print(printable(text), markup=False, end=""))
    if run.violation:
        _finish(Outcome.VIOLATION)
    _finish(Outcome.INCONCLUSIVE if run.outcome in ("bound", "inconclusive") else Outcome.OK)


@app.command("replay")
def replay_trace(
    trace_file: Annotated[
        Path, typer.Argument(help="A result saved by `gilcheck check SPEC --format json`.")
    ],
    spec: Annotated[
        Path | None, typer.Option("--spec", help="The spec [default: the one the result names].")
    ] = None,
    channel_bound: Annotated[
        int, typer.Option("--channel-bound", min=1, help="As the check ran.")
    ] = 8,
    no_merge: Annotated[
        bool, typer.Option("--no-por", "--no-merge", help="As the check ran.")
    ] = False,
    spurious_wakeups: Annotated[
        bool, typer.Option("--spurious-wakeups", help="As the check ran.")
    ] = False,
) -> None:
    """Re-run a saved trace step by step against its spec as it is now.

    Exit codes: 0 the trace still applies and ends in its verdict, 1 it no longer does (the
    step that fails is named), 2 the file is not a saved trace or the spec is wrong.
    """
    try:
        saved = read_result(read_regular_file(trace_file, MAX_DATA_BYTES).decode("utf-8"))
        if saved.verdict is None or not saved.steps:
            what = "a spec's errors" if saved.verdict is None else f"a `{saved.verdict}` result"
            raise BadTrace(f"it holds {what}, with no trace to replay")
    except (OSError, UnicodeDecodeError, BadTrace, RecursionError) as error:
        if isinstance(error, RecursionError):
            error = BadTrace("its JSON nests too deeply")
        reason = getattr(error, "strerror", None) or str(error)
        err.print(printable(f"error[bad-trace-file]: `{trace_file}`: {reason}"), markup=False)
        _finish(Outcome.BAD_INPUT)
    path = spec if spec is not None else Path(saved.spec)
    options = CheckOptions(
        channel_bound=channel_bound,
        merge_local_steps=not no_merge,
        spurious_wakeups=spurious_wakeups,
    )
    sources = SourceMap()
    with _reporting_spec_errors(path, sources):
        program = checkable_program(parse_spec(str(path), sources))
        done = retrace(program, sources, options, saved.steps, saved.verdict, saved.loop_from)
    if done.applies:
        head = f"replay of {trace_file}: the trace applies and ends in {saved.verdict} again"
    else:
        head = f"replay of {trace_file}: the trace no longer applies at step {done.failed_at}"
    text = render_run(str(path), program.title, head, done.message, done.trace)
    _emit(lambda: out.print(printable(text), markup=False, end=""))
    _finish(Outcome.OK if done.applies else Outcome.VIOLATION)


class ExportFormat(StrEnum):
    """What `gilcheck export` writes."""

    PROMELA = "promela"


@app.command()
def export(
    spec: Annotated[Path, typer.Argument(help="The spec file (*.gil).")],
    export_format: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="The target language.")
    ] = ExportFormat.PROMELA,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE instead of stdout.")
    ] = None,
    channel_bound: Annotated[
        int,
        typer.Option("--channel-bound", min=1, help="Capacity given to unbounded channels."),
    ] = 8,
) -> None:
    """Translate a spec for another checker: Promela for SPIN (spin -a; gcc -DSAFETY; ./pan)."""
    sources = SourceMap()
    with _reporting_spec_errors(spec, sources):
        loaded = parse_spec(str(spec), sources)
        program = checkable_program(loaded)
        text = export_promela(program, CheckOptions(channel_bound=channel_bound))
    if output is None:
        _emit(lambda: out.print(text, markup=False, end=""))
    else:
        try:
            output.write_text(text)
        except OSError as error:
            err.print(
                f"error[unwritable-output]: cannot write {output}: {error.strerror}", markup=False
            )
            _finish(Outcome.BAD_INPUT)
    _finish(Outcome.OK)


@app.command()
def explain(
    code: Annotated[str, typer.Argument(help="A diagnostic code, such as `undefined-name`.")],
) -> None:
    """Explain a diagnostic code: what it means, why it matters, an example."""
    info = CODES.get(code.strip().removeprefix("error[").removesuffix("]"))
    if info is None:
        from gilcheck.diagnostics import did_you_mean

        guess = did_you_mean(code, list(CODES))
        err.print(f"error: unknown diagnostic code `{code}`", markup=False)
        err.print(
            f"help: did you mean `{guess}`?"
            if guess
            else "help: `gilcheck codes` lists every code",
            markup=False,
        )
        _finish(Outcome.BAD_INPUT)
    out.print(f"{info.code}: {info.summary}\n", markup=False)
    out.print(f"What\n  {info.what}\n", markup=False)
    out.print(f"Why\n  {info.why}\n", markup=False)
    example = "\n".join("    " + line for line in info.example.splitlines())
    out.print(f"Example\n{example}", markup=False)
    _finish(Outcome.OK)


@app.command("codes")
def list_codes() -> None:
    """List every diagnostic code with a one-line summary."""
    width = max(len(c) for c in CODES)
    for info in CODES.values():
        out.print(f"{info.code.ljust(width)}  {info.summary}", markup=False)
    _finish(Outcome.OK)


@app.command("schema")
def print_schema() -> None:
    """Print the JSON Schema (draft 2020-12) of `gilcheck check --format json`."""
    _emit(lambda: out.print(schema_text(), markup=False, end=""))
    _finish(Outcome.OK)


def _version(value: bool) -> None:
    if value:
        from gilcheck.explore.native import engine_description

        out.print(f"gilcheck {__version__} ({engine_description()})", markup=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """gilcheck: explores every interleaving of threads, the GIL, locks and channels."""


def default_memory_limit_mb() -> int | None:
    """70% of the memory this process may use: the machine's, or its cgroup's if lower."""
    limits = []
    with contextlib.suppress(ValueError, OSError, AttributeError):
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            limits.append(int(text))
    return int(min(limits) * 0.7) // (1024 * 1024) if limits else None


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM ends a check as Ctrl-C does: a search stops and reports what it explored."""
    raise KeyboardInterrupt


_working_on: list[str] = []  # the spec being read or checked, for messages


def _out_of_memory(what: str) -> None:
    """Work stopped for lack of memory before a verdict: say so honestly (exit 3)."""
    where = f" while working on `{_working_on[-1]}`" if _working_on else ""
    err.print(
        f"inconclusive: {what}{where}; nothing was proved\n"
        "help: give gilcheck more memory (`--max-memory MB`), or make the spec smaller",
        markup=False,
    )


INTERRUPTED_BY_CLICK = 130


def _interrupted() -> NoReturn:
    """Ctrl-C, SIGTERM or the memory watch stopped the command before it finished."""
    pause_memory_watch()
    reason = memory_limit_reason()
    if reason is None:
        err.print("interrupted", markup=False)
    else:
        _out_of_memory(f"{reason} was reached")
    sys.exit(EXIT_INCONCLUSIVE)


def main() -> None:
    """Console-script entry point: never lets a traceback reach the user."""
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 6000))
    global out
    out = Console(highlight=False, soft_wrap=True, emoji=False)  # `--output` may redirect it
    with contextlib.suppress(ValueError):  # only the main thread may set handlers
        signal.signal(signal.SIGTERM, _terminate)
    # Every command reads specs: a memory limit covers reading, lowering and checking them
    # (`check --max-memory` sets its own).
    watch_memory(default_memory_limit_mb())
    try:
        code = app(standalone_mode=False)
        if code == INTERRUPTED_BY_CLICK:  # some click versions turn Ctrl-C into this code
            _interrupted()
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        _interrupted()
    except MemoryError:
        _out_of_memory("the memory ran out")
        sys.exit(EXIT_INCONCLUSIVE)
    except Exception as error:
        kind = type(error).__name__
        if hasattr(error, "show") and hasattr(error, "exit_code"):  # a usage error
            error.show()
            sys.exit(EXIT_USAGE)
        if kind == "Abort":  # other click versions turn Ctrl-C into Abort
            _interrupted()
        if os.environ.get("GILCHECK_TRACEBACK"):
            raise  # for a bug report: the full traceback
        err.print(
            f"internal error: {type(error).__name__}: {error}\n"
            "This is a bug in gilcheck, not in your spec; please report it with the spec.",
            markup=False,
        )
        sys.exit(EXIT_INTERNAL)
    finally:
        watch_memory(None)
        _working_on.clear()


if __name__ == "__main__":
    main()
