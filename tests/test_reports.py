"""The final state of a deadlock tells the whole story of each wait, through the CLI: the
vars its condition reads, the channels and queues that hold something, who could end the
wait and why they do not, a cycle only when there is one, and a wait inside a model's helper
from the spec's own call site (tests/cases/reports; their golden reports pin the rest)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from conftest import ROOT, check_json, write_spec

from gilcheck.report.json_schema import result_schema

CASES = "tests/cases/reports"
MINI = ROOT / "tests" / "data" / "reports" / "mini.gil"


def _final(text: str) -> str:
    """The report from its final state on (its last line, with the timing, left out)."""
    start = text.index("Final state:") if "Final state:" in text else text.index("Stuck threads")
    return text[start:].rsplit("\n\n", 1)[0]


def _valid(report: dict) -> None:  # type: ignore[type-arg]
    jsonschema.Draft202012Validator(result_schema()).validate(report)


def test_the_value_a_waiting_condition_reads_is_shown(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/await_reads_var.gil").stdout)
    assert "  vars read by the waits: ready = 2" in final
    report = check_json(cli, f"{CASES}/await_reads_var.gil")
    assert report["watched"] == [{"name": "ready", "value": "2", "readers": ["main"]}]
    assert report["pending"] == []
    _valid(report)


def test_an_atomic_blocks_await_reads_the_element_it_names(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/atomic_await_array.gil").stdout)
    assert "  vars read by the waits: flags[1] = 2" in final


def test_a_queue_holding_items(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/event_only_waiter_sets.gil").stdout)
    assert "  channel jobs (queue): [1, 2]" in final
    report = check_json(cli, f"{CASES}/event_only_waiter_sets.gil")
    assert report["pending"] == [
        {
            "name": "channel jobs",
            "kind": "queue",
            "items": ["1", "2"],
            "text": "channel jobs (queue): [1, 2]",
        }
    ]
    _valid(report)


def test_the_tasks_queued_on_a_pool(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/pool_tasks_behind_tasks.gil").stdout)
    assert "  pool p: 2 tasks queued: inner() (future #3), inner() (future #4)" in final
    report = check_json(cli, f"{CASES}/pool_tasks_behind_tasks.gil")
    assert report["pending"] == [
        {
            "name": "pool p",
            "kind": "pool",
            "items": ["inner() (future #3)", "inner() (future #4)"],
            "text": "pool p: 2 tasks queued: inner() (future #3), inner() (future #4)",
        }
    ]


def test_the_tasks_ready_to_run_on_an_event_loop(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/loop_result_on_own_loop.gil").stdout)
    assert "  event loop lp: 1 task ready to run: inner(1) (future #2)" in final
    blocked = _final(cli("check", "specs/v12/loops/blocking_call_buggy.gil").stdout)
    assert "event loop lp: 1 task ready to run: lp.task#1 (holder, back from `suspend`)" in blocked


def test_a_rendezvous_offer_is_shown_as_offered(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", "tests/cases/scenarios/31_ring_rendezvous_buggy.gil").stdout)
    assert "  channel c[1] (rendezvous, offered): [0]" in final


def test_stuck_threads_show_what_their_conditions_read(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec(
        tmp_path,
        "expect stuck\nvar x = 0\n"
        "thread main {\n    loop {\n        progress\n    }\n}\n"
        "thread w {\n    await x == 1\n}\n",
    )
    result = cli("check", spec)
    assert result.code == 1
    final = _final(result.stdout)
    assert final.startswith("Stuck threads:") and "  vars read by the waits: x = 0" in final


def test_a_cached_result_shows_the_same_final_state(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The proof cache renders a result from its JSON: the vars and queues come back."""
    spec = tmp_path / "s.gil"
    spec.write_text(
        "expect deadlock\nchannel q: unbounded\nvar ready = 0\n"
        "thread main {\n    send q, 1\n    await ready == 1\n}\n"
    )
    cache = tmp_path / "cache"
    first = cli("check", "--cache", str(cache), str(spec))
    again = cli("check", "--cache", str(cache), str(spec))
    assert "proof still valid" in again.stdout
    assert "  vars read by the waits: ready = 0\n  channel q (unbounded): [1]" in first.stdout
    assert _final(again.stdout) == _final(first.stdout)


def test_a_wait_inside_a_models_helper_is_shown_from_the_specs_call(cli) -> None:  # type: ignore[no-untyped-def]
    spec = f"{CASES}/model_helper_event_wait.gil"
    result = cli("check", spec)
    final = _final(result.stdout)
    assert "        at model_helper_event_wait.gil:10: call mini_event_wait(done)\n" in final
    assert f"          in mini_event_wait at {MINI}:6: wait e" in final
    trace = result.stdout[: result.stdout.index("Final state:")]
    # The call site is told at the thread's first step inside the helper.
    assert "python {   (in mini_event_wait, called at model_helper_event_wait.gil:10)" in trace
    assert trace.count("(in mini_event_wait, called at") == 1
    report = check_json(cli, spec)
    stack = report["waits"][0]["stack"]
    assert [s["function"] for s in stack] == ["main", "mini_event_wait"]
    assert stack[0]["location"] == f"{spec}:10" and stack[1]["location"] == f"{MINI}:6"
    assert stack[1]["where"]["file"] == str(MINI)
    calls = {s["via"]["function"]: s["via"]["location"] for s in report["steps"] if s["via"]}
    assert calls == {"mini_event_set_later": f"{spec}:9", "mini_event_wait": f"{spec}:10"}
    assert all(s["via"] is None for s in report["steps"] if s["location"].startswith(spec))
    _valid(report)


def test_a_lock_taken_twice_through_a_helper(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/model_helper_lock_twice.gil").stdout)
    assert "at model_helper_lock_twice.gil:9: call mini_lock_acquire(m)   (holds m)" in final
    assert f"in mini_lock_acquire at {MINI}:17: acquire m" in final
    assert final.endswith("Cycle: main waits for itself: it holds lock m")


def test_a_bundled_models_file_is_named_by_the_path_used(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", "tests/cases/models/cpython/event_deadlock.gil").stdout)
    model = ROOT / "models" / "cpython.gil"
    assert "at event_deadlock.gil:11: call cpython_event_wait(event0)" in final
    assert f"in cpython_event_wait at {model}:" in final


def test_a_cached_result_shows_the_same_call_stacks(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The proof cache renders a result from its JSON: stacks and call sites come back."""
    (tmp_path / "mini.gil").write_text(MINI.read_text())
    spec = tmp_path / "s.gil"
    spec.write_text(
        (ROOT / CASES / "model_helper_event_wait.gil")
        .read_text()
        .replace("../../data/reports/mini.gil", "mini.gil")
    )
    cache = tmp_path / "cache"
    first = cli("check", "--cache", str(cache), str(spec))
    again = cli("check", "--cache", str(cache), str(spec))
    assert "proof still valid" in again.stdout and "in mini_event_wait at" in first.stdout
    assert _final(again.stdout) == _final(first.stdout)
    assert first.stdout.split("Shortest trace", 1)[1].split("Final state")[0] in again.stdout


def test_pool_exhaustion_is_told_as_such_not_as_a_cycle(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("check", f"{CASES}/pool_tasks_behind_tasks.gil")
    assert result.code == 1
    final = _final(result.stdout)
    assert "Cycle:" not in final
    assert (
        "Pool exhausted: 2 tasks queued on pool p, every worker blocked (p.worker#1, p.worker#2)"
        in final
    )
    assert "  pool p: 2 tasks queued: inner() (future #3), inner() (future #4)" in final
    assert "its task inner cannot start: 2 tasks queued on pool p" in final
    report = check_json(cli, f"{CASES}/pool_tasks_behind_tasks.gil")
    assert report["cycle"] == []
    workers = [w for w in report["waits"] if w["thread"].startswith("p.worker")]
    assert {w["exhausted"] for w in workers} == {
        "2 tasks queued on pool p, every worker blocked (p.worker#1, p.worker#2)"
    }
    assert all(w["any_of"] and not w["itself"] for w in workers)
    assert report["pending"] == [
        {
            "name": "pool p",
            "kind": "pool",
            "items": ["inner() (future #3)", "inner() (future #4)"],
            "text": "pool p: 2 tasks queued: inner() (future #3), inner() (future #4)",
        }
    ]
    _valid(report)


def test_an_event_only_its_waiter_sets_and_a_queue_holding_items(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/event_only_waiter_sets.gil").stdout)
    assert (
        "which no other thread can set: the only thread that could set it is the waiter itself "
        "(at event_only_waiter_sets.gil:13: set e)" in final
    )
    assert "  channel jobs (queue): [1, 2]" in final
    assert "Cycle:" not in final
    report = check_json(cli, f"{CASES}/event_only_waiter_sets.gil")
    assert report["pending"][0]["name"] == "channel jobs"
    assert report["pending"][0]["kind"] == "queue" and report["pending"][0]["items"] == ["1", "2"]


def test_an_event_nobody_can_set_keeps_its_plain_wording(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec(tmp_path, "expect deadlock\nevent e\nthread main {\n    wait e\n}\n")
    final = _final(cli("check", spec).stdout)
    assert "main  waits for event e, which no running thread can set\n" in final


def test_the_only_setter_is_named_with_where_it_is_blocked(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/event_setter_blocked.gil").stdout)
    assert (
        "waits for event go to be set: only worker could set it (at event_setter_blocked.gil:15: "
        "set go), and it is blocked at event_setter_blocked.gil:14" in final
    )
    assert "Cycle: main -> worker -> main" in final


def test_no_only_when_another_thread_could_start_a_setter(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = write_spec(
        tmp_path,
        "expect deadlock\nevent e\nmutex m\n"
        "fn helper() {\n    set e\n}\n"
        "thread main {\n    acquire m\n    wait e\n}\n"
        "thread a {\n    acquire m\n    set e\n}\n"
        "thread b {\n    acquire m\n    spawn helper()\n}\n",
    )
    final = _final(cli("check", spec).stdout)
    assert (
        "waits for event e to be set: a could set it (at s.gil:13: set e), and it is blocked "
        "at s.gil:12" in final
    )
    assert "only" not in final.splitlines()[1]


def test_a_task_that_could_set_the_event_cannot_start(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/event_setter_queued.gil").stdout)
    assert (
        "task setter() could set it (at event_setter_queued.gil:8: set e), and it cannot start: "
        "1 task queued on pool p, every worker blocked (p.worker)" in final
    )
    assert "  pool p: 1 task queued: setter() (future #2)" in final


def test_a_queues_only_sender_and_a_semaphores_releasers(cli) -> None:  # type: ignore[no-untyped-def]
    queue = _final(cli("check", f"{CASES}/queue_sender_blocked.gil").stdout)
    assert (
        "waits on jobs, empty (a queue, which never closes): only producer could send on it "
        "(at queue_sender_blocked.gil:15: send jobs, 1), and it is blocked at "
        "queue_sender_blocked.gil:14" in queue
    )
    semaphore = _final(cli("check", f"{CASES}/semaphore_releaser_blocked.gil").stdout)
    assert "those that could release it: the waiter itself (at semaphore_releaser_blocked" in (
        semaphore
    )
    assert "Cycle: main -> worker -> main" in semaphore


def test_a_ring_of_rendezvous_sends_names_each_receiver_and_the_whole_cycle(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", "tests/cases/scenarios/31_ring_rendezvous_buggy.gil").stdout)
    assert "waits on c[1], a rendezvous channel, for a receiver: only worker[1] could" in final
    assert "Cycle: worker[0] -> worker[1] -> worker[2] -> worker[0]" in final
    assert "  channel c[1] (rendezvous, offered): [0]" in final


def test_a_thread_waiting_for_a_lock_it_holds_says_so(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", "tests/cases/scenarios/14_rlock_buggy.gil").stdout)
    assert final.endswith("Cycle: main waits for itself: it holds lock m")
    report = check_json(cli, "tests/cases/scenarios/14_rlock_buggy.gil")
    assert report["cycle"] == ["main", "main"]
    assert report["waits"][0]["itself"] == "it holds lock m"


def test_a_loop_task_waiting_for_a_task_of_its_own_loop(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/loop_result_on_own_loop.gil").stdout)
    assert "the loop's thread waits for a task only it can run" in final
    assert "  event loop lp: 1 task ready to run: inner(1) (future #2)" in final
    assert (
        "Cycle: lp.task#1 waits for itself: it holds event loop lp, the only loop that can run"
        in (final)
    )
    report = check_json(cli, f"{CASES}/loop_result_on_own_loop.gil")
    assert report["cycle"] == ["lp.task#1", "lp.task#1"]
    _valid(report)


def test_every_new_part_of_a_report_validates(cli) -> None:  # type: ignore[no-untyped-def]
    for name in ("atomic_await_array", "loop_result_on_own_loop", "model_helper_lock_twice"):
        report = json.loads(cli("check", "-f", "json", f"{CASES}/{name}.gil").stdout)
        _valid(report)


def test_a_barrier_waits_for_every_party_so_its_cycle_is_drawn(cli) -> None:  # type: ignore[no-untyped-def]
    final = _final(cli("check", f"{CASES}/barrier_all_parties.gil").stdout)
    assert final.endswith("Cycle: a -> main -> a")
