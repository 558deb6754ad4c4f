"""Diagnostics as values: codes, severities, labels, and the registry behind `gilcheck explain`."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gilcheck.source import Span


class Severity(StrEnum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary span with a short note, shown under the primary one."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a spec, located and explained."""

    code: str
    message: str
    span: Span
    severity: Severity = Severity.ERROR
    labels: tuple[Label, ...] = ()
    help: str | None = None
    notes: tuple[str, ...] = ()


class SpecError(Exception):
    """Raised at a stage boundary with every error found in the spec."""

    def __init__(self, diagnostics: list[Diagnostic], partial: list[Any] | None = None) -> None:
        super().__init__(f"{len(diagnostics)} error(s) in spec")
        self.diagnostics = diagnostics
        # What could still be parsed around syntax errors (AST modules), so that later
        # stages can report their own errors in the same run.
        self.partial = partial


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """The text `gilcheck explain CODE` prints."""

    code: str
    summary: str
    what: str
    why: str
    example: str


@dataclass(slots=True)
class DiagnosticSink:
    """Collects diagnostics during a stage; raises them all at once."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        code: str,
        message: str,
        span: Span,
        *,
        help: str | None = None,
        labels: tuple[Label, ...] = (),
        notes: tuple[str, ...] = (),
    ) -> None:
        """Record an error."""
        assert code in CODES, f"unregistered diagnostic code {code}"
        self.items.append(Diagnostic(code, message, span, Severity.ERROR, labels, help, notes))

    def warning(self, code: str, message: str, span: Span, *, help: str | None = None) -> None:
        """Record a warning."""
        assert code in CODES, f"unregistered diagnostic code {code}"
        self.items.append(Diagnostic(code, message, span, Severity.WARNING, (), help))

    @property
    def errors(self) -> list[Diagnostic]:
        """Only the errors."""
        return [d for d in self.items if d.severity is Severity.ERROR]

    def raise_if_errors(self) -> None:
        """Raise a SpecError carrying every error so far, sorted by location."""
        errors = self.errors
        if errors:
            errors.sort(key=lambda d: (d.span.path, d.span.start, d.code))
            raise SpecError(errors)


def did_you_mean(name: str, candidates: list[str] | set[str] | tuple[str, ...]) -> str | None:
    """A close candidate for a misspelt name, or None."""
    import difflib

    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None


def _info(code: str, summary: str, what: str, why: str, example: str) -> CodeInfo:
    return CodeInfo(code, summary, what.strip(), why.strip(), example.strip("\n"))


CODES: dict[str, CodeInfo] = {
    info.code: info
    for info in [
        _info(
            "syntax-error",
            "the text does not follow the grammar",
            "A token appears where the grammar does not allow it.",
            "gilcheck cannot give a spec a meaning until it parses; the message names what was "
            "expected at that point.",
            "thread main {\n    whiel true { skip }   # error: `whiel` is not a keyword\n}",
        ),
        _info(
            "not-supported-yet",
            "a construct of the language that gilcheck does not check yet",
            "The spec uses a construct of the language (LANGUAGE.md) that this version of "
            "gilcheck parses but cannot check yet: processes (`spawn process`, `spawn daemon "
            "process`).",
            "gilcheck refuses the spec rather than check a different program; the help names a "
            "way to model the behaviour with what is supported.",
            "let h = spawn process g(1)   # error: `spawn process` is not supported yet",
        ),
        _info(
            "unexpected-character",
            "a character that no token starts with",
            "The lexer met a character that cannot start any token (for example `$` or `@`).",
            "Specs use ASCII names, integers, strings and a small set of operators.",
            "var x = 3 $ 4   # error: `$`",
        ),
        _info(
            "unterminated-string",
            "a string literal is not closed on its line",
            'A `"` opens a string that is not closed before the end of the line.',
            "Strings may not span lines; the error points at where the string starts.",
            'scenario "a title\n',
        ),
        _info(
            "unexpected-end",
            "the file ends inside a block or a statement",
            "The end of the file was reached while a `{` was still open or a statement was "
            "incomplete.",
            "Usually a missing `}`; the note points at the block still open.",
            "thread main {\n    skip\n# error: missing `}`",
        ),
        _info(
            "undefined-name",
            "a name that is not declared",
            "A name is used that is not a local in scope, a parameter, a `const`, a `param`, a "
            "shared `var` or a declared resource.",
            "A typo would otherwise silently mean something else; gilcheck suggests the nearest "
            "declared name.",
            "var count = 0\nthread main { cuont = 1 }   # error: did you mean `count`?",
        ),
        _info(
            "undefined-function",
            "a call or spawn of a function that does not exist",
            "`call f(..)` or `spawn f(..)` names no `fn`, or an expression calls an unknown "
            "builtin.",
            "Only functions declared with `fn` (in the spec or a `use`d model) can be run.",
            "thread main { spawn wroker() }\nfn worker() { skip }",
        ),
        _info(
            "wrong-arity",
            "a function or builtin called with the wrong number of arguments",
            "The number of arguments does not match the function's parameters.",
            "Arguments are moved into the callee by position; a missing one has no value.",
            "fn f(a, b) { skip }\nthread main { call f(1) }   # error: expects 2 arguments",
        ),
        _info(
            "missing-main",
            "the spec has no `thread main`",
            "Every spec needs a `thread main { ... }`: the program's main thread.",
            "The main thread's end decides when the program ends (see `host`).",
            "thread worker { skip }   # error: no `thread main`",
        ),
        _info(
            "duplicate-definition",
            "a name defined twice at top level",
            "Two top-level items (threads, functions, resources, vars, consts, params) share a "
            "name, or a function has two parameters of the same name.",
            "Each name must mean one thing; the error is reported at the second definition.",
            "mutex m\nmutex m   # error",
        ),
        _info(
            "duplicate-setting",
            "a setting given twice",
            "`scenario`, `expect`, `host` or `gil` appears more than once.",
            "A spec has one title, one expected verdict, one host and one GIL mode.",
            "expect ok\nexpect deadlock   # error",
        ),
        _info(
            "duplicate-local",
            "`let` rebinds a name of its own block",
            "`let x` declares a local that the same block already declared.",
            "`let` may shadow a name of an enclosing block, not one of its own block: assign "
            "with `x = ...` instead.",
            "thread main {\n    let x = 1\n    let x = 2   # error\n}",
        ),
        _info(
            "break-outside-loop",
            "`break` outside a loop",
            "`break` appears outside `while`, `loop` and `for`.",
            "There is no loop to leave; a function body does not see its caller's loop.",
            "thread main { break }",
        ),
        _info(
            "continue-outside-loop",
            "`continue` outside a loop",
            "`continue` appears outside `while`, `loop` and `for`.",
            "There is no loop to continue.",
            "thread main { continue }",
        ),
        _info(
            "return-outside-function",
            "`return` outside a function",
            "`return` appears in a thread body or a top-level block rather than in a `fn`.",
            "A thread ends at the end of its body; `return` is for functions.",
            "thread main { return 1 }",
        ),
        _info(
            "wrong-kind",
            "a statement applied to the wrong kind of object",
            "The statement needs one kind of object (a sender, a receiver, a mutex, a condvar, "
            "...) and the name visibly denotes another, such as `send` on a receiver or `wait` "
            "on a mutex.",
            "The real primitive has no such operation, so the spec does not mean anything. When "
            "the kind only shows at run time (a value passed as a parameter or a message), the "
            "same mistake is the verdict `misuse` instead.",
            "mutex m\nthread main { wait m }   # `wait` needs a condvar, an event or a barrier",
        ),
        _info(
            "unknown-use-file",
            "`use` names a model file that does not exist",
            '`use "name"` looks for `name.gil` next to the spec, then `models/name.gil` in the '
            "spec's folder and its parents, then the models bundled with gilcheck.",
            "A missing model would leave its functions and resources undefined.",
            'use "pyo4"   # error: did you mean `pyo3`?',
        ),
        _info(
            "bad-config",
            "a `[tool.gilcheck]` setting gilcheck does not take",
            "gilcheck reads its settings from the `[tool.gilcheck]` table of the nearest "
            "pyproject.toml (or the file `--config` names). Its keys: `paths`, `exclude`, "
            "`extend-exclude`, `respect-gitignore`, `force-exclude`, and these options of "
            "`gilcheck check` without the dashes, each taking the kind of value its option "
            "does: `expect`, `format`, `accept-assumptions`, `fingerprint`, "
            "`accept-fingerprint`, `max-states`, `timeout`, "
            "`channel-bound`, `object-bound`, `max-memory`, `spurious-wakeups`, "
            "`stubborn-sets`, `workers`, `threads`, `strategy`, `max-depth`, `seed`, "
            "`walks`, `cache`, `quiet`.",
            "A misspelt or mistyped setting would otherwise be ignored, and a check would run "
            "with bounds or inputs other than the project meant.",
            "[tool.gilcheck]\nmax-state = 100000  # error: unknown key",
        ),
        _info(
            "bad-annotation",
            "a `#@` comment that is not an origin or assumption annotation",
            "`#@ app.py:41` after a statement names the line of the user's source it was "
            'drafted from; `#@ assume app.py:41 "what"` on a line of its own states an '
            "assumption a verdict of `ok` rests on. Anything else after `#@` is an error.",
            "Annotations tie a drafted spec to its source: a malformed one would silently "
            "drop an origin or an assumption.",
            "acquire m   #@ app.py  # error: no line number",
        ),
        _info(
            "source-syntax",
            "the source to draft from does not parse",
            "`gilcheck draft` and `gilcheck check --source` read Python with the standard "
            "library's `ast` and Rust with tree-sitter-rust; a file either cannot read is "
            "reported where it first goes wrong.",
            "A draft of code that does not compile would model something else.",
            "def worker(:   # error: invalid syntax",
        ),
        _info(
            "unsupported-construct",
            "the draft meets a construct it will not guess at",
            "Some constructs decide whether a program can hang but have no faithful model in "
            "a draft (a timer thread, a raw OS wait): the draft refuses them, with no "
            "verdict (exit 3), instead of leaving them out.",
            "A construct left out silently could hide a deadlock.",
            "threading.Timer(1.0, f).start()   # refused",
        ),
        _info(
            "draft-language",
            "the paths to draft hold no Python or Rust source, or both",
            "A draft reads Python modules (.py) or a Rust/PyO3 crate (.rs), one language at a "
            "time.",
            "Each language has its own drafter and entry points.",
            "gilcheck draft notes.txt   # error",
        ),
        _info(
            "draft-error",
            "the source cannot be drafted",
            "The draft found no scenario to check (no entry point, or an entry that does not "
            "exist) or could not read the source.",
            "A draft with nothing to run would prove nothing.",
            "gilcheck draft app.py --entry nosuchfunction   # error",
        ),
        _info(
            "unknown-channel-kind",
            "a channel kind that does not exist",
            "Channel kinds are `unbounded`, `bounded(N)`, `rendezvous`, `oneshot` and `queue(N)` "
            "(in `let (tx, rx) = channel(...)`: `unbounded`, `rendezvous` or a capacity).",
            "Each kind has its own blocking rules.",
            "channel c: unbounde   # error: did you mean `unbounded`?",
        ),
        _info(
            "unknown-verdict",
            "`expect` names no verdict",
            "Verdicts are ok, deadlock, stuck, livelock, assertion, panic, misuse and bound.",
            "The expected verdict is compared with the result.",
            "expect deadlcok   # error",
        ),
        _info(
            "unknown-setting",
            "a `host`, `gil` or `param` setting with an unknown value",
            "`host` is `rust` or `python`; `gil` is `on` or `off`; a `param` has type `int`.",
            "These settings change the semantics of the whole spec.",
            "host pyhton   # error: did you mean `python`?",
        ),
        _info(
            "not-constant",
            "a constant expression is needed here",
            "Array sizes, `const` values, semaphore and barrier counts, channel capacities and "
            "ranges must be computed from integers and other constants.",
            "They fix the shape of the state space before exploration starts.",
            "var n = 2\nmutex m[n]   # error: `n` is a shared variable",
        ),
        _info(
            "bad-constant",
            "a constant expression has an invalid value",
            "A constant expression divides by zero, gives a negative size, an empty range or a "
            "value of the wrong type.",
            "Sizes and capacities must be non-negative integers, ranges non-empty.",
            "mutex m[0 - 1]   # error: negative size",
        ),
        _info(
            "not-an-array",
            "indexing something that is not an array",
            "`x[i]` is used where `x` is not declared as an array.",
            "Only arrays (`mutex m[N]`, `var x[N] = 0`, ...) have elements.",
            "mutex m\nthread main { acquire m[0] }   # error",
        ),
        _info(
            "missing-index",
            "an array used without an index",
            "An array of resources or variables is used where one element is needed.",
            "Say which element, for example `m[self]`.",
            "mutex m[2]\nthread main { acquire m }   # error: write `m[i]`",
        ),
        _info(
            "invalid-assignment",
            "assigning to something that is not a variable",
            "The left side of `=` is a `const`, a `param`, a resource, a thread or a function.",
            "Only locals and shared `var`s (and their elements) can change.",
            "const N = 2\nthread main { N = 3 }   # error",
        ),
        _info(
            "blocking-in-atomic",
            "a statement that can block inside `atomic { }`",
            "An `atomic` block runs as one step; only a leading `await c` may wait.",
            "A step that blocks half way cannot be atomic.",
            "mutex m\nthread main { atomic { acquire m } }   # error",
        ),
        _info(
            "loop-in-atomic",
            "a loop inside `atomic { }`",
            "`while`, `loop` and `for` are not allowed inside an `atomic` block.",
            "An atomic step must be finite and is explored as one transition.",
            "thread main { atomic { loop { skip } } }   # error",
        ),
        _info(
            "invalid-statement",
            "a statement where it cannot appear",
            "A statement appears in a place that cannot hold it, such as `progress` in an "
            "`atomic` block's middle, or a value-yielding statement bound twice.",
            "The statement has no meaning in that place.",
            "thread main { let (a, b) = recv c }   # error: only `channel(..)` gives a pair",
        ),
        _info(
            "guard-always-true",
            "a warning: a condition that holds wherever it is reached",
            "With unknown values (`param`, a wide `any`), `gilcheck check` reports an `if`, "
            "`while` or `await` condition that every path condition makes true where the "
            "statement is reached: the other branch is dead, or the `await` never waits.",
            "A guard that cannot fail is often a range or an operator written wrong.",
            "param n: int in 1..100\nthread main { if n >= 1 { skip } }   # always true",
        ),
        _info(
            "guard-never-true",
            "a warning: a condition that never holds where it is reached",
            "An `if`, `while` or `await` condition that no path condition lets hold where the "
            "statement is reached: its body never runs, or the `await` waits for ever.",
            "Dead code or a thread that can never go on is rarely what was meant.",
            "param n: int in 1..100\nthread main { if n > 200 { skip } }   # never true",
        ),
        _info(
            "unreachable-code",
            "a warning: statements no path reaches",
            "The first statement of a run of statements that no explored path reaches, in a "
            "thread or function that does run (reported for specs with unknown values).",
            "Code no value of the unknowns reaches is dead for every input.",
            "param n: int in 1..100\nthread main { if n > 200 { skip } }   # `skip` unreached",
        ),
        _info(
            "assert-never-fails",
            "a warning: an assertion that holds on every path",
            "An `assert` whose condition every path condition makes true where it is "
            "reached (reported for specs with unknown values).",
            "It proves nothing about the spec; the assertion may be checking the wrong thing.",
            'param n: int in 1..100\nthread main { assert n != 0, "never 0" }',
        ),
        _info(
            "not-exportable",
            "a construct the Promela export cannot translate",
            "`gilcheck export --format promela` translates threads, the GIL, python blocks, "
            "mutexes, rlocks, semaphores, events, global channels and integer values; this "
            "construct is outside that subset.",
            "An export that left the construct out would let SPIN check a different program.",
            "let (tx, rx) = channel(unbounded)   # handles: not exportable yet",
        ),
        _info(
            "not-realizable",
            "a construct `gilcheck realize` cannot map to a CPython program",
            "`gilcheck realize` writes a `host python` spec as a real CPython program (threads, "
            "the GIL, locks and the other sync objects, channels, futures, pools, event loops, "
            "`fork`); this construct has no exact counterpart there yet.",
            "A program that guessed at the construct would test a different program than the "
            "spec describes, and its hangs would prove nothing.",
            "let h = spawn process job()   # processes: not realizable yet",
        ),
        _info(
            "nesting-too-deep",
            "blocks or expressions nest deeper than gilcheck can follow",
            "The spec nests blocks or parenthesised expressions so deeply (thousands of levels) "
            "that parsing or lowering it would overflow the stack.",
            "A real scenario never needs this; it is usually generated text gone wrong.",
            "const X = ((((((((((1))))))))))   # fine; ten thousand levels are not",
        ),
        _info(
            "unreadable-file",
            "the spec file cannot be read",
            "The path given to gilcheck does not exist, is a directory, cannot be read, or is "
            "not a regular file (a named pipe, a device such as /dev/zero, a socket): gilcheck "
            "reads only regular files, so that a path can never make it wait or read forever.",
            "There is nothing to check.",
            "gilcheck check specs/typo.gil",
        ),
        _info(
            "spec-too-large",
            "a spec or model file is larger than gilcheck reads",
            "gilcheck reads at most 1 MiB of a spec or model file (GILCHECK_MAX_SPEC_BYTES sets "
            "another limit, in bytes). The error points at where the limit was passed.",
            "Real scenarios are a few kilobytes; a file this large is usually generated text "
            "gone wrong, and reading, lowering and checking it could exhaust the memory.",
            "GILCHECK_MAX_SPEC_BYTES=4000000 gilcheck check generated.gil",
        ),
        _info(
            "bad-trace-file",
            "the file given to `gilcheck replay` is not a saved trace",
            "`gilcheck replay` reads what `gilcheck check SPEC --format json` printed for one "
            "spec: a `gilcheck.result` object of version 1 whose `steps` are a trace. This file "
            "is not JSON, is another kind of object, lacks a field, or holds no trace (an `ok` "
            "result, or a spec's errors).",
            "Without the saved steps there is nothing to re-run against the spec.",
            "gilcheck check -f json spec.gil > trace.json; gilcheck replay trace.json",
        ),
        _info(
            "unwritable-output",
            "the report cannot be written",
            "Writing the report failed (a full disk, a closed file).",
            "The result would be lost; the exit code says the command did not complete.",
            "gilcheck check spec.gil > /dev/full",
        ),
    ]
}
