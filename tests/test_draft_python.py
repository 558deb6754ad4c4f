"""The Python drafter: every fixture under tests/cases/draft/python drafts to its golden
spec (tests/golden/draft/python), which parses, checks, and gives the verdict the real
program has; the real programs of bench/cpython; and the pieces (assumptions, choices,
loop bounds, errors) one by one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from gilcheck.draft.model import DraftError, DraftOptions, SourceText
from gilcheck.draft.python import draft_python
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, checkable_program, parse_text

CASES = Path(__file__).resolve().parent / "cases" / "draft" / "python"
GOLDENS = Path(__file__).resolve().parent / "golden" / "draft" / "python"
FIXTURES = sorted(CASES.glob("*.py"))
VERDICT = re.compile(r"#\s*verdict:\s*([a-z]+)")


def draft(text: str, path: str = "app.py", **options: object) -> str:
    return draft_python([SourceText(path, text)], DraftOptions(**options)).text  # type: ignore[arg-type]


def verdict_of(spec: str, name: str = "drafted.gil") -> str:
    return check_spec(parse_text(name, spec), CheckOptions(max_states=500_000)).verdict


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_fixture_drafts_to_its_golden_and_verdict(fixture: Path, golden) -> None:  # type: ignore[no-untyped-def]
    """The golden is tests/golden/draft/python/NAME.gil (`pytest --update-golden` rewrites it)."""
    text = fixture.read_text()
    match = VERDICT.search(text.splitlines()[0])
    assert match, f"{fixture.name}: the first line must be `# verdict: ...`"
    drafted = draft_python([SourceText(fixture.name, text)], DraftOptions())
    golden(f"draft/python/{fixture.stem}.gil", drafted.text)
    assert "expect " not in drafted.text
    assert verdict_of(drafted.text, fixture.stem + ".gil") == match.group(1)


def test_there_are_enough_fixtures() -> None:
    assert len(FIXTURES) >= 30


# ---------------------------------------------------------------- pieces


def test_unknown_call_is_skip_and_an_assumption() -> None:
    src = "import client\nresult = client.fetch()\n"
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert [a.text for a in made.assumptions] == ["assumed not to block: `client.fetch()`"]
    assert made.assumptions[0].origin.line == 2
    assert re.search(r"^\s+skip\s+#@ app\.py:2:1 ~[0-9a-f]{8}$", made.text, re.M)
    assert "#@ assume app.py:2:1" in made.text
    assert verdict_of(made.text) == "ok"


def test_harmless_calls_make_no_assumption() -> None:
    src = "import json, math, time\nx = json.dumps({'a': math.sqrt(4)})\ntime.sleep(1)\nprint(x)\n"
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert made.assumptions == ()
    assert "skip" in made.text  # time.sleep is a statement boundary


def test_a_branch_on_argv_is_a_choice_without_assumption() -> None:
    src = (
        "import sys, threading\nm = threading.Lock()\n"
        "if sys.argv[1] == 'x':\n    m.acquire()\n    m.acquire()\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert "choose {" in made.text and "} or {" in made.text
    assert made.assumptions == ()
    assert verdict_of(made.text) == "deadlock"


def test_a_branch_on_known_data_is_an_if() -> None:
    src = (
        "import threading\nm = threading.Lock()\nflag = False\n"
        "def f():\n    global flag\n    flag = True\n"
        "f()\nif flag:\n    m.acquire()\n"
    )
    text = draft(src)
    assert "var flag = false" in text
    assert "if flag {" in text
    assert "choose" not in text


def test_a_loop_over_unknown_data_is_bounded_by_the_option() -> None:
    src = "import queue\nq = queue.Queue()\nfor line in open('f'):\n    q.put(line)\n"
    made = draft_python([SourceText("app.py", src)], DraftOptions(unroll=3))
    assert "while rounds < 3 {" in made.text
    texts = [a.text for a in made.assumptions]
    assert any("bounded to 3 iterations" in t for t in texts)
    assert verdict_of(made.text) == "ok"


def test_a_constant_range_is_unrolled() -> None:
    src = "import queue\nq = queue.Queue()\nfor i in range(3):\n    q.put(i)\n"
    text = draft(src)
    assert [line.split("#@")[0].strip() for line in text.splitlines() if "send q" in line] == [
        "send q, 0",
        "send q, 1",
        "send q, 2",
    ]


def test_a_long_constant_range_is_a_counted_loop() -> None:
    src = "import queue\nq = queue.Queue()\nfor i in range(0, 200, 10):\n    q.put(i)\n"
    text = draft(src)
    assert "while i + 10 < 200 {" in text and "let i = (-10)" in text


def test_a_very_long_constant_range_is_bounded_with_an_assumption() -> None:
    src = "import queue\nq = queue.Queue()\nfor i in range(1000):\n    q.put(i)\n"
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert "while rounds < 2 {" in made.text
    assert [a.text for a in made.assumptions] == [
        "loop of 1000 iterations bounded to 2 iterations: `range(1000)`"
    ]


def test_an_unknown_decorator_is_an_assumption() -> None:
    src = (
        "import functools\nfrom mylib import synchronized\n"
        "@synchronized\ndef f():\n    pass\n"
        "@functools.lru_cache\ndef g():\n    pass\n"
        "f()\ng()\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert [a.text for a in made.assumptions] == [
        "the decorator `@synchronized` is assumed to call the function as it is"
    ]
    assert made.assumptions[0].origin.line == 3


def test_syntax_error_is_a_located_draft_error() -> None:
    with pytest.raises(DraftError) as caught:
        draft("x = 1\ndef f(:\n    pass\n")
    e = caught.value
    assert (e.path, e.line, e.code, e.refused) == ("app.py", 2, "source-syntax", False)
    assert e.column > 0


def test_a_process_pool_is_refused() -> None:
    src = "import multiprocessing\np = multiprocessing.Pool(2)\np.map(abs, [1, 2])\n"
    with pytest.raises(DraftError) as caught:
        draft(src)
    assert caught.value.refused and caught.value.code == "unsupported-construct"
    assert caught.value.line == 2 and caught.value.hint


def test_a_timer_runs_its_function_unless_cancelled() -> None:
    src = (
        "import threading\ndef f():\n    pass\nt = threading.Timer(1.0, f)\nt.start()\nt.cancel()\n"
    )
    text = draft(src)
    assert "let cancelled = wait t_finished timeout" in text
    assert "set t_finished" in text
    assert verdict_of(text) == "ok"


def test_an_event_loop_nobody_runs_is_refused() -> None:
    src = (
        "import asyncio\nloop = asyncio.new_event_loop()\n"
        "async def g():\n    return 1\n"
        "asyncio.run_coroutine_threadsafe(g(), loop).result()\n"
    )
    with pytest.raises(DraftError) as caught:
        draft(src)
    assert caught.value.refused


def test_entries_run_concurrently_and_are_joined() -> None:
    src = (
        "import threading\na = threading.Lock()\nb = threading.Lock()\n"
        "def one():\n    with a:\n        with b:\n            pass\n"
        "def two():\n    with b:\n        with a:\n            pass\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions(entries=("one", "two")))
    assert "let one_thread = spawn one()" in made.text
    assert "join two_thread" in made.text
    assert verdict_of(made.text) == "deadlock"


def test_an_unknown_entry_is_an_error() -> None:
    with pytest.raises(DraftError) as caught:
        draft("def f():\n    pass\n", entries=("g",))
    assert caught.value.code == "unknown-entry"


def test_keywords_and_clashes_get_a_suffix() -> None:
    src = (
        "import threading\nlock = threading.Lock()\n"
        "def wait():\n    with lock:\n        pass\n"
        "def main():\n    wait()\n"
        "main()\n"
    )
    text = draft(src)
    assert "mutex lock_" in text and "fn wait_()" in text and "fn main_()" in text
    assert verdict_of(text) == "ok"


def test_recursion_is_bounded_by_inline_depth() -> None:
    src = "def f(n):\n    if n:\n        f(n - 1)\nf(5)\n"
    made = draft_python([SourceText("app.py", src)], DraftOptions(inline_depth=2))
    assert made.text.count("fn f") == 2
    assert any("past depth 2" in a.text for a in made.assumptions)


def test_every_drafted_statement_from_the_source_has_an_origin() -> None:
    text = (GOLDENS / "lock_order_buggy.gil").read_text()
    body = [line for line in text.splitlines() if line.startswith("        ")]
    marked = [line for line in body if "#@ lock_order_buggy.py:" in line]
    assert marked and all(
        "#@" in line for line in body if line.strip().startswith(("let", "join", "lock"))
    )


def test_a_function_of_another_file_is_called() -> None:
    helper = SourceText("helpers.py", "import threading\ndef work(m):\n    with m:\n        pass\n")
    app = SourceText(
        "app.py",
        "import threading\nimport helpers\nm = threading.Lock()\n"
        "if __name__ == '__main__':\n    with m:\n        helpers.work(m)\n",
    )
    made = draft_python([helper, app], DraftOptions())
    assert "call work()" in made.text
    assert verdict_of(made.text) == "deadlock"


# ---------------------------------------------------------------- real programs

BENCH = Path(__file__).resolve().parent.parent / "bench" / "cpython" / "cases"
# The real outcomes of bench/cpython's programs (over the arguments bench/cpython/run
# gives them), from the `expect` line of the spec each run stands for.
BENCH_OUTCOMES = {
    "exhaustion.py": {"deadlock", "ok"},
    "nested3.py": {"deadlock", "ok"},
    "exit_hook.py": {"deadlock", "ok"},
    "submit_after_shutdown.py": {"misuse"},
    "shutdown_variants.py": {"misuse", "ok"},
    "rlock_leak.py": {"deadlock"},
    "self_wait_buggy.py": {"deadlock"},
    "self_wait_fixed.py": {"ok"},
    "blocking_call_buggy.py": {"deadlock"},
    "blocking_call_fixed.py": {"ok"},
    "gil_await_buggy.py": {"deadlock"},
    "gil_await_fixed.py": {"ok"},
    "fork_child_buggy.py": {"deadlock"},
    "fork_child_fixed.py": {"ok"},
    "pending_at_exit_fixed.py": {"ok"},
    "rlock_reenter_fixed.py": {"ok"},
    "suspend_outside_fixed.py": {"ok"},
    "mp_join_before_drain.py": {"deadlock", "ok"},
    "mp_global_queue.py": {"deadlock", "ok"},
    "mp_lock_while_joining.py": {"deadlock", "ok"},
    "mp_ended_holding_lock.py": {"deadlock", "ok"},
    "mp_thread_keeps_child.py": {"deadlock", "ok"},
    "mp_exit_joins_children.py": {"deadlock", "ok"},
    "mp_daemon_at_exit.py": {"ok"},
    "mp_unpicklable.py": {"misuse", "ok"},
}


@pytest.mark.skipif(not BENCH.is_dir(), reason="bench/cpython is not in this checkout")
@pytest.mark.parametrize("program", sorted(BENCH_OUTCOMES))
def test_real_programs_that_hang_never_draft_to_ok(program: str) -> None:
    helpers = [SourceText(n, (BENCH / n).read_text()) for n in ("bgloop.py", "forkwatch.py")]
    made = draft_python(
        [SourceText(program, (BENCH / program).read_text()), *helpers], DraftOptions()
    )
    verdict = verdict_of(made.text, program + ".gil")
    real = BENCH_OUTCOMES[program]
    if real == {"ok"}:
        assert verdict == "ok", made.text
    else:
        assert verdict in real - {"ok"}, made.text


# ---------------------------------------------------------------- property

_STATEMENTS = [
    "with lk:\n    pass",
    "lk.acquire()\nlk.release()",
    "q.put(1)",
    "item = q.get()",
    "ev.set()",
    "ok = ev.wait(0.1)",
    "if sys.argv[1]:\n    ev.set()\nelse:\n    pass",
    "for i in range(2):\n    q.put(i)",
    "while True:\n    break",
    "time.sleep(0.1)",
    "client.call()",
    "counter = counter + 1",
    "with cv:\n    cv.notify_all()",
    "f = ex.submit(task)\nf.result()",
    "for x in data:\n    print(x)",
    "try:\n    q.get(timeout=1)\nexcept queue.Empty:\n    pass",
    "box.put_item(1)",
    "with box.guard:\n    box.count += 1",
    "while not ev.is_set():\n    time.sleep(0.01)",
    "asyncio.run_coroutine_threadsafe(co(), loop).result()",
    "loop.call_soon_threadsafe(task)",
    "sem.acquire()\ntry:\n    client.call()\nfinally:\n    sem.release()",
    "futs = [ex.submit(task) for _ in range(2)]\nfor f in futs:\n    f.result()",
    "x = lk if sys.argv else rl\nwith x:\n    pass",
    "ok = rl.acquire(timeout=1)\nif ok:\n    rl.release()",
    "bar.wait()",
]


@settings(max_examples=60, deadline=None)
@given(
    hs.lists(hs.sampled_from(_STATEMENTS), min_size=1, max_size=5),
    hs.lists(hs.sampled_from(_STATEMENTS), min_size=0, max_size=4),
    hs.booleans(),
)
def test_random_programs_draft_to_specs_that_load(
    worker: list[str], main: list[str], daemon: bool
) -> None:
    def indent(lines: list[str]) -> str:
        return "\n".join("    " + part for s in lines for part in s.splitlines())

    src = (
        "import sys, time, queue, threading, client\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "lk = threading.Lock()\nq = queue.Queue()\nev = threading.Event()\n"
        "cv = threading.Condition()\nex = ThreadPoolExecutor(2)\ndata = []\ncounter = 0\n"
        "rl = threading.RLock()\nsem = threading.Semaphore(2)\nbar = threading.Barrier(1)\n"
        "import asyncio\nloop = asyncio.new_event_loop()\n"
        "threading.Thread(target=loop.run_forever, daemon=True).start()\n"
        "async def co():\n    await asyncio.sleep(0)\n    return 2\n"
        "class Box:\n    def __init__(self):\n        self.guard = threading.Lock()\n"
        "        self.count = 0\n        self.items = queue.Queue()\n"
        "    def put_item(self, v):\n        with self.guard:\n            self.items.put(v)\n"
        "box = Box()\n"
        "def task():\n    return 1\n"
        f"def worker():\n    global counter\n{indent(worker)}\n"
        f"def main():\n    global counter\n"
        f"    t = threading.Thread(target=worker, daemon={daemon})\n    t.start()\n"
        f"{indent(main) if main else '    pass'}\n    t.join()\n"
        "main()\n"
    )
    text = draft(src)
    checkable_program(parse_text("random.gil", text))


# ---------------------------------------------------------------- values and identity


def test_a_tuple_picked_by_a_conditional_expression_drafts_each_arm() -> None:
    src = (
        "import sys, threading\na = threading.Lock()\nb = threading.Lock()\n"
        "def w():\n    with a:\n        with b:\n            pass\n"
        "t = threading.Thread(target=w)\nt.start()\n"
        "x, y = (b, a) if sys.argv[1:] else (a, b)\n"
        "with x:\n    with y:\n        pass\nt.join()\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert made.assumptions == ()
    assert "choose {" in made.text
    assert verdict_of(made.text) == "deadlock"


def test_a_data_swap_reads_both_items_first() -> None:
    src = "def f():\n    a, b = 1, 2\n    a, b = b, a\n    assert a == 2 and b == 1\nf()\n"
    spec = draft(src)
    assert "let was = b" in spec and "let was_2 = a" in spec
    assert verdict_of(spec) == "ok"


def test_a_module_marker_is_a_literal_of_its_own() -> None:
    src = (
        "import queue, threading\nSTOP = object()\nq = queue.Queue()\n"
        "def c():\n    while True:\n        if q.get() is STOP:\n            break\n"
        "t = threading.Thread(target=c)\nt.start()\nq.put(f'x{1}')\nq.put(STOP)\nt.join()\n"
    )
    spec = draft(src)
    assert 'send q, "STOP"' in spec and 'send q, "data"' in spec
    assert '== "STOP"' in spec and "choose" not in spec
    assert verdict_of(spec) == "ok"


def test_a_marker_name_avoids_the_program_strings() -> None:
    src = "import queue\nSTOP = object()\nq = queue.Queue()\nq.put('STOP')\nq.put(STOP)\n"
    spec = draft(src)
    assert 'send q, "STOP"' in spec and 'send q, "STOP_2"' in spec


def test_an_unknown_value_compared_with_none_is_a_choice() -> None:
    src = (
        "import os, queue, threading\nm = threading.Lock()\nq = queue.Queue()\n"
        "def c():\n    if q.get() is None:\n        m.acquire()\n        m.acquire()\n"
        "t = threading.Thread(target=c)\nt.start()\nq.put(os.environ.get('X'))\nt.join()\n"
    )
    spec = draft(src)
    assert 'send q, "unknown"' in spec
    assert 'if item == "unknown" {' in spec
    assert verdict_of(spec) == "deadlock"


def test_data_known_not_none_decides_a_none_test() -> None:
    src = (
        "import queue, threading\nm = threading.Lock()\nq = queue.Queue()\n"
        "def c():\n    if q.get() is None:\n        m.acquire()\n        m.acquire()\n"
        "t = threading.Thread(target=c)\nt.start()\nq.put([1, 2])\nt.join()\n"
    )
    spec = draft(src)
    assert "choose" not in spec
    assert verdict_of(spec) == "ok"


def test_a_local_marker_is_a_run_time_object() -> None:
    src = (
        "import queue, threading\n"
        "def run():\n    stop = object()\n    q = queue.Queue()\n"
        "    def c():\n        while q.get() is not stop:\n            pass\n"
        "    t = threading.Thread(target=c)\n    t.start()\n    q.put(None)\n"
        "    q.put(stop)\n    t.join()\nrun()\n"
    )
    spec = draft(src)
    assert "let stop = event()" in spec and "send q, stop" in spec
    assert verdict_of(spec) == "ok"


def test_partial_and_default_arguments_name_their_objects() -> None:
    src = (
        "import functools, threading\nA = threading.Lock()\nB = threading.Lock()\n"
        "def w(x=A, y=B):\n    with x:\n        with y:\n            pass\n"
        "t = threading.Thread(target=functools.partial(w, B, y=A))\nt.start()\nw()\nt.join()\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert made.assumptions == ()
    assert verdict_of(made.text) == "deadlock"


def test_a_dict_lookup_by_data_is_an_if_per_key() -> None:
    src = (
        "import threading\nlocks = {'a': threading.Lock(), 'b': threading.Lock()}\n"
        "def w(k):\n    with locks[k]:\n        pass\n"
        "t = threading.Thread(target=w, args=('a',))\nt.start()\nw('b')\nt.join()\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert made.assumptions == ()
    assert 'if k == "a" {' in made.text
    assert verdict_of(made.text) == "ok"


def test_code_after_a_try_with_a_dict_lookup_is_drafted() -> None:
    src = (
        "import threading\nlocks = {'a': threading.Lock(), 'b': threading.Lock()}\n"
        "m = threading.Lock()\n"
        "def w(k):\n    try:\n        with locks[k]:\n            pass\n    finally:\n"
        "        pass\n    m.acquire()\n    m.acquire()\n"
        "t = threading.Thread(target=w, args=('a',))\nt.start()\nt.join()\n"
    )
    assert verdict_of(draft(src)) == "deadlock"


def test_a_context_manager_the_draft_cannot_follow_is_an_assumption() -> None:
    src = (
        "import threading\nlk = threading.Lock()\n"
        "def f(xs):\n    with next(iter(xs)):\n        pass\nf([lk])\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert [a.text for a in made.assumptions] == [
        "the context manager `next(iter(xs))` is assumed not to block"
    ]


def test_a_lookup_that_may_fail_under_acquire_may_leave_the_function() -> None:
    src = (
        "import threading\nlk = threading.Lock()\ncfg = {}\n"
        "def f():\n    lk.acquire()\n    v = cfg['k']\n    lk.release()\n"
        "def g():\n    lk.acquire()\n    v = 1 + 2\n    lk.release()\n"
        "try:\n    f()\nexcept KeyError:\n    pass\ng()\n"
    )
    text = draft(src)
    assert text.count('return err("raised")') == 1
    assert verdict_of(text) == "deadlock"


_DUNDER_USES = {
    "__str__": "str(k)",
    "__repr__": "f'{k!r}'",
    "__format__": "f'{k:>4}'",
    "__len__": "len(k)",
    "__eq__": "k == 1",
    "__lt__": "sorted([k, K()])",
    "__hash__": "hash(k)",
    "__bool__": "bool(k)",
    "__getitem__": "k[0]",
    "__iter__": "list(k)",
    "__add__": "k + 1",
    "__contains__": "1 in k",
}


@pytest.mark.parametrize("method", sorted(_DUNDER_USES))
def test_a_special_method_called_implicitly_is_drafted(method: str) -> None:
    src = (
        "import threading\nlk = threading.Lock()\n"
        f"class K:\n    def {method}(self, *a):\n        with lk:\n            return 1\n"
        f"def f():\n    k = K()\n    with lk:\n        x = {_DUNDER_USES[method]}\n"
        "t = threading.Thread(target=f)\nt.start()\nt.join()\n"
    )
    text = draft(src)
    assert "call K_" in text
    assert verdict_of(text) == "deadlock"


def test_a_lock_read_from_globals_by_name_is_the_lock() -> None:
    src = (
        "import threading\nlk = threading.Lock()\n"
        "def f():\n    with globals()['lk']:\n        with lk:\n            pass\n"
        "t = threading.Thread(target=f)\nt.start()\nt.join()\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert made.assumptions == ()
    assert verdict_of(made.text) == "deadlock"


def test_a_list_changed_after_a_function_looped_over_it_is_an_assumption() -> None:
    src = (
        "import threading\nlk = threading.Lock()\n"
        "class Bus:\n    def __init__(self):\n        self.subs = []\n"
        "    def subscribe(self, cb):\n        self.subs.append(cb)\n"
        "    def publish(self):\n        with lk:\n            for cb in self.subs:\n"
        "                cb()\n"
        "def handler():\n    pass\n"
        "bus = Bus()\nt = threading.Thread(target=bus.publish)\nt.start()\n"
        "bus.subscribe(handler)\nt.join()\n"
    )
    made = draft_python([SourceText("app.py", src)], DraftOptions())
    assert [a.text for a in made.assumptions] == [
        "`self.subs.append(cb)` changes a list that code drafted before it loops over: "
        "assumed not to matter there"
    ]
