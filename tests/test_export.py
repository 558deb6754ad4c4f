"""`gilcheck export --format promela` through the CLI, and a slice of the differential
test against SPIN (the full run is `bench/differential --count 1000`)."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CASES, ROOT, relative
from hypothesis import HealthCheck, given, settings
from strategies import differential_specs, random_spec

from gilcheck.diagnostics import SpecError
from gilcheck.export.promela import export_promela
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, checkable_program, parse_text
from gilcheck.semantics import ir
from gilcheck.source import Span

pytestmark = pytest.mark.slow  # pytest -m 'not slow' leaves it out

sys.path.insert(0, str(ROOT / "bench"))

HAVE_SPIN = shutil.which("spin") is not None and shutil.which("gcc") is not None


def test_export_writes_a_promela_model(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", "specs/semantics/bounded_channel_buggy.gil")
    assert result.code == 0
    assert "proctype T_main(byte me; byte self_)" in result.stdout
    assert "init {" in result.stdout
    out = tmp_path / "model.pml"
    assert cli("export", "-o", str(out), "specs/semantics/lost_update_buggy.gil").code == 0
    assert "assert((v_hits == 2))" in out.read_text()


def test_export_refuses_what_it_cannot_translate_with_a_located_error(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("export", "tests/cases/not_exportable/recursive_call.gil")
    assert result.code == 2
    assert "error[not-exportable]" in result.stderr
    assert "tests/cases/not_exportable/recursive_call.gil:6:" in result.stderr
    assert "^" in result.stderr
    assert cli("explain", "not-exportable").code == 0


NOT_EXPORTABLE = sorted((CASES / "not_exportable").glob("*.gil"))


@pytest.mark.parametrize("path", NOT_EXPORTABLE, ids=[p.stem for p in NOT_EXPORTABLE])
def test_export_refusals_name_the_construct_as_the_spec_writes_it(path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # Each case says in a `# refused:` line what the message names (`any(0..100)`, not the
    # IR's `AnyInt`; `choose` inside `atomic`, not `Choose`; `rwlock table`, not `rwlock`).
    wanted = re.search(r"^# refused: (.*)$", path.read_text(), re.M)
    assert wanted, f"{path.name} has no `# refused:` line"
    result = cli("export", relative(path))
    assert result.code == 2
    assert result.stdout == ""
    messages = [m for m in result.stderr.splitlines() if m.startswith("error[not-exportable]")]
    message = messages[0]  # the construct the case is about comes first; what it makes follows
    assert wanted.group(1) in message
    assert all(
        m.endswith((" cannot be exported to Promela", " cannot be exported to Promela yet"))
        for m in messages
    )


def test_every_construct_the_export_refuses_is_listed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "several.gil"
    spec.write_text(
        "var name = 100000000\nmutex m\ncondvar cv\n"
        "thread main {\n    let v = any(0..100)\n    call helper()\n    python { lock m {\n"
        "        let w = wait cv, m timeout\n    } }\n    spawn process helper()\n}\n"
        "fn helper() {\n    skip\n}\neventloop lp\n"
    )
    result = cli("export", str(spec))
    assert result.code == 2
    located = re.findall(r"error\[not-exportable\]: (.*)\n +--> .*:(\d+):(\d+)", result.stderr)
    assert [(line, column) for _, line, column in located] == [
        ("1", "1"),
        ("5", "13"),
        ("8", "17"),
        ("10", "5"),
    ]
    assert "`any(0..100)`" in located[1][0] and "timed `wait` on a condvar" in located[2][0]
    assert "the spec has 4 errors" in result.stderr


def test_export_of_a_bad_spec_is_exit_2(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.gil"
    bad.write_text("thread main { aquire m }\n")
    assert cli("export", str(bad)).code == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs())
def test_every_generated_spec_checks_and_exports(text: str) -> None:
    loaded = parse_text("generated.gil", text)
    program = checkable_program(loaded)
    promela = export_promela(program)
    assert promela.count("proctype") >= 2


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(arrays=True))
def test_every_generated_spec_with_arrays_checks_and_exports(text: str) -> None:
    loaded = parse_text("generated.gil", text)
    promela = export_promela(checkable_program(loaded))
    assert "ch_ca_pending[2] = NO_ONE" in promela


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(calls=True))
def test_every_generated_spec_with_calls_checks_and_exports(text: str) -> None:
    loaded = parse_text("generated.gil", text)
    promela = export_promela(checkable_program(loaded))
    threads = text.split("fn f1")[0]  # f1 calls f2: inlined where f1 runs
    calls = "call f" in threads or "spawn f1" in threads
    assert ("c1_L0" in promela) == calls  # a function inlined at a call


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(values=True))
def test_every_generated_spec_with_python_values_checks_and_exports(text: str) -> None:
    loaded = parse_text("generated.gil", text)
    promela = export_promela(checkable_program(loaded))
    assert "#define IS_PY(v)" in promela


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", [7000])
def test_gilcheck_and_spin_agree_on_generated_specs_with_python_values(seed: int) -> None:
    from spindiff import compare

    outcome, text = compare(seed, values=True, calls=True)
    assert outcome.status == "agree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", [1, 3, 8, 21, 34, 55])
def test_gilcheck_and_spin_agree_on_generated_specs_with_local_steps(seed: int) -> None:
    # Statements over a thread's own locals in Python code are merged while it holds the
    # GIL; SPIN's model hands the GIL over before every one of them.
    from spindiff import compare

    outcome, text = compare(seed, local_steps=True)
    assert outcome.status == "agree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        # The worker holds the GIL while it waits for stdout's lock; main holds that lock
        # while it waits for the GIL to print the PyErr (the seed's second cycle).
        ("let r = recv c\n    print r", "deadlock"),
        ("let r = recv c\n    with_gil {\n        print r\n    }", "ok"),
        ('let r = recv c\n    assert not is_err(r), "an error"', "assertion"),
    ],
)
def test_spin_agrees_on_python_values(tmp_path: Path, body: str, verdict: str) -> None:
    from spindiff import run_spin

    text = (
        "host rust\nchannel c: bounded(1)\nthread main {\n    spawn worker()\n"
        f"    {body}\n}}\n"
        'fn worker() {\n    with_gil {\n        send c, err(pyerr("boom"))\n'
        '        print "after send"\n        print "and again"\n    }\n}\n'
    )
    loaded = parse_text("values.gil", text)
    result = check_spec(loaded, CheckOptions())
    assert result.verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions > 0, deadlocks > 0) == (
        verdict in ("panic", "assertion"),
        verdict == "deadlock",
    )


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(("inside", "verdict"), [("with_gil", "deadlock"), ("allow", "ok")])
def test_a_call_exported_through_the_cli_keeps_its_callers_gil(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, inside: str, verdict: str
) -> None:
    # `take` runs with the GIL when called inside `with_gil` (a deadlock with `other`, who
    # holds m and waits for the GIL), without it inside `allow_threads`.
    from spindiff import run_spin

    block = (
        "with_gil {\n        call take()\n    }"
        if inside == "with_gil"
        else "with_gil {\n        allow_threads {\n            call take()\n        }\n    }"
    )
    spec = tmp_path / "gil_call.gil"
    spec.write_text(
        "mutex m\nthread main {\n    spawn other()\n    "
        + block
        + "\n}\nfn take() {\n    lock m {\n        skip\n    }\n}\n"
        "fn other() {\n    lock m {\n        with_gil {\n            skip\n        }\n    }\n}\n"
    )
    assert cli("check", str(spec), "--no-expect").code == (1 if verdict == "deadlock" else 0)
    model = tmp_path / "model.pml"
    assert cli("export", str(spec), "-o", str(model)).code == 0
    assert "c1_L0" in model.read_text()
    _, deadlocks, _ = run_spin(model.read_text(), tmp_path)
    assert (deadlocks > 0) == (verdict == "deadlock")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(handles=True))
def test_every_generated_spec_with_handles_checks_and_exports(text: str) -> None:
    loaded = parse_text("generated.gil", text)
    promela = export_promela(checkable_program(loaded))
    assert "inline drop_hd()" in promela


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", [7010])
def test_gilcheck_and_spin_agree_on_generated_specs_with_handles(seed: int) -> None:
    from spindiff import compare_loaded

    text = random_spec(random.Random(seed), handles=True, values=seed % 2 == 0)
    outcome = compare_loaded(seed, parse_text("handles.gil", text), refused_is_error=True)
    assert outcome.status == "agree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("name", ["buggy", "fixed"])
def test_spin_agrees_on_the_seed_exported_through_the_cli(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, name: str
) -> None:
    # The seed's own mechanism: a oneshot sender sent over a channel made at run time, a
    # PyErr sent back and printed (stdout's lock, then the GIL), close-on-drop.
    from spindiff import run_spin

    spec = f"specs/seed/{name}.gil"
    checked = cli("check", spec, "-f", "json")
    verdict = json.loads(checked.stdout)["verdict"]
    model = tmp_path / "seed.pml"
    assert cli("export", spec, "-o", str(model)).code == 0
    assertions, deadlocks, _ = run_spin(model.read_text(), tmp_path)
    assert (assertions, deadlocks > 0) == (0, verdict == "deadlock")


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        ("spawn worker(tx)\n    send tx, 1", "misuse"),  # a moved sender used
        # t2 keeps the channel open while main waits for the reader
        ("let h = spawn reader(rx)\n    let t2 = clone tx\n    drop tx\n    join h", "deadlock"),
        ("let h = spawn reader(rx)\n    drop tx\n    join h", "ok"),
    ],
)
def test_spin_agrees_on_handle_ownership(tmp_path: Path, body: str, verdict: str) -> None:
    from spindiff import run_spin

    text = (
        "host python\nthread main {\n    let (tx, rx) = channel(1)\n"
        f"    {body}\n}}\n"
        "fn worker(t) {\n    send t, 1\n}\n"
        "fn reader(r) {\n    for v in r {\n        skip\n    }\n}\n"
    )
    loaded = parse_text("own.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions > 0, deadlocks > 0) == (verdict == "misuse", verdict == "deadlock")


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("host", "hooks", "verdict"),
    [
        # Python's atexit runs after the exit join: a worker waiting for it is a deadlock.
        ("python", ["send stop, 1"], "deadlock"),
        # Last declared first: `release` before `acquire` is a misuse.
        ("rust", ["acquire m", "release m"], "misuse"),
        ("rust", ["release m", "acquire m"], "ok"),
    ],
)
def test_spin_agrees_on_atexit_blocks(
    tmp_path: Path, host: str, hooks: list[str], verdict: str
) -> None:
    from spindiff import run_spin

    worker = "thread worker {\n    let v = recv stop\n}\n" if "stop" in hooks[0] else ""
    text = (
        f"host {host}\nmutex m\nchannel stop: bounded(1)\n{worker}"
        "thread main {\n    skip\n}\n" + "".join(f"atexit {{\n    {hook}\n}}\n" for hook in hooks)
    )
    loaded = parse_text("atexit.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions > 0, deadlocks > 0) == (verdict == "misuse", verdict == "deadlock")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(atexit=True))
def test_every_generated_spec_with_atexit_blocks_checks_and_exports(text: str) -> None:
    promela = export_promela(checkable_program(parse_text("generated.gil", text)))
    assert "h0_L0" in promela


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("wait", "verdict"),
    [
        # The holder keeps m for ever: an untimed acquire deadlocks, a timed one gives up.
        ("acquire m", "deadlock"),
        ("let got = acquire m timeout\n    assert not got", "ok"),
        ('let r = recv c timeout\n    assert r == err("timeout")', "ok"),
        # In Python code holding the GIL it gives the GIL up first, so the holder can end;
        # native code keeps the GIL while it waits, then times out and leaves.
        ("python {\n        let got = acquire m timeout\n    }", "ok"),
        ("with_gil {\n        acquire m\n    }", "deadlock"),
    ],
)
def test_spin_agrees_on_timed_waits(tmp_path: Path, wait: str, verdict: str) -> None:
    from spindiff import run_spin

    text = (
        "host rust\nmutex m\nevent e\nchannel c: bounded(1)\nchannel ready: bounded(1)\n"
        "thread main {\n    spawn holder()\n    let go = recv ready\n"
        f"    {wait}\n}}\n"
        "fn holder() {\n    acquire m\n    send ready, 1\n    with_gil {\n        skip\n"
        "    }\n}\n"
    )
    loaded = parse_text("timed.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions, deadlocks > 0) == (0, verdict == "deadlock")


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        # A waiting writer blocks new readers: main's second read waits for the writer,
        # who waits for main's first read.
        (
            "read l {\n        let go = recv ready\n        read l {\n            skip\n"
            "        }\n    }",
            "deadlock",
        ),
        ("read l {\n        let go = recv ready\n    }\n    read l {\n        skip\n    }", "ok"),
        ("let go = recv ready\n    wait done\n    countdown done", "misuse"),
    ],
)
def test_spin_agrees_on_rwlocks_latches_and_try_acquire(
    tmp_path: Path, body: str, verdict: str
) -> None:
    from spindiff import run_spin

    text = (
        "host rust\nrwlock l\nlatch done = 1\nmutex m\nchannel ready: rendezvous\n"
        f"thread main {{\n    spawn other()\n    {body}\n}}\n"
        "fn other() {\n    acquire m\n    countdown done\n    send ready, 1\n"
        "    write l {\n        skip\n    }\n}\n"
    )
    loaded = parse_text("rw.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions > 0, deadlocks > 0) == (verdict == "misuse", verdict == "deadlock")


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(objects=True))
def test_every_generated_spec_with_resources_as_values_exports(text: str) -> None:
    promela = export_promela(checkable_program(parse_text("generated.gil", text)))
    assert "byte o_rc[" in promela and "#define RO(v)" in promela


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(differential_specs(locks=True, timed=True))
def test_every_generated_spec_with_rwlocks_latches_and_timed_waits_exports(text: str) -> None:
    promela = export_promela(checkable_program(parse_text("generated.gil", text)))
    assert "o_rwl_rc" in promela


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        # PyEval_SaveThread / PyEval_RestoreThread around a blocking wait: the holder can
        # take the GIL while main waits.
        ("with_gil {\n        release_gil\n        acquire m\n        acquire_gil\n    }", "ok"),
        ("with_gil {\n        acquire_gil\n    }", "misuse"),  # not reentrant
        ("with_gil {\n        release_gil\n    }", "misuse"),  # the block ends without it
    ],
)
def test_spin_agrees_on_the_c_apis_thread_state_calls(
    tmp_path: Path, body: str, verdict: str
) -> None:
    from spindiff import run_spin

    text = (
        "host rust\nmutex m\nchannel ready: rendezvous\n"
        f"thread main {{\n    spawn holder()\n    let go = recv ready\n    {body}\n}}\n"
        "fn holder() {\n    lock m {\n        send ready, 1\n        with_gil {\n"
        "            skip\n        }\n    }\n}\n"
    )
    loaded = parse_text("gil_api.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions > 0, deadlocks > 0) == (verdict == "misuse", verdict == "deadlock")


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("wait", "verdict"),
    [("lock m {\n        await x == 2\n    }", "deadlock"), ("await x == 2", "ok")],
)
def test_spin_agrees_on_atomic_blocks_that_set_release_and_notify(
    tmp_path: Path, wait: str, verdict: str
) -> None:
    from spindiff import run_spin

    text = (
        "mutex m\nevent e\ncondvar cv\nvar x = 0\nthread main {\n    spawn w()\n"
        "    acquire m\n    atomic {\n        x = 1\n        set e\n        release m\n"
        f"        notify cv\n    }}\n    {wait}\n}}\n"
        "fn w() {\n    wait e\n    lock m {\n        x = 2\n    }\n}\n"
    )
    loaded = parse_text("atomic.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions, deadlocks > 0) == (0, verdict == "deadlock")


# Run-time objects: pools, futures, event loops, and resources made or passed as values.
EXECUTOR_CASES = [
    path
    for folder in (
        "export_pools",
        "export_loops",
        "export_objects",
        "export_processes",
        "export_condvar",
        "export_pinned",
    )
    for path in sorted((CASES / folder).glob("*.gil"))
]


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("path", EXECUTOR_CASES, ids=[p.stem for p in EXECUTOR_CASES])
def test_spin_agrees_on_pools_futures_and_loops_exported_through_the_cli(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, path: Path
) -> None:
    # Pools: workers started on demand, the exit hook's wait, shutdown's misuse, futures
    # reused once nothing refers to them, timed results, pools made at run time. Event
    # loops: a blocking statement blocks the loop, `suspend` gives it back, locks are the
    # loop thread's, ready order and any_order, suspend's misuses. Objects: a lock per
    # account in a var array (ABBA and ordered), a made mutex passed to a thread and a
    # function, a latch, a condvar and its mutex made at run time, a wrong kind reached
    # through a var, identity, a kind known only at run time, a waiter keeping the object
    # its var named. Processes: a grandchild joined by its parent's end, each process's own
    # copies of the globals, a daemon child terminated holding a shared lock, a channel
    # (array element) passed and shared, a declared channel passed to a thread, an rwlock
    # that cannot be pickled, pickling waiting for the GIL. Timed condvar waits: notified or
    # timed out, with an rlock, on a made condvar, two waiters, without the mutex. Pinned:
    # a statement picking a declared array's element by a shared var keeps the element it
    # started waiting on (locks, condvars, receives, rendezvous offers, `for`, timed).
    from spindiff import run_spin

    spec = relative(path)
    expected = re.search(r"^expect (\w+)", path.read_text(), re.M)
    assert expected
    # gilcheck's verdict is the `expect` line (tests/test_golden_reports.py checks it).
    verdict = expected.group(1)
    model = tmp_path / "executors.pml"
    assert cli("export", spec, "-o", str(model)).code == 0
    assertions, deadlocks, _ = run_spin(model.read_text(), tmp_path)
    safety = verdict in ("assertion", "panic", "misuse")
    assert (assertions > 0, deadlocks > 0) == (safety, verdict == "deadlock")


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
def test_a_made_objects_slot_is_reused_once_no_value_refers_to_it(tmp_path: Path) -> None:
    # An event per request for forty requests needs two slots.
    from spindiff import run_spin

    requests = (
        "channel req: unbounded\nthread server {\n    let n = 0\n    while n < 40 {\n"
        "        let done = recv req\n        set done\n        n = n + 1\n    }\n}\n"
        "thread main {\n    let i = 0\n    while i < 40 {\n        let done = event()\n"
        "        send req, done\n        wait done\n        i = i + 1\n    }\n}\n"
    )
    loaded = parse_text("requests.gil", requests)
    assert check_spec(loaded, CheckOptions()).verdict == "ok"
    assert run_spin(export_promela(checkable_program(loaded)), tmp_path)[:2] == (0, 0)


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("made", "limit"),
    [
        ("event()", "/* bound: more event objects alive than the export's 32 */"),
        ("future()", "/* bound: more futures alive than the export's"),
    ],
)
def test_more_objects_alive_than_the_export_provides_stop_at_the_exports_limit(
    tmp_path: Path, made: str, limit: str
) -> None:
    # Objects still referred to are never reused: past the export's slots the run stops
    # at an assertion marked `bound` (gilcheck stops at its object bound), never at a
    # wrong value; bench/differential counts it as unfinished, never as agreement.
    from spindiff import Unfinished, run_spin

    kept = (
        "var keep[40] = none\nthread main {\n    let i = 0\n    while i < 40 {\n"
        f"        keep[i] = {made}\n        i = i + 1\n    }}\n}}\n"
    )
    loaded = parse_text("kept.gil", kept)
    assert check_spec(loaded, CheckOptions()).verdict == "bound"
    promela = export_promela(checkable_program(loaded))
    assert limit in promela
    with pytest.raises(Unfinished, match="the export's limit"):
        run_spin(promela, tmp_path)


_FINAL_PAUSE = (
    "host python\ngil off\nmutex m\nfn holder() {{\n    {block} {{\n        acquire m\n    }}\n}}\n"
    "fn gc() {{\n    python {{\n        skip\n        skip\n    }}\n}}\n"
    "thread main {{\n    acquire m\n    spawn daemon holder()\n    spawn daemon gc()\n}}\n"
)
_PAUSE_GIL_API = (
    "gil off\nmutex m\nthread worker {{\n    with_gil {{\n        {release}\n        acquire m\n"
    "        {acquire}\n        release m\n    }}\n}}\nthread main {{\n    acquire m\n"
    "    python {{\n        let x = 1\n        let y = x + 1\n    }}\n    release m\n}}\n"
)

_FINAL_AFTER_DROP = (
    "host python\n{gil}mutex m\nfn holder() {{\n    with_gil {{\n        acquire m\n    }}\n}}\n"
    "fn d(rx) {{\n    let v = recv rx\n    {body}\n        acquire m\n    }}\n}}\n"
    "thread main {{\n    acquire m\n    let (tx, rx) = channel(unbounded)\n    {holder}\n"
    "    spawn daemon d(rx)\n}}\n"
)

REVIEWED = {
    # Four levels of ok/err do not fit a Promela int: refused where the text shows them.
    "nested": ("thread main {\n    let a = ok(ok(ok(ok(1))))\n}\n", "refused"),
    # A release_gil in a function and its acquire_gil after the call: refused, not wrong.
    "split": (
        "fn g() {\n    release_gil\n}\nthread main {\n    with_gil {\n        call g()\n"
        "        acquire_gil\n    }\n}\n",
        "refused",
    ),
    # Finalization and atexit go on with the GIL main took with acquire_gil.
    "final": ("host python\nthread main {\n    acquire_gil\n}\n", "ok"),
    "atexit": (
        "thread main {\n    acquire_gil\n}\natexit {\n    with_gil {\n        skip\n    }\n}\n",
        "ok",
    ),
    # A queue nobody holds is free again (a loop making one per turn).
    "queues": (
        "thread main {\n    let i = 0\n    while i < 3 {\n        let (tx, rx) = queue(0)\n"
        "        send tx, i\n        let v = recv rx\n        i = i + 1\n    }\n}\n",
        "ok",
    ),
    # Arithmetic on a string is a misuse.
    "kinds": ('thread main {\n    let a = "x"\n    let b = a + 1\n}\n', "misuse"),
    # unwrap moves the handle out of its operand.
    "unwrap": (
        "fn f(y) {\n    let z = unwrap y\n    return z\n}\nthread main {\n"
        "    let (tx, rx) = channel(unbounded)\n    let t = call f(ok(tx))\n    let v = recv rx\n}\n",
        "deadlock",
    ),
    # gil off: main's finalization waits for a daemon's stop-the-world pause, which waits
    # for a daemon attached and blocked in native code; detached (allow_threads), it is not
    # waited for.
    "final_pause": (_FINAL_PAUSE.format(block="with_gil"), "deadlock"),
    "final_detached": (_FINAL_PAUSE.format(block="allow_threads"), "ok"),
    # gil off: a pause waits for a thread attached and blocked on a lock the pausing thread
    # holds, unless it detaches with release_gil around the acquire.
    "pause_attached": (_PAUSE_GIL_API.format(release="skip", acquire="skip"), "deadlock"),
    "pause_released": (
        _PAUSE_GIL_API.format(release="release_gil", acquire="acquire_gil"),
        "ok",
    ),
    # host python: finalization is a step of its own; a daemon woken by main's end (its
    # sender dropped) takes the GIL first and blocks holding it (gil on), or starts a pause
    # that waits for a daemon attached and blocked (gil off).
    "final_gil_held": (
        _FINAL_AFTER_DROP.format(gil="", holder="skip", body="with_gil {"),
        "deadlock",
    ),
    "final_after_drop": (
        _FINAL_AFTER_DROP.format(
            gil="gil off\n", holder="spawn daemon holder()", body="python {\n        skip"
        ),
        "deadlock",
    ),
    # The pool is sized for thread arrays.
    "array": (
        "thread w[3] {\n    let (tx, rx) = channel(unbounded)\n    send tx, self\n"
        "    let v = recv rx\n}\nthread main {\n    skip\n}\n",
        "ok",
    ),
    # An `if` inside `atomic` jumps within the step.
    "atomic_if": (
        "var x = 0\nvar y = 0\nfn w() {\n    atomic {\n        if x == 0 {\n            x = 1\n"
        "        } else {\n            y = 1\n        }\n    }\n}\nthread main {\n"
        "    let h = spawn w()\n    atomic {\n        if x == 1 {\n            y = 3\n"
        "        } else {\n            x = 2\n        }\n    }\n    join h\n    assert y != 3\n}\n",
        "assertion",
    ),
}


# fork and interrupts, each buggy form with its fixed one (the verdict gilcheck gives).
FORKS_AND_INTERRUPTS = {
    # The child needs a lock a thread that does not exist in it may hold at the fork.
    "fork_lock_held": (
        "mutex m\nfn w() {\n    lock m {\n        skip\n    }\n}\n"
        "thread main {\n    spawn w()\n    fork {\n        lock m {\n            skip\n"
        "        }\n    }\n}\n",
        "deadlock",
    ),
    "fork_before_the_thread": (
        "mutex m\nfn w() {\n    lock m {\n        skip\n    }\n}\n"
        "thread main {\n    fork {\n        lock m {\n            skip\n        }\n    }\n"
        "    spawn w()\n}\n",
        "ok",
    ),
    # Joining a thread gone in the child: Python's threading returns, a native join waits.
    "fork_join_python": (
        "host python\nevent e\nfn w() {\n    wait e\n}\nthread main {\n"
        "    let h = spawn w()\n    fork {\n        join h\n    }\n    set e\n    join h\n}\n",
        "ok",
    ),
    "fork_join_rust": (
        "host rust\nevent e\nfn w() {\n    wait e\n}\nthread main {\n"
        "    let h = spawn w()\n    fork {\n        join h\n    }\n    set e\n    join h\n}\n",
        "deadlock",
    ),
    # A finalizer taking a mutex the thread it interrupts holds; with an rlock it may.
    "finalizer_mutex": (
        "host python\nmutex m\nfinalizer {\n    lock m {\n        skip\n    }\n}\n"
        "fn w() {\n    python {\n        lock m {\n            skip\n        }\n    }\n}\n"
        "thread main {\n    spawn w()\n}\n",
        "deadlock",
    ),
    "finalizer_rlock": (
        "host python\nrlock m\nfinalizer {\n    lock m {\n        skip\n    }\n}\n"
        "fn w() {\n    python {\n        lock m {\n            skip\n        }\n    }\n}\n"
        "thread main {\n    spawn w()\n}\n",
        "ok",
    ),
    # A signal handler runs on main only: a worker's Python code is never interrupted.
    "signal_on_a_worker": (
        "host python\nmutex m\nsignal {\n    lock m {\n        skip\n    }\n}\n"
        "fn w() {\n    python {\n        lock m {\n            skip\n        }\n    }\n}\n"
        "thread main {\n    spawn w()\n}\n",
        "ok",
    ),
    "signal_on_main_rust": (
        "host rust\nmutex m\nsignal {\n    lock m {\n        skip\n    }\n}\n"
        "thread main {\n    with_gil {\n        acquire m\n        python {\n"
        "            skip\n        }\n        release m\n    }\n}\n",
        "deadlock",
    ),
    # Each interrupt starts at most once, so one never nests in itself: the finalizer may
    # start inside the signal handler's Python code and the other way round, once each
    # (the export once made ever deeper copies of the two, without end).
    "interrupts_nest_once": (
        'host python\nvar x = 0\nfinalizer {\n    python {\n        assert x != 2, "x reached 2"\n'
        "    }\n}\nsignal {\n    python {\n        x = x + 1\n    }\n}\n"
        "thread main {\n    python {\n        x = 1\n    }\n}\n",
        "assertion",
    ),
    # An interrupt starts only where its thread can go on: not at an `atomic` that waits.
    "finalizer_where_it_can_go_on": (
        "host python\nvar x = 0\nfinalizer {\n    assert x == 1\n}\nfn w() {\n    x = 1\n}\n"
        "thread main {\n    spawn w()\n    python {\n        atomic {\n"
        "            await x == 1\n            x = 1\n        }\n    }\n}\n",
        "ok",
    ),
}


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", [7025])
def test_gilcheck_and_spin_agree_on_generated_specs_with_fork_and_interrupts(seed: int) -> None:
    from spindiff import compare_loaded

    text = random_spec(random.Random(seed), v11=True)
    assert "fork {" in text and "finalizer {" in text and "signal {" in text
    outcome = compare_loaded(seed, parse_text("v11.gil", text), refused_is_error=True)
    assert outcome.status == "agree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("name", FORKS_AND_INTERRUPTS)
def test_spin_agrees_on_forks_and_interrupts_exported_through_the_cli(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, name: str
) -> None:
    from spindiff import run_spin

    text, verdict = FORKS_AND_INTERRUPTS[name]
    spec = tmp_path / f"{name}.gil"
    spec.write_text(text)
    checked = cli("check", str(spec), "-f", "json")
    assert json.loads(checked.stdout)["verdict"] == verdict
    model = tmp_path / "model.pml"
    assert cli("export", str(spec), "-o", str(model)).code == 0
    assertions, deadlocks, _ = run_spin(model.read_text(), tmp_path)
    assert (assertions > 0, deadlocks > 0) == (verdict == "assertion", verdict == "deadlock")


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("name", REVIEWED)
def test_reviewed_cases_agree_with_spin_or_are_refused(tmp_path: Path, name: str) -> None:
    from spindiff import run_spin

    text, verdict = REVIEWED[name]
    loaded = parse_text(f"{name}.gil", text)
    program = checkable_program(loaded)
    if verdict == "refused":
        with pytest.raises(SpecError):
            export_promela(program)
        return
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(program), tmp_path)
    violation = verdict in ("misuse", "assertion")
    assert (assertions > 0, deadlocks > 0) == (violation, verdict == "deadlock")


def test_gil_off_exports_pauses_and_attachment() -> None:
    # gil off: attaching writes no `gil`; each step sets the thread's `busy` bit for the
    # label it goes to; Python code may start a pause and is parked while one is pending.
    text = _PAUSE_GIL_API.format(release="skip", acquire="skip")
    promela = export_promela(checkable_program(parse_text("p.gil", text)))
    assert "gil == NO_ONE ->  busy = busy | (1 << me); goto L1" in promela  # with_gil
    assert "busy = busy & ~(1 << me); goto L" in promela  # leaving it
    assert "gil == me && busy == 0 -> gil = NO_ONE; goto L3" in promela  # a pause ends
    assert "phase == 0 && waiting == 0 && (true) -> gil = me; goto L2" in promela  # starts
    assert "mode" not in promela.split("proctype T_main")[1].split("int l0")[1]


def test_strings_compared_as_values_are_distinct_in_promela() -> None:
    # "udf" and "to_ndarray" were both 0 once, so a comparison took the wrong branch.
    text = (
        'channel jobs: unbounded\nthread main {\n    send jobs, "a"\n    let j = recv jobs\n'
        '    assert j != "b"\n}\n'
    )
    promela = export_promela(checkable_program(parse_text("s.gil", text)))
    assert "16777216" in promela and "16777217" in promela  # "a" and "b", numbered


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", [7002, 7004])
def test_gilcheck_and_spin_agree_on_generated_specs_with_calls(seed: int) -> None:
    from spindiff import compare

    outcome, text = compare(seed, calls=True)
    assert outcome.status == "agree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", range(7000, 7003))
def test_gilcheck_and_spin_agree_on_generated_specs(seed: int) -> None:
    from spindiff import compare  # type: ignore[import-not-found]

    outcome, text = compare(seed)
    assert outcome.status != "disagree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", [7001, 7005])
def test_gilcheck_and_spin_agree_on_generated_specs_with_arrays(seed: int) -> None:
    from spindiff import compare

    outcome, text = compare(seed, arrays=True)
    assert outcome.status != "disagree", f"{outcome.note}\n{text}"


def test_run_time_indices_and_channel_arrays_are_exported(tmp_path: Path) -> None:
    spec = tmp_path / "arrays.gil"
    spec.write_text(
        "mutex forks[2]\nvar a[2] = 0\nchannel link[2]: bounded(1)\n"
        "thread main {\n    let i = a[0] + 1\n    lock forks[i] { send link[i], i }\n}\n"
    )
    promela = export_promela(checkable_program(parse_text(str(spec), spec.read_text())))
    assert "int ch_link[2]; byte ch_link_n[2]; bool ch_link_closed[2]" in promela
    assert (
        "!((0 <= l0 && l0 < 2)) -> assert(false); /* panic or misuse: an index out of range"
        in promela
    )
    assert "o_mut[l0] == NO_ONE" in promela
    assert "if :: ch_link_closed[l0] -> skip" in promela


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("body", "verdict"),
    [
        ("x = 2\na[x] = 1", "panic"),  # out of range: a panic, an assertion for SPIN
        ("if x < 2 and a[x] == 0 { skip }", "ok"),  # `and` does not read a[2]
        ("send c[x % 2], 1\nlet v = recv c[(x + 2) % 2]\nassert v == 1", "ok"),
        ("send c[x], 1\nx = 2\nlet v = recv c[x]", "panic"),
    ],
)
def test_spin_agrees_on_run_time_indices(tmp_path: Path, body: str, verdict: str) -> None:
    from spindiff import run_spin

    text = f"var a[2] = 0\nvar x = 0\nchannel c[2]: bounded(1)\nthread main {{\n{body}\n}}\n"
    loaded = parse_text("indices.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == verdict
    assertions, deadlocks, _ = run_spin(export_promela(checkable_program(loaded)), tmp_path)
    assert (assertions > 0, deadlocks) == (verdict == "panic", 0)


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
def test_spin_undoes_an_element_whose_index_reads_its_own_array(tmp_path: Path) -> None:
    # pan undoes `a[a[0]] = 1` by evaluating `a[a[0]]` again: the export goes through `tix`.
    from spindiff import run_spin

    text = (
        "var a[2] = 0\nthread t { a[a[0]] = 1 }\nthread main {\n let v = a[0]\n await v == 1\n}\n"
    )
    loaded = parse_text("own.gil", text)
    assert check_spec(loaded, CheckOptions()).verdict == "deadlock"
    promela = export_promela(checkable_program(loaded))
    assert "tix = v_a[0]; v_a[tix] = 1; tix = 0;" in promela
    assert run_spin(promela, tmp_path)[:2] == (0, 1)


def test_a_channel_index_reading_a_channel_length_is_refused() -> None:
    text = "channel c[2]: bounded(2)\nthread main { send c[len(c[0])], 1 }\n"
    with pytest.raises(SpecError) as refused:
        export_promela(checkable_program(parse_text("len.gil", text)))
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.code == "not-exportable"
    assert "a channel index that reads `len(..)`" in diagnostic.message


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
def test_bench_compare_prints_both_tools_figures_and_their_agreement(tmp_path: Path) -> None:
    out = tmp_path / "compare.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "compare"),
            "pipeline:1",
            "--json",
            str(out),
            "--raw",
            "pipeline_fixed:2",
            "--raw",
            "gil_workers_fixed:2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    header, row = done.stdout.splitlines()[:2]
    for column in ("states gilcheck", "states SPIN", "s SPIN", "ratio", "MB SPIN", "agree"):
        assert column in header
    assert row.startswith("pipeline:1")
    assert row.split()[-3:] == ["deadlock", "deadlock", "yes"]
    (result,) = json.loads(out.read_text())
    assert result["agree"] is True
    assert result["gilcheck_states"] > 0 and result["spin_states"] > 0
    assert result["spin_rss_mb"] > 0 and result["gilcheck_rss_mb"] > 0
    assert set(result["spin_steps"]) == {"spin -a", "gcc", "pan"}
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("raw speed, pipeline_fixed:2"))
    one, every, storage, spin = lines[at : at + 4]
    assert "(every reduction off), gilcheck on one thread: " in one
    assert "(every reduction off), gilcheck on every core (default): " in every
    for raw in (one, every):
        assert "states/s" in raw and raw.endswith("verdict ok")
    assert "store: records " in storage and "trace links 8" in storage
    assert spin == "    SPIN: pipeline has no hand-written model"
    pan = lines[at + 7]  # gil_workers has one: pan alone on it, and the ratio of the rates
    assert pan.startswith("    SPIN pan alone, hand-written model: ")
    assert "gilcheck/SPIN rate" in pan and pan.endswith("on every core")


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
def test_spin_finds_the_deadlock_gilcheck_finds_in_a_bundled_spec(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "m.pml"
    assert cli("export", "-o", str(model), "specs/primitives/semaphore_gil_buggy.gil").code == 0
    subprocess.run(["spin", "-a", "m.pml"], cwd=tmp_path, check=True, capture_output=True)
    subprocess.run(["gcc", "-DSAFETY", "-o", "pan", "pan.c"], cwd=tmp_path, check=True)
    done = subprocess.run(["./pan", "-A"], cwd=tmp_path, capture_output=True, text=True)
    assert "invalid end state" in done.stdout


def test_generator_is_deterministic_per_seed() -> None:
    assert random_spec(random.Random(5)) == random_spec(random.Random(5))


def _with_unknown(text: str, **kinds: str):  # type: ignore[no-untyped-def]
    """A checked program whose first resource and channel take the kinds given, as a kind
    added to the language after the export would appear to it."""
    program = checkable_program(parse_text("new.gil", text))
    changes = {}
    if "resource" in kinds:
        first, *rest = program.resources
        changes["resources"] = (dataclasses.replace(first, kind=kinds["resource"]), *rest)
    if "channel" in kinds:
        first_chan, *others = program.channels
        changes["channels"] = (dataclasses.replace(first_chan, kind=kinds["channel"]), *others)
    return dataclasses.replace(program, **changes)


def test_an_unknown_kind_of_object_is_refused_generically() -> None:
    program = _with_unknown("mutex m\nthread main { lock m { skip } }\n", resource="spinlock")
    with pytest.raises(SpecError) as refused:
        export_promela(program)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.code == "not-exportable"
    assert diagnostic.message == "`spinlock` objects cannot be exported to Promela yet"
    assert diagnostic.span == program.resources[0].span


def test_an_unknown_kind_of_channel_is_refused_generically() -> None:
    program = _with_unknown("channel c: bounded(1)\nthread main { send c, 1 }\n", channel="ring")
    with pytest.raises(SpecError) as refused:
        export_promela(program)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.message == "`ring` channels cannot be exported to Promela yet"


def test_an_unknown_instruction_is_refused_generically() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Countdown:
        context: ir.Context = ir.Context.INHERIT
        span: Span = Span("new.gil", 0, 1)

    program = checkable_program(parse_text("new.gil", "thread main { skip }\n"))
    main = program.codes[0]
    code = dataclasses.replace(main, instrs=(Countdown(), *main.instrs))
    program = dataclasses.replace(program, codes=(code, *program.codes[1:]))
    with pytest.raises(SpecError) as refused:
        export_promela(program)
    (diagnostic,) = refused.value.diagnostics
    assert diagnostic.message == "this statement cannot be exported to Promela yet"


DAEMON_CHILD_DEADLOCK = (
    "host python\nmutex m\nfn child() {\n    acquire m\n    acquire m  # its own copy\n}\n"
    "thread main {\n    spawn {daemon}process child()\n    skip\n}\n"
)


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(("daemon", "status"), [(True, "explained"), (False, "agree")])
def test_a_daemon_child_deadlocked_before_it_is_terminated_is_the_explained_difference(
    daemon: bool, status: str
) -> None:
    # gilcheck judges deadlock per process: the daemon child deadlocks while main runs, and
    # main's exit terminates it. SPIN judges the whole system, so it finds nothing there;
    # bench/differential counts the spec as explained only when SPIN, on the model whose
    # daemon children are joined instead, finds the child blocked for ever. A child that
    # is not a daemon is joined at exit, and SPIN finds the deadlock itself.
    from spindiff import compare_loaded

    text = DAEMON_CHILD_DEADLOCK.replace("{daemon}", "daemon " if daemon else "")
    outcome = compare_loaded("daemon", parse_text("daemon.gil", text), refused_is_error=True)
    assert (outcome.verdict, outcome.status) == ("deadlock", status), outcome.note


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize("seed", [3, 17])
def test_gilcheck_and_spin_agree_on_generated_specs_with_processes(seed: int) -> None:
    from spindiff import compare_loaded

    text = random_spec(random.Random(seed), processes=True)
    assert "process child(" in text
    outcome = compare_loaded(seed, parse_text("processes.gil", text), refused_is_error=True)
    assert outcome.status == "agree", f"{outcome.note}\n{text}"


@pytest.mark.skipif(not HAVE_SPIN, reason="spin and gcc are not installed")
@pytest.mark.parametrize(
    ("name", "stops"),
    [
        ("queue_carries_future_buggy", True),
        ("queue_carries_lock_by_name_buggy", True),
        ("queue_within_a_child_carries_a_future", False),  # its own queue
        ("queue_carries_future_fixed", False),
        ("queue_carries_lock_by_name_fixed", False),
        ("queue_holds_future_when_passed_buggy", True),
        ("queue_holds_future_when_passed_fixed", False),
    ],
)
def test_the_export_stops_at_objects_queued_where_processes_run(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, name: str, stops: bool
) -> None:
    """A send of a value that is not data on a channel passed to a process, or such a
    value queued on a channel when it is passed, stops SPIN's search with the export's own
    limit (gilcheck's misuse); data, and objects on a channel no process was passed, are
    sent as before, and SPIN agrees with gilcheck."""
    from spindiff import LimitReached, run_spin

    spec = CASES / "processes" / f"{name}.gil"
    model = tmp_path / "model.pml"
    assert cli("export", str(spec), "-o", str(model)).code == 0
    if stops:
        with pytest.raises(LimitReached):
            run_spin(model.read_text(), tmp_path)
        return
    assertions, deadlocks, _ = run_spin(model.read_text(), tmp_path)
    assert (assertions, deadlocks) == (0, 0)
    assert json.loads(cli("check", str(spec), "-f", "json").stdout)["verdict"] == "ok"
