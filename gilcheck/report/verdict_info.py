"""What each verdict (and each rule id SARIF and `--format github` report) means, for
`gilcheck explain deadlock`: the same shape as a diagnostic code's explanation."""

from __future__ import annotations

from gilcheck.diagnostics import CodeInfo


def _info(code: str, summary: str, what: str, why: str, example: str) -> CodeInfo:
    return CodeInfo(code, summary, what, why, example.strip("\n"))


VERDICTS: dict[str, CodeInfo] = {
    info.code: info
    for info in [
        _info(
            "ok",
            "no violation in the whole state space (exit 0)",
            "Every interleaving of the spec was explored and none deadlocks, gets stuck, "
            "livelocks, fails an assertion, panics or misuses a primitive. For a drafted spec "
            "with assumptions the verdict reads `ok under N assumptions` and exits 3 until "
            "`--accept-assumptions`.",
            "It is a proof for the scenario as written, within the bounds the report states.",
            'mutex m\nthread main {\n    lock m {\n        print "hi"\n    }\n}',
        ),
        _info(
            "deadlock",
            "a reachable state where no thread can move and the program has not ended",
            "Every thread is blocked (on a lock, the GIL, a channel, a join, ...), ended or "
            "idle, and the program is not over. The report gives a shortest trace to that "
            "state and what each thread waits for (the wait-for chain, and its cycle).",
            "The real program hangs there for ever.",
            "mutex a\nmutex b\nthread main {\n    lock a {\n        lock b { skip }\n    }\n}\n"
            "thread other {\n    lock b {\n        lock a { skip }\n    }\n}",
        ),
        _info(
            "stuck",
            "a thread can never move again while others still run",
            "In every state of a set of states the program cannot leave (a terminal strongly "
            "connected component), some thread is blocked: a partial deadlock.",
            "A worker that waits for ever while the rest of the program spins or polls is a "
            "hang that no single state shows.",
            "event e\nthread main {\n    wait e\n}\n"
            "thread poller {\n    loop {\n        skip\n    }\n}",
        ),
        _info(
            "livelock",
            "the program can run for ever without running `progress`",
            "A set of states the program cannot leave, with at least one step and no thread "
            "blocked throughout, in which no `progress` statement runs (scheduling is weakly "
            "fair).",
            "Threads that keep retrying and never get work done burn CPU for ever.",
            "mutex m\nthread main {\n    loop {\n        let ok = try_acquire m\n    }\n}",
        ),
        _info(
            "assertion",
            "an `assert` can fail",
            'Some interleaving reaches an `assert c, "why"` with `c` false; the trace shows it.',
            "The property the spec states does not hold.",
            'var x = 0\nthread main {\n    x = 1\n    assert x == 0, "x was changed"\n}',
        ),
        _info(
            "panic",
            "a `panic`, a failed `unwrap`, an index out of range or an arithmetic error",
            "Some interleaving reaches a statement that panics.",
            "In Rust the thread unwinds (and poisons the locks it holds).",
            "thread main {\n    let v = none\n    let w = unwrap v\n}",
        ),
        _info(
            "misuse",
            "a primitive used against its rules",
            "Releasing a lock not held, using a moved handle, Python code without the GIL, "
            "completing a future twice, submitting after shutdown, a wrong kind reached at run "
            "time, ... (docs/language.md lists them).",
            "The real program raises, aborts or corrupts its state there.",
            "mutex m\nthread main {\n    release m\n}",
        ),
        _info(
            "bound",
            "an unbounded channel or the objects made at run time grew past a bound",
            "A path sent more messages than `--channel-bound` on an unbounded channel, or made "
            "more live objects than `--object-bound`: that path was not explored further "
            "(exit 3).",
            "Not a pass: the rest of the state space is unknown. Raise the bound or bound the "
            "loop.",
            "thread main {\n    let (tx, rx) = channel(unbounded)\n    loop {\n"
            "        send tx, 1\n    }\n}",
        ),
        _info(
            "inconclusive",
            "a limit was hit before the whole state space was explored",
            "States, time, memory, a depth bound, random walks, an undecided constraint, or a "
            "drafted spec's `ok` that rests on assumptions not accepted (exit 3).",
            "Not a pass: nothing was proved.",
            "gilcheck check big.gil --max-states 1000",
        ),
        _info(
            "assumption",
            "a drafted spec's `ok` rests on this assumption (SARIF and `--format github`)",
            "`gilcheck draft` could not see into a call, a loop or a decorator and assumed it "
            "(`#@ assume` in the spec); the warning is on the source line it concerns.",
            "If the assumption is false, the `ok` proves nothing: check it, then pass "
            "`--accept-assumptions`.",
            '#@ assume app.py:41:5 ~9b1e22aa "assumed not to block: `client.fetch()`"',
        ),
        _info(
            "drift",
            "the source changed since the spec was drafted from it",
            "A drafted statement's source line (or the file's code) no longer has the hash the "
            "spec recorded.",
            "The verdict is about code that is not there any more: redraft with `gilcheck "
            "draft --update`.",
            "acquire m   #@ app.py:12:5 ~3fa2c1d0",
        ),
        _info(
            "fingerprint",
            "an `ok` of a fingerprinted search, not accepted (SARIF)",
            "With `--fingerprint` each state is kept as a 64-bit fingerprint: a state whose "
            "fingerprint is another's is never explored, with the probability p(miss) the "
            "report gives, and `stuck` and `livelock` are not looked for.",
            "The `ok` exits 3 until you accept both with `--accept-fingerprint`; a violation "
            "found is real. Run without `--fingerprint` for a proof.",
            "gilcheck check --fingerprint --accept-fingerprint big.gil",
        ),
    ]
}
