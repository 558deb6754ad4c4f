"""What each kind of declared object is, in the words of docs/language.md, for hover."""

from __future__ import annotations

KIND_MEANINGS: dict[str, str] = {
    "mutex": "a non-reentrant lock (Rust `std::sync::Mutex`, Python `threading.Lock`)",
    "rlock": "a reentrant lock (`threading.RLock`)",
    "condvar": "a condition variable",
    "once": "a `std::sync::Once`: one initializer runs, concurrent callers wait for it",
    "event": "a `threading.Event`",
    "semaphore": "a counting semaphore",
    "barrier": "a barrier: its parties wait until all have arrived",
    "rwlock": "a readers-writer lock (writer-preferring)",
    "latch": "a countdown latch (C++ `std::latch`, Java's `CountDownLatch`)",
    "pool": "a thread pool (`ThreadPoolExecutor`, a rayon or tokio blocking pool)",
    "eventloop": "an event loop: one thread running its tasks one at a time",
    "channel": "a global channel anyone may use",
    "shared variable": "a shared variable; each statement is one atomic step",
    "constant": "a compile-time constant",
    "param": "an unknown fixed value, chosen once; verdicts say for which values they hold",
    "thread": "a thread running from the start",
    "function": "a function, run by `spawn` or `call`",
    "model": "a model library: its functions and resources join the spec's",
}


def meaning_of(kind: str) -> str:
    """What a kind of declared object is ("" for a kind without a sentence)."""
    return KIND_MEANINGS.get(kind, "")
