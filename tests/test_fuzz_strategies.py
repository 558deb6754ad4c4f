"""The generator of bench/fuzz --generated: valid specs over every construct, and its
mutations, through the front end and (a few) through check_spec."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from fuzz_strategies import CONSTRUCTS, Gen, blocks_of, generate, structural_mutation

from gilcheck.diagnostics import SpecError
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, checkable_program, parse_text
from gilcheck.source import SourceMap


def front_end(text: str) -> bool:
    """True when the front end accepts the spec; a located spec error gives False."""
    try:
        checkable_program(parse_text("gen.gil", text, SourceMap()))
    except SpecError as error:
        assert error.diagnostics
        return False
    return True


def test_generated_specs_are_accepted() -> None:
    rng = random.Random(1)
    assert sum(front_end(generate(rng)[0]) for _ in range(50)) >= 45


@pytest.mark.slow
def test_generated_specs_are_accepted_and_cover_every_construct() -> None:
    rng = random.Random(1)
    coverage: Counter[str] = Counter()
    accepted = 0
    for _ in range(500):
        text, used = generate(rng)
        coverage.update(used)
        accepted += front_end(text)
    assert accepted >= 0.9 * 500
    assert not [c for c in CONSTRUCTS if coverage[c] == 0]
    assert set(coverage) <= set(CONSTRUCTS)


def test_generated_specs_are_explored() -> None:
    rng = random.Random(2)
    verdicts: Counter[str] = Counter()
    for _ in range(15):
        text, _ = generate(rng)
        loaded = parse_text("gen.gil", text, SourceMap())
        result = check_spec(loaded, CheckOptions(max_states=500, timeout=2.0))
        verdicts[result.verdict] += 1
    assert verdicts["ok"] and sum(verdicts.values()) - verdicts["ok"], verdicts


def test_injected_errors_and_mutations_give_spec_errors_not_crashes() -> None:
    rng = random.Random(3)
    rejected = 0
    for i in range(50):
        text, used = generate(rng, fault=True)
        assert "fault" in used
        if i % 2:
            text = structural_mutation(rng, text)
        rejected += not front_end(text)
    assert rejected >= 15


def test_structural_mutation_moves_whole_blocks() -> None:
    lines = ["thread main {", "    lock m {", "        skip", "    }", "}"]
    assert blocks_of(lines) == [(0, 4), (1, 3)]
    text = "\n".join(lines)
    seen = {structural_mutation(random.Random(seed), text) for seed in range(40)}
    assert "thread main {\n}" in seen  # the lock block dropped
    assert len(seen) > 5


@pytest.mark.parametrize("fault", [False, True])
def test_generator_is_deterministic(fault: bool) -> None:
    assert generate(random.Random(7), fault) == generate(random.Random(7), fault)
    assert Gen(random.Random(7)).spec() == generate(random.Random(7))[0]
