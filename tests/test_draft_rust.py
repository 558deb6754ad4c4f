"""The Rust/PyO3 drafter: every fixture under tests/cases/draft/rust drafts to its golden
spec, which parses, checks, and gives the verdict the fixture's first line states (the
real program's behaviour); plus unit tests of single constructs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CASES

from gilcheck.draft.model import Draft, DraftError, DraftOptions, SourceText
from gilcheck.draft.rust import draft_rust, entry_points
from gilcheck.draft.rust.crate import collect
from gilcheck.draft.rust.parse import parse_rust
from gilcheck.options import CheckOptions
from gilcheck.pipeline import check_spec, parse_text
from gilcheck.trace.model import CheckResult

FIXTURES = sorted((CASES / "draft" / "rust").glob("*.rs"))
SEED = CASES / "draft" / "rust" / "seed_buggy.rs"


def draft_file(path: Path, options: DraftOptions | None = None) -> Draft:
    return draft_rust([SourceText(path.name, path.read_text())], options or DraftOptions())


def draft_text(code: str, options: DraftOptions | None = None) -> Draft:
    return draft_rust([SourceText("main.rs", code)], options or DraftOptions())


def check(draft: Draft, name: str = "drafted.gil") -> CheckResult:
    return check_spec(parse_text(name, draft.text), CheckOptions())


def verdict_of(path: Path) -> str:
    match = re.match(r"//\s*verdict:\s*([a-z]+)", path.read_text())
    assert match, f"{path.name} has no `// verdict:` first line"
    return match.group(1)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_drafts_to_its_golden_spec_and_real_verdict(path: Path, golden) -> None:  # type: ignore[no-untyped-def]
    draft = draft_file(path)
    golden(f"draft/rust/{path.stem}.gil", draft.text)
    assert "\nexpect " not in draft.text
    assert draft.text.startswith(f"# Drafted from {path.name} by gilcheck draft\n")
    result = check(draft, f"{path.stem}.gil")
    assert result.verdict == verdict_of(path), result.message
    if result.verdict == "ok":
        # an `ok` says so only under the assumptions listed in the header
        assert ("#@ assume" in draft.text) == bool(draft.assumptions)


def test_the_seed_deadlocks_through_stdouts_lock_traced_to_main_rs() -> None:
    draft = draft_text(SEED.read_text())  # the seed's crate: src/main.rs
    result = check(draft, "seed.gil")
    assert result.verdict == "deadlock"
    assert result.trace is not None
    waits = " ".join(f"{w.waits_for} {' '.join(w.holds)}" for w in result.trace.waits)
    assert "stdout's lock" in waits
    assert "the GIL" in waits
    # every step's spec line maps, through its `#@` annotation, to a line of the source
    lines = draft.text.splitlines()
    source = SEED.read_text().splitlines()
    mapped = []
    where = [s.location for s in result.trace.steps] + [w.location for w in result.trace.waits]
    for location in where:
        spec_line = lines[location.line - 1]
        found = re.search(r"#@ main\.rs:(\d+):\d+ ~[0-9a-f]{8}$", spec_line)
        assert found, spec_line
        mapped.append(int(found.group(1)))
    assert all(1 <= n <= len(source) for n in mapped)
    printed = [source[n - 1].strip() for n in mapped]
    assert 'println!("{ret:?}");' in printed
    assert 'println!("after send: {send:?}");' in printed


def test_each_seed_variant_drafts_to_its_measured_verdict() -> None:
    measured = {
        "seed_buggy": "deadlock",
        "seed_fixed_published": "deadlock",
        "seed_fixed": "ok",
        "seed_ok_value": "ok",
        "seed_no_gil": "ok",
        "seed_string_error": "ok",
    }
    for name, verdict in measured.items():
        path = CASES / "draft" / "rust" / f"{name}.rs"
        assert check(draft_file(path)).verdict == verdict, name


def test_an_unknown_call_is_skipped_as_an_assumption_quoting_it() -> None:
    draft = draft_text('fn main() {\n    let client = make();\n    client.fetch("x");\n}\n')
    texts = [a.text for a in draft.assumptions]
    assert 'assumed not to block: `client.fetch("x")`' in texts
    assert [a.origin.line for a in draft.assumptions if "fetch" in a.text] == [3]
    assert "#@ assume main.rs:3:5" in draft.text
    assert check(draft).verdict == "ok"


def test_a_branch_on_data_is_a_choice() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static M: Mutex<i32> = Mutex::new(0);\n"
        "fn main() {\n"
        "    if ready() {\n"
        "        let g = M.lock().unwrap();\n"
        "    } else {\n"
        '        println!("later");\n'
        "    }\n"
        "}\n"
    )
    assert re.search(r"choose \{ +#@ main\.rs:4:5", draft.text)
    assert "} or {" in draft.text
    assert "lock M {" in draft.text


def test_a_syntax_error_is_located() -> None:
    with pytest.raises(DraftError) as info:
        draft_text("fn main() {\n    let x = ;\n}\n")
    err = info.value
    assert (err.path, err.line, err.code, err.refused) == ("main.rs", 2, "source-syntax", False)
    assert err.column >= 1


def test_a_guard_is_released_at_the_end_of_its_block() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static M: Mutex<i32> = Mutex::new(0);\n"
        "fn main() {\n"
        "    {\n"
        "        let mut g = M.lock().unwrap();\n"
        "        *g += 1;\n"
        '        println!("held");\n'
        "    }\n"
        '    println!("free");\n'
        "}\n"
    )
    body = [line.split("#@")[0].strip() for line in draft.text.splitlines()]
    start = body.index("lock M {")
    assert body[start : start + 4] == ["lock M {", "M_data = M_data + (1)", 'print "held"', "}"]
    assert body.index('print "free"') == start + 4


def test_a_temporary_guard_is_held_for_its_statement_only() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static M: Mutex<i32> = Mutex::new(0);\n"
        "fn main() {\n"
        "    *M.lock().unwrap() += 1;\n"
        '    println!("after");\n'
        "}\n"
    )
    body = [line.split("#@")[0].strip() for line in draft.text.splitlines()]
    start = body.index("lock M {")
    assert body[start : start + 4] == ["lock M {", "M_data = M_data + (1)", "}", 'print "after"']


def test_a_dropped_guard_is_released_where_it_is_dropped() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static M: Mutex<i32> = Mutex::new(0);\n"
        "fn main() {\n"
        "    let g = M.lock().unwrap();\n"
        "    drop(g);\n"
        '    println!("after");\n'
        "}\n"
    )
    body = [line.split("#@")[0].strip() for line in draft.text.splitlines()]
    assert body.count("release M") == 1
    assert body.index("release M") < body.index('print "after"')


def test_a_spawned_closure_is_a_fn_of_its_captured_variables() -> None:
    draft = draft_text(
        "use std::sync::mpsc;\n"
        "fn main() {\n"
        "    let (tx, rx) = mpsc::channel();\n"
        "    let n = 3;\n"
        "    let h = std::thread::spawn(move || {\n"
        "        let local = 1;\n"
        "        tx.send(n + local).unwrap();\n"
        "    });\n"
        "    let v = rx.recv().unwrap();\n"
        "    h.join().unwrap();\n"
        "}\n"
    )
    assert re.search(r"let h = spawn (main_thread_1)\(tx, n\)", draft.text)
    assert "fn main_thread_1(tx, n) {" in draft.text
    assert check(draft).verdict == "ok"


def test_loops_over_unknown_data_are_bounded_by_unroll() -> None:
    code = 'fn main() {\n    for x in items() {\n        println!("{x}");\n    }\n}\n'
    draft = draft_text(code, DraftOptions(unroll=3))
    assert "< 3" in draft.text
    assert any("runs at most 3 times" in a.text for a in draft.assumptions)


def test_calls_beyond_the_inlining_depth_are_assumptions() -> None:
    code = 'fn a() { b(); }\nfn b() { c(); }\nfn c() { println!("c"); }\nfn main() { a(); }\n'
    deep = draft_text(code, DraftOptions(inline_depth=4))
    shallow = draft_text(code, DraftOptions(inline_depth=1))
    assert "fn c()" in deep.text and not deep.assumptions
    assert "fn c()" not in shallow.text
    assert any("inlining depth" in a.text for a in shallow.assumptions)


def test_keywords_are_renamed() -> None:
    draft = draft_text("fn main() {\n    let send = 1;\n    let lock = send + 1;\n}\n")
    assert "let send_ = 1" in draft.text
    assert "let lock_ = send_ + 1" in draft.text


def test_extension_entries_found_automatically_or_named() -> None:
    path = CASES / "draft" / "rust" / "pymethods_lock.rs"
    src = SourceText(path.name, path.read_text())
    crate = collect([(src, parse_rust(src).root_node)])
    assert [f.name for f in entry_points(crate, DraftOptions(), src)] == ["refresh", "size"]
    named = draft_file(path, DraftOptions(entries=("size", "size")))
    assert named.text.count("spawn python_thread_Store_size()") == 2
    assert check(named).verdict == "ok"


def test_an_extension_without_entries_is_refused() -> None:
    with pytest.raises(DraftError) as info:
        draft_text("fn helper() -> i32 { 1 }\n")
    assert info.value.refused and info.value.code == "no-entry"


def test_rust_shadowing_in_one_block_gets_a_fresh_spec_name() -> None:
    draft = draft_text(
        "use std::sync::{mpsc, Arc, Mutex};\n"
        "fn main() {\n"
        "    let (tx, rx) = mpsc::channel::<i32>();\n"
        "    let rx = Arc::new(Mutex::new(rx));\n"
        "    let n = 1;\n"
        "    let n = n + 1;\n"
        "}\n"
    )
    assert "let rx_1 = mutex()" in draft.text
    assert "let n_1 = n + 1" in draft.text
    assert check(draft).verdict == "ok"


def test_a_failed_send_is_tested_and_a_spawn_is_taken_to_succeed() -> None:
    draft = draft_text(
        "use std::sync::mpsc;\n"
        "fn main() {\n"
        "    let (tx, rx) = mpsc::channel::<i32>();\n"
        "    drop(rx);\n"
        "    if let Err(e) = tx.send(1) {\n"
        '        panic!("receiver gone");\n'
        "    }\n"
        "    if let Err(e) = std::thread::Builder::new().spawn(|| {}) {\n"
        '        panic!("no thread");\n'
        "    }\n"
        "}\n"
    )
    assert re.search(r"if is_err\(tmp_\d+\)", draft.text)
    assert "no thread" not in draft.text
    result = check(draft)
    assert result.verdict == "panic" and "receiver gone" in result.message


def test_debug_of_an_unbound_py_prints_a_pointer_but_display_and_pyerr_take_the_gil() -> None:
    draft = draft_text(
        "use pyo3::prelude::*;\n"
        "fn show(obj: Py<PyAny>, err: PyErr) {\n"
        '    println!("{obj:?}");\n'
        '    println!("{}", obj);\n'
        '    println!("{:?}", err);\n'
        "}\n"
        "fn main() { show(make(), fail()); }\n"
    )
    body = [line.split("#@")[0].strip() for line in draft.text.splitlines()]
    assert body[body.index("fn show(obj, err) {") + 1 :][:3] == [
        'print "{obj:?}"',
        "print obj",
        "print err",
    ]


def test_a_crate_of_several_files_drafts_one_spec_with_each_files_origins() -> None:
    main = "mod worker;\nfn main() {\n    let h = std::thread::spawn(|| worker::run());\n    h.join().unwrap();\n}\n"
    worker = 'use pyo3::prelude::*;\npub fn run() {\n    Python::with_gil(|py| {\n        println!("hi");\n    });\n}\n'
    draft = draft_rust(
        [SourceText("src/main.rs", main), SourceText("src/worker.rs", worker)], DraftOptions()
    )
    assert draft.text.startswith("# Drafted from main.rs, worker.rs by gilcheck draft\n")
    assert "#@ src/main.rs:3:5" in draft.text
    assert "#@ src/worker.rs:3:5" in draft.text
    assert check(draft).verdict == "ok"


def test_a_drop_impl_that_takes_a_lock_is_an_assumption() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static M: Mutex<i32> = Mutex::new(0);\n"
        "struct Guarded;\n"
        "impl Drop for Guarded {\n"
        "    fn drop(&mut self) {\n"
        "        *M.lock().unwrap() += 1;\n"
        "    }\n"
        "}\n"
        "fn main() {\n"
        "    let g = Guarded;\n"
        "}\n"
    )
    assert [(a.origin.line, a.text) for a in draft.assumptions] == [
        (5, "the Drop of `Guarded` is not drafted: assumed not to block")
    ]


def test_a_closure_kept_in_a_variable_is_drafted_where_it_runs() -> None:
    draft = draft_text(
        "fn main() {\n"
        '    let work = || println!("hi");\n'
        "    let h = std::thread::spawn(work);\n"
        "    h.join().unwrap();\n"
        "    work();\n"
        "}\n"
    )
    assert "let h = spawn main_thread_1()" in draft.text
    assert len(re.findall(r'print "hi"', draft.text)) == 2
    assert not draft.assumptions


def test_a_thread_running_a_closure_passed_in_is_refused() -> None:
    with pytest.raises(DraftError) as info:
        draft_text(
            "fn run(work: impl Fn() + Send + 'static) {\n"
            "    let h = std::thread::spawn(work);\n"
            "    h.join().unwrap();\n"
            "}\n"
            "fn main() {\n"
            '    run(|| println!("hi"));\n'
            "}\n"
        )
    err = info.value
    assert (err.refused, err.code, err.line) == (True, "unsupported-construct", 2)
    assert err.hint


def test_crossbeam_scope_joins_its_threads_at_its_end() -> None:
    draft = draft_text(
        "fn main() {\n"
        "    crossbeam::scope(|s| {\n"
        '        s.spawn(|_| println!("a"));\n'
        "    }).unwrap();\n"
        '    println!("after");\n'
        "}\n"
    )
    body = [line.split("#@")[0].strip() for line in draft.text.splitlines()]
    assert body.index("join handle_1") < body.index('print "after"')


def test_a_main_that_returns_early_runs_as_a_spec_fn() -> None:
    draft = draft_text(
        "fn main() {\n"
        "    if std::env::args().count() > 1 {\n"
        "        return;\n"
        "    }\n"
        '    println!("done");\n'
        "}\n"
    )
    assert "thread main {\n    call rust_main()" in draft.text
    assert "fn rust_main() {" in draft.text
    assert check(draft).verdict == "ok"


def test_a_labelled_break_out_of_an_outer_loop_is_refused() -> None:
    inner = "fn main() {\n    'a: loop {\n        break 'a;\n    }\n}\n"
    assert "break" in draft_text(inner).text
    with pytest.raises(DraftError) as info:
        draft_text(
            "fn main() {\n    'a: loop {\n        loop {\n            break 'a;\n        }\n    }\n}\n"
        )
    assert (info.value.refused, info.value.line) == (True, 4)


def test_a_crate_fn_passed_by_name_is_called_where_it_runs() -> None:
    draft = draft_text(
        "use pyo3::prelude::*;\n"
        "use std::thread;\n"
        "fn work(x: i64) -> i64 { Python::with_gil(|py| 1) }\n"
        "fn body(py: Python<'_>) -> i64 { 2 }\n"
        "fn free() -> i64 { 3 }\n"
        "fn main() {\n"
        "    let h = thread::spawn(free);\n"
        "    Python::with_gil(body);\n"
        "    Python::with_gil(|py| {\n"
        "        let v: Vec<i64> = vec![1, 2].into_iter().map(work).collect();\n"
        "        py.allow_threads(free);\n"
        "    });\n"
        "    h.join().unwrap();\n"
        "}\n"
    )
    assert "let h = spawn free()" in draft.text
    assert re.search(r"with_gil \{ +#@ main\.rs:8:5.*\n +call body\(\)", draft.text)
    assert "call work(none)" in draft.text
    assert re.search(r"allow_threads \{ .*\n +tmp_\d+ = call free\(\)", draft.text)


def test_a_call_nested_in_an_expression_is_drafted_first() -> None:
    draft = draft_text(
        "fn f() -> i64 { 1 }\n"
        "fn g(x: i64) -> i64 { x }\n"
        "fn main() {\n"
        "    let a = f().abs() + g(f()) * 2;\n"
        '    let s = format!("{}", f());\n'
        "    let v = vec![f()];\n"
        "    let b = !f().is_positive();\n"
        "}\n"
    )
    calls = re.findall(r"call (f|g)\(", draft.text)
    assert calls == ["f", "f", "g", "f", "f", "f"]


def test_block_on_waits_for_its_future_or_assumes_it() -> None:
    draft = draft_text(
        "use tokio::sync::oneshot;\n"
        "async fn fetch() -> i64 { 1 }\n"
        "fn main() {\n"
        "    let rt = tokio::runtime::Runtime::new().unwrap();\n"
        "    let (tx, rx) = oneshot::channel::<i64>();\n"
        "    let a = rt.block_on(rx).unwrap();\n"
        "    let b = rt.block_on(rt.spawn(async { 2 })).unwrap();\n"
        "    let c = rt.block_on(fetch());\n"
        "    let fut = make_future();\n"
        "    let d = rt.block_on(fut);\n"
        "}\n"
    )
    assert "let a = recv rx" in draft.text
    assert re.search(r"let (handle_\d+) = spawn main_task_\d+\(\) .*\n +join \1 ", draft.text)
    assert "let c = call fetch()" in draft.text
    texts = [a.text for a in draft.assumptions]
    assert any("the future given to `rt.block_on(fut)` is not followed" in t for t in texts)


def test_a_result_is_returned_and_matched_by_its_arm() -> None:
    draft = draft_text(
        "use pyo3::exceptions::PyValueError;\n"
        "use pyo3::prelude::*;\n"
        "fn check(n: i64) -> PyResult<i64> {\n"
        '    if n > 3 { Ok(n) } else { Err(PyValueError::new_err("small")) }\n'
        "}\n"
        "fn main() {\n"
        "    if let Err(e) = check(5) {\n"
        '        println!("{e}");\n'
        "    }\n"
        "}\n"
    )
    assert "return ok(n)" in draft.text
    assert 'return err(pyerr("small"))' in draft.text
    assert re.search(r"if not is_err\((msg|tmp)_\d+\)", draft.text)
    assert re.search(r"if arm_\d+ == 1 \{ .*\n +print (msg|tmp)_\d+", draft.text)


def test_loop_conditions_iterables_guards_and_break_values_are_drafted() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static Q: Mutex<Vec<i64>> = Mutex::new(Vec::new());\n"
        "fn more() -> bool { true }\n"
        "fn work(x: i64) {}\n"
        "fn main() {\n"
        "    while let Some(job) = Q.lock().unwrap().pop() {\n"
        "        work(job);\n"
        "    }\n"
        "    while more() {}\n"
        "    for x in Q.lock().unwrap().iter() {\n"
        "        work(*x);\n"
        "    }\n"
        "    let y = loop { break more(); };\n"
        "    match Some(1) { Some(x) if more() => {}, _ => {} }\n"
        "}\n"
    )
    body = draft.text.split("thread main {", 1)[1].split("\nfn ", 1)[0]
    lines = [line.split("#@")[0].strip() for line in body.splitlines()]
    # the while-let's guard is held through the body, released on each way out
    first = lines.index("acquire Q")
    assert lines[first : first + 8] == [
        "acquire Q",
        "choose {",
        "skip",
        "} or {",
        "release Q",
        "break",
        "}",
        "let job = none",
    ]
    assert lines[first + 8 : first + 10] == ["call work(job)", "release Q"]
    assert len(re.findall(r"call more\(\)", body)) == 3
    # the for loop's iterable keeps its guard to the loop's end
    second = lines.index("acquire Q", first + 1)
    assert lines.index("release Q", second) > lines.index("call work(none)", second) + 1


def test_a_lazy_initializer_by_name_and_an_awaited_task_are_drafted() -> None:
    draft = draft_text(
        "use once_cell::sync::Lazy;\n"
        'fn build() -> String { String::from("x") }\n'
        "static NAME: Lazy<String> = Lazy::new(build);\n"
        "async fn fetch() -> i64 {\n"
        "    tokio::task::spawn_blocking(|| 5).await.unwrap()\n"
        "}\n"
        "fn main() {\n"
        '    println!("{}", NAME.len());\n'
        "    let rt = tokio::runtime::Runtime::new().unwrap();\n"
        "    rt.block_on(fetch());\n"
        "}\n"
    )
    assert re.search(r"call_once NAME \{ .*\n +call build\(\)", draft.text)
    assert re.search(r"let (handle_\d+) = spawn fetch_task_\d+\(\) .*\n +join \1 ", draft.text)


def test_dbg_and_log_format_their_values_and_an_untyped_method_call_is_followed() -> None:
    draft = draft_text(
        "struct Worker { id: i64 }\n"
        "impl Worker {\n"
        "    fn run(&self) -> i64 { self.id }\n"
        "}\n"
        "fn make() -> i64 { 1 }\n"
        "fn main() {\n"
        "    let w = get_worker();\n"
        "    let v = dbg!(make());\n"
        '    log::error!("failed: {}", v);\n'
        "    w.run();\n"
        "}\n"
    )
    assert re.search(
        r"let (tmp_\d+) = call make\(\).*\n +lock rust_stderr \{.*\n +let formatted_\d+ = clone \1",
        draft.text,
    )
    assert re.search(r"let formatted_\d+ = clone v ", draft.text)
    assert "call Worker_run()" in draft.text
    texts = [a.text for a in draft.assumptions]
    assert "`w.run()` is assumed to call `Worker::run`" in texts


def test_a_return_in_an_adaptors_closure_goes_on_with_the_next_element() -> None:
    draft = draft_text(
        "fn f() {}\n"
        "fn main() {\n"
        "    let xs = vec![1, 2];\n"
        "    xs.iter().for_each(|x| {\n"
        "        if *x > 1 { return; }\n"
        "        f();\n"
        "    });\n"
        '    println!("after");\n'
        "}\n"
    )
    body = draft.text.split("thread main {", 1)[1].split("\nfn ", 1)[0]
    lines = [line.split("#@")[0].strip() for line in body.splitlines()]
    assert "continue" in lines
    assert "return" not in lines
    assert lines.index('print "after"') > lines.index("call f()")


def test_a_function_declared_inside_a_function_is_a_crate_function() -> None:
    draft = draft_text(
        "fn main() {\n"
        "    fn helper() -> i64 { 1 }\n"
        "    let h = std::thread::spawn(helper);\n"
        "    h.join().unwrap();\n"
        "}\n"
    )
    assert "let h = spawn helper()" in draft.text
    assert "fn helper() {" in draft.text


def test_the_error_of_a_result_keeps_its_value_through_adaptors() -> None:
    draft = draft_text(
        "use pyo3::exceptions::PyValueError;\n"
        "use pyo3::prelude::*;\n"
        "fn check(n: i64) -> PyResult<i64> {\n"
        '    if n > 3 { Ok(n) } else { Err(PyValueError::new_err("small")) }\n'
        "}\n"
        "fn main() {\n"
        "    let e = check(1).map(|v| v + 1).unwrap_err();\n"
        "    let h = std::thread::spawn(move || e.to_string());\n"
        "    h.join().unwrap();\n"
        "}\n"
    )
    assert re.search(r"let (tmp_\d+) = call check\(1\).*\n +let e = \1 ", draft.text)
    assert re.search(r"fn main_thread_\d+\(e\) \{.*\n +let formatted_\d+ = clone e ", draft.text)


def test_a_struct_field_holding_a_pyerr_takes_the_gil_to_format() -> None:
    draft = draft_text(
        "use pyo3::prelude::*;\n"
        "struct Failure { err: PyErr, obj: Py<PyAny>, code: i64 }\n"
        "impl Failure {\n"
        '    fn show(&self) { println!("{}", self.obj); }\n'
        '    fn describe(&self) -> String { format!("{}: {}", self.code, self.err) }\n'
        "}\n"
        "fn main() {\n"
        "    let f = get();\n"
        "    f.describe();\n"
        "    f.show();\n"
        "}\n"
    )
    assert re.search(r"fn Failure_describe\(\) \{.*\n +with_gil \{", draft.text)
    assert re.search(r'fn Failure_show\(\) \{.*\n +print pyerr\("', draft.text)


def test_a_handle_from_a_collection_the_draft_does_not_follow_is_an_assumption() -> None:
    draft = draft_text(
        "fn step() -> i64 { 1 }\n"
        "fn main() {\n"
        "    let items = load();\n"
        "    let hs: Vec<_> = items.iter().map(|_| std::thread::spawn(|| step())).collect();\n"
        "    for h in hs { h.join().unwrap(); }\n"
        "}\n"
    )
    assert "join h" not in draft.text
    texts = [a.text for a in draft.assumptions]
    assert "the channel or thread of `h.join()` is not followed" in texts


def test_threads_spawned_over_a_literal_range_are_collected_and_joined() -> None:
    draft = draft_text(
        "fn step(i: i64) -> i64 { i }\n"
        "fn main() {\n"
        "    let hs: Vec<_> = (0..2).map(|i| std::thread::spawn(move || step(i))).collect();\n"
        "    for h in hs { h.join().unwrap(); }\n"
        "}\n"
    )
    body = draft.text.split("thread main {", 1)[1].split("\nfn ", 1)[0]
    lines = [line.split("#@")[0].strip() for line in body.splitlines() if line.strip()]
    assert lines[:3] == ["let handle_1 = none", "let i_1 = 0", "handle_1 = spawn step(i_1)"]
    assert lines[4:6] == ["let i_2 = 1", "handle_2 = spawn step(i_2)"]
    assert lines[-3:-1] == ["join handle_1", "join handle_2"]
    assert check(draft).verdict == "ok"


def test_turbofish_paths_and_methods_taking_py_are_recognised() -> None:
    draft = draft_text(
        "use pyo3::prelude::*;\n"
        "fn main() {\n"
        "    let v = Vec::<i64>::new();\n"
        "    Python::with_gil(|py| {\n"
        "        let obj = py.None();\n"
        "        let n = obj.extract::<i64>(py);\n"
        '        let s = "x".into_py(py).extract::<String>(py);\n'
        "    });\n"
        "}\n"
    )
    assert not draft.assumptions
    assert re.search(r'let n = pyobj\("obj\.extract', draft.text)


def test_a_guard_matched_by_ok_is_held_through_its_arm() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static M: Mutex<i64> = Mutex::new(0);\n"
        "fn f() {}\n"
        "fn main() {\n"
        "    match M.lock() {\n"
        "        Ok(guard) => { f(); }\n"
        "        Err(_) => {}\n"
        "    }\n"
        "    if let Ok(g) = M.lock() {\n"
        "        f();\n"
        "    }\n"
        "}\n"
    )
    body = draft.text.split("thread main {", 1)[1].split("\nfn ", 1)[0]
    lines = [line.split("#@")[0].strip() for line in body.splitlines() if line.strip()]
    assert lines[:4] == ["lock M {", "call f()", "}", "lock M {"]


def test_writeln_to_stdout_prints_and_to_stderr_takes_its_lock() -> None:
    draft = draft_text(
        "use std::io::Write;\n"
        "fn main() {\n"
        '    let e = pyo3::exceptions::PyValueError::new_err("x");\n'
        '    writeln!(std::io::stdout(), "{:?}", e).unwrap();\n'
        '    writeln!(std::io::stderr(), "{}", e).unwrap();\n'
        "}\n"
    )
    assert re.search(r"print e +#@ main\.rs:4:", draft.text)
    assert re.search(r"lock rust_stderr \{ .*\n +with_gil \{", draft.text)


def test_an_adaptor_over_collected_handles_runs_for_each_handle() -> None:
    draft = draft_text(
        "fn main() {\n"
        "    let parts: Vec<i64> = (0..2)\n"
        "        .map(|i| std::thread::spawn(move || i))\n"
        "        .map(|h| h.join().unwrap())\n"
        "        .collect();\n"
        "}\n"
    )
    assert "join handle_1" in draft.text and "join handle_2" in draft.text
    assert not draft.assumptions


def test_a_guard_taken_out_of_a_match_by_a_let_is_held_by_it() -> None:
    draft = draft_text(
        "use std::sync::Mutex;\n"
        "static M: Mutex<i64> = Mutex::new(0);\n"
        "fn f() {}\n"
        "fn main() {\n"
        "    let guard = match M.lock() {\n"
        "        Ok(g) => g,\n"
        "        Err(p) => p.into_inner(),\n"
        "    };\n"
        "    f();\n"
        "    drop(guard);\n"
        "}\n"
    )
    body = draft.text.split("thread main {", 1)[1].split("\nfn ", 1)[0]
    lines = [line.split("#@")[0].strip() for line in body.splitlines() if line.strip()]
    assert lines[:3] == ["acquire M", "call f()", "release M"]
