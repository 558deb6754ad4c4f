"""Random specs that exercise liveness (`livelock`, `stuck`) over the constructs
`gilcheck export --format promela` translates, for the differential test against SPIN
(`bench/differential --liveness`).

Threads that run for ever (`loop`, `while`), spin-waits on shared vars (`while flag == 0`,
`loop { if .. { break } }`) and `await`, retry loops around `try_recv`, servers and
clients on channels, lock ping-pong, "after you" back-offs, events, spawned helpers (some
`daemon`), with `progress` sometimes in the loops and sometimes not, and some of it in
`python { }` or `with_gil { }`. Values stay in 0..2 and channels are bounded (or get one
send), so the state spaces are small and finite.

`LivenessSpecGenerator(pick, number)` takes the two functions that make every random
decision (as `strategies.SpecGenerator` does); `random_liveness_spec(rng)` is the seeded
form, and a seed always gives the same spec.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def _indent(lines: list[str], by: str = "    ") -> list[str]:
    return [by + line for line in lines]


class LivenessSpecGenerator:
    """See the module's docstring."""

    KINDS = ("bounded(1)", "rendezvous", "bounded(2)", "queue(1)", "oneshot", "unbounded")

    def __init__(
        self,
        pick: Callable[[Sequence[T]], T],
        number: Callable[[int, int], int],
        *,
        gil_off: bool = False,
    ) -> None:
        self.pick = pick
        self.number = number
        self.gil_off = gil_off  # half of the specs free-threaded (`gil off`)
        self.kinds: dict[str, str] = {}
        self.sends = {"c": 0, "d": 0}
        self.fresh = 0

    def local(self) -> str:
        """A new local's name (`let` may not bind a name twice in one block)."""
        self.fresh += 1
        return f"v{self.fresh}"

    def chance(self, percent: int) -> bool:
        return self.number(0, 99) < percent

    def spec(self) -> str:
        host = self.pick(["rust", "rust", "rust", "python"])
        self.kinds = {"c": self.pick(self.KINDS), "d": self.pick(self.KINDS[:4])}
        header = [
            f"host {host}",
            "var flag = 0",
            "var turn = 0",
            "var n = 0",
            "mutex m",
            "event go",
            f"channel c: {self.kinds['c']}",
            f"channel d: {self.kinds['d']}",
        ]
        if self.gil_off and self.chance(50):
            header.insert(0, "gil off")
        names = ["main"] + [f"t{i}" for i in range(1, self.number(1, 2) + 1)]
        helper = self.chance(30)
        bodies = []
        for name in names:
            lines: list[str] = []
            if name == "main" and helper:
                lines.append(self.pick(["spawn helper()", "spawn daemon helper()"]))
            lines += self.body(name)
            bodies.append(f"thread {name} {{\n" + "\n".join(_indent(lines)) + "\n}")
        if helper:
            bodies.append("fn helper() {\n" + "\n".join(_indent(self.body("helper"))) + "\n}")
        return "\n".join(header + bodies) + "\n"

    def body(self, name: str) -> list[str]:
        """One thread's body: one to three fragments; the last one often runs for ever."""
        lines: list[str] = []
        for _ in range(self.number(0, 2)):
            lines += self.fragment(forever=False)
        lines += self.fragment(forever=self.chance(70))
        return lines

    def wrap(self, lines: list[str]) -> list[str]:
        """Sometimes Python code or a GIL block around a fragment."""
        roll = self.number(0, 9)
        if roll == 0:
            return ["python {", *_indent(lines), "}"]
        if roll == 1:
            return ["with_gil {", *_indent(lines), "}"]
        return lines

    def maybe_progress(self, percent: int = 30) -> list[str]:
        return ["progress"] if self.chance(percent) else []

    def send(self, channel: str) -> str:
        kind = self.kinds[channel]
        self.sends[channel] += 1
        if kind in ("oneshot", "unbounded") and self.sends[channel] > 1:
            return "skip"  # a oneshot sends once; an unbounded channel stays small
        return f"send {channel}, {self.number(0, 1)}"

    def fragment(self, *, forever: bool) -> list[str]:
        """A piece of a thread; with `forever`, one that keeps running (a loop with no exit
        but, perhaps, one that another thread's write opens)."""
        kind = self.number(0, 12)
        if forever:
            return self.wrap(self.forever(kind))
        if kind in (6, 7, 12) and self.chance(50):  # fewer threads blocked for ever
            kind = self.pick([0, 2, 10, 11])
        return self.wrap(self.once(kind))

    def once(self, kind: int) -> list[str]:
        """A fragment that ends (or blocks)."""
        value = self.number(0, 1)
        if kind == 0:
            return ["while flag == 0 {", *_indent(["skip", *self.maybe_progress(20)]), "}"]
        if kind == 1:
            return [f"await flag == {1 - value}"]
        if kind == 2:
            return [self.pick(["flag = 1", "flag = 1 - flag", "turn = 1"])]
        if kind == 3:
            return ["choose {", "    flag = 1", "} or {", "    skip", "}"]
        if kind == 4:
            body = ["let v = try_recv c", "if not is_none(v) {"]
            body += _indent([*self.maybe_progress(50), "break"]) + ["}"]
            return ["loop {", *_indent(body), "}"]
        if kind == 5:
            return [self.send("c")]
        if kind == 6:
            return [f"let {self.local()} = recv c"]
        if kind == 7:
            return ["wait go"]
        if kind == 8:
            return ["set go"]
        if kind == 9:
            return ["lock m {", "    n = (n + 1) % 2", "}"]
        if kind == 10:
            return ["loop {", "    if turn == 1 {", "        break", "    }", "}"]
        if kind == 11:
            return ["while n < 2 {", "    n = n + 1", "}"]
        return [self.send("d") if value else f"let {self.local()} = recv d"]

    def forever(self, kind: int) -> list[str]:
        """A fragment that loops for ever, or until a shared var says so."""
        body: list[str]
        if kind == 0:  # spin, perhaps doing work
            body = [self.pick(["skip", "n = (n + 1) % 2", "turn = 1 - turn"])]
            body += self.maybe_progress()
            return ["loop {", *_indent(body), "}"]
        if kind == 1:  # "after you"
            me = self.number(0, 1)
            body = [f"turn = {me}", f"if turn == {me} {{", *_indent(self.maybe_progress()), "}"]
            return ["loop {", *_indent(body), "}"]
        if kind == 2:  # polite back-off on a flag
            body = ["flag = 1", "if turn == 0 {", *_indent(self.maybe_progress()), "}", "flag = 0"]
            return ["loop {", *_indent(body), "}"]
        if kind == 3:  # retry for ever with try_recv
            body = ["let v = try_recv c", "if not is_none(v) {", *_indent(self.maybe_progress(60))]
            body += ["}"]
            return ["loop {", *_indent(body), "}"]
        if kind == 4:  # a server
            return ["loop {", *_indent(["let r = recv d", *self.maybe_progress(60)]), "}"]
        if kind == 5:  # a client
            return ["loop {", *_indent([f"send d, {self.number(0, 1)}"]), "}"]
        if kind == 6:  # lock ping-pong
            body = ["acquire m", "n = (n + 1) % 2", "release m", *self.maybe_progress()]
            return ["loop {", *_indent(body), "}"]
        if kind == 7:  # spin until a flag, then work
            body = ["await flag == 1", *self.maybe_progress(60), "flag = 0"]
            return ["loop {", *_indent(body), "}"]
        if kind == 8:  # toggle a flag others wait for
            body = ["flag = 1 - flag", *self.maybe_progress(30)]
            return ["loop {", *_indent(body), "}"]
        if kind == 9:  # spin-wait that another thread may end
            body = ["if flag == 1 {", "    break", "}", *self.maybe_progress(15)]
            return ["loop {", *_indent(body), "}", *self.maybe_progress(50)]
        if kind == 10:  # a choice of work or not
            body = ["choose {", *_indent(self.maybe_progress(70) or ["skip"])]
            body += ["} or {", "    turn = 1 - turn", "}"]
            return ["loop {", *_indent(body), "}"]
        if kind == 11:  # wait for an event over and over
            return ["loop {", *_indent(["wait go", *self.maybe_progress(60)]), "}"]
        # a bounded retry: a counter that another thread may reset
        body = ["n = n + 1", "if n >= 2 {", "    n = 0", *_indent(self.maybe_progress())]
        body += ["}"]
        return ["while flag == 0 {", *_indent(body), "}"]


def random_liveness_spec(rng: random.Random, *, gil_off: bool = False) -> str:
    """A liveness spec from a seeded random source (with `gil_off`, half of them `gil off`)."""
    return LivenessSpecGenerator(rng.choice, rng.randint, gil_off=gil_off).spec()
