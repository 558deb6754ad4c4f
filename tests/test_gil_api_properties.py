"""The reductions stay sound with `acquire_gil`/`release_gil` (v1.2): random specs that give
the GIL up and take it back get the same verdicts with and without partial-order
reduction, symmetry reduction and the step table, and the engine is symmetric where the
symmetry analysis says."""

from __future__ import annotations

import dataclasses
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import differential_specs, symmetric_specs
from test_properties import assert_merging_keeps_verdicts, assert_permutation_permutes_steps
from test_steptable import _agree

from gilcheck.options import CheckOptions
from gilcheck.pipeline import analyze_spec, check_spec, parse_text

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

GIL_API_SPECS = st.one_of(differential_specs(gil_api=True), symmetric_specs(gil_api=True))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GIL_API_SPECS)
def test_merging_keeps_verdicts(spec: str) -> None:
    assert_merging_keeps_verdicts(spec, 30_000)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    assert_permutation_permutes_steps(spec, rng)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GIL_API_SPECS, st.booleans())
def test_the_step_table_changes_nothing(spec: str, merge: bool) -> None:
    program = analyze_spec(parse_text("gen.gil", spec))
    _agree(program, CheckOptions(max_states=5_000, merge_local_steps=merge, symmetry=False))
