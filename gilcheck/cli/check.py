"""`gilcheck check`: explore every interleaving of specs and report their verdicts."""

from __future__ import annotations

import importlib.util
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from gilcheck.cli.checked_inputs import (
    check_one,
    check_source,
    check_stdin,
    drafted_only_options,
    warn_drift,
)
from gilcheck.cli.config import (
    ConfigFile,
    Isolated,
    all_force_excluded,
    configured_paths,
    project_config,
    settled,
    walk_rules,
)
from gilcheck.cli.drafting import (
    DEFAULT_UNROLL,
    Entries,
    Unroll,
    draft_options,
)
from gilcheck.cli.errors import no_specs, print_diagnostics
from gilcheck.cli.limits import working_on
from gilcheck.cli.options import (
    CHANNEL_BOUND,
    MAX_STATES,
    OBJECT_BOUND,
    ChannelBound,
    MaxStates,
    NoMerge,
    NoSymmetry,
    ObjectBound,
    SpuriousWakeups,
    StubbornSetsOption,
    Timeout,
    output,
)
from gilcheck.cli.outcome import (
    Outcome,
    emit,
    emit_document,
    finish,
    outcome_of_result,
    report_to,
)
from gilcheck.cli.output import render_context, say, streams
from gilcheck.cli.proofs import proofs
from gilcheck.cli.running import expand_spec_paths, run_check, stopped_before_a_verdict
from gilcheck.config import FORMATS as CONFIG_FORMATS
from gilcheck.diagnostics import SpecError
from gilcheck.memory import default_memory_limit_mb, memory_limit_reason, watch_memory
from gilcheck.options import MOST_WORKERS, STRATEGY_NAMES, CheckOptions
from gilcheck.pipeline import parse_spec, with_draft_facts
from gilcheck.private import NotPrivate, proof_key
from gilcheck.report.formats import (
    Checked,
    CheckFormat,
    SpecFailure,
    not_as_expected,
    report_for,
    spec_line,
)
from gilcheck.report.json import errors_object, file_error_object
from gilcheck.source import SourceMap

DEFAULTS = CheckOptions()  # the defaults of the options `check` passes on as they are


class Strategy(StrEnum):
    """The search strategies `--strategy` names (options.STRATEGY_NAMES, checked below)."""

    BFS = "bfs"
    DFS = "dfs"
    RANDOM = "random"
    PARALLEL = "parallel"
    RAY = "ray"


if {s.value for s in Strategy} != set(STRATEGY_NAMES):
    raise TypeError("--strategy's choices are out of step with options.STRATEGY_NAMES")
if set(CONFIG_FORMATS) != {f.value for f in CheckFormat}:
    raise TypeError("config.FORMATS is out of step with --format's choices (CheckFormat)")


class Backend(StrEnum):
    """Where the workers of a parallel search run."""

    PROCESSES = "processes"
    RAY = "ray"


def check(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Spec files (*.gil), folders (every *.gil inside) or globs such as "
            "'specs/**/*_fixed.gil' \\[default: the configuration's `paths`].",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            "-f",
            help="text, json, junit (JUnit XML), sarif (SARIF 2.1.0), markdown (for a "
            "pull request) or github (GitHub Actions annotations).",
        ),
    ] = CheckFormat.TEXT,
    source: Annotated[
        list[Path] | None,
        typer.Option(
            "--source",
            metavar="FILE",
            help="Draft a spec from Python or Rust/PyO3 source (as `gilcheck draft` does) and "
            "check it in one step; repeat for the files of one program.",
            show_default=False,
        ),
    ] = None,
    entries: Entries = None,
    unroll: Unroll = DEFAULT_UNROLL,
    stdin_filename: Annotated[
        str | None,
        typer.Option(
            "--stdin-filename",
            metavar="NAME",
            help="With `-` (the spec on stdin): the name reports give it, and the folder its "
            "`use` lines are found from \\[default: <stdin>].",
            show_default=False,
        ),
    ] = None,
    accept_assumptions: Annotated[
        bool,
        typer.Option(
            "--accept-assumptions/--no-accept-assumptions",
            help="A drafted spec's `ok` that rests on assumptions exits 0 (without: 3, as "
            "nothing is proved until someone checks them).",
        ),
    ] = False,
    output_file: Annotated[
        Path | None, output("Write the report to FILE instead of stdout.")
    ] = None,
    fingerprint: Annotated[
        bool,
        typer.Option(
            "--fingerprint/--no-fingerprint",
            help="Keep each state as a 64-bit fingerprint (hash compaction: 20-30 bytes per "
            "state), for hunting bugs in models too big to store exactly. A violation found "
            "is real; an `ok` may have missed states (its p(miss) is reported) and exits 3 "
            "unless --accept-fingerprint. No `stuck`/`livelock` analysis.",
        ),
    ] = False,
    accept_fingerprint: Annotated[
        bool,
        typer.Option(
            "--accept-fingerprint/--no-accept-fingerprint",
            help="With --fingerprint: an `ok` exits 0, its p(miss) accepted.",
        ),
    ] = False,
    max_states: MaxStates = MAX_STATES,
    timeout: Timeout = None,
    channel_bound: ChannelBound = CHANNEL_BOUND,
    object_bound: ObjectBound = OBJECT_BOUND,
    max_memory: Annotated[
        int | None,
        typer.Option(
            "--max-memory",
            min=16,
            metavar="MB",
            help="Stop (inconclusive) when gilcheck's memory passes MB megabytes "
            "\\[default: 70% of the machine's memory].",
            show_default=False,
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet/--no-quiet", "-q", help="No progress display.")
    ] = False,
    spurious_wakeups: SpuriousWakeups = False,
    expect_mode: Annotated[
        bool,
        typer.Option(
            "--expect/--no-expect",
            help="Prove the specs' `expect` lines: exit 0 when every verdict matches its "
            "spec's `expect` (a buggy spec that deadlocks passes), 1 when one does not.",
        ),
    ] = False,
    no_merge: NoMerge = False,
    no_symmetry: NoSymmetry = False,
    stubborn: StubbornSetsOption = False,
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
            max=MOST_WORKERS,
            help="Search with N processes, each owning a share of the states (0: one per "
            "core; at most 255). The same verdict and trace; for machines with many cores "
            "or clusters (on two it does not pay).",
        ),
    ] = 1,
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            min=0,
            help="Threads of the C loop in this process (0, the default: one per core while "
            "that is faster than one, measured as it runs). They share one store: the same "
            "states, ids and trace whatever the number.",
        ),
    ] = 0,
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
    strategy: Annotated[
        Strategy,
        typer.Option(
            "--strategy",
            help="The search: bfs (breadth-first, shortest traces; with --workers N on N "
            "processes, with --backend ray on Ray), dfs (depth-first up to --max-depth; its "
            "traces need not be shortest; inconclusive if it reaches the bound), random "
            "(--walks seeded random walks of up to --max-depth steps: finds violations, never "
            "proves their absence), parallel or ray.",
        ),
    ] = Strategy.BFS,
    max_depth: Annotated[
        int | None,
        typer.Option(
            "--max-depth",
            min=1,
            help="dfs: the depth bound \\[default: none]; random: the steps of each walk "
            "\\[default: 1000].",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", help="random: the seed of the walks (the same seed, the same walks)."
        ),
    ] = DEFAULTS.seed,
    walks: Annotated[
        int, typer.Option("--walks", min=1, help="random: how many walks to take.")
    ] = DEFAULTS.walks,
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
    config_file: ConfigFile = None,
    isolated: Isolated = False,
) -> None:
    """Explore every interleaving of a spec and report its verdict.

    Exit codes: 0 no violation, 1 violation found, 2 the spec or the command is wrong,
    3 inconclusive (a limit or a channel bound was hit). With several specs: 2 if one is
    wrong, else 1 if one has a violation, else 3 if one is inconclusive, else 0. With
    `--expect`: 0 when every verdict matches its `expect`, 1 when one does not.

    Settings not given as options come from the `\\[tool.gilcheck]` table of the nearest
    pyproject.toml (see `--config`).
    """
    config = project_config(config_file, isolated)
    settings = settled(ctx, config, locals())
    output_format, strategy = CheckFormat(settings["output_format"]), Strategy(settings["strategy"])
    expect_mode, accept_assumptions, quiet = (
        settings["expect_mode"],
        settings["accept_assumptions"],
        settings["quiet"],
    )
    max_states, timeout, max_memory = (
        settings["max_states"],
        settings["timeout"],
        settings["max_memory"],
    )
    channel_bound, object_bound = settings["channel_bound"], settings["object_bound"]
    spurious_wakeups, workers = settings["spurious_wakeups"], settings["workers"]
    max_depth, seed, walks = settings["max_depth"], settings["seed"], settings["walks"]
    cache_dir = settings["cache_dir"]
    options = CheckOptions(
        max_states=max_states,
        timeout=timeout,
        channel_bound=channel_bound,
        object_bound=object_bound,
        merge_local_steps=not no_merge,
        symmetry=not no_symmetry,
        stubborn_sets=settings["stubborn"],
        step_table=not no_step_table,
        workers=workers or min(os.cpu_count() or 1, MOST_WORKERS),
        threads=settings["threads"],
        backend=backend.value,
        address=address,
        spurious_wakeups=spurious_wakeups,
        max_memory_mb=max_memory if max_memory is not None else default_memory_limit_mb(),
        fingerprint=settings["fingerprint"],
        accept_fingerprint=settings["accept_fingerprint"],
        strategy=strategy.value,
        max_depth=max_depth,
        seed=seed,
        walks=walks,
    )
    watch_memory(options.max_memory_mb)
    for option, given, users in (
        ("--max-depth", max_depth is not None, ("dfs", "random")),
        ("--seed", seed != DEFAULTS.seed, ("random",)),
        ("--walks", walks != DEFAULTS.walks, ("random",)),
    ):
        if given and strategy.value not in users:
            takers = " and ".join(f"`--strategy {name}`" for name in users)
            say(f"warning: `{option}` applies to {takers} only: it is ignored here")
    if options.accept_fingerprint and not options.fingerprint:
        say("warning: `--accept-fingerprint` applies to `--fingerprint` only: it is ignored here")
    if address is not None and backend is not Backend.RAY:
        say("error: `--address` is the address of a Ray cluster")
        say("help: add `--backend ray`")
        finish(Outcome.BAD_INPUT)
    if backend is Backend.RAY and importlib.util.find_spec("ray") is None:
        say("error: `--backend ray` needs Ray, which is not installed")
        say("help: pip install 'gilcheck[ray]'")
        finish(Outcome.BAD_INPUT)
    if output_file is not None:
        report_to(output_file)
    proofs.cache, proofs.record, proofs.records = cache_dir, record_file, []
    proofs.wanted = output_format is CheckFormat.JSON
    if cache_dir is not None:
        try:
            proofs.key = proof_key()
        except NotPrivate as error:
            say(f"warning: the proof cache is off: {error}")
            say(
                "help: gilcheck keeps the key that signs cached proofs in a private folder "
                "(GILCHECK_HOME); or share one with GILCHECK_PROOF_KEY"
            )
            proofs.cache = None
    if source:
        if paths:
            say("error: give spec files or `--source` files, not both")
            say("help: draft and check the source alone: gilcheck check --source app.py")
            finish(Outcome.BAD_INPUT)
        check_source(
            source,
            draft_options(entries, unroll),
            options,
            output_format,
            quiet,
            accept_assumptions,
        )
        # check_source ends the command
    if not paths and config.paths:
        paths = configured_paths(config)
    if not paths:
        say("error: nothing to check")
        say(
            "help: give spec files (gilcheck check app.gil) or source (--source app.py), or "
            "list them as `paths` in pyproject.toml's [tool.gilcheck]"
        )
        finish(Outcome.BAD_INPUT)
    drafted_only_options(entries, unroll)
    if Path("-") in paths:
        if len(paths) != 1:
            say("error: `-` (a spec on stdin) is checked alone")
            say("help: check the files in another run")
            finish(Outcome.BAD_INPUT)
        check_stdin(stdin_filename or "<stdin>", options, output_format, quiet, accept_assumptions)
    if stdin_filename is not None:
        say("error: `--stdin-filename` names the spec read from stdin: give `-` as the spec")
        say("help: gilcheck check - --stdin-filename app.gil < app.gil")
        finish(Outcome.BAD_INPUT)
    specs = expand_spec_paths(paths, walk_rules(config))
    all_force_excluded(config, paths, specs)
    if not specs:
        no_specs(paths, "help: give spec files, folders that hold some, or globs")
    report = report_for(output_format)
    many = len(specs) != 1 or len(paths) != 1 or expect_mode or paths[0].is_dir()
    if many or report.collection:
        check_many(specs, options, output_format, expect_mode, quiet, accept_assumptions)
    spec = specs[0]
    check_one(
        spec,
        lambda sources: parse_spec(str(spec), sources),
        options,
        output_format,
        quiet,
        accept_assumptions,
    )


def _outcome(checked: Checked) -> Outcome:
    return Outcome.BAD_INPUT if isinstance(checked, SpecFailure) else outcome_of_result(checked)


def check_many(
    specs: list[Path],
    options: CheckOptions,
    output_format: CheckFormat,
    expect_mode: bool,
    quiet: bool,
    accept: bool,
) -> NoReturn:
    """Check several specs: a line per spec, then a summary (or one document)."""
    report = report_for(output_format)
    done: list[Checked] = []
    for number, spec in enumerate(specs, start=1):
        sources = SourceMap()
        working_on[:] = [str(spec)]
        watch_memory(options.max_memory_mb)  # each spec gets the whole limit
        try:
            loaded = parse_spec(str(spec), sources)
            result = run_check(loaded, options, quiet, spec, number, len(specs))
            result = with_draft_facts(result, loaded, accept)
            warn_drift(result)
        except KeyboardInterrupt:
            reason = memory_limit_reason()
            if reason is None:
                raise
            result = stopped_before_a_verdict(spec, reason)
        except SpecError as error:
            errors = errors_object(str(spec), error.diagnostics, sources)
            done.append(SpecFailure(str(spec), errors, error.diagnostics[0].message))
            print_diagnostics(error, sources)
            continue
        except RecursionError:
            message = f"`{spec}` nests too deeply"
            done.append(
                SpecFailure(
                    str(spec), file_error_object(str(spec), "nesting-too-deep", message, None)
                )
            )
            say(f"error[nesting-too-deep]: {message}")
            continue
        except OSError as error:
            message = f"cannot read `{spec}`: {error.strerror or error}"
            done.append(
                SpecFailure(
                    str(spec), file_error_object(str(spec), "unreadable-file", message, None)
                )
            )
            say(f"error[unreadable-file]: {message}")
            continue
        done.append(result)
        if report.spec_lines:
            line = spec_line(result)
            emit(lambda text=line: streams.out.print(text, markup=False))  # type: ignore[misc]
    context = render_context(many=True, expect_mode=expect_mode)
    emit_document(report.render(done, context), context)
    if any(_outcome(d) is Outcome.BAD_INPUT for d in done) or not done:
        finish(Outcome.BAD_INPUT)
    if expect_mode:
        finish(Outcome.VIOLATION if not_as_expected(done, expect_mode) else Outcome.OK)
    for outcome in (Outcome.VIOLATION, Outcome.INCONCLUSIVE):
        if any(_outcome(d) is outcome for d in done):
            finish(outcome)
    finish(Outcome.OK)
