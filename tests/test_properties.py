"""Property tests: the parser round-trips, and the explorer is deterministic and sound."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from strategies import differential_specs, modules, ring_specs, scenario_specs, symmetric_specs

from gilcheck.explore.bfs import explore
from gilcheck.explore.replay import replay
from gilcheck.explore.symmetric import SymmetricSystem, canonicalizer_for, concrete_path
from gilcheck.options import CheckOptions
from gilcheck.pipeline import CheckResult, analyze_spec, check_spec, parse_text
from gilcheck.source import SourceFile
from gilcheck.syntax import ast
from gilcheck.syntax.parse import parse_source
from gilcheck.syntax.unparse import unparse
from gilcheck.system.engine import Engine
from gilcheck.system.symmetry import Canonicalizer, Permutation

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(modules())
def test_printing_the_ast_and_parsing_it_again_gives_the_same_ast(module: ast.Module) -> None:
    text = unparse(module)
    again = parse_source(SourceFile("gen.gil", text))
    assert again == module, text


@FAST
@given(scenario_specs())
def test_random_scenarios_parse_and_compile(spec: str) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    assert program.threads


@FAST
@given(scenario_specs())
def test_exploration_is_deterministic(spec: str) -> None:
    options = CheckOptions(max_states=20_000)
    first = check_spec(parse_text("gen.gil", spec), options)
    second = check_spec(parse_text("gen.gil", spec), options)
    assert (first.verdict, first.stats.states, first.stats.transitions) == (
        second.verdict,
        second.stats.states,
        second.stats.transitions,
    )
    assert first.trace == second.trace


@FAST
@given(scenario_specs())
def test_every_reported_path_replays_to_its_final_state(spec: str) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    engine = Engine(program, CheckOptions(max_states=20_000))
    found = explore(engine, engine.options)
    end = found.deadlock if found.deadlock >= 0 else found.violation_from
    if end < 0:
        end = len(found.store) - 1
    states = replay(engine, found.store.path_to(end))
    assert states[-1] == found.store.states[end]


@FAST
@given(scenario_specs(locks=False, gil=False, channels=False))
def test_specs_without_locks_channels_or_gil_never_deadlock(spec: str) -> None:
    result = check_spec(parse_text("gen.gil", spec), CheckOptions(max_states=20_000))
    assert result.verdict != "deadlock", spec


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario_specs())
def test_statement_merging_never_changes_a_verdict(spec: str) -> None:
    merged = check_spec(parse_text("gen.gil", spec), CheckOptions(max_states=50_000))
    full = check_spec(
        parse_text("gen.gil", spec), CheckOptions(max_states=50_000, merge_local_steps=False)
    )
    if "inconclusive" in (merged.verdict, full.verdict):
        return
    assert merged.verdict == full.verdict, spec
    if merged.verdict == "ok":  # both explored everything: merging only removes states
        assert merged.stats.states <= full.stats.states


VIOLATIONS = {"deadlock", "assertion", "panic", "misuse", "stuck", "livelock"}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(v11=True))
def test_merging_keeps_verdicts_with_rwlocks_forks_and_interrupts(spec: str) -> None:
    """A fork sees whether a release has happened yet, and an interrupt starts only at
    Python statement boundaries: the reductions must keep every verdict with them too."""
    assert_merging_keeps_verdicts(spec, 50_000)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        differential_specs(local_steps=True),
        differential_specs(local_steps=True, handles=True),
        differential_specs(local_steps=True, calls=True, values=True),
    )
)
def test_merging_pure_python_statements_keeps_verdicts(spec: str) -> None:
    """Pure statements of Python code are merged while their thread holds the GIL (the GIL
    is handed over after them rather than before): every verdict stays."""
    assert_merging_keeps_verdicts(spec, 10_000)


def assert_merging_keeps_verdicts(spec: str, max_states: int) -> None:
    """With and without merging, both find a violation or neither."""
    merged = check_spec(parse_text("gen.gil", spec), CheckOptions(max_states=max_states))
    full = check_spec(
        parse_text("gen.gil", spec), CheckOptions(max_states=max_states, merge_local_steps=False)
    )
    if "inconclusive" in (merged.verdict, full.verdict):
        return
    # Both find a violation or neither; which one is shortest may differ, since merging
    # changes the lengths of traces (a deadlock and an assertion may both be reachable).
    assert (merged.verdict == "ok") == (full.verdict == "ok"), spec
    assert merged.verdict == full.verdict or {merged.verdict, full.verdict} <= VIOLATIONS, spec


def _random_permutation(
    canonical: Canonicalizer, state: tuple[object, ...], rng: random.Random
) -> Permutation:
    """A random permutation of every symmetric array (a rotation of one reduced by
    rotations) and of the state's spawned threads."""
    parts = [tuple(rng.sample(range(len(p)), len(p))) for p in canonical.identity()]
    for a, array in enumerate(canonical.arrays):
        if array.rotational:
            r = rng.randrange(array.size)
            parts[a] = tuple((i + r) % array.size for i in range(array.size))
    if canonical.spawned_from is not None:
        spawned = len(state[0]) - canonical.spawned_from  # type: ignore[arg-type]
        parts[-1] = tuple(rng.sample(range(spawned), spawned))
    return tuple(parts)


SYMMETRIC = st.one_of(symmetric_specs(), differential_specs(spawns=True), ring_specs())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SYMMETRIC, st.randoms(use_true_random=False))
def test_permuting_symmetric_threads_permutes_the_steps(spec: str, rng: random.Random) -> None:
    """The engine is symmetric where the analysis says: succ(pi(s)) = pi(succ(s)), for
    thread arrays and for spawned threads (seen only through their handles)."""
    assert_permutation_permutes_steps(spec, rng)


def assert_permutation_permutes_steps(spec: str, rng: random.Random) -> None:
    """The steps of a permuted state are the permuted steps of the state."""
    program = analyze_spec(parse_text("gen.gil", spec))
    engine = Engine(program, CheckOptions(max_states=3_000))
    canonical = canonicalizer_for(engine)
    if canonical is None:
        return
    engine.ample = False  # the ample set picks a thread by number, so it is not symmetric
    found = explore(engine, engine.options)
    for state in rng.sample(found.store.states, min(40, len(found.store.states))):
        permutation = _random_permutation(canonical, state, rng)
        moved = canonical.apply(state, permutation)
        expected = sorted(
            repr(canonical.apply(t, permutation) if type(t) is tuple else t.verdict)
            for _, t in engine.transitions(state)
        )
        got = sorted(
            repr(t if type(t) is tuple else t.verdict) for _, t in engine.transitions(moved)
        )
        assert got == expected, spec


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(symmetric_specs(breaking=True), differential_specs(spawns=True), ring_specs()),
    st.booleans(),
)
def test_symmetry_reduction_never_changes_a_verdict(spec: str, por: bool) -> None:
    # (Spawned threads are reduced on decoded states, a few thousand states a second: the
    # limit keeps an example to a few seconds.)
    options = CheckOptions(max_states=8_000, merge_local_steps=por)
    reduced = check_spec(parse_text("gen.gil", spec), options)
    full = check_spec(parse_text("gen.gil", spec), dataclasses.replace(options, symmetry=False))
    if "inconclusive" in (reduced.verdict, full.verdict):
        return
    assert reduced.verdict == full.verdict, spec
    if reduced.verdict == "ok":  # both explored everything (a search stopped at a violation
        # finds a different number of the next depth's states before it)
        assert reduced.stats.states <= full.stats.states, spec
    if reduced.trace is not None and full.trace is not None:
        # both shortest: the same number of steps between states
        assert _depth(reduced) == _depth(full), spec


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SYMMETRIC)
def test_a_symmetric_trace_is_a_real_run(spec: str) -> None:
    """The trace of a reduced search replays step by step on the unreduced engine."""
    program = analyze_spec(parse_text("gen.gil", spec))
    options = CheckOptions(max_states=8_000)
    engine = Engine(program, options)
    canonical = canonicalizer_for(engine)
    if canonical is None:
        return
    found = explore(SymmetricSystem(engine, canonical), options)
    end = found.deadlock if found.deadlock >= 0 else found.violation_from
    if end < 0:
        end = len(found.store) - 1
    actions, states, to_real = concrete_path(engine, canonical, found.store, end)
    engine.ample = False
    assert replay(engine, actions) == states
    assert canonical.apply(found.store.states[end], to_real) == states[-1]


def _depth(result: CheckResult) -> int:
    """How many steps between states a result's trace takes (narrated sub-steps aside)."""
    assert result.trace is not None
    return len({step.index for step in result.trace.steps})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(differential_specs(), symmetric_specs(breaking=True)), st.booleans())
def test_a_parallel_search_agrees_with_the_sequential_one(spec: str, symmetry: bool) -> None:
    options = CheckOptions(max_states=30_000, symmetry=symmetry)
    sequential = check_spec(parse_text("gen.gil", spec), options)
    parallel = check_spec(parse_text("gen.gil", spec), dataclasses.replace(options, workers=2))
    if "inconclusive" in (sequential.verdict, parallel.verdict):
        return
    assert parallel.verdict == sequential.verdict, spec
    if sequential.verdict in ("ok", "stuck", "livelock"):  # both searched everything
        assert parallel.stats.states == sequential.stats.states, spec
    # One trace per spec: the sequential search's, whatever the number of workers.
    assert parallel.trace == sequential.trace, spec


@example(  # two violations: which is the shortest depends on the merging
    "host rust\nconst N = 2\nvar x = 0\nvar a[N] = 0\nmutex g\nmutex m[N]\nrlock r[N]\n"
    "event e[N]\nsemaphore s = 1\nchannel ids: unbounded\nchannel c[N]: unbounded\n"
    "thread w[N] {\nlet v1 = recv ids\n}\nthread main {\nlet v2 = recv ids\nwith_gil {\n"
    "allow_threads {\npython {\nx = (x + 0) % 3\n}\n}\n}\n}\nthread u {\nlock g {\n"
    "send ids, 0\n}\n}\n"
)
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(symmetric_specs(breaking=True))
def test_merging_private_locks_never_changes_a_verdict(spec: str) -> None:
    """`m[self]` locks of a thread array are private: taking one is merged; violations stay."""
    options = CheckOptions(max_states=30_000, symmetry=False)
    merged = check_spec(parse_text("gen.gil", spec), options)
    full = check_spec(
        parse_text("gen.gil", spec), dataclasses.replace(options, merge_local_steps=False)
    )
    if "inconclusive" in (merged.verdict, full.verdict):
        return
    # A violation is found in both or in neither. Of several violations the shortest is
    # reported, and merging shortens some traces, so their kinds may differ (a deadlock
    # three merged steps away against a misuse four unmerged steps away).
    assert (merged.verdict == "ok") == (full.verdict == "ok"), spec
    if merged.verdict == "ok":
        assert merged.stats.states <= full.stats.states, spec
