"""The reductions stay sound with `acquire_gil`/`release_gil` (v1.2): random specs that give
the GIL up and take it back get the same verdicts with and without partial-order
reduction, symmetry reduction and the step table, and the engine is symmetric where the
symmetry analysis says."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import differential_specs, symmetric_specs
from test_properties import VIOLATIONS, _random_permutation
from test_steptable import _agree

from gilcheck.explore.bfs import explore
from gilcheck.explore.symmetric import canonicalizer_for
from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, check_spec, parse_text
from gilcheck.system.engine import Engine

GIL_API_SPECS = st.one_of(differential_specs(gil_api=True), symmetric_specs(gil_api=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GIL_API_SPECS)
def test_merging_keeps_verdicts(spec: str) -> None:
    merged = check_spec(parse_text("gen.gil", spec), CheckOptions(max_states=30_000))
    full = check_spec(
        parse_text("gen.gil", spec), CheckOptions(max_states=30_000, merge_local_steps=False)
    )
    if "inconclusive" in (merged.verdict, full.verdict):
        return
    assert (merged.verdict == "ok") == (full.verdict == "ok"), spec
    assert merged.verdict == full.verdict or {merged.verdict, full.verdict} <= VIOLATIONS, spec


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(symmetric_specs(gil_api=True), st.booleans())
def test_symmetry_reduction_keeps_verdicts(spec: str, por: bool) -> None:
    options = CheckOptions(max_states=30_000, merge_local_steps=por)
    reduced = check_spec(parse_text("gen.gil", spec), options)
    full = check_spec(parse_text("gen.gil", spec), dataclasses.replace(options, symmetry=False))
    if "inconclusive" in (reduced.verdict, full.verdict):
        return
    assert reduced.verdict == full.verdict, spec


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(symmetric_specs(gil_api=True), st.randoms(use_true_random=False))
def test_permuting_symmetric_threads_permutes_the_steps(spec: str, rng: random.Random) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    engine = Engine(program, CheckOptions(max_states=3_000))
    canonical = canonicalizer_for(engine)
    if canonical is None:
        return
    engine.ample = False
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GIL_API_SPECS, st.booleans())
def test_the_step_table_changes_nothing(spec: str, merge: bool) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    _agree(program, CheckOptions(max_states=5_000, merge_local_steps=merge, symmetry=False))
