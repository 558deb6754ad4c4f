#!/usr/bin/env python3
"""Generate gilcheck benchmark specs for scalable model families.

Each family comes in a buggy form (``expect deadlock``) and a fixed form
(``expect ok``) whose state space grows with ``N``:

- ``gil_workers``: N workers each send twice into a bounded(2) channel while
  holding the GIL and their own lock; one consumer (``main``) takes the GIL
  after each message. The fixed form releases the GIL before sending. This is
  the model BASELINES.md measures SPIN on.
- ``gil_workers_distinct``: the same, with each worker a thread of its own
  (``thread w0 { }`` ... with its own lock ``m0`` ... and its own value), so
  symmetry reduction finds nothing to merge: the size of the raw state space.
- ``python_pool``: N Python worker threads (``python { }``) take K tasks each from
  a queue and count them under a ``stats`` lock before sending each result; the
  manager (``main``, Python too) queues every task, then collects the results. In
  the buggy form it receives while holding ``stats`` (so a worker that needs
  ``stats`` to finish its task never sends); the fixed form takes ``stats`` after
  receiving. The ``python { }``-heavy family: GIL handovers at every statement.
- ``philosophers``: N dining philosophers, native threads that take the GIL
  and run a Python callback taking two ``threading.Lock`` forks, left then
  right. The fixed form orders the forks (the last philosopher reaches for
  fork 0 first).
- ``philosophers_native``: the same philosophers in native code, without the GIL: the
  family persistent sets (``--stubborn-sets``) reduce.
- ``pipeline``: a source, N stages and a sink (``main``) linked by bounded(1)
  channels, each forwarding K messages. In the buggy form a stage sends the
  next item while still inside ``with_gil``, so it can block on a full channel
  holding the GIL while the stage downstream waits for the GIL (this needs
  K >= 3). The fixed form sends after leaving ``with_gil``.

Usage::

    python bench/gen_models.py gil_workers 5 [--fixed] [-o FILE]
    python bench/gen_models.py pipeline 4 --messages 3
    python bench/gen_models.py --write-models bench/models
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MESSAGES = 3
"""Messages per pipeline stage: the buggy pipeline deadlocks only from 3 on."""


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One spec to generate: a family, its size and its form."""

    family: str
    n: int
    fixed: bool = False
    messages: int = DEFAULT_MESSAGES  # used by ``pipeline`` only


def _header(comment: list[str], title: str, verdict: str) -> str:
    lines = [f"# {line}" if line else "#" for line in comment]
    lines.append(f'scenario "{title}"')
    lines.append(f"expect {verdict}")
    return "\n".join(lines) + "\n"


def _gil_workers_rounds(
    request: ModelRequest, lock: str, value: str
) -> tuple[list[str], str, str, str]:
    """The comment, one send round of a worker (its lock and sent value named), the title and
    the verdict of a gil_workers spec."""
    n = request.n
    if n < 2:
        raise ValueError("gil_workers needs N >= 2 (one worker never fills the channel)")
    if request.fixed:
        comment = [
            f"gil_workers, fixed form, N={n}: each worker takes the GIL for its Python work,",
            "releases it, and only then sends under its own lock, so a worker blocked on the",
            "full channel never holds the GIL and the consumer can always take it. Ok.",
        ]
        send_round = (
            "    with_gil {\n"
            "        skip               # Python work for this item\n"
            "    }\n"
            f"    lock {lock} {{\n"
            f"        send c, {value}{' ' * max(1, 11 - len(value))}"
            "# may block on the full channel, GIL not held\n"
            "    }\n"
        )
        return comment, send_round, f"gil_workers N={n}, GIL released before sending", "ok"
    comment = [
        f"gil_workers, buggy form, N={n}: each worker twice takes the GIL and its own lock",
        "and sends on a bounded(2) channel; the consumer takes the GIL after each message.",
        "Deadlock: a worker blocks on the full channel holding the GIL while the consumer,",
        "having just made room, waits for the GIL.",
    ]
    send_round = (
        "    with_gil {\n"
        f"        lock {lock} {{\n"
        f"            send c, {value}{' ' * max(1, 7 - len(value))}"
        "# blocks on the full channel, GIL held\n"
        "        }\n"
        "    }\n"
    )
    return comment, send_round, f"gil_workers N={n}, sending while holding the GIL", "deadlock"


_CONSUMER = (
    "thread main {\n"
    "    let i = 0\n"
    "    while i < 2 * N {\n"
    "        let v = recv c\n"
    "        with_gil {\n"
    "            skip           # hand the message to Python\n"
    "        }\n"
    "        i = i + 1\n"
    "    }\n"
    "}\n"
)


def gil_workers(request: ModelRequest) -> str:
    """Workers sending into a bounded(2) channel under the GIL; main consumes."""
    comment, send_round, title, verdict = _gil_workers_rounds(request, "m[self]", "self")
    body = (
        f"const N = {request.n}\n"
        "\n"
        "channel c: bounded(2)\n"
        "mutex m[N]\n"
        "\n"
        "thread worker[N] {\n"
        f"{send_round}"
        f"{send_round}"
        "}\n"
        "\n"
        f"{_CONSUMER}"
    )
    return _header(comment, title, verdict) + "\n" + body


def gil_workers_distinct(request: ModelRequest) -> str:
    """gil_workers with every worker a distinct thread, lock and value: nothing symmetric."""
    n = request.n
    comment, _, title, verdict = _gil_workers_rounds(request, "m0", "0")
    comment = [*comment, "Every worker is a thread of its own, with its own lock and value."]
    workers = []
    for k in range(n):
        _, send_round, _, _ = _gil_workers_rounds(request, f"m{k}", str(k + 1))
        workers.append(f"thread w{k} {{\n{send_round}{send_round}}}\n")
    body = (
        f"const N = {n}\n"
        "\n"
        "channel c: bounded(2)\n"
        + "".join(f"mutex m{k}\n" for k in range(n))
        + "\n"
        + "\n".join(workers)
        + "\n"
        + _CONSUMER
    )
    return _header(comment, f"{title} (distinct threads)", verdict) + "\n" + body


def gil_workers_promela(request: ModelRequest) -> str:
    """A hand-written Promela model of gil_workers (and of gil_workers_distinct, which is the
    same to SPIN): one state per GIL or lock acquisition, as BASELINES.md measures SPIN."""
    n = request.n
    if n < 2:
        raise ValueError("gil_workers needs N >= 2 (one worker never fills the channel)")
    take_gil = "atomic { gil == 0 -> gil = id + 1 }"
    if request.fixed:
        item = (
            "  atomic { gil == 0 -> gil = id + 1; gil = 0 };\n"
            "  atomic { m[id] == 0 -> m[id] = 1 };\n"
            "  atomic { c ! id; m[id] = 0 };\n"
        )
    else:
        item = (
            f"  {take_gil};\n"
            "  atomic { m[id] == 0 -> m[id] = 1 };\n"
            "  atomic { c ! id; m[id] = 0; gil = 0 };\n"
        )
    return (
        f"/* gil_workers, {'fixed' if request.fixed else 'buggy'} form, N={n}, by hand */\n"
        f"#define N {n}\n"
        "byte gil = 0;  /* 0: free, else its holder + 1 */\n"
        "bool m[N];\n"
        "chan c = [2] of { byte };\n"
        "proctype worker(byte id) {\n"
        f"{item}{item}"
        "}\n"
        "init {\n"
        "  byte i = 0, v;\n"
        "  atomic { byte j = 0; do :: j < N -> run worker(j); j++ :: else -> break od };\n"
        "  do\n"
        "  :: i < 2 * N -> c ? v; atomic { gil == 0 -> gil = 255; gil = 0 }; i++\n"
        "  :: else -> break\n"
        "  od\n"
        "}\n"
    )


_ORDER_FIX = (
    "    if second < first {        # the last philosopher takes fork 0 first\n"
    "        first = second\n"
    "        second = self\n"
    "    }\n"
)


def _forks(depth: int) -> str:
    """Taking the left fork, then the right one, and eating, `depth` levels in."""
    pad = "    " * depth
    eat = f"{pad}        skip"
    return (
        f"{pad}lock forks[first] {{\n"
        f"{pad}    lock forks[second] {{\n"
        f"{eat:<31}# eat\n"
        f"{pad}    }}\n"
        f"{pad}}}\n"
    )


def _philosophers_body(n: int, fixed: bool, dine: str) -> str:
    """N philosophers that `dine` (their forks taken one way or the other), and a `main`
    that waits until all have eaten."""
    return (
        f"const N = {n}\n"
        "\n"
        "mutex forks[N]\n"
        "var done = 0\n"
        "\n"
        "thread philosopher[N] {\n"
        "    let first = self\n"
        "    let second = (self + 1) % N\n"
        f"{_ORDER_FIX if fixed else ''}"
        f"{dine}"
        "    done = done + 1\n"
        "}\n"
        "\n"
        "thread main {\n"
        "    await done == N            # join every philosopher\n"
        "}\n"
    )


def _at_least_two(n: int) -> None:
    if n < 2:
        raise ValueError("philosophers needs N >= 2 (one philosopher has one fork)")


def philosophers(request: ModelRequest) -> str:
    """Dining philosophers taking threading.Lock forks in a Python callback."""
    n = request.n
    _at_least_two(n)
    if request.fixed:
        comment = [
            f"GIL dining philosophers, fixed form, N={n}: as the buggy form, but the last",
            "philosopher reaches for fork 0 before fork N-1, so the forks are taken in one",
            "global order and no cycle of waits can form; a philosopher blocked on a fork",
            "has released the GIL. Main waits until all have eaten. Ok.",
        ]
        title, verdict = f"GIL dining philosophers N={n}, ordered forks", "ok"
    else:
        comment = [
            f"GIL dining philosophers, buggy form, N={n}: each native thread takes the GIL",
            "and runs a Python callback that takes its left fork, then its right fork",
            "(threading.Locks). The eval loop hands the GIL over between statements, so all",
            "can hold their left fork; each then blocks on its right fork (releasing the",
            "GIL) and main waits for ever for them to finish. Deadlock.",
        ]
        title, verdict = f"GIL dining philosophers N={n}, left fork first", "deadlock"
    dine = (
        "    with_gil {\n"
        "        python {               # the Python callback dine()\n"
        f"{_forks(3)}"
        "        }\n"
        "    }\n"
    )
    return _header(comment, title, verdict) + "\n" + _philosophers_body(n, request.fixed, dine)


def philosophers_native(request: ModelRequest) -> str:
    """Dining philosophers taking mutex forks in native code (no GIL)."""
    n = request.n
    _at_least_two(n)
    if request.fixed:
        comment = [
            f"Dining philosophers in native code, fixed form, N={n}: the last philosopher",
            "reaches for fork 0 before fork N-1, so the forks are taken in one global order",
            "and no cycle of waits can form. Ok.",
        ]
        title, verdict = f"dining philosophers in native code N={n}, ordered forks", "ok"
    else:
        comment = [
            f"Dining philosophers in native code, buggy form, N={n}: each takes its left",
            "fork, then its right one, so all can hold their left fork and wait for ever.",
            "Deadlock. Without the GIL, steps on forks no other philosopher can take next",
            "are independent: persistent sets (--stubborn-sets) explore far fewer states.",
        ]
        title, verdict = f"dining philosophers in native code N={n}, left fork first", "deadlock"
    return _header(comment, title, verdict) + "\n" + _philosophers_body(n, request.fixed, _forks(1))


def pipeline(request: ModelRequest) -> str:
    """A source, N GIL-using stages and a sink linked by bounded(1) channels."""
    n, k = request.n, request.messages
    if n < 1:
        raise ValueError("pipeline needs N >= 1")
    if k < 1:
        raise ValueError("pipeline needs --messages >= 1")
    if not request.fixed and k < 3:
        raise ValueError("the buggy pipeline deadlocks only with --messages >= 3")
    if request.fixed:
        comment = [
            f"pipeline, fixed form, N={n} stages, K={k} messages: each stage receives an item,",
            "takes the GIL to run its Python transform, releases it, and only then sends",
            "downstream, so no thread ever blocks holding the GIL. Ok.",
        ]
        forward = (
            "        with_gil {\n"
            "            skip           # item = transform(py, item)\n"
            "        }\n"
            "        send link[self + 1], item  # may block, GIL not held\n"
        )
        title, verdict = f"pipeline N={n} K={k}, send after with_gil", "ok"
    else:
        comment = [
            f"pipeline, buggy form, N={n} stages, K={k} messages: each stage runs its Python",
            "transform and sends the result downstream inside one with_gil. Deadlock: a stage",
            "blocks on the full link holding the GIL while the next stage (or the sink), which",
            "has taken the previous item off that link, waits for the GIL to process it.",
        ]
        forward = (
            "        with_gil {\n"
            "            skip           # item = transform(py, item)\n"
            "            send link[self + 1], item  # blocks when full, GIL held\n"
            "        }\n"
        )
        title, verdict = f"pipeline N={n} K={k}, sending inside with_gil", "deadlock"
    body = (
        f"const N = {n}\n"
        f"const K = {k}\n"
        "\n"
        "channel link[N + 1]: bounded(1)\n"
        "\n"
        "thread source {                # native reader: never needs the GIL\n"
        "    let i = 0\n"
        "    while i < K {\n"
        "        send link[0], i\n"
        "        i = i + 1\n"
        "    }\n"
        "}\n"
        "\n"
        "thread stage[N] {\n"
        "    let i = 0\n"
        "    while i < K {\n"
        "        let item = recv link[self]\n"
        f"{forward}"
        "        i = i + 1\n"
        "    }\n"
        "}\n"
        "\n"
        "thread main {                  # the sink hands each result to Python\n"
        "    let i = 0\n"
        "    while i < K {\n"
        "        let item = recv link[N]\n"
        "        with_gil {\n"
        "            skip\n"
        "        }\n"
        "        i = i + 1\n"
        "    }\n"
        "}\n"
    )
    return _header(comment, title, verdict) + "\n" + body


def python_pool(request: ModelRequest) -> str:
    """A pool of Python workers fed from a queue by a Python manager."""
    n, k = request.n, request.messages
    if n < 1 or k < 1:
        raise ValueError("python_pool needs N >= 1 workers and K >= 1 tasks each")
    if request.fixed:
        comment = [
            f"python_pool, fixed form, N={n}, K={k}: the manager receives each result,",
            "then takes the stats lock. Ok.",
        ]
        collect = (
            "        let r = recv results   # the GIL is given back while it waits\n"
            "        lock stats {\n"
            "            skip\n"
            "        }\n"
        )
        title, verdict = f"python_pool N={n} K={k}, stats taken after receiving", "ok"
    else:
        comment = [
            f"python_pool, buggy form, N={n}, K={k}: the manager waits for a result while",
            "holding the stats lock, which a worker needs before it sends its result.",
        ]
        collect = (
            "        lock stats {\n"
            "            let r = recv results   # waits holding stats\n"
            "        }\n"
        )
        title, verdict = f"python_pool N={n} K={k}, receiving under the stats lock", "deadlock"
    body = (
        f"const N = {n}\n"
        f"const K = {k}\n"
        "\n"
        "channel tasks: bounded(N * K)\n"
        "channel results: bounded(2)\n"
        "mutex stats\n"
        "\n"
        "thread worker[N] {\n"
        "    python {\n"
        "        let i = 0\n"
        "        while i < K {\n"
        "            let t = recv tasks\n"
        "            lock stats {\n"
        "                skip\n"
        "            }\n"
        "            send results, t\n"
        "            i = i + 1\n"
        "        }\n"
        "    }\n"
        "}\n"
        "\n"
        "thread main {\n"
        "    python {\n"
        "        let j = 0\n"
        "        while j < N * K {\n"
        "            send tasks, j\n"
        "            j = j + 1\n"
        "        }\n"
        "        let got = 0\n"
        "        while got < N * K {\n"
        f"{collect}"
        "            got = got + 1\n"
        "        }\n"
        "    }\n"
        "}\n"
    )
    return _header(comment, title, verdict) + "\n" + body


FAMILIES: dict[str, Callable[[ModelRequest], str]] = {
    "gil_workers": gil_workers,
    "gil_workers_distinct": gil_workers_distinct,
    "philosophers": philosophers,
    "philosophers_native": philosophers_native,
    "pipeline": pipeline,
    "python_pool": python_pool,
}

STANDARD_MODELS: dict[str, ModelRequest] = {
    "gil_workers_5.gil": ModelRequest(family="gil_workers", n=5),
    "gil_workers_fixed_4.gil": ModelRequest(family="gil_workers", n=4, fixed=True),
    "gil_workers_fixed_5.gil": ModelRequest(family="gil_workers", n=5, fixed=True),
    "philosophers_5.gil": ModelRequest(family="philosophers", n=5),
    "philosophers_fixed_5.gil": ModelRequest(family="philosophers", n=5, fixed=True),
    "philosophers_native_5.gil": ModelRequest(family="philosophers_native", n=5),
    "philosophers_native_fixed_5.gil": ModelRequest(family="philosophers_native", n=5, fixed=True),
    "pipeline_4.gil": ModelRequest(family="pipeline", n=4),
    "pipeline_fixed_4.gil": ModelRequest(family="pipeline", n=4, fixed=True),
}
"""The pre-generated files of ``bench/models/``, by file name."""

HAND_WRITTEN_PROMELA: dict[str, Callable[[ModelRequest], str]] = {
    "gil_workers": gil_workers_promela,
    "gil_workers_distinct": gil_workers_promela,
}
"""Families with a hand-written SPIN model (bench/compare --raw runs pan on it)."""


def generate(request: ModelRequest) -> str:
    """Return the spec text for ``request``; raises ValueError on a bad size."""
    return FAMILIES[request.family](request)


def write_models(directory: Path) -> list[Path]:
    """Write every model of STANDARD_MODELS into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, request in STANDARD_MODELS.items():
        path = directory / name
        path.write_text(generate(request), encoding="utf-8")
        written.append(path)
    return written


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Generate gilcheck benchmark specs (buggy: deadlock; --fixed: ok).",
    )
    parser.add_argument("family", nargs="?", choices=sorted(FAMILIES), help="model family")
    parser.add_argument("n", nargs="?", type=int, help="size: workers, philosophers or stages")
    parser.add_argument("--fixed", action="store_true", help="generate the fixed form")
    parser.add_argument(
        "--messages",
        type=int,
        default=DEFAULT_MESSAGES,
        metavar="K",
        help="pipeline: messages each stage forwards; python_pool: tasks per worker "
        f"(default {DEFAULT_MESSAGES})",
    )
    parser.add_argument("-o", "--output", type=Path, help="write the spec here instead of stdout")
    parser.add_argument(
        "--write-models",
        type=Path,
        metavar="DIR",
        help="write the standard set of pre-generated models into DIR",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.write_models is not None:
        for path in write_models(args.write_models):
            print(path)
        return 0
    if args.family is None or args.n is None:
        parser.error("FAMILY and N are required (or use --write-models DIR)")
    request = ModelRequest(family=args.family, n=args.n, fixed=args.fixed, messages=args.messages)
    try:
        text = generate(request)
    except ValueError as error:
        parser.error(str(error))
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
