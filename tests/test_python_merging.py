"""Python code's pure statements (over the thread's own locals) are merged into the step
before while the thread holds the GIL: the GIL is handed over at the boundary after them
instead of before them (docs/speed.md, "Merging in Python code"). Through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Two workers count under a lock in a Python loop; main reads the count in Python code.
WITH_LOCALS = """\
mutex m
var done = 0
thread worker[2] {
    python {
        let a = 0
        while a < 2 {
            lock m {
                done = done + 1
            }
            a = a + 1
        }
    }
}
thread main {
    with_gil {
        python {
            let seen = 0
            if seen == 0 {
                seen = 1
            }
            print done
        }
    }
}
"""

# The same program with its loop unrolled and its branch left out.
WITHOUT_LOCALS = """\
mutex m
var done = 0
thread worker[2] {
    python {
        let a = 0
        lock m {
            done = done + 1
        }
        lock m {
            done = done + 1
        }
    }
}
thread main {
    with_gil {
        python {
            let seen = 0
            print done
        }
    }
}
"""


def _check(cli, tmp_path: Path, text: str, *options: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """`gilcheck check -f json` of a spec with this text: its report, and `exit`."""
    spec = tmp_path / f"spec{len(list(tmp_path.glob('spec*.gil')))}.gil"
    spec.write_text(text)
    result = cli("check", "-f", "json", "--no-expect", *options, str(spec))
    report: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    report["exit"] = result.code
    return report


def _costs_no_states(cli, tmp_path: Path, merged: str, plain: str) -> int:  # type: ignore[no-untyped-def]
    """A spec `merged` has as many states as `plain`, the same without what merging folds
    into the step before (with and without symmetry); both are ok. Its state count."""
    for options in (("--no-symmetry",), ()):
        with_steps, without = (
            _check(cli, tmp_path, merged, *options),
            _check(cli, tmp_path, plain, *options),
        )
        assert with_steps["verdict"] == without["verdict"] == "ok"
        assert with_steps["states"] == without["states"]
    states: int = with_steps["states"]
    return states


def test_pure_python_statements_cost_no_states(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    states = _costs_no_states(cli, tmp_path, WITH_LOCALS, WITHOUT_LOCALS)
    # Without merging, every statement boundary is a handover point.
    full = _check(cli, tmp_path, WITH_LOCALS, "--no-por")
    assert full["verdict"] == "ok"
    assert full["states"] > 3 * states


# The worker holds m in Python code; main, in native code holding the GIL, waits for m: the
# GIL must still be handed over before the release of m (a release is not merged in
# Python code), whatever pure statements come before it.
RELEASE_AFTER_PURE = """\
mutex m
var ready = 0
thread worker {
    python {
        lock m {
            ready = 1
            let a = 1
            a = a + 1
        }
        let b = 0
    }
}
thread main {
    await ready == 1
    with_gil {
        lock m {
            skip
        }
    }
}
"""


@pytest.mark.parametrize("options", [(), ("--no-por",), ("--stubborn-sets",)])
def test_the_gil_is_still_handed_over_before_a_release_in_python_code(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, options: tuple[str, ...]
) -> None:
    report = _check(cli, tmp_path, RELEASE_AFTER_PURE, *options)
    assert report["verdict"] == "deadlock" and report["exit"] == 1
    saved = tmp_path / "trace.json"
    saved.write_text(json.dumps(report))
    replay_options = [o for o in options if o == "--no-por"]  # as the check ran
    assert cli("replay", *replay_options, str(saved)).code == 0


# The worker spins for ever in Python code over its own locals once it has set `started`;
# main then takes the GIL: the eval loop must hand it over inside the loop.
PURE_LOOP = """\
var started = 0
thread spinner {
    python {
        started = 1
        let a = 0
        while true {
            a = (a + 1) % 2
        }
    }
}
thread main {
    await started == 1
    with_gil {
        assert false, "main took the GIL"
    }
}
"""


@pytest.mark.parametrize("options", [(), ("--no-por",)])
def test_a_pure_python_loop_still_hands_the_gil_over(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, options: tuple[str, ...]
) -> None:
    report = _check(cli, tmp_path, PURE_LOOP, *options)
    assert report["verdict"] == "assertion", report["verdict"]
    assert "main took the GIL" in report["message"]


def test_no_merging_in_python_code_where_a_finalizer_may_start(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # A finalizer may start at any boundary of Python code: each stays a step of its own.
    finalizer = "finalizer {\n    skip\n}\n"
    merged = _check(cli, tmp_path, WITH_LOCALS + finalizer)
    unrolled = _check(cli, tmp_path, WITHOUT_LOCALS + finalizer)
    assert merged["verdict"] == unrolled["verdict"] == "ok"
    assert merged["states"] > unrolled["states"]


# main drops its sender at the end of a scope in Python code; the reader, holding the GIL
# in native code, waits on the channel once main is inside. The GIL may be handed over
# before that scope's end (the drop closes the channel, which others see): a deadlock.
DROP_IN_PYTHON = """\
var inside = 0
thread main {
    let (tx, rx) = channel(1)
    spawn reader(rx)
    python {
        inside = 1
        let t = tx
        skip
    }
}
fn reader(rx) {
    await inside == 1
    with_gil {
        let v = recv rx
    }
}
"""


# The same drop, and the reader waits without the GIL: the channel closes, all end.
CLOSE_IN_PYTHON = """\
thread main {
    let (tx, rx) = channel(1)
    let h = spawn reader(rx)
    python {
        let t = tx
        skip
    }
    join h
}
fn reader(rx) {
    let v = recv rx
}
"""


@pytest.mark.parametrize("options", [(), ("--no-por",)])
def test_a_scope_end_that_drops_a_handle_in_python_code_stays_a_step(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, options: tuple[str, ...]
) -> None:
    assert _check(cli, tmp_path, DROP_IN_PYTHON, *options)["verdict"] == "deadlock"
    assert _check(cli, tmp_path, CLOSE_IN_PYTHON, *options)["verdict"] == "ok"


# A helper called in a loop, against the same loop with the helper's work inlined: a call
# and a return that pass plain data are merged like local steps (native and Python code).
CALLS = """\
mutex m
var total = 0
thread worker[2] {
    let i = 0
    while i < 2 {
        i = call next(i)
        lock m {
            total = total + 1
        }
    }
}
fn next(k) {
    return k + 1
}
thread main {
    python {
        let n = 0
        n = call next(n)
        print total
    }
}
"""

INLINED = (
    CALLS.replace("i = call next(i)", "i = i + 1")
    .replace("n = call next(n)", "n = n + 1")
    .replace("fn next(k) {\n    return k + 1\n}\n", "")
)


def test_calls_that_pass_plain_data_cost_no_states(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    states = _costs_no_states(cli, tmp_path, CALLS, INLINED)
    assert _check(cli, tmp_path, CALLS, "--no-por")["states"] > 2 * states


# A sender passed to a helper is dropped when the helper returns: the receiver must see
# the channel close. A result stored into a shared var is seen by another thread: that
# return is a step of its own (merged, its write would be lost with the step before).
HANDLES_AND_SHARED = """\
var flag = 0
thread main {
    let (tx, rx) = channel(1)
    let h = spawn reader(rx)
    call finish(tx)
    join h
    let r = spawn watcher()
    flag = call one()
    join r
}
fn finish(t) {
    skip
}
fn one() {
    return 1
}
fn reader(rx) {
    let v = recv rx
}
fn watcher() {
    await flag == 1
}
"""


@pytest.mark.parametrize("options", [(), ("--no-por",), ("--no-step-table",)])
def test_calls_that_move_handles_or_write_shared_vars_stay_steps(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, options: tuple[str, ...]
) -> None:
    assert _check(cli, tmp_path, HANDLES_AND_SHARED, *options)["verdict"] == "ok"
    never_set = HANDLES_AND_SHARED.replace("return 1", "return 2")
    assert _check(cli, tmp_path, never_set, *options)["verdict"] == "deadlock"
