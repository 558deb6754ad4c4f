"""The language's reserved words, in one place: item keywords (resource kinds among them),
statement keywords and the rest. grammar.lark is the source of the syntax; these lists
name its words for names, messages and suggestions (a test checks they agree)."""

from __future__ import annotations

from typing import Final

# The kinds of `mutex m`-style declarations, as `resource_kind` in grammar.lark.
RESOURCE_KINDS: Final = (
    "mutex",
    "rlock",
    "condvar",
    "once",
    "event",
    "semaphore",
    "barrier",
    "rwlock",
)

# Words that start a top-level item.
ITEM_KEYWORDS: Final = (
    "scenario",
    "expect",
    "host",
    "gil",
    "use",
    "const",
    "param",
    "var",
    *RESOURCE_KINDS,
    "channel",
    "thread",
    "fn",
    "atexit",
    "finalizer",
    "signal",
)

# Words that start a statement.
STATEMENT_KEYWORDS: Final = (
    "let",
    "recv",
    "try_recv",
    "send",
    "clone",
    "unwrap",
    "call",
    "spawn",
    "drop",
    "close",
    "with_gil",
    "allow_threads",
    "python",
    "acquire",
    "acquire_read",
    "acquire_write",
    "release",
    "lock",
    "read",
    "write",
    "wait",
    "notify",
    "notify_all",
    "call_once",
    "set",
    "clear",
    "join",
    "return",
    "if",
    "while",
    "loop",
    "for",
    "break",
    "continue",
    "choose",
    "await",
    "assert",
    "panic",
    "print",
    "atomic",
    "progress",
    "skip",
    "fork",
)

# Reserved words inside items and statements.
OTHER_KEYWORDS: Final = (
    "daemon",
    "any",
    "oneshot",
    "queue",
    "else",
    "in",
    "or",
    "and",
    "not",
    "true",
    "false",
    "none",
    "self",
    "when",
)

# Statements without operand that are keywords only where they make the whole statement
# (`GIL_CALL` in grammar.lark), so `var acquire_gil = 1` stays a name: the C API's explicit
# thread-state calls (v1.2).
OPERANDLESS_STATEMENTS: Final = ("acquire_gil", "release_gil")

KEYWORDS: Final = ITEM_KEYWORDS + STATEMENT_KEYWORDS + OTHER_KEYWORDS

# Keywords that are also values of settings and channel kinds (`host python`, `channel c: queue`).
SOFT_KEYWORDS: Final = frozenset({"python", "oneshot", "queue"})
