"""`gil off` (free-threaded CPython): no mutual exclusion, and stop-the-world pauses.

gilcheck's engine (system/engine/scheduling.py, `_free_threaded_transitions`) keeps a
thread's GIL count as whether it is attached (`with_gil`, `python { }`, `acquire_gil`) and
uses the GIL's slot for the thread whose stop-the-world pause is pending. The export does
the same: `gil` is the pausing thread (NO_ONE: no pause), and the GIL statements keep
their guards (attaching waits while another thread's pause is pending) without writing
`gil`.

- A thread at a statement of Python code whose count is above 0, whose statement is not
  half done (`phase`, `waiting`) and that can go on may start a pause (a step: `gil = me`).
- While a pause is pending, a thread at a statement of Python code (blocked in one
  included) has no step: it is parked; the pausing thread's only step is the pause's end,
  once no other thread is attached in native code (`busy == 0`). Native code goes on.
- `busy` has a bit per thread: set while the thread is at a statement of native code with
  a GIL count above 0 (attached, not at a Python statement boundary, not blocked in
  Python code). Each label's count and context are static, so every step sets the bit for
  the label it goes to, in the same atomic step; a thread clears it when it ends (before
  the exit join), and main's finalization (host python) is a step of its own that waits
  while a pause is pending.
- Statements that take the GIL implicitly (making a `pyobj`, cloning or printing a Python
  value from native code) need nothing when the thread is attached, else wait while a
  pause is pending; timed waits may time out in Python code as in native code (no GIL is
  given up first); a blocking statement in Python code just blocks (it is detached).
"""

from __future__ import annotations

import dataclasses
import re

from gilcheck.export.promela.common import (
    JOIN_LABEL,
    OUT_OF_RANGE,
    REAP_LABEL,
    Gil,
    Refused,
    Unit,
)
from gilcheck.export.promela.values import ValueTranslator
from gilcheck.semantics import describe, ir
from gilcheck.semantics.reads import reads_shared

# The label main goes to when it has ended (host python): finalization, a step that takes
# the GIL (`gil off`: waits while another thread's pause is pending).
FINALIZE_LABEL = "finalize"
# The steps of pool workers and loop tasks around their functions (pools.py, loops.py).
TASK_LABELS = ("end_take", "w_finish", "k_start", "k_finish")
_GOTO = re.compile(r"goto ([A-Za-z0-9_]+)")
_GIL_STATEMENTS = (
    ir.GilEnter,
    ir.GilExit,
    ir.PythonEnter,
    ir.PythonExit,
    ir.AllowEnter,
    ir.AllowExit,
    ir.AcquireGil,
    ir.ReleaseGil,
)


class FreeThreaded(ValueTranslator):
    """The steps of a `gil off` program (see the module's docstring)."""

    @property
    def gil_off(self) -> bool:
        """Whether the program runs free-threaded (`gil off`)."""
        return self.program.gil == "off"

    def free_header(self) -> list[str]:
        """The declarations `gil off` adds."""
        return [
            "int busy = 0;           /* gil off: threads attached in native code (bits) */",
            "/* gil off: `gil` is the thread whose stop-the-world pause is pending */",
        ]

    def free_adjust(
        self, instr: ir.Instr, g: Gil, python: bool, guard: str, effect: str
    ) -> tuple[str, str]:
        """An instruction's guard and effect under `gil off`: GIL statements attach and
        detach (their guards wait for a pending pause, they write no `gil`); an attached
        thread prints or clones a Python value without waiting for anything."""
        if python and _picked_through_shared_state(instr):
            # gilcheck's thread blocked there first starts waiting on the element it read
            # (a step, after which its statement is half done): a pause may start before
            # it and not after, which the export, reading the index again, cannot tell.
            operation = instr
            if isinstance(instr, ir.Recv | ir.Send | ir.Acquire | ir.Wait):
                operation = dataclasses.replace(instr, target=None)  # the statement as written
            raise Refused(
                f"`{describe.statement(operation)}` in Python code with `gil off`, whose "
                "channel or object is picked through a shared var,",
                instr.span,
            )
        if isinstance(instr, _GIL_STATEMENTS):
            effect = effect.replace("gil = me;", "").replace("gil = NO_ONE;", "")
        elif isinstance(instr, ir.Print) and not python and g.count > 0:
            guard, effect = "out_lock == NO_ONE", ""
        elif isinstance(instr, ir.CloneHandle) and g.count > 0:
            guard = "true"
        return guard, effect

    def busy_at(self, label: str) -> bool:
        """Whether a thread at `label` is attached in native code (a pause waits for it)."""
        if label in ("end_exit", FINALIZE_LABEL, REAP_LABEL, JOIN_LABEL, *TASK_LABELS):
            # (a pool's worker or a loop's task between tasks, a process's end: native,
            # count 0)
            return False
        prefix, _, pc_text = label.rpartition("L")
        unit = next(u for u in self.inlined if u.prefix == prefix)
        code = self.program.codes[unit.index]
        pc = _resolve(code, int(pc_text))
        return unit.gil[pc].count > 0 and unit.context_of(code.instrs[pc]) != ir.Context.PYTHON

    def free_step(
        self,
        unit: Unit,
        pc: int,
        instr: ir.Instr,
        python: bool,
        guard: str,
        effect: str,
        nxt: str,
        ok: str | None,
    ) -> None:
        """One instruction's step under `gil off`: its options (after the escape at the
        program's end), each setting the thread's `busy` bit for the label it goes to."""
        label = unit.label(pc)
        g = unit.gil[pc]
        source = self.busy_at(label)
        if isinstance(instr, ir.Return | ir.End) and unit.call is None and source:
            # The thread ends (or main waits in the exit join): no longer attached.
            effect = f"busy = busy & ~(1 << me); {effect}"
            source = False
        ready = guard if ok is None else f"({ok}) && ({guard})"
        steps: list[str] = []
        if ok is not None:
            steps.append(f"!({ok}) -> {OUT_OF_RANGE}")
        steps.append(f"{ready} -> {effect} goto {nxt}")
        if self.timed_out is not None:
            # A timed wait that cannot complete may time out (in Python code too: it is
            # detached while it waits, and takes no GIL back).
            waits = f"!({guard})" if ok is None else f"({ok}) && !({guard})"
            steps.append(f"{waits} -> {self.timed_out} goto {self._label(pc + 1)}")
        if self.pin_step is not None:
            # It cannot go on: it keeps the object or channel element it read (objects.py,
            # channels.py).
            pinned = self.pin_step if ok is None else f"({ok}) && {self.pin_step}"
            steps.append(f"{pinned}; goto {label}")
        options = [self._with_busy(step, source) for step in steps]
        if python:
            # Python code: parked while a pause is pending.
            options = [f"gil == NO_ONE && {option}" for option in options]
        if python and g.count > 0:
            # A pause may start between statements, where the thread can go on; it ends
            # once no other thread is attached in native code.
            can_go_on = "true" if self.timed_out is not None else guard
            if ok is not None and self.timed_out is None:
                can_go_on = f"!({ok}) || ({guard})"
            options = [
                f"gil == me && busy == 0 -> gil = NO_ONE; goto {label}",
                f"gil == NO_ONE && phase == 0 && waiting == 0 && ({can_go_on}) -> "
                f"gil = me; goto {label}",
                *options,
            ]
        progress = f" progress_{label}:" if isinstance(instr, ir.Progress) else ""
        emit = self.lines.append
        emit(f"{label}:{progress}  /* {type(instr).__name__} */")
        emit("  if")
        emit("  :: ended -> goto end_exit")
        for option in options:
            emit(f"  :: atomic {{ !ended && {option} }}")
        emit("  fi;")

    def _with_busy(self, text: str, source: bool) -> str:
        """`text` with the thread's `busy` bit set for each label it goes to (where it
        differs from the one it leaves)."""

        def update(found: re.Match[str]) -> str:
            target = found.group(1)
            after = self.busy_at(target)
            if after == source:
                return found.group(0)
            change = "busy = busy | (1 << me);" if after else "busy = busy & ~(1 << me);"
            return f"{change} {found.group(0)}"

        return _GOTO.sub(update, text)

    def finalize_step(self, running: str = "", ends: str = "") -> list[str]:
        """main's finalization (host python; a child process's, any host), a step of its
        own: it takes the GIL, which main may still hold from `acquire_gil` (`gil off`: once
        no pause is pending); `running`: the condition every step adds (a fork's process);
        `ends`: what the process's end does besides."""
        if self.gil_off:
            take = f"gil == NO_ONE -> ended = 1; {ends}"
        else:
            take = f"(gil == NO_ONE || gil == me) -> gil = me; ended = 1; {ends}"
        return [
            f"{FINALIZE_LABEL}:  /* finalization */",
            "  if",
            "  :: ended -> goto end_exit",
            f"  :: atomic {{ !ended{running} && {take} goto end_exit }}",
            "  fi;",
        ]


def _picked_through_shared_state(instr: ir.Instr) -> bool:
    """Whether a statement that may block names its channel or object (or a condvar's
    mutex) through state other threads change (`recv c[i]`, `acquire m[i]` with `var i`)."""
    if isinstance(instr, ir.Recv | ir.Send):
        ref = instr.channel
        return (
            isinstance(ref, ir.GlobalChannel) and ref.index is not None and reads_shared(ref.index)
        )
    if not isinstance(instr, ir.Acquire | ir.Wait | ir.OnceBegin):
        return False
    refs = [getattr(instr, name, None) for name in ("resource", "mutex", "partner")]
    return any(
        isinstance(ref, ir.ResourceRef) and ref.index is not None and reads_shared(ref.index)
        for ref in refs
    )


def _resolve(code: ir.CodeUnit, pc: int) -> int:
    """Follow jumps from `pc`, as gilcheck's engine does (a thread never rests at a jump)."""
    seen: set[int] = set()
    while pc < len(code.instrs) and pc not in seen:
        instr = code.instrs[pc]
        if not isinstance(instr, ir.Jump):
            break
        seen.add(pc)
        pc = instr.target
    return pc
