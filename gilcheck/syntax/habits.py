"""Habits from Python and Rust that are not spec syntax, recognised on the line where a
parse failed: method calls (`h.join()`, `m.lock()`, `tx.send(v)`), `with` blocks and
unknown statement words (`sleep 1`). Each gets a message naming the habit and a hint
naming the spec statement that means the same."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gilcheck.diagnostics import did_you_mean
from gilcheck.syntax.keywords import ITEM_KEYWORDS, KEYWORDS, STATEMENT_KEYWORDS

# Statement words of v1.2 that are keywords only in context (LANGUAGE.md, "Contextual
# words"): suggested for a misspelt statement like the reserved ones.
CONTEXTUAL_STATEMENTS = (
    "submit",
    "result",
    "shutdown",
    "complete",
    "countdown",
    "try_acquire",
    "suspend",
    "acquire_gil",
    "release_gil",
)

# Words that are keywords only in context: never reported as unknown statements.
CONTEXTUAL_WORDS = (*CONTEXTUAL_STATEMENTS, "pool", "eventloop", "latch", "timeout", "process")

# A method of Python's or Rust's threading APIs -> the spec statement that means it.
_METHODS: dict[str, str] = {
    "join": "`join {obj}`",
    "is_alive": "`let ended = join {obj} timeout`",
    "lock": "`acquire {obj}` (or `lock {obj} {{ ... }}` for a block)",
    "acquire": "`acquire {obj}`",
    "__enter__": "`acquire {obj}`",
    "try_lock": "`let ok = try_acquire {obj}`",
    "try_acquire": "`let ok = try_acquire {obj}`",
    "release": "`release {obj}`",
    "unlock": "`release {obj}`",
    "__exit__": "`release {obj}`",
    "send": "`send {obj}, v`",
    "blocking_send": "`send {obj}, v`",
    "try_send": "`send {obj}, v`",
    "put": "`send {obj}, v`",
    "put_nowait": "`send {obj}, v`",
    "recv": "`let v = recv {obj}`",
    "blocking_recv": "`let v = recv {obj}`",
    "get": "`let v = recv {obj}`",
    "try_recv": "`let v = try_recv {obj}`",
    "get_nowait": "`let v = try_recv {obj}`",
    "wait": "`wait {obj}` (an event, latch or barrier) or `wait {obj}, m` (a condvar)",
    "wait_for": "`while not c {{ wait {obj}, m }}`",
    "wait_while": "`while c {{ wait {obj}, m }}`",
    "set": "`set {obj}`",
    "clear": "`clear {obj}`",
    "is_set": "`await` on a shared var, or `wait {obj} timeout`",
    "notify": "`notify {obj}`",
    "notify_one": "`notify {obj}`",
    "notify_all": "`notify_all {obj}`",
    "result": "`let v = result {obj}`",
    "set_result": "`complete {obj}, v`",
    "done": "`is_done({obj})`",
    "is_finished": "`join {obj} timeout`",
    "submit": "`let f = submit {obj}, g(a)`",
    "spawn": "`let f = submit {obj}, g(a)` (a pool or loop) or `let h = spawn g(a)` (a thread)",
    "spawn_blocking": "`let f = submit {obj}, g(a)`",
    "run_coroutine_threadsafe": "`let f = submit {obj}, g(a)`",
    "call_soon_threadsafe": "`let f = submit {obj}, g(a)`",
    "start": "`let h = spawn g(a)`",
    "shutdown": "`shutdown {obj}`",
    "clone": "`let t = clone {obj}`",
    "read": "`read {obj} {{ ... }}`",
    "write": "`write {obj} {{ ... }}`",
    "count_down": "`countdown {obj}`",
    "countdown": "`countdown {obj}`",
    "call_once": "`call_once {obj} {{ ... }}`",
    "get_or_init": "`call_once {obj} {{ ... }}`",
    "with_gil": "`with_gil {{ ... }}`",
    "attach": "`with_gil {{ ... }}`",
    "allow_threads": "`allow_threads {{ ... }}`",
    "detach": "`allow_threads {{ ... }}`",
    "sleep": "`skip` (time is not modelled; a wait with a deadline is `wait e timeout`)",
    "close": "`close {obj}`",
    "drop": "`drop {obj}`",
    "unwrap": "`let v = unwrap {obj}`",
}

# `with X:` / `with X {` habits: what X means -> the block that means it.
_WITH_BLOCKS = {
    "gil": "`with_gil { ... }`",
    "py": "`with_gil { ... }`",
    "python": "`with_gil { ... }` (native code taking the GIL) or `python { ... }` (Python code)",
    "nogil": "`allow_threads { ... }`",
    "allow_threads": "`allow_threads { ... }`",
    "detach": "`allow_threads { ... }`",
    "attach": "`with_gil { ... }`",
}

# Statement words of other languages with no counterpart of the same name.
_FOREIGN_STATEMENTS = {
    "sleep": "time is not modelled: a sleep is `skip` (`suspend { skip }` in a loop task); "
    "a wait with a deadline is a timed wait (`wait e timeout`, `recv rx timeout`)",
    "yield": "inside a loop task an `await` is `suspend { ... }`; `suspend { skip }` yields",
    "def": "functions are `fn name(a) { ... }`",
    "func": "functions are `fn name(a) { ... }`",
    "function": "functions are `fn name(a) { ... }`",
    "import": 'models are included with `use "name"` at the top level',
    "raise": '`panic "why"` stops the thread with a panic; `assert c, "why"` checks',
    "throw": '`panic "why"` stops the thread with a panic; `assert c, "why"` checks',
    "pass": "an empty step is `skip`",
    "elif": "write `else if c { ... }`",
    "match": "write `if`/`else` chains",
    "async": "an event loop task is a function submitted to an `eventloop`; see `suspend { }`",
}


@dataclass(frozen=True)
class Habit:
    """A recognised habit: where it is on its line (columns, 0-based), what to say, the
    hint."""

    start: int
    end: int
    message: str
    help: str


_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]\n]*\])?"
_METHOD_CALL = re.compile(rf"({_NAME}(?:\s*\.\s*{_NAME})*)\s*\.\s*([A-Za-z_]\w*)")
_FRACTION = re.compile(r"\b\d+\.\d*")
_WITH = re.compile(r"(\s*)with\s+([A-Za-z_][\w.]*)")
_WORD_THEN_VALUE = re.compile(r"(\s*)([A-Za-z_]\w*)(\s+[\w\"(\-]|\s*$)")


def _code(line: str) -> str:
    """The line without its comment (a `#` or `//` inside a string is not one)."""
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and quoted:
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif not quoted and (ch == "#" or line.startswith("//", i)):
            return line[:i]
        i += 1
    return line


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def method_call(line: str, col: int) -> Habit | None:
    """`h.join()`, `m.lock()`, `self.lock.acquire()`, `tx.send(v)`: the dot at column
    `col` (0-based) of `line` starts a method call or an attribute."""
    code = _code(line)
    fraction = _FRACTION.search(code)
    if fraction is not None and fraction.start() <= col < fraction.end():
        return Habit(
            fraction.start(),
            fraction.end(),
            f"`{fraction.group()}`: values are integers",
            "there are no fractions: scale the quantity to an integer (milliseconds, cents)",
        )
    for m in _METHOD_CALL.finditer(code):
        if not m.start(1) <= col < m.start(2):
            continue
        receiver, method = re.sub(r"\s+", "", m.group(1)), m.group(2)
        obj = receiver.rsplit(".", 1)[-1]  # the last part, with its index if any
        call = _shorten(re.sub(r"\s+", "", line[m.start(1) : m.end(2)]))
        rest = line[m.end(2) :]
        is_call = rest.lstrip().startswith("(")
        shown = call
        if is_call:
            shown = call + ("()" if rest.lstrip().startswith("()") else "(...)")
        statement = _METHODS.get(method)
        if statement is not None:
            hint = "write " + statement.format(obj=obj)
        else:
            hint = (
                "specs have statements, not methods: `acquire m`, `send tx, v`, `join h`, "
                "`wait e` (see LANGUAGE.md, Statements)"
            )
        if not is_call:
            hint = (
                "specs have no objects with fields: a field is a value of its own "
                f"(a `var {receiver.replace('.', '_')}_{method}`, a local or a parameter)"
            )
        elif "." in receiver:
            hint += f"; an object's field is a value of its own: pass `{obj}` itself"
        what = "method calls" if is_call else "attributes"
        return Habit(
            m.start(1),
            m.end(2),
            f"`{shown}`: {what} are not part of the spec language",
            hint,
        )
    return None


def with_block(line: str) -> Habit | None:
    """`with gil:` / `with lock {` / `with py.allow_threads()`: Python's `with`."""
    m = _WITH.match(_code(line))
    if m is None:
        bare = re.match(r"(\s*)with\b", _code(line))
        if bare is None:
            return None
        start = len(bare.group(1))
        return Habit(
            start,
            start + 4,
            "unknown statement `with` (Python's `with`)",
            "write `lock m { ... }` (a lock), `with_gil { ... }` (the GIL) or "
            "`allow_threads { ... }` (without it)",
        )
    target = m.group(2)
    last = target.rsplit(".", 1)[-1]
    block = _WITH_BLOCKS.get(last.lower())
    if block is None:
        block = f"`lock {last} {{ ... }}` (a lock) or `read {last} {{ ... }}` (an rwlock)"
    start = len(m.group(1))
    return Habit(
        start,
        start + 4,
        f"unknown statement `with` (Python's `with {target}`)",
        f"write {block}",
    )


def unknown_statement(line: str) -> Habit | None:
    """A line starting with a word that is no statement, followed by an operand
    (`sleep 1`, `yield x`): named as an unknown statement rather than by the token after
    it."""
    m = _WORD_THEN_VALUE.match(_code(line))
    if m is None:
        return None
    word = m.group(2)
    if word in KEYWORDS or word in CONTEXTUAL_WORDS or word == "with":
        return None
    start = len(m.group(1))
    foreign = _FOREIGN_STATEMENTS.get(word)
    if foreign is not None:
        hint = foreign
    elif not m.group(3).strip():
        return None
    else:
        guess = did_you_mean(word, STATEMENT_KEYWORDS + CONTEXTUAL_STATEMENTS + ITEM_KEYWORDS)
        if guess is None:
            return None
        hint = f"did you mean `{guess}`? (`{word}` is not a keyword)"
    return Habit(start, start + len(word), f"unknown statement `{word}`", hint)
