"""`gilcheck trace`: draw the shortest counterexample of a spec."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from gilcheck.cli.config import ConfigFile, Isolated, project_config, settled
from gilcheck.cli.errors import reporting_spec_errors
from gilcheck.cli.options import (
    AS_FOR_CHECK,
    CHANNEL_BOUND,
    MAX_STATES,
    OBJECT_BOUND,
    ChannelBound,
    MaxStates,
    ObjectBound,
    Output,
    Spec,
    Timeout,
    no_merge,
    no_symmetry,
    spurious_wakeups,
    stubborn_sets,
)
from gilcheck.cli.outcome import (
    Outcome,
    emit_document,
    finish,
    outcome_of_result,
    report_to,
    write,
)
from gilcheck.cli.output import printable, render_context, say
from gilcheck.cli.running import run_check
from gilcheck.explore.graph import GraphTooLarge
from gilcheck.memory import default_memory_limit_mb
from gilcheck.options import CheckOptions
from gilcheck.pipeline import parse_spec, state_graph_of_spec, with_draft_facts
from gilcheck.report.formats import TraceFormat, report_for
from gilcheck.report.html import source_texts
from gilcheck.source import SourceMap
from gilcheck.trace.model import StateGraph


class GraphKind(StrEnum):
    """Which graph `gilcheck trace --format dot` draws."""

    WAITFOR = "waitfor"
    STATES = "states"


STATE_GRAPH_LIMIT = 2_000


def trace(
    ctx: typer.Context,
    spec: Spec,
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
    output: Output = None,
    max_states: MaxStates = MAX_STATES,
    timeout: Timeout = None,
    channel_bound: ChannelBound = CHANNEL_BOUND,
    object_bound: ObjectBound = OBJECT_BOUND,
    spurious: Annotated[bool, spurious_wakeups(AS_FOR_CHECK)] = False,
    merge_off: Annotated[bool, no_merge(AS_FOR_CHECK)] = False,
    symmetry_off: Annotated[bool, no_symmetry(AS_FOR_CHECK)] = False,
    stubborn: Annotated[bool, stubborn_sets(AS_FOR_CHECK)] = False,
    accept: Annotated[
        bool,
        typer.Option(
            "--accept-assumptions",
            help="As for `check`: a drafted spec's `ok` under assumptions exits 0, not 3.",
        ),
    ] = False,
    config_file: ConfigFile = None,
    isolated: Isolated = False,
) -> None:
    """Draw the shortest counterexample of a spec: text, Mermaid, DOT, Markdown or HTML.

    Exit codes as for `gilcheck check`: 0 ok (the picture says there is no
    counterexample), 1 violation, 2 the spec or the command is wrong, 3 inconclusive.
    The bounds `check` reads from `\\[tool.gilcheck]` apply here too.
    """
    settings = settled(
        ctx,
        project_config(config_file, isolated),
        locals(),
        {"spurious_wakeups": "spurious", "accept_assumptions": "accept"},
    )
    max_states, timeout = settings["max_states"], settings["timeout"]
    channel_bound, object_bound = settings["channel_bound"], settings["object_bound"]
    spurious, accept = settings["spurious"], settings["accept"]
    if graph is GraphKind.STATES and trace_format is not TraceFormat.DOT:
        say("error: `--graph states` draws a DOT graph")
        say("help: add `--format dot`")
        finish(Outcome.BAD_INPUT)
    options = CheckOptions(
        max_states=max_states,
        timeout=timeout,
        channel_bound=channel_bound,
        object_bound=object_bound,
        merge_local_steps=not merge_off,
        symmetry=not symmetry_off,
        stubborn_sets=settings["stubborn"],
        spurious_wakeups=spurious,
        max_memory_mb=default_memory_limit_mb(),
    )
    sources = SourceMap()
    states: StateGraph | None = None
    with reporting_spec_errors(spec, sources):
        loaded = parse_spec(str(spec), sources)
        if graph is GraphKind.STATES:  # before the check: a graph too large is refused at once
            try:
                states = state_graph_of_spec(loaded, options, STATE_GRAPH_LIMIT)
            except GraphTooLarge as error:
                say(f"error: `{spec}` has {error}: too many to draw")
                say(
                    "help: draw the final state's wait-for graph (`--graph waitfor`), the "
                    "trace (`--format mermaid` or `html`), or a smaller spec (fewer threads)"
                )
                finish(Outcome.BAD_INPUT)
        result = with_draft_facts(run_check(loaded, options, False, spec), loaded, accept)
    if trace_format is TraceFormat.TEXT:  # printed as `check` prints it
        if output is not None:
            report_to(output)
        context = render_context()
        emit_document(report_for(trace_format).render([result], context), context)
        finish(outcome_of_result(result))
    context = render_context(
        sources=source_texts(result, sources),
        state_graph=states,
    )
    text = report_for(trace_format).render([result], context)
    write(text, output)
    if result.trace is None or not result.trace.steps:
        say(printable(f"{spec}: verdict {result.verdict}, no counterexample"))
    finish(outcome_of_result(result))
