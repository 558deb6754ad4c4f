"""Every search strategy through the pipeline: the same verdicts as the breadth-first search
where it explores everything, never a pass where it does not, and traces that replay."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import ROOT

from gilcheck.analysis.retrace import retrace
from gilcheck.explore.bfs import explore
from gilcheck.explore.symmetric import reduced_system
from gilcheck.options import STRATEGY_NAMES, CheckOptions, StrategyName
from gilcheck.pipeline import analyze_spec, check_spec, parse_spec
from gilcheck.report.proof import cache_key, identity, settings
from gilcheck.trace.model import CheckResult

# Small bundled specs of every verdict the searches give (deadlock, assertion, misuse,
# stuck, livelock, ok), with symmetry, unknown values, forks, `gil off` and interrupts.
SAMPLE = [
    "specs/seed/buggy.gil",
    "specs/seed/fixed.gil",
    "specs/seed/fixed_published.gil",
    "specs/seed/no_gil.gil",
    "specs/free_threaded/gil_as_lock_buggy.gil",
    "specs/free_threaded/pause_native_blocked_buggy.gil",
    "specs/primitives/barrier_buggy.gil",
    "specs/primitives/condvar_lost_notify_buggy.gil",
    "specs/primitives/event_buggy.gil",
    "specs/primitives/once_gil_buggy.gil",
    "specs/primitives/semaphore_gil_buggy.gil",
    "specs/progress/polite_spin_buggy.gil",
    "specs/progress/stuck_worker_buggy.gil",
    "specs/realworld/rc_cpython_logging_fork_buggy.gil",
    "specs/realworld/rc_redis_pubsub_exit_join_buggy.gil",
    "specs/realworld/rc_redis_pubsub_exit_join_fixed.gil",
    "specs/realworld/rc_sabnzbd_signal_halt_lock_buggy.gil",
    "specs/realworld/rc_sabnzbd_signal_halt_lock_fixed.gil",
    "specs/realworld/rw_granian_condvar_shutdown_fixed.gil",
    "specs/realworld/rw_tokenizers_fork_rayon_fixed.gil",
    "specs/semantics/double_release_buggy.gil",
    "specs/semantics/finalization_buggy.gil",
    "specs/semantics/lost_update_buggy.gil",
    "specs/semantics/lost_update_fixed.gil",
    "specs/semantics/rlock_reentry_fixed.gil",
    "specs/symbolic/batch_size_buggy.gil",
    "specs/symbolic/hash_bucket_fixed.gil",
    "specs/symmetric/own_lock_twice_buggy.gil",
    "specs/symmetric/result_slots_fixed.gil",
    "specs/symmetric/spawned_pool_buggy.gil",
]
BUGGY = "specs/seed/buggy.gil"
# Verdicts that say the program is right or wrong; the others say a search saw too little.
CONCLUSIVE = {"ok", "deadlock", "stuck", "livelock", "assertion", "panic", "misuse"}


def _check(spec: str, **options: object) -> CheckResult:
    return check_spec(parse_spec(str(ROOT / spec)), CheckOptions(**options))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def by_bfs() -> dict[str, CheckResult]:
    return {spec: _check(spec) for spec in SAMPLE}


@pytest.mark.parametrize("spec", SAMPLE)
@pytest.mark.parametrize("strategy", ["dfs", "parallel"], ids=["dfs", "parallel"])
def test_an_exhaustive_strategy_gives_the_breadth_first_verdict(
    spec: str, strategy: StrategyName, by_bfs: dict[str, CheckResult]
) -> None:
    # The Ray backend: tests/test_ray.py (Ray takes about 5 s to start).
    options: dict[str, object] = {"strategy": strategy}
    if strategy == "parallel":
        options["workers"] = 2
    result = _check(spec, **options)
    expected = by_bfs[spec]
    assert result.verdict == expected.verdict
    assert result.verdict in CONCLUSIVE
    if expected.verdict == "ok":  # the whole space, whatever the order
        assert result.stats.states == expected.stats.states
        assert result.stats.exhaustive
    if strategy == "dfs" and result.trace is not None and expected.trace is not None:
        # Its counterexample is real but need not be shortest.
        assert len(result.trace.steps) >= len(expected.trace.steps) or result.verdict in (
            "stuck",
            "livelock",
        )


@pytest.mark.parametrize("spec", SAMPLE)
def test_random_walks_find_only_real_violations_and_never_pass(
    spec: str, by_bfs: dict[str, CheckResult]
) -> None:
    result = _check(spec, strategy="random", walks=20)
    assert result.verdict != "ok"
    assert not result.stats.exhaustive
    if result.verdict in CONCLUSIVE:
        assert result.verdict == by_bfs[spec].verdict
    else:
        assert result.verdict == "inconclusive"


def test_dfs_within_a_small_depth_bound_is_inconclusive_not_a_pass() -> None:
    spec = "specs/realworld/rc_sentry_queue_gc_buggy.gil"
    program = analyze_spec(parse_spec(str(ROOT / spec)))
    options = CheckOptions()
    found = explore(reduced_system(program, options)[2], options)
    shortest = len(found.store.path_to(found.deadlock))
    assert shortest > 3  # the deadlock lies deeper than the bound
    result = _check(spec, strategy="dfs", max_depth=3)
    assert result.verdict == "inconclusive"
    assert result.limit == "the depth bound of 3 steps"
    assert not result.stats.exhaustive
    assert "not fully explored" in result.message


def test_dfs_within_a_bound_the_whole_space_fits_in_is_conclusive() -> None:
    assert _check("specs/seed/fixed.gil", strategy="dfs", max_depth=1000).verdict == "ok"


def test_dfs_finds_the_seed_deadlock_with_a_trace_that_replays() -> None:
    loaded = parse_spec(str(ROOT / BUGGY))
    options = CheckOptions(strategy="dfs")
    result = check_spec(loaded, options)
    assert result.verdict == "deadlock"
    assert result.trace is not None and result.trace.steps
    program = analyze_spec(parse_spec(str(ROOT / BUGGY), loaded.sources))
    done = retrace(
        program,
        loaded.sources,
        options,
        result.trace.steps,
        result.verdict,
        result.trace.loop_from,
    )
    assert done.applies, done.message


def test_random_walks_are_reproducible_by_seed() -> None:
    spec = "specs/semantics/lost_update_buggy.gil"
    first = _check(spec, strategy="random", seed=7, walks=50)
    again = _check(spec, strategy="random", seed=7, walks=50)
    assert first.verdict == again.verdict == "assertion"
    assert first.trace == again.trace
    assert first.stats.states == again.stats.states
    others = {
        (r.trace, r.stats.states)
        for r in (_check(spec, strategy="random", seed=s, walks=50) for s in range(6))
    }
    assert len(others) > 1  # the seed chooses the walks


def test_random_walks_that_meet_no_violation_say_so() -> None:
    result = _check("specs/seed/fixed.gil", strategy="random", walks=5, seed=1)
    assert result.verdict == "inconclusive"
    assert result.limit == "the end of 5 random walks of up to 1,000 steps (seed 1)"


def test_proof_records_name_the_strategy_and_are_not_shared_between_strategies() -> None:
    who = identity("spec.gil", {"spec.gil": "thread main { }\n"})
    keys = set()
    for name in STRATEGY_NAMES:
        options = CheckOptions(strategy=name)
        assert settings(options)["strategy"] == name
        keys.add(cache_key(who, options))
    assert len(keys) == len(STRATEGY_NAMES)
    # The older options still choose the parallel and Ray searches.
    assert settings(CheckOptions(workers=4))["strategy"] == "parallel"
    assert settings(CheckOptions(backend="ray"))["strategy"] == "ray"
    assert settings(CheckOptions(workers=4, strategy="dfs"))["strategy"] == "dfs"


def test_the_strategy_table_names_each_strategy_by_its_own_name() -> None:
    from gilcheck.explore.strategies import check_table

    check_table()


def test_an_unknown_strategy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown search strategy"):
        dataclasses.replace(CheckOptions(), strategy="sideways")  # type: ignore[arg-type]


# Through the CLI, as a user runs it.


def test_cli_dfs_finds_the_seed_deadlock_with_a_trace_that_replays(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json

    text = cli("check", "--strategy", "dfs", "specs/seed/buggy.gil")
    assert text.code == 1
    assert "found by depth-first search" in text.stdout
    assert "Shortest trace" not in text.stdout and "\nTrace (" in text.stdout
    report = cli("check", "--strategy", "dfs", "--format", "json", "specs/seed/buggy.gil")
    assert json.loads(report.stdout)["proof"]["settings"]["strategy"] == "dfs"
    saved = tmp_path / "trace.json"
    saved.write_text(report.stdout)
    assert cli("replay", str(saved)).code == 0


def test_cli_dfs_at_its_depth_bound_is_inconclusive(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--strategy", "dfs", "--max-depth", "3", "specs/seed/buggy.gil")
    assert result.code == 3
    assert "depth bound of 3 steps" in result.stdout and "NOT exhaustive" in result.stdout
    fixed = cli("check", "--strategy", "dfs", "--max-depth", "3", "specs/seed/fixed.gil")
    assert fixed.code == 3  # never a pass from a partial search


def test_cli_dfs_without_a_bound_proves_a_fixed_spec(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--strategy", "dfs", "specs/seed/fixed.gil")
    assert result.code == 0 and "(exhaustive)" in result.stdout


def test_cli_random_walks_never_pass_and_repeat_by_seed(cli) -> None:  # type: ignore[no-untyped-def]
    fixed = cli("check", "--strategy", "random", "--walks", "5", "specs/seed/fixed.gil")
    assert fixed.code == 3 and "5 random walks" in fixed.stdout
    runs = [
        cli("check", "--strategy", "random", "--seed", "7", "specs/seed/buggy.gil")
        for _ in range(2)
    ]
    assert runs[0].code == 1 and "found by a random walk" in runs[0].stdout

    def steps(text: str) -> str:
        return text.split("Trace (")[1].split("\n\n")[0]

    assert steps(runs[0].stdout) == steps(runs[1].stdout)


def test_cli_refuses_an_unknown_strategy(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--strategy", "sideways", "specs/seed/fixed.gil")
    assert result.code == 2 and "sideways" in result.stderr


def test_cli_dfs_results_are_fresh_and_never_cached(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = tmp_path / "cache"
    specs = ("specs/seed/buggy.gil", "specs/seed/fixed.gil")
    for _ in range(2):
        result = cli("check", "-q", "--strategy", "dfs", "--cache", str(cache), *specs)
        assert result.code == 1
        assert "cached proof" not in result.stdout + result.stderr
    assert not list(cache.glob("*.json"))


def test_cli_dfs_on_unknown_values_says_it_searched_breadth_first(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "p.gil"
    spec.write_text(
        "expect ok\nparam n: int in 0..1000000\nvar x = 0\n"
        "thread main {\n    if n == 7 {\n        x = 1\n    }\n}\n"
    )
    result = cli("check", "--strategy", "dfs", "--max-depth", "1", str(spec))
    assert result.code == 0
    assert "searched breadth-first" in result.stdout
    assert "found by depth-first search" not in result.stdout


def test_cli_warns_of_strategy_options_the_strategy_ignores(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", "--max-depth", "3", "--seed", "2", "specs/seed/fixed.gil")
    assert result.code == 0
    assert "`--max-depth` applies to `--strategy dfs` and `--strategy random` only" in result.stderr
    assert "`--seed` applies to `--strategy random` only" in result.stderr
    quiet = cli("check", "--strategy", "random", "--seed", "2", "specs/seed/buggy.gil")
    assert "warning" not in quiet.stderr
