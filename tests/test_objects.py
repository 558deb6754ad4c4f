"""Objects made at run time (language v1.2): constructors, references as values, futures,
the statically visible kind, canonical naming, collection, `--object-bound`, symmetry and
how reports name them; through the CLI as a user runs it, and the canonical form directly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from conftest import check_json, write_spec
from hypothesis import given, settings
from hypothesis import strategies as st

from gilcheck.system.objects import canonical

_spec = write_spec
_json = check_json


def test_every_constructor_makes_an_object_its_statements_accept(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
thread main {
    let m = mutex()
    lock m { skip }
    let r = rlock()
    acquire r
    acquire r
    release r
    release r
    let s = semaphore(2)
    acquire s
    release s
    let e = event()
    set e
    wait e
    let b = barrier(1)
    wait b
    let l = latch(1)
    countdown l
    wait l
    let o = once()
    call_once o { skip }
    let w = rwlock()
    read w { skip }
    write w { skip }
    let cv = condvar()
    lock m { notify cv }
    let f = future()
    complete f, 3
    let v = result f
    assert v == 3
}
""",
    )
    result = cli("check", spec)
    assert result.code == 0, result.stdout + result.stderr


def test_a_wrong_kind_the_text_shows_is_a_spec_error(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, "thread main {\n    let m = mutex()\n    wait m\n}\n")
    result = cli("check", spec)
    assert result.code == 2
    assert "s.gil:3:10" in result.stderr
    assert "`m` is a mutex" in result.stderr


def test_a_wrong_kind_reached_through_a_parameter_is_a_misuse(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        "fn f(x) {\n    wait x\n}\nthread main {\n    let m = mutex()\n    call f(m)\n}\n",
    )
    report = _json(cli, spec)
    assert report["verdict"] == "misuse"
    assert "`x` is a mutex" in report["message"]


def test_a_local_bound_to_two_kinds_is_checked_at_run_time(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """thread main {
    let x = mutex()
    choose { x = event() } or { skip }
    wait x
}
""",
    )
    report = _json(cli, spec)
    assert report["verdict"] == "misuse"  # the mutex branch; the event one would block


def test_references_compare_by_identity(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
mutex g
var slot = none
thread main {
    let m = mutex()
    let n = mutex()
    let k = m
    assert m != n and k == m and m != none
    slot = g
    let s = slot
    assert s == g
    acquire s
    release g
}
""",
    )
    assert cli("check", spec).code == 0


def test_objects_travel_in_vars_channels_and_arguments(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
var locks[2] = none
fn worker(i, rx) {
    let other = recv rx
    acquire locks[i]
    acquire other
}
thread main {
    locks[0] = mutex()
    locks[1] = mutex()
    let (t0, r0) = channel(unbounded)
    let (t1, r1) = channel(unbounded)
    let a = spawn worker(0, r0)
    let b = spawn worker(1, r1)
    send t0, locks[1]
    send t1, locks[0]
    join a
    join b
}
""",
    )
    report = _json(cli, spec)
    assert report["verdict"] == "deadlock"
    waits = " ".join(w["waits_for"] for w in report["waits"])
    assert "mutex #1 (made at s.gil:9)" in waits and "mutex #2 (made at s.gil:10)" in waits


def test_reports_number_objects_in_order_of_appearance(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
thread main {
    let a = event()
    let b = event()
    wait b
}
""",
    )
    result = cli("check", spec)
    assert "makes event #1 (made at s.gil:3) as a" in result.stdout
    assert "makes event #2 (made at s.gil:4) as b" in result.stdout
    assert "waits for event #2 (made at s.gil:4)" in result.stdout


def test_unreachable_objects_are_collected(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
thread main {
    loop {
        let m = mutex()
        lock m { progress }
    }
}
""",
    )
    report = _json(cli, spec)
    assert report["verdict"] == "ok" and report["states"] < 10


def test_more_live_objects_than_the_bound_end_the_path_with_bound(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect bound
var keep[3] = none
thread main {
    let i = 0
    while i < 3 {
        keep[i] = mutex()
        i = i + 1
    }
}
""",
    )
    bounded = cli("check", "--object-bound", "2", spec)
    assert bounded.code == 3
    assert "--object-bound" in bounded.stdout
    assert cli("check", "--object-bound", "3", spec).code == 0


def test_states_differing_only_in_naming_are_one(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Two threads each make an object: whichever makes it first, the end state is one.
    spec_text = """expect ok
host python
var a = none
var b = none
thread t1 { a = mutex() }
thread t2 { b = mutex() }
thread main { skip }
"""
    spec = _spec(tmp_path, spec_text)
    plain = _spec(tmp_path, spec_text.replace("mutex()", "1"), "plain.gil")
    # The same state space as with plain values: making the two in either order ends in
    # one state.
    assert _json(cli, spec, "--no-por")["states"] == _json(cli, plain, "--no-por")["states"]


def test_thread_arrays_that_make_their_own_objects_stay_symmetric(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
thread worker[3] {
    let m = mutex()
    acquire m
    let e = event()
    set e
    wait e
    release m
}
thread main { skip }
""",
    )
    reduced = _json(cli, spec)
    full = _json(cli, spec, "--no-symmetry")
    assert reduced["verdict"] == full["verdict"] == "ok"
    assert reduced["states"] < full["states"] / 3


def test_futures_block_until_complete_and_keep_their_value(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
fn work(f, x) {
    complete f, x + 1
}
thread main {
    let f = future()
    let h = spawn work(f, 41)
    await is_done(f)
    let v = result f
    let w = result f
    assert v == 42 and w == 42
    join h
}
""",
    )
    assert cli("check", spec).code == 0


def test_completing_a_future_twice_or_with_a_handle_is_a_misuse(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    twice = _spec(
        tmp_path, "thread main {\n    let f = future()\n    complete f, 1\n    complete f, 2\n}\n"
    )
    report = _json(cli, twice)
    assert report["verdict"] == "misuse" and "second time" in report["message"]
    handle = _spec(
        tmp_path,
        "thread main {\n    let f = future()\n    let (tx, rx) = channel(unbounded)\n"
        "    complete f, tx\n}\n",
        "h.gil",
    )
    report = _json(cli, handle)
    assert report["verdict"] == "misuse" and "handle" in report["message"]


def test_contextual_words_stay_names(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
var result[2] = 0
var complete = 1
thread main {
    result[0] = complete + 1
    complete = result[0]
    let future = 3
    assert complete == 2 and future == 3
}
""",
    )
    assert cli("check", spec).code == 0


def test_a_constructor_inside_an_expression_is_a_located_error(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(tmp_path, "var locks = mutex()\nthread main {\n    let x = event() == none\n}\n")
    result = cli("check", spec)
    assert result.code == 2
    assert "s.gil:1:13" in result.stderr and "var locks = none" in result.stderr
    assert "s.gil:3:13" in result.stderr and "right-hand side" in result.stderr


def test_a_waiting_thread_keeps_the_object_it_started_waiting_on(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The condvar in the shared var changes while `waiter` waits on the first one: the
    # notify on the second one must not wake it.
    spec = _spec(
        tmp_path,
        """expect deadlock
var cv = none
var waiting = 0
mutex m
thread waiter {
    await cv != none
    lock m {
        waiting = 1
        wait cv, m
    }
}
thread main {
    cv = condvar()
    await waiting == 1
    lock m { cv = condvar() }
    lock m { notify cv }
    join waiter
}
""",
    )
    report = _json(cli, spec)
    assert report["verdict"] == "deadlock"


# ---------------------------------------------------------------- the canonical form


def _state(threads: tuple, heap: tuple, chans: tuple = (), vars_: tuple = ()) -> tuple:  # type: ignore[type-arg]
    return (threads, -1, vars_, (), chans, -1, 0, (), 0, (0, ()), heap)


def _thread(*locals_: object) -> tuple:  # type: ignore[type-arg]
    return (((0, 0, tuple(locals_), 0),), 0, 0, 0, (), 0, False, 0, 0)


MUTEX_FREE = ("mutex", None, -1, (0, 1))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=6), st.randoms(use_true_random=False))
def test_renaming_objects_gives_the_same_canonical_state(count: int, rnd: random.Random) -> None:
    entries = [("event", None, bool(i % 2), (0, i)) for i in range(count)]
    order = list(range(count))
    rnd.shuffle(order)
    # Thread 0 refers to the objects in a fixed order; the heap lists them shuffled.
    heap = tuple(entries[i] for i in order)
    where = {obj: at for at, obj in enumerate(order)}
    shuffled = _state((_thread(*(("obj", where[i]) for i in range(count))),), heap)
    plain = _state((_thread(*(("obj", i) for i in range(count))),), tuple(entries))
    assert canonical(shuffled, 0).state == canonical(plain, 0).state == plain


def test_objects_nothing_refers_to_are_gone_unless_held() -> None:
    held = ("mutex", None, 0, (0, 2))  # held by thread 0
    state = _state((_thread(("obj", 1)),), (MUTEX_FREE, MUTEX_FREE, held))
    found = canonical(state, 0)
    assert found.state[-1] == (MUTEX_FREE, held)
    assert found.objects == [1, 2]


def test_completing_with_a_python_object_needs_the_gil(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
fn holder(f) {
    with_gil {
        let v = result f
    }
}
thread main {
    let f = future()
    let h = spawn holder(f)
    complete f, pyobj("x")
    join h
}
""",
    )
    report = _json(cli, spec)
    assert report["verdict"] == "deadlock"
    main = next(w for w in report["waits"] if w["thread"] == "main")
    assert main["waits_for"] == "waits for the GIL to make a Python object, held by holder"


def test_channels_made_in_a_loop_are_collected(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
thread main {
    loop {
        let (tx, rx) = oneshot()
        send tx, 1
        let v = recv rx
        progress
    }
}
""",
    )
    report = _json(cli, spec, "--max-states", "1000")
    assert report["verdict"] == "ok" and report["exhaustive"] and report["states"] < 10


def test_result_with_a_timeout_yields_ok_or_err(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect assertion
fn slow(f) {
    complete f, 7
}
thread main {
    let f = future()
    let h = spawn slow(f)
    let r = result f timeout
    assert r == ok(7), "timed out"
    join h
}
""",
    )
    result = cli("check", spec)
    assert result.code == 1
    assert 'times out: the future is not complete, `result` yields err("timeout")' in result.stdout
    done = _spec(
        tmp_path,
        "expect ok\nthread main {\n    let f = future()\n    complete f, none\n"
        "    let r = result f timeout\n    assert r == ok(none)\n}\n",
        "d.gil",
    )
    assert cli("check", done).code == 0


def test_timed_waits_and_try_acquire_work_on_objects_reached_through_values(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
fn worker(m, e) {
    let got = acquire m timeout
    if got { release m }
    let set_ = wait e timeout
    let r = try_acquire m
    if r { release m }
}
thread main {
    let m = mutex()
    let e = event()
    let h = spawn worker(m, e)
    lock m { skip }
    set e
    join h
}
""",
    )
    assert cli("check", spec).code == 0
    barrier = _spec(
        tmp_path,
        "fn w(b) {\n    let ok = wait b timeout\n}\n"
        "thread main {\n    let b = barrier(2)\n    call w(b)\n}\n",
        "b.gil",
    )
    report = _json(cli, barrier)
    assert report["verdict"] == "misuse" and "cannot time out" in report["message"]
    shown = _spec(
        tmp_path, "thread main {\n    let l = latch(1)\n    countdown l timeout\n}\n", "c.gil"
    )
    result = cli("check", shown)
    assert result.code == 2 and "`countdown` cannot time out" in result.stderr


def test_a_blocked_statement_keeps_the_object_a_shared_var_named(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
var g = none
var started = 0
fn w() {
    started = 1
    acquire g
}
thread main {
    let m1 = mutex()
    let m2 = mutex()
    acquire m1
    g = m1
    let h = spawn w()
    await started == 1
    skip
    g = m2
    join h
}
""",
    )
    result = cli("check", spec)
    assert result.code == 1
    assert "cannot go on yet: starts waiting on mutex #1 (made at s.gil:9)" in result.stdout


def test_a_lock_block_releases_the_object_it_took(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
fn w(b) {
    acquire b
    release b
}
thread main {
    let a = mutex()
    let b = mutex()
    acquire b
    let m = a
    lock m { m = b }
    let h = spawn w(b)
    join h
}
""",
    )
    assert _json(cli, spec)["verdict"] == "deadlock"


def test_a_name_bound_by_for_is_checked_at_run_time(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
thread main {
    let e = mutex()
    let (tx, rx) = channel(unbounded)
    let ev = event()
    set ev
    send tx, ev
    drop tx
    for e in rx { wait e }
    acquire e
}
""",
    )
    assert cli("check", spec).code == 0


def test_a_var_holding_an_object_is_told_by_the_objects_name(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect deadlock
var g[2] = none
thread main {
    let a = mutex()
    let b = mutex()
    g[0] = b
    acquire a
    acquire a
}
""",
    )
    result = cli("check", spec)
    assert "g[0] = mutex #2 (made at s.gil:5)" in result.stdout


def test_starting_to_wait_in_python_code_releases_the_gil(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
channel c[2]: unbounded
var i = 0
var x = 0
thread w {
    python {
        let r = recv c[i]
        x = 1
    }
}
thread main {
    send c[0], 5
    join w
}
""",
    )
    result = cli("simulate", spec, "--seed", "1")
    assert "starts waiting on c[0], releasing the GIL while it waits" in result.stdout
    assert "takes the GIL back" in result.stdout


_SHARED_QUEUE = """expect {expect}
host python
channel jobs: queue(0)
pool p = 1
fn put(q, v) {{
    python {{
        send q, v
    }}
}}
fn consume(q) {{
    python {{
        let v = recv q
    }}
}}
thread main {{
    spawn consume(jobs)
    let f = submit p, consume(jobs)
    call put(jobs, 1)
    {last}
}}
"""


def test_a_global_channel_passed_as_an_argument_is_shared_by_every_holder(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Two consumers (a thread and a pool task) and a producer use one `queue.Queue`
    # passed by name, as Python passes a Queue object: either end, never moved.
    ok = _spec(tmp_path, _SHARED_QUEUE.format(expect="ok", last="call put(jobs, 2)"))
    assert _json(cli, ok)["verdict"] == "ok"
    hang = _spec(tmp_path, _SHARED_QUEUE.format(expect="deadlock", last="skip"), "h.gil")
    report = _json(cli, hang)
    assert report["verdict"] == "deadlock"
    assert report["matches"] is True


def test_an_element_of_a_channel_array_passed_as_a_value_is_not_reduced(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    spec = _spec(
        tmp_path,
        """expect ok
channel c[2]: queue(0)
fn put(q) {
    send q, 1
}
thread w[2] {
    call put(c[self])
    let v = recv c[self]
}
thread main {
    skip
}
""",
    )
    report = _json(cli, spec)
    assert report["verdict"] == "ok"
    assert not report["symmetry"]


def test_a_thread_handle_kept_in_a_var_or_array_is_joined_at_run_time(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The text shows no kind for what a var or an array element holds: checked at run
    # time (LANGUAGE.md, v1.2 run-time objects), so `atexit` can join main's thread.
    spec = _spec(
        tmp_path,
        """expect ok
host python
var worker = none
var handles[1] = none
fn work() {
    python { skip }
}
thread main {
    python {
        let t = spawn daemon work()
        worker = t
        let u = spawn daemon work()
        handles[0] = u
        let h = handles[0]
        join h
    }
}
atexit {
    join worker
    join handles[0]
}
""",
    )
    assert _json(cli, spec)["verdict"] == "ok"
    wrong = _spec(tmp_path, "var x = 3\nthread main {\n    join x\n}\n", "w.gil")
    report = _json(cli, wrong)
    assert report["verdict"] == "misuse"
    assert "`join` needs a thread handle, not 3" in report["message"]


_SENDER_IN_A_VAR = """expect deadlock
var slot = none
fn reader(rx) {{
    let a = recv rx
    let b = recv rx
}}
fn put(t) {{
    send t, 1
}}
thread main {{
    let (tx, rx) = channel(2)
    let h = spawn reader(rx)
    slot = tx
    {use}
    join h
}}
"""


def test_a_sender_read_from_a_var_is_a_copy_that_keeps_the_channel_open(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The var still holds the sender after a call or a local used a copy of it, so the
    # reader's second recv waits for ever: dropping the copy must not close the channel.
    for number, use in enumerate(("call put(slot)", "let t = slot\n    send t, 1")):
        spec = _spec(tmp_path, _SENDER_IN_A_VAR.format(use=use), f"s{number}.gil")
        report = _json(cli, spec)
        assert report["verdict"] == "deadlock", (use, report["message"])


def test_a_receiver_or_oneshot_sender_cannot_be_copied_out_of_a_var(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    receiver = _spec(
        tmp_path,
        "var slot = none\nthread main {\n    let (tx, rx) = channel(1)\n    slot = rx\n"
        "    let r = slot\n}\n",
    )
    report = _json(cli, receiver)
    assert report["verdict"] == "misuse"
    assert "a channel has one receiver" in report["message"]
    oneshot = _spec(
        tmp_path,
        "var slot = none\nthread main {\n    let (tx, rx) = oneshot()\n    slot = tx\n"
        "    let t = slot\n}\n",
        "o.gil",
    )
    assert "cannot be cloned" in _json(cli, oneshot)["message"]
    queue = _spec(
        tmp_path,
        "expect ok\nvar slot = none\nthread main {\n    let (q, qr) = queue(0)\n    slot = qr\n"
        "    let r = slot\n    send q, 1\n    let v = recv r\n}\n",
        "q.gil",
    )
    assert _json(cli, queue)["verdict"] == "ok"


OWNERSHIP_CASES = sorted((Path(__file__).parent / "cases" / "ownership").glob("*.gil"))


@pytest.mark.parametrize("path", OWNERSHIP_CASES, ids=[p.stem for p in OWNERSHIP_CASES])
def test_a_handle_copied_out_of_a_var_owns_its_own_count(path, cli) -> None:  # type: ignore[no-untyped-def]
    # Only arguments that read a var are copies (a local moved next to one is not); a
    # clone, an unwrap or a send of a var's sender counts one more sender.
    report = _json(cli, str(path))
    assert report["matches"] is True, (path.name, report["verdict"], report["message"])


def test_the_references_kept_by_identity_are_each_values_own(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from gilcheck.system import objects

    def walked(value: object) -> list[tuple[int, int]]:  # the walk, without the cache
        found: list[tuple[int, int]] = []
        objects._collect(value, found)
        return found

    monkeypatch.setattr(objects._REFERENCES, "limit", 3)  # start afresh every few values
    monkeypatch.setattr(objects._THREAD_REFERENCES, "limit", 3)
    values = []
    for n in range(200):
        value = (("obj", n % 7), (1, ("tx", n), ("chan", "x")), ("rx", n + 1), ((("obj", n),),))
        values.append(value)
        assert list(objects.references(value)) == walked(value)
        # a thread: its frames (code, pc, locals, context), then status ... phase ...
        th = (((0, 0, value, 0),), 0, 0, 0, 0, ("phase", ("obj", n)), False, None, None)
        assert objects.thread_references(th) == (*walked(value), (0, n))
    # values made again (new objects, perhaps at a freed one's address) are walked again
    for n, value in enumerate(values):
        copy = tuple(list(value))
        assert objects.references(copy) == objects.references(value) == tuple(walked(value)), n
    # values made, walked and dropped one after another: each walked as it is
    monkeypatch.setattr(objects._REFERENCES, "limit", 1 << 15)
    for n in range(200):
        fresh = tuple([("obj", n), ("tx", n + 1)])
        assert objects.references(fresh) == ((0, n), (1, n + 1))
        del fresh
