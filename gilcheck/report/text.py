"""The human report: title, verdict, the shortest trace as numbered steps, the wait-for chain."""

from __future__ import annotations

import re

from gilcheck.semantics.symmetry import ROTATIONS
from gilcheck.trace.model import CallSite, CheckResult, Location, Trace, Wait

EXIT_WORD = {
    "ok": "no violation",
    "bound": "inconclusive: a channel bound was hit",
    "inconclusive": "inconclusive: a limit was hit",
}


def _short(location: Location) -> str:
    return location.short


def p_miss_text(result: CheckResult) -> str:
    """`p(miss) <= 1.8e-06`: a fingerprinted search's bound on a missed state."""
    return f"p(miss) <= {result.p_miss:.1e}"


def verdict_phrase(result: CheckResult) -> str:
    """`deadlock`, or with unknown values `deadlock when n == 7`."""
    phrase = result.verdict
    if result.verdict == "ok" and result.assumptions:
        count = len(result.assumptions)
        phrase += f" under {count} assumption{'s' if count != 1 else ''}"
        if result.assumptions_accepted:
            phrase += " (accepted)"
    if result.verdict == "ok" and result.p_miss is not None:
        phrase += f" (fingerprinted: {p_miss_text(result)})"
        if result.fingerprint_accepted:
            phrase += " (accepted)"
    if result.condition is not None and result.verdict not in ("ok", "bound", "inconclusive"):
        phrase += f" when {result.condition}" if result.condition != "true" else " for every value"
        if not result.condition_complete:
            phrase += " (at least)"
    return phrase


def expected_phrase(result: CheckResult) -> str | None:
    """The spec's `expect` line: `deadlock`, `deadlock when n == 7` (None without one)."""
    if result.expected is None:
        return None
    return result.expected + (f" when {result.expected_when}" if result.expected_when else "")


def verdict_line(result: CheckResult) -> str:
    """`verdict: deadlock (expected deadlock: matches)`."""
    line = f"verdict: {verdict_phrase(result)}"
    expected = expected_phrase(result)
    if expected is not None:
        line += f"   (expected {expected}: {result.match_word})"
    return line


def witness_line(result: CheckResult) -> str | None:
    """`witness: n = 123456789`: values of the unknowns under which the trace happens."""
    if not result.witness:
        return None
    return "witness: " + ", ".join(f"{name} = {value}" for name, value in result.witness)


def step_lines(trace: Trace, label: str) -> list[str]:
    """`label (N steps; ...):` and a numbered line per step, with its effects below."""
    count = sum(1 for s in trace.steps if not s.merged)
    out = [
        f"{label} ({count} step{'s' if count != 1 else ''}; `+` marks a statement "
        "taken within the step above):"
    ]
    width = max(len(s.thread) for s in trace.steps)
    loc_width = max(len(_short(s.location)) for s in trace.steps)
    told: dict[str, CallSite | None] = {}  # each thread's call site told last
    for position, step in enumerate(trace.steps):
        if trace.loop_from is not None and position == trace.loop_from:
            out.append("       -- from here the program can repeat this cycle for ever --")
        number = "  +" if step.merged else f"{step.index:3d}"
        # Inside a model's helper, the spec's call site is told at the thread's first step
        # under it (and again after the thread was elsewhere).
        via = via_text(step.via) if told.get(step.thread) != step.via else ""
        told[step.thread] = step.via
        out.append(
            f"  {number}  {step.thread.ljust(width)}  "
            f"{_short(step.location).ljust(loc_width)}  {step.statement}{via}"
        )
        pad = " " * (7 + width + 2 + loc_width + 2)
        for effect in step.effects:
            out.append(f"{pad}-> {effect}")
    return out


def via_text(via: CallSite | None) -> str:
    """`   (in cpython_event_wait, called at app.gil:12)` for a step inside a model's
    helper; "" for a step of the spec's own code."""
    if via is None:
        return ""
    return f"   (in {via.function}, called at {_short(via.location)})"


def stack_lines(wait: Wait) -> list[str]:
    """Where a thread waits: `at app.gil:12: call f(x)`, and inside a model's helper a line
    per frame below it (`  in f at /path/to/model.gil:30: wait e`, the file by the path of
    the one used)."""
    if not wait.stack:
        where = f"at {_short(wait.location)}: {wait.statement}" if wait.location else wait.statement
        return [where]
    first, *inner = wait.stack
    out = [f"at {_short(first.location)}: {first.statement}"]
    out.extend(f"  in {site.function} at {site.location}: {site.statement}" for site in inner)
    return out


def cycle_text(trace: Trace, arrow: str = " -> ") -> str:
    """The cycle of the wait-for graph: `main -> worker -> main`, or in words for a thread
    that waits for itself (`main waits for itself: it holds lock m`)."""
    return trace.self_wait or arrow.join(trace.cycle)


# What comes before the wait itself in a wait's sentence: its process, what it holds while
# it waits, the end of its own code (`has returned; the exit join waits for ...`).
_LEAD = re.compile(r"^(?:in process [^:]+: )?(?:holds .+? and (?=waits )|has returned; )?")
# Where the wait's first clause ends: what follows says who holds it, or why.
_CLAUSE_END = re.compile(r", |: |; | \(")
_NAME = r"{}(?![\w\[#.])"  # a thread's name, and not the start of a longer one


def wait_label(wait: Wait) -> str:
    """The words on a wait-for arrow: what the thread waits for, the first clause of its
    wait (`waits for stdout's lock`, `waits for the GIL to format a Python value`, `waits on
    r`, `waits for t to end`). Separators inside backquotes, and a comma that goes on to name
    another of its holders (`non-daemon thread a, b`), do not end the clause."""
    text = _LEAD.sub("", wait.waits_for, count=1)
    quoted = False
    for index, char in enumerate(text):
        if char == "`":
            quoted = not quoted
        if quoted or not _CLAUSE_END.match(text, index):
            continue
        rest = text[index + 2 :]
        if text[index] == "," and any(
            re.match(_NAME.format(re.escape(h)), rest) for h in wait.holders
        ):
            continue
        return text[:index] if index else wait.waits_for
    return text or wait.waits_for


def wait_lines(trace: Trace, verdict: str) -> list[str]:
    """What each thread waits for in the final state, what explains it (the vars its
    condition reads, the channels and queues that hold something), the wait-for chain,
    and its cycle or a pool's exhaustion."""
    label = "Stuck threads" if verdict == "stuck" else "Final state"
    out = [f"{label}: " + trace.final_note]
    width = max(len(w.thread) for w in trace.waits)
    pad = " " * (2 + width + 2)
    for wait in trace.waits:
        out.append(f"  {wait.thread.ljust(width)}  {wait.waits_for}")
        holds = f"   (holds {', '.join(wait.holds)})" if wait.holds else ""
        first, *inner = stack_lines(wait)
        out.append(f"{pad}{first}{holds}")
        out.extend(f"{pad}{line}" for line in inner)
    if trace.watched:
        values = ", ".join(f"{w.name} = {w.value}" for w in trace.watched)
        out.append(f"  vars read by the waits: {values}")
    out.extend(f"  {pending.text}" for pending in trace.pending)
    chain = "; ".join(f"{w.thread} {w.waits_for}" for w in trace.waits)
    out.append("")
    out.append(f"Wait-for chain: {chain}.")
    if trace.cycle:
        out.append(f"Cycle: {cycle_text(trace)}")
    out.extend(f"Pool exhausted: {line}" for line in trace.exhausted)
    return out


def draft_lines(result: CheckResult) -> list[str]:
    """A drafted spec's assumptions (what an `ok` rests on) and its origins whose source
    changed since the draft."""
    out: list[str] = []
    if result.assumptions:
        out.append("")
        if result.verdict != "ok":
            out.append("Assumed by the draft:")
        elif result.assumptions_accepted:
            out.append("Assumed by the draft (accepted with --accept-assumptions):")
        else:
            out.append(
                "Assumed by the draft (this `ok` holds only under these; "
                "check them, then pass --accept-assumptions):"
            )
        out.extend(f"  {n}. {a}" for n, a in enumerate(result.assumptions, 1))
    if result.drift:
        out.append("")
        out.append(
            "The source changed since the draft (redraft with `gilcheck draft --update SPEC`):"
        )
        out.extend(f"  {d.message}" for d in result.drift)
    return out


def render_text(result: CheckResult) -> str:
    """The whole report as plain text."""
    out: list[str] = []
    head = result.spec + (f": {result.title}" if result.title else "")
    out.append(head)
    out.append(verdict_line(result))
    out.append(f"  {result.message}")
    for note in result.notes:
        out.append(f"  {note}")
    out.extend(draft_lines(result))
    witness = witness_line(result)
    if witness is not None and result.trace is not None:
        out.append(f"  {witness} (the trace below uses these values)")
    trace = result.trace
    if trace is not None and trace.steps:
        out.append("")
        label = (
            "Shortest trace"
            if result.shortest and result.verdict not in ("bound", "inconclusive")
            else "Trace"
        )
        out.extend(step_lines(trace, label))
    if trace is not None and trace.waits:
        out.append("")
        out.extend(wait_lines(trace, result.verdict))
    if result.lints:
        out.append("")
        out.append("Warnings from the constraints:")
        for lint in result.lints:
            out.append(f"  warning[{lint.code}] {_short(lint.location)}: {lint.message}")
    stats = result.stats
    out.append("")
    scope = "exhaustive" if stats.exhaustive else "NOT exhaustive"
    if result.verdict not in ("ok", "bound", "inconclusive", "stuck", "livelock"):
        scope = "stopped at the first violation"
        if result.condition is not None and stats.exhaustive:
            scope = "exhaustive: every value's violations"
        if result.limit:
            scope = f"stopped by {result.limit}; NOT exhaustive"
    if result.p_miss is not None and result.verdict == "ok":
        scope = f"exhaustive up to fingerprints: {p_miss_text(result)}"
    if stats.symmetry:
        scope += symmetry_scope(stats.symmetry)
    out.append(
        f"{stats.states:,} states, {stats.transitions:,} transitions, "
        f"{stats.seconds:.2f} s ({scope})"
    )
    return "\n".join(out) + "\n"


def symmetry_scope(names: tuple[str, ...]) -> str:
    """What symmetry reduced, for the scope line: "; one state per permutation of w[5]",
    and "; one state per rotation of philosopher[5]" for arrays reduced by rotations."""
    permuted = [name for name in names if not name.endswith(ROTATIONS)]
    rotated = [name.removesuffix(ROTATIONS) for name in names if name.endswith(ROTATIONS)]
    out = ""
    if permuted:
        out += f"; one state per permutation of {', '.join(permuted)}"
    if rotated:
        out += f"; one state per rotation of {', '.join(rotated)}"
    return out
