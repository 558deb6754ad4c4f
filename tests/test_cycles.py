"""stuck and livelock from terminal SCCs: both graph backends agree; both sides of each verdict."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gilcheck.analysis.cycles import _networkx_terminal, sinks_if_all_reach_one, terminal_components
from gilcheck.explore.native import native_module
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, parse_text


@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[int], list[int], list[int]]:
    n = draw(st.integers(min_value=1, max_value=25))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))
    marks = draw(st.lists(st.integers(0, 1), min_size=len(pairs), max_size=len(pairs)))
    return n, [a for a, _ in pairs], [b for _, b in pairs], marks


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_networkx_and_compact_tarjan_agree(
    graph: tuple[int, list[int], list[int], list[int]],
) -> None:
    n, src, dst, marks = graph
    with_networkx = terminal_components(n, src, dst, marks)
    compact = terminal_components(n, src, dst, marks, edge_limit=-1)
    assert with_networkx == compact


@settings(max_examples=300, deadline=None)
@given(graphs(), st.booleans(), st.integers(0, 25))
def test_the_sink_shortcut_agrees_with_networkx(
    graph: tuple[int, list[int], list[int], list[int]], forward: bool, expanded: int
) -> None:
    n, src, dst, _ = graph
    if forward:  # mostly acyclic graphs, where the shortcut applies
        pairs = [(min(a, b), max(a, b)) for a, b in zip(src, dst, strict=True) if a != b]
    else:
        pairs = list(zip(src, dst, strict=True))
    # Only the first `expanded` states have their steps: the others are the frontier.
    expanded = min(expanded, n)
    pairs = sorted(p for p in pairs if p[0] < expanded)
    starts, targets = [], []
    for s in range(expanded):
        starts.append(len(targets))
        targets.extend(b for a, b in pairs if a == s)
    sinks = sinks_if_all_reach_one(n, starts, targets)
    terminal = _networkx_terminal(n, [a for a, _ in pairs], [b for _, b in pairs])
    cyclic = [g for g in terminal if any(a in g and b in g for a, b in pairs)]
    if sinks is not None:
        assert not cyclic
        assert sorted(sinks) == sorted(s for g in terminal for s in g)
        assert all(len(g) == 1 for g in terminal)
    if forward:  # every edge goes to a later state: one reverse sweep settles all
        assert sinks is not None
    # The C form (on the edge log's arrays) and the Python form (on lists) agree.
    for passes in (1, 64):
        python = sinks_if_all_reach_one(n, starts, targets, passes)
        compact = sinks_if_all_reach_one(n, array("I", starts), array("i", targets), passes)
        assert compact == python


def test_the_sink_shortcut_runs_in_c_on_the_edge_log() -> None:
    if native_module() is None:
        pytest.skip("no C extension")
    assert native_module().sinks_if_all_reach_one(
        3, array("I", [0, 1]), array("i", [1, 2]), 64
    ) == [2]


def verdict(text: str) -> str:
    return check_spec(parse_text("t.gil", text), CheckOptions()).verdict


def test_livelock_needs_a_terminal_cycle_without_progress() -> None:
    assert verdict("var x = 0\nthread main { loop { x = 1 - x } }") == "livelock"
    assert verdict("var x = 0\nthread main { loop { x = 1 - x\n progress } }") == "ok"


def test_a_spin_wait_another_thread_ends_is_not_a_livelock() -> None:
    assert verdict("var f = 0\nthread a { f = 1 }\nthread main { while f == 0 { skip } }") == "ok"


def test_stuck_needs_a_thread_blocked_in_every_state_while_others_run() -> None:
    spec = (
        "mutex m\nvar held = 0\nthread a { await held == 1\n acquire m }\n"
        "thread main { acquire m\n held = 1\n loop { progress } }"
    )
    assert verdict(spec) == "stuck"
    # once the program ends, a thread still blocked is not stuck (host rust)
    ended = (
        "mutex m\nvar held = 0\nthread a { await held == 1\n acquire m }\n"
        "thread main { acquire m\n held = 1 }"
    )
    assert verdict(ended) == "ok"


def test_stuck_report_names_the_thread_and_shows_the_cycle(tmp_path, cli) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "s.gil"
    spec.write_text(
        "channel c: unbounded\nthread w { let v = recv c }\nthread main { loop { progress } }\n"
    )
    result = cli("check", str(spec))
    assert result.code == 1
    assert "verdict: stuck" in result.stdout
    assert "w can never move again" in result.stdout
    assert "repeat this cycle for ever" in result.stdout
