"""The shortest counterexample as a Mermaid sequence diagram.

Threads, the GIL, stdout's lock, locks and channels are participants. Each step is an
arrow from its thread to what it took, released or sent on (found by comparing the
snapshots before and after the step), or a note over its thread; the diagram ends with
who waits for whom in the final state.
"""

from __future__ import annotations

from dataclasses import dataclass

from gilcheck.trace.model import CheckResult, Location, Snapshot, Step, Trace

# Mermaid ends a statement at `;`, a message at `#`, and may read `<...>` as markup: these
# characters become Mermaid's entity codes (`#59;`), which it draws as the character itself.
# Every other character, CJK and emoji included, is left as it is: whether it shows is up to
# the fonts of the browser that draws it.
_SUBSTITUTES = str.maketrans(
    {"#": "#35;", ";": "#59;", "<": "#60;", ">": "#62;", "\n": " ", "\r": " "}
)


def mermaid_text(text: str) -> str:
    """Text safe inside a Mermaid message, note or alias."""
    return text.translate(_SUBSTITUTES)


def short_location(location: str | Location) -> str:
    """`buggy.gil:13` for `specs/seed/buggy.gil:13`."""
    return str(location).rsplit("/", 1)[-1]


@dataclass
class _Participants:
    """Mermaid ids (`T0`, `H1`, `C2`) for threads, holdings and channels, in declared order."""

    ids: dict[tuple[str, str], str]
    lines: list[str]

    def add(self, kind: str, name: str, label: str) -> None:
        key = (kind, name)
        if key not in self.ids:
            self.ids[key] = f"{kind}{len([k for k in self.ids if k[0] == kind])}"
            self.lines.append(f"    participant {self.ids[key]} as {mermaid_text(label)}")

    def get(self, kind: str, name: str) -> str | None:
        return self.ids.get((kind, name))


def render_mermaid(result: CheckResult) -> str:
    """The diagram source (starting `sequenceDiagram`), ending with a newline."""
    lines = ["sequenceDiagram", f"    title {mermaid_text(_title(result))}"]
    trace = result.trace
    if trace is None or not trace.steps:
        lines.append(f"    participant S as {mermaid_text(result.spec)}")
        lines.append(f"    Note over S: {mermaid_text(_no_trace(result))}")
        return "\n".join(lines) + "\n"
    people = _participants(trace)
    lines.extend(people.lines)
    before = trace.start
    for position, step in enumerate(trace.steps):
        if trace.loop_from is not None and position == trace.loop_from:
            lines.append("    loop the program can repeat these steps for ever")
        lines.append("    " + _step_line(step, before, people))
        before = step.after if step.after is not None else before
    if trace.loop_from is not None and trace.loop_from < len(trace.steps):
        lines.append("    end")
    lines.extend("    " + line for line in _ending(result, trace, people))
    return "\n".join(lines) + "\n"


def _title(result: CheckResult) -> str:
    title = f": {result.title}" if result.title else ""
    return f"{short_location(result.spec)}{title} (verdict {result.verdict})"


def _no_trace(result: CheckResult) -> str:
    if result.verdict == "ok":
        return f"verdict ok: no counterexample to draw. {result.message}"
    return f"verdict {result.verdict}: no trace to draw. {result.message}"


def _participants(trace: Trace) -> _Participants:
    """Every thread; then the GIL, locks and channels that change or are held or waited on."""
    people = _Participants({}, [])
    snapshots = [s for s in [trace.start, *(step.after for step in trace.steps)] if s is not None]
    for step in trace.steps:
        people.add("T", step.thread, step.thread)
    for wait in trace.waits:
        people.add("T", wait.thread, wait.thread)
        for holder in wait.holders:
            people.add("T", holder, holder)
    for snapshot in snapshots:
        for thread in snapshot.threads:
            people.add("T", thread.name, thread.name)
    last = snapshots[-1] if snapshots else None
    for index, holding in enumerate(last.holdings if last is not None else ()):
        states = {s.holdings[index].state for s in snapshots if index < len(s.holdings)}
        if len(states) > 1 or holding.holders:
            people.add("H", holding.name, holding.name)
    for index, buffer in enumerate(last.buffers if last is not None else ()):
        seen = {
            (s.buffers[index].messages, s.buffers[index].closed)
            for s in snapshots
            if index < len(s.buffers)
        }
        if len(seen) > 1 or buffer.messages:
            people.add("C", buffer.name, f"{buffer.name} ({buffer.kind})")
    return people


def _step_text(step: Step) -> str:
    number = "+" if step.merged else f"{step.index}."
    head = f"{number} {short_location(step.location)} {step.statement}".strip()
    return "<br/>".join(mermaid_text(part) for part in (head, *step.effects))


def _step_line(step: Step, before: Snapshot | None, people: _Participants) -> str:
    """An arrow to what the step changed, else a note over its thread."""
    me = people.get("T", step.thread) or "T0"
    text = _step_text(step)
    after = step.after
    if before is not None and after is not None:
        for old, new in zip(before.buffers, after.buffers, strict=False):
            target = people.get("C", new.name)
            if target is None or old == new:
                continue
            if len(new.messages) < len(old.messages):
                return f"{target}-->>{me}: {text}"
            return f"{me}->>{target}: {text}"
        for index, new in enumerate(after.buffers[len(before.buffers) :]):
            target = people.get("C", new.name)
            if target is not None and index == 0:
                return f"{me}->>{target}: {text}"
        for was, now in zip(before.holdings, after.holdings, strict=False):
            target = people.get("H", now.name)
            if target is None or was == now:
                continue
            if step.thread in was.holders and step.thread not in now.holders:
                return f"{me}-->>{target}: {text}"
            return f"{me}->>{target}: {text}"
    return f"Note over {me}: {text}"


def _ending(result: CheckResult, trace: Trace, people: _Participants) -> list[str]:
    """The final state: who waits for whom and what each holds, or the violation."""
    threads = [key[1] for key in people.ids if key[0] == "T"]
    span = people.get("T", threads[0]) or "T0"
    if len(threads) > 1:
        span += "," + (people.get("T", threads[-1]) or "T0")
    label = "stuck threads" if result.verdict == "stuck" else "final state"
    out = [f"Note over {span}: {mermaid_text(f'{label} ({result.verdict}): {trace.final_note}')}"]
    for wait in trace.waits:
        me = people.get("T", wait.thread) or "T0"
        text = mermaid_text(wait.waits_for)
        if wait.holds:
            text += "<br/>" + mermaid_text("(holds " + ", ".join(wait.holds) + ")")
        holders = [people.get("T", h) for h in wait.holders]
        if len(holders) == 1 and holders[0] is not None:
            out.append(f"{me}-x{holders[0]}: {text}")
            continue
        out.append(f"Note over {me}: {text}")
        out.extend(f"{me}-x{h}: waits for" for h in holders if h is not None)
    if trace.cycle:
        words = trace.self_wait or " → ".join(trace.cycle)
        out.append(f"Note over {span}: {mermaid_text('cycle: ' + words)}")
    out.extend(
        f"Note over {span}: {mermaid_text('pool exhausted: ' + line)}" for line in trace.exhausted
    )
    return out
