"""The model library (models/*.gil): every function used through the CLI, as a user runs it.

Each case under tests/cases/models/<model>/ is a small spec that uses model functions and
states its verdict with `expect`. CASES below says which functions each case is about; a
function that waits (for the GIL, a lock, a channel, a thread, ...) has a deadlocking use
and a safe use.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import CASES as CASE_ROOT
from conftest import ROOT, relative

MODELS = ROOT / "models"
MODEL_NAMES = ("pyo3", "tokio", "std", "cpython", "rayon")
MODEL_CASES = CASE_ROOT / "models"
EXIT_FOR = {"ok": 0, "bound": 3, "inconclusive": 3}
# The first PyO3 helpers predate the prefix rule; they keep their names.
UNPREFIXED = {"new_err", "err_to_string", "call_python", "recv_without_gil"}

# (case file under tests/cases/models, expected verdict, model functions it is about)
CASES: list[tuple[str, str, list[str]]] = [
    # pyo3
    ("pyo3/legacy_ok.gil", "ok", ["new_err", "err_to_string", "call_python", "recv_without_gil"]),
    ("pyo3/legacy_err_to_string_deadlock.gil", "deadlock", ["new_err", "err_to_string"]),
    ("pyo3/legacy_call_python_deadlock.gil", "deadlock", ["call_python"]),
    ("pyo3/legacy_recv_without_gil_deadlock.gil", "deadlock", ["recv_without_gil"]),
    ("pyo3/attach_deadlock.gil", "deadlock", ["pyo3_attach"]),
    ("pyo3/attach_ok.gil", "ok", ["pyo3_attach"]),
    ("pyo3/attach_recv_deadlock.gil", "deadlock", ["pyo3_attach_recv"]),
    ("pyo3/attach_recv_ok.gil", "ok", ["pyo3_attach_recv"]),
    ("pyo3/attach_send_deadlock.gil", "deadlock", ["pyo3_attach_send"]),
    ("pyo3/attach_send_ok.gil", "ok", ["pyo3_attach_send"]),
    ("pyo3/attach_join_deadlock.gil", "deadlock", ["pyo3_attach_join"]),
    ("pyo3/attach_join_ok.gil", "ok", ["pyo3_attach_join"]),
    ("pyo3/detach_recv_deadlock.gil", "deadlock", ["pyo3_detach_recv"]),
    ("pyo3/detach_recv_ok.gil", "ok", ["pyo3_detach_recv"]),
    ("pyo3/detach_send_deadlock.gil", "deadlock", ["pyo3_detach_send"]),
    ("pyo3/detach_send_ok.gil", "ok", ["pyo3_detach_send"]),
    ("pyo3/detach_join_deadlock.gil", "deadlock", ["pyo3_detach_join"]),
    ("pyo3/detach_join_ok.gil", "ok", ["pyo3_detach_join"]),
    ("pyo3/gil_once_cell_race_assertion.gil", "assertion", ["pyo3_gil_once_cell_get_or_init"]),
    (
        "pyo3/gil_once_cell_ok.gil",
        "ok",
        ["pyo3_gil_once_cell_get_or_init", "pyo3_gil_once_cell_get"],
    ),
    ("pyo3/gil_once_cell_deadlock.gil", "deadlock", ["pyo3_gil_once_cell_get_or_init"]),
    ("pyo3/gil_once_cell_get_deadlock.gil", "deadlock", ["pyo3_gil_once_cell_get"]),
    ("pyo3/drop_py_deferred_assertion.gil", "assertion", ["pyo3_drop_py"]),
    ("pyo3/drop_py_ok.gil", "ok", ["pyo3_drop_py", "pyo3_attach"]),
    ("pyo3/drop_py_attached_deadlock.gil", "deadlock", ["pyo3_drop_py_attached"]),
    ("pyo3/drop_py_attached_ok.gil", "ok", ["pyo3_drop_py_attached"]),
    ("pyo3/reference_pool_update_ok.gil", "ok", ["pyo3_reference_pool_update", "pyo3_drop_py"]),
    ("pyo3/import_deadlock.gil", "deadlock", ["pyo3_import", "cpython_import_begin"]),
    ("pyo3/import_ok.gil", "ok", ["pyo3_import"]),
    (
        "pyo3/future_into_py_ok.gil",
        "ok",
        ["pyo3_future_into_py_resolve", "pyo3_future_into_py_await"],
    ),
    ("pyo3/future_into_py_deadlock.gil", "deadlock", ["pyo3_future_into_py_resolve"]),
    # tokio
    (
        "tokio/channels_ok.gil",
        "ok",
        [
            "tokio_mpsc_channel",
            "tokio_mpsc_unbounded_channel",
            "tokio_oneshot_channel",
            "tokio_mpsc_send",
            "tokio_mpsc_try_recv",
            "tokio_oneshot_send",
            "tokio_oneshot_recv",
        ],
    ),
    ("tokio/mpsc_channel_zero_panic.gil", "panic", ["tokio_mpsc_channel"]),
    ("tokio/mpsc_send_deadlock.gil", "deadlock", ["tokio_mpsc_send"]),
    ("tokio/mpsc_send_ok.gil", "ok", ["tokio_mpsc_send"]),
    ("tokio/mpsc_blocking_send_deadlock.gil", "deadlock", ["tokio_mpsc_blocking_send"]),
    ("tokio/mpsc_blocking_send_ok.gil", "ok", ["tokio_mpsc_blocking_send"]),
    ("tokio/mpsc_recv_deadlock.gil", "deadlock", ["tokio_mpsc_recv"]),
    ("tokio/mpsc_recv_ok.gil", "ok", ["tokio_mpsc_recv"]),
    ("tokio/mpsc_blocking_recv_deadlock.gil", "deadlock", ["tokio_mpsc_blocking_recv"]),
    ("tokio/mpsc_blocking_recv_ok.gil", "ok", ["tokio_mpsc_blocking_recv"]),
    ("tokio/mpsc_try_recv_ok.gil", "ok", ["tokio_mpsc_try_recv"]),
    ("tokio/oneshot_recv_deadlock.gil", "deadlock", ["tokio_oneshot_recv"]),
    ("tokio/oneshot_recv_ok.gil", "ok", ["tokio_oneshot_recv", "tokio_oneshot_send"]),
    ("tokio/oneshot_send_ok.gil", "ok", ["tokio_oneshot_send"]),
    ("tokio/block_on_deadlock.gil", "deadlock", ["tokio_block_on"]),
    ("tokio/block_on_ok.gil", "ok", ["tokio_block_on"]),
    (
        "tokio/spawn_blocking_deadlock.gil",
        "deadlock",
        ["tokio_spawn_blocking_enter", "tokio_spawn_blocking_exit"],
    ),
    (
        "tokio/spawn_blocking_ok.gil",
        "ok",
        ["tokio_spawn_blocking_enter", "tokio_spawn_blocking_exit", "tokio_join"],
    ),
    ("tokio/join_deadlock.gil", "deadlock", ["tokio_join"]),
    ("tokio/join_ok.gil", "ok", ["tokio_join"]),
    (
        "tokio/rwlock_read_twice_deadlock.gil",
        "deadlock",
        ["tokio_rwlock_read", "tokio_rwlock_write", "tokio_rwlock_unlock", "tokio_join"],
    ),
    ("tokio/rwlock_read_ok.gil", "ok", ["tokio_rwlock_read", "tokio_rwlock_write"]),
    ("tokio/rwlock_write_deadlock.gil", "deadlock", ["tokio_rwlock_write", "tokio_rwlock_read"]),
    ("tokio/rwlock_write_ok.gil", "ok", ["tokio_rwlock_write", "tokio_rwlock_unlock"]),
    ("tokio/block_on_task_deadlock.gil", "deadlock", ["tokio_block_on_task"]),
    ("tokio/block_on_task_ok.gil", "ok", ["tokio_block_on_task"]),
    (
        "tokio/join_handle_await_ok.gil",
        "ok",
        ["tokio_join_handle_await", "tokio_block_on_task"],
    ),
    (
        "tokio/join_handle_await_deadlock.gil",
        "deadlock",
        ["tokio_join_handle_await", "tokio_block_on_task"],
    ),
    # rayon
    ("rayon/install_deadlock.gil", "deadlock", ["rayon_install"]),
    ("rayon/install_ok.gil", "ok", ["rayon_install"]),
    ("rayon/join_deadlock.gil", "deadlock", ["rayon_join"]),
    ("rayon/join_ok.gil", "ok", ["rayon_join"]),
    ("rayon/nested_steal_deadlock.gil", "deadlock", ["rayon_join"]),
    ("rayon/nested_steal_ok.gil", "ok", ["rayon_join"]),
    # std
    ("std/mutex_deadlock.gil", "deadlock", ["std_mutex_lock", "std_mutex_unlock"]),
    ("std/mutex_ok.gil", "ok", ["std_mutex_lock", "std_mutex_unlock"]),
    ("std/condvar_deadlock.gil", "deadlock", ["std_condvar_wait", "std_condvar_notify_one"]),
    ("std/condvar_ok.gil", "ok", ["std_condvar_wait", "std_condvar_notify_one"]),
    ("std/condvar_notify_all_ok.gil", "ok", ["std_condvar_notify_all", "std_condvar_wait"]),
    ("std/condvar_notify_one_deadlock.gil", "deadlock", ["std_condvar_notify_one"]),
    ("std/once_ok.gil", "ok", ["std_once_call_once"]),
    ("std/once_py_deadlock.gil", "deadlock", ["std_once_call_once_py"]),
    ("std/once_py_ok.gil", "ok", ["std_once_call_once_py"]),
    ("std/once_lock_ok.gil", "ok", ["std_once_lock_get_or_init", "std_once_lock_get"]),
    ("std/once_lock_py_deadlock.gil", "deadlock", ["std_once_lock_get_or_init_py"]),
    ("std/once_lock_py_ok.gil", "ok", ["std_once_lock_get_or_init_py", "std_once_lock_get"]),
    ("std/sync_channel_deadlock.gil", "deadlock", ["std_sync_channel", "std_send"]),
    ("std/sync_channel_ok.gil", "ok", ["std_sync_channel", "std_send", "std_recv"]),
    ("std/sync_channel_alone_deadlock.gil", "deadlock", ["std_sync_channel", "std_send"]),
    ("std/sync_channel_capacity_panic.gil", "panic", ["std_sync_channel"]),
    ("std/channel_ok.gil", "ok", ["std_channel", "std_send", "std_recv"]),
    ("std/recv_deadlock.gil", "deadlock", ["std_recv"]),
    ("std/recv_ok.gil", "ok", ["std_recv"]),
    ("std/thread_join_deadlock.gil", "deadlock", ["std_thread_join"]),
    ("std/thread_join_ok.gil", "ok", ["std_thread_join"]),
    (
        "std/rwlock_read_twice_deadlock.gil",
        "deadlock",
        ["std_rwlock_read", "std_rwlock_write", "std_rwlock_unlock"],
    ),
    ("std/rwlock_readers_ok.gil", "ok", ["std_rwlock_read", "std_rwlock_write"]),
    ("std/rwlock_write_deadlock.gil", "deadlock", ["std_rwlock_write", "std_rwlock_read"]),
    ("std/rwlock_write_ok.gil", "ok", ["std_rwlock_write", "std_rwlock_unlock"]),
    # cpython
    ("cpython/lock_deadlock.gil", "deadlock", ["cpython_lock_acquire", "cpython_lock_release"]),
    ("cpython/lock_ok.gil", "ok", ["cpython_lock_acquire", "cpython_lock_release"]),
    ("cpython/lock_release_misuse.gil", "misuse", ["cpython_lock_release"]),
    ("cpython/lock_gil_released_ok.gil", "ok", ["cpython_lock_acquire"]),
    ("cpython/rlock_ok.gil", "ok", ["cpython_rlock_acquire", "cpython_rlock_release"]),
    ("cpython/rlock_deadlock.gil", "deadlock", ["cpython_rlock_acquire", "cpython_rlock_release"]),
    (
        "cpython/condition_ok.gil",
        "ok",
        [
            "cpython_lock_acquire",
            "cpython_lock_release",
            "cpython_condition_wait",
            "cpython_condition_notify",
        ],
    ),
    (
        "cpython/condition_deadlock.gil",
        "deadlock",
        ["cpython_lock_acquire", "cpython_condition_wait", "cpython_condition_notify"],
    ),
    (
        "cpython/condition_notify_all_ok.gil",
        "ok",
        ["cpython_condition_notify_all", "cpython_condition_wait"],
    ),
    (
        "cpython/event_ok.gil",
        "ok",
        ["cpython_event_set", "cpython_event_wait", "cpython_event_clear"],
    ),
    (
        "cpython/event_deadlock.gil",
        "deadlock",
        ["cpython_event_set", "cpython_event_clear", "cpython_event_wait"],
    ),
    (
        "cpython/semaphore_deadlock.gil",
        "deadlock",
        ["cpython_semaphore_acquire"],
    ),
    (
        "cpython/semaphore_ok.gil",
        "ok",
        ["cpython_semaphore_acquire", "cpython_semaphore_release"],
    ),
    ("cpython/barrier_ok.gil", "ok", ["cpython_barrier_wait"]),
    ("cpython/barrier_deadlock.gil", "deadlock", ["cpython_barrier_wait"]),
    ("cpython/queue_deadlock.gil", "deadlock", ["cpython_queue_put", "cpython_queue_get"]),
    ("cpython/queue_ok.gil", "ok", ["cpython_queue_put", "cpython_queue_get"]),
    ("cpython/queue_get_nowait_ok.gil", "ok", ["cpython_queue_get_nowait"]),
    (
        "cpython/shared_queue_ok.gil",
        "ok",
        ["cpython_queue_put", "cpython_queue_get"],
    ),
    (
        "cpython/shared_queue_deadlock.gil",
        "deadlock",
        ["cpython_queue_put", "cpython_queue_get"],
    ),
    ("cpython/thread_join_deadlock.gil", "deadlock", ["cpython_thread_join"]),
    ("cpython/thread_join_ok.gil", "ok", ["cpython_thread_join"]),
    (
        "cpython/queue_task_join_ok.gil",
        "ok",
        ["cpython_queue_put_task", "cpython_queue_task_done", "cpython_queue_join"],
    ),
    (
        "cpython/queue_task_join_deadlock.gil",
        "deadlock",
        ["cpython_queue_put_task", "cpython_queue_task_done", "cpython_queue_join"],
    ),
    ("cpython/queue_task_done_panic.gil", "panic", ["cpython_queue_task_done"]),
    (
        "cpython/timeouts_ok.gil",
        "ok",
        [
            "cpython_lock_acquire_timeout",
            "cpython_lock_try_acquire",
            "cpython_condition_wait_timeout",
            "cpython_event_wait_timeout",
            "cpython_queue_get_timeout",
            "cpython_thread_join_timeout",
            "cpython_future_result_timeout",
        ],
    ),
    ("cpython/future_result_deadlock.gil", "deadlock", ["cpython_future_result"]),
    (
        "cpython/future_result_ok.gil",
        "ok",
        ["cpython_future_result", "cpython_future_set_result", "cpython_executor_shutdown"],
    ),
    ("cpython/executor_shutdown_deadlock.gil", "deadlock", ["cpython_executor_shutdown"]),
    ("cpython/executor_shutdown_ok.gil", "ok", ["cpython_executor_shutdown"]),
    ("cpython/asyncio_wrap_future_ok.gil", "ok", ["cpython_asyncio_wrap_future"]),
    ("cpython/asyncio_wrap_future_deadlock.gil", "deadlock", ["cpython_asyncio_wrap_future"]),
    ("cpython/asyncio_sleep_ok.gil", "ok", ["cpython_asyncio_sleep"]),
    ("cpython/asyncio_sleep_deadlock.gil", "deadlock", ["cpython_asyncio_sleep"]),
    (
        "cpython/asyncio_queue_ok.gil",
        "ok",
        ["cpython_asyncio_queue_put", "cpython_asyncio_queue_get"],
    ),
    (
        "cpython/asyncio_queue_deadlock.gil",
        "deadlock",
        ["cpython_asyncio_queue_put", "cpython_asyncio_queue_get"],
    ),
    (
        "cpython/mp_queue_join_deadlock.gil",
        "deadlock",
        ["cpython_mp_queue_put", "cpython_mp_queue_get", "cpython_mp_process_join"],
    ),
    (
        "cpython/mp_queue_join_ok.gil",
        "ok",
        ["cpython_mp_queue_put", "cpython_mp_queue_get", "cpython_mp_process_join"],
    ),
    (
        "cpython/import_deadlock.gil",
        "deadlock",
        ["cpython_import", "cpython_import_begin", "cpython_import_end"],
    ),
    (
        "cpython/import_ok.gil",
        "ok",
        ["cpython_import", "cpython_import_begin", "cpython_import_end"],
    ),
    (
        "cpython/finalize_deadlock.gil",
        "deadlock",
        ["cpython_finalize", "cpython_is_finalizing", "cpython_ensure_gil"],
    ),
    (
        "cpython/finalize_ok.gil",
        "ok",
        ["cpython_finalize", "cpython_is_finalizing", "cpython_ensure_gil"],
    ),
    ("cpython/logging_fork_deadlock.gil", "deadlock", ["cpython_logging_emit"]),
    (
        "cpython/logging_fork_ok.gil",
        "ok",
        [
            "cpython_logging_emit",
            "cpython_logging_configure",
            "cpython_fork_prepare",
            "cpython_fork_child",
            "cpython_fork_parent",
        ],
    ),
    ("cpython/logging_fork_configure_deadlock.gil", "deadlock", ["cpython_logging_configure"]),
    (
        "cpython/logging_fork_nested_ok.gil",
        "ok",
        [
            "cpython_fork_prepare",
            "cpython_fork_child",
            "cpython_fork_parent",
            "cpython_logging_emit",
        ],
    ),
    ("cpython/logging_fork_child_misuse.gil", "misuse", ["cpython_fork_child"]),
    (
        "cpython/fork_prepare_deadlock.gil",
        "deadlock",
        ["cpython_fork_prepare", "cpython_logging_configure"],
    ),
    (
        "cpython/fork_prepare_ok.gil",
        "ok",
        ["cpython_fork_prepare", "cpython_fork_child", "cpython_logging_configure"],
    ),
    (
        "cpython/logging_handler_deadlock.gil",
        "deadlock",
        [
            "cpython_logging_handler_acquire",
            "cpython_logging_handler_release",
            "cpython_logging_emit",
        ],
    ),
    (
        "cpython/logging_handler_ok.gil",
        "ok",
        [
            "cpython_logging_handler_acquire",
            "cpython_logging_handler_release",
            "cpython_logging_emit",
        ],
    ),
    (
        "cpython/logging_shutdown_deadlock.gil",
        "deadlock",
        ["cpython_logging_shutdown", "cpython_logging_handler_acquire"],
    ),
    (
        "cpython/logging_shutdown_ok.gil",
        "ok",
        [
            "cpython_logging_shutdown",
            "cpython_logging_handler_acquire",
            "cpython_logging_handler_release",
        ],
    ),
]

# Model functions that can wait (for the GIL, a lock, a channel, a thread, a once, ...)
# in a way a spec can turn into a deadlock: each has a deadlocking and a safe use above.
BLOCKING = {
    "err_to_string",
    "call_python",
    "recv_without_gil",
    "pyo3_attach",
    "pyo3_attach_recv",
    "pyo3_attach_send",
    "pyo3_attach_join",
    "pyo3_detach_recv",
    "pyo3_detach_send",
    "pyo3_detach_join",
    "pyo3_gil_once_cell_get_or_init",
    "pyo3_gil_once_cell_get",
    "pyo3_drop_py_attached",
    "pyo3_import",
    "pyo3_future_into_py_resolve",
    "tokio_mpsc_send",
    "tokio_mpsc_blocking_send",
    "tokio_mpsc_recv",
    "tokio_mpsc_blocking_recv",
    "tokio_oneshot_recv",
    "tokio_block_on",
    "rayon_install",
    "rayon_join",
    "tokio_block_on_task",
    "tokio_join_handle_await",
    "tokio_spawn_blocking_enter",
    "tokio_join",
    "tokio_rwlock_read",
    "tokio_rwlock_write",
    "std_mutex_lock",
    "std_condvar_wait",
    "std_once_call_once_py",
    "std_once_lock_get_or_init_py",
    "std_send",
    "std_recv",
    "std_thread_join",
    "std_rwlock_read",
    "std_rwlock_write",
    "cpython_lock_acquire",
    "cpython_rlock_acquire",
    "cpython_condition_wait",
    "cpython_event_wait",
    "cpython_semaphore_acquire",
    "cpython_barrier_wait",
    "cpython_queue_put",
    "cpython_queue_get",
    "cpython_queue_put_task",
    "cpython_queue_join",
    "cpython_future_result",
    "cpython_executor_shutdown",
    "cpython_asyncio_wrap_future",
    "cpython_asyncio_queue_put",
    "cpython_asyncio_queue_get",
    "cpython_mp_queue_put",
    "cpython_mp_queue_get",
    "cpython_mp_process_join",
    "cpython_thread_join",
    "cpython_import",
    "cpython_import_begin",
    "cpython_ensure_gil",
    "cpython_finalize",
    "cpython_logging_emit",
    "cpython_logging_handler_acquire",
    "cpython_logging_configure",
    "cpython_logging_shutdown",
    "cpython_fork_prepare",
}

FN_DECL = re.compile(r"^fn\s+([A-Za-z_]\w*)\s*\(", re.M)
GLOBAL_DECL = re.compile(
    r"^(?:const|var|mutex|rlock|condvar|once|event|semaphore|barrier|rwlock|channel|pool|latch)"
    r"\s+([A-Za-z_]\w*)",
    re.M,
)


def model_functions(name: str) -> list[str]:
    """The functions a model offers; `<model>__name` ones are its own (not for specs)."""
    found = FN_DECL.findall((MODELS / f"{name}.gil").read_text())
    return [f for f in found if not f.startswith(f"{name}__")]


ALL_FUNCTIONS = {f: m for m in MODEL_NAMES for f in model_functions(m)}


def used_functions(text: str) -> set[str]:
    return set(re.findall(r"\b(?:call|spawn(?:\s+daemon)?)\s+([A-Za-z_]\w*)\s*\(", text))


def check_json(cli, path: str):  # type: ignore[no-untyped-def]
    result = cli("check", "--format", "json", path)
    assert result.stdout, result.stderr
    return result, json.loads(result.stdout)


@pytest.mark.parametrize(("case", "verdict", "functions"), CASES, ids=[c[0] for c in CASES])
def test_model_case_gives_its_verdict(case: str, verdict: str, functions: list[str], cli) -> None:  # type: ignore[no-untyped-def]
    path = MODEL_CASES / case
    text = path.read_text()
    stated = re.search(r"^\s*expect\s+([a-z]+)", text, re.M)
    assert stated is not None and stated.group(1) == verdict, f"{case}: `expect` differs"
    missing = set(functions) - used_functions(text)
    assert not missing, f"{case} does not call {sorted(missing)}"
    unknown = set(functions) - set(ALL_FUNCTIONS)
    assert not unknown, f"{case} lists functions no model defines: {sorted(unknown)}"
    result, report = check_json(cli, relative(path))
    assert report["verdict"] == verdict, report["message"]
    assert report["matches"] is True
    assert result.code == EXIT_FOR.get(verdict, 1)


def test_every_case_file_is_listed() -> None:
    on_disk = {str(p.relative_to(MODEL_CASES)) for p in MODEL_CASES.rglob("*.gil")}
    listed = [c[0] for c in CASES]
    assert len(listed) == len(set(listed)), "a case is listed twice"
    assert on_disk == set(listed)


def test_no_case_file_shadows_a_model() -> None:
    # `use "x"` looks for x.gil (then a file named x) next to the spec first: a case file
    # named like a model would shadow it. (Folders named like a model do not.)
    files = [p for p in MODEL_CASES.rglob("*") if p.is_file()]
    names = {p.stem for p in files} | {p.name for p in files}
    assert not names & set(MODEL_NAMES)


def test_every_model_function_has_a_case() -> None:
    covered = {f for _, _, functions in CASES for f in functions}
    assert set(ALL_FUNCTIONS) - covered == set()


def test_blocking_functions_have_a_deadlocking_and_a_safe_use() -> None:
    assert set(ALL_FUNCTIONS) >= BLOCKING
    for function in sorted(BLOCKING):
        verdicts = {v for _, v, functions in CASES if function in functions}
        assert {"deadlock", "ok"} <= verdicts, f"{function}: {sorted(verdicts)}"


def test_function_names_are_unique_across_models() -> None:
    seen: dict[str, str] = {}
    for model in MODEL_NAMES:
        for function in model_functions(model):
            assert function not in seen, f"{function} in {seen.get(function)} and {model}"
            seen[function] = model


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_model_names_carry_the_model_prefix(model: str) -> None:
    text = (MODELS / f"{model}.gil").read_text()
    for name in FN_DECL.findall(text) + GLOBAL_DECL.findall(text):
        if model == "pyo3" and name in UNPREFIXED:
            continue
        assert name.lower().startswith(model + "_"), f"{model}.gil: `{name}` is not prefixed"


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_every_model_function_is_commented_and_documented(model: str) -> None:
    lines = (MODELS / f"{model}.gil").read_text().splitlines()
    docs = (ROOT / "docs" / "models.md").read_text()
    for number, line in enumerate(lines):
        match = FN_DECL.match(line)
        if match is None or match.group(1).startswith(f"{model}__"):
            continue
        assert number > 0 and lines[number - 1].startswith("#"), f"`{match.group(1)}` comment"
        assert f"`{match.group(1)}(" in docs, f"`{match.group(1)}` is not in docs/models.md"


@pytest.mark.parametrize("model", MODEL_NAMES)
def test_model_parses_and_checks_on_its_own(model: str, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gilcheck.pipeline import parse_spec

    loaded = parse_spec(str(MODELS / f"{model}.gil"))  # syntax of the model and its uses
    assert loaded.modules
    spec = tmp_path / "alone.gil"
    spec.write_text(f'use "{model}"\nexpect ok\nthread main {{\n    skip\n}}\n')
    parsed = cli("parse", str(spec))
    assert parsed.code == 0, parsed.stderr
    result, report = check_json(cli, str(spec))
    assert report["verdict"] == "ok", report["message"]
    assert result.code == 0


def test_all_four_models_together(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "together.gil"
    spec.write_text(
        "\n".join(
            [
                'use "pyo3"',
                'use "tokio"',
                'use "std"',
                'use "cpython"',
                'use "rayon"',
                "expect ok",
                "host python",
                "thread main {",
                "    let (tx, rx) = oneshot()",
                "    let h = spawn task(tx)",
                "    let out = none",
                "    with_gil {",
                "        allow_threads {",
                "            out = call tokio_block_on(rx)",
                "        }",
                "    }",
                "    assert out == 1",
                "    call std_thread_join(h)",
                "    let sm = mutex()",
                "    call std_mutex_lock(sm)",
                "    call std_mutex_unlock(sm)",
                "    call cpython_import()",
                "    call pyo3_import()",
                "}",
                "fn task(tx) {",
                "    call pyo3_attach()",
                "    let m = mutex()",
                "    call cpython_lock_acquire(m)",
                "    call cpython_lock_release(m)",
                "    send tx, 1",
                "}",
                "",
            ]
        )
    )
    assert cli("parse", str(spec)).code == 0
    result, report = check_json(cli, str(spec))
    assert report["verdict"] == "ok", report["message"]
    assert result.code == 0


def test_a_spec_clashing_with_a_model_name_is_reported_in_the_spec(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "clash.gil"
    spec.write_text('use "pyo3"\nmutex cpython_import_lock\nthread main {\n    skip\n}\n')
    result = cli("parse", str(spec))
    assert result.code == 2
    assert "duplicate-definition" in result.stderr
    assert "clash.gil:2" in result.stderr


def test_use_resolves_from_the_bundled_models(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from gilcheck.syntax.load import bundled_model_dirs, resolve_use

    spec = tmp_path / "outside.gil"  # no models/ folder next to it or above it
    spec.write_text(
        'use "tokio"\nuse "pyo3"\nexpect deadlock\nthread main {\n'
        "    let (tx, rx) = oneshot()\n    spawn task(tx)\n    with_gil {\n"
        "        let out = call tokio_block_on(rx)\n    }\n}\n"
        "fn task(tx) {\n    call pyo3_attach()\n    send tx, 1\n}\n"
    )
    bundled = [d.resolve() for d in bundled_model_dirs()]
    for model in ("tokio", "pyo3", "cpython"):  # pyo3 itself uses "cpython"
        found = resolve_use(spec, model)
        assert found is not None and found.parent in bundled, (model, found)
    result, report = check_json(cli, str(spec))
    assert report["verdict"] == "deadlock", report["message"]
    assert report["matches"] is True
    assert result.code == 1


def test_docs_examples_give_their_verdicts(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    docs = (ROOT / "docs" / "models.md").read_text()
    blocks = [b for b in re.findall(r"```\n(.*?)```", docs, re.S) if "thread main" in b]
    assert len(blocks) == len(MODEL_NAMES)
    for number, block in enumerate(blocks):
        spec = tmp_path / f"example_{number}.gil"
        spec.write_text(block)
        _, report = check_json(cli, str(spec))
        assert report["matches"] is True, (block, report["message"])


def test_a_slot_number_given_to_a_helper_is_a_misuse_that_says_how_to_pass_the_object(
    cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Older models took slot numbers; a parameter's kind shows only at run time, so the
    # number is a misuse (LANGUAGE.md, v1.2 run-time objects) whose message says what to do.
    spec = tmp_path / "slot.gil"
    spec.write_text('use "cpython"\nthread main {\n    call cpython_lock_acquire(0)\n}\n')
    _result, report = check_json(cli, str(spec))
    assert report["verdict"] == "misuse"
    assert (
        "`m` is 0 (a number, not an object: make one, e.g. `let m = mutex()`" in report["message"]
    )


def test_a_retired_helper_names_its_replacement(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "retired.gil"
    spec.write_text('use "cpython"\nthread main {\n    call cpython_semaphore_init(0, 2)\n}\n')
    result = cli("check", str(spec))
    assert result.code == 2
    assert "`cpython_semaphore_init` is no longer in the models" in result.stderr
    assert "let s = semaphore(2)" in result.stderr
