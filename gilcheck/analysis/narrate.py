"""Narrating a replayed path: each step's thread, line, statement and effects, from state diffs."""

from __future__ import annotations

from typing import Any, assert_never

from gilcheck.analysis.callstack import CallStacks
from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.locations import NOWHERE, location_of
from gilcheck.analysis.snapshots import Snapshotter
from gilcheck.analysis.statements import statement_text
from gilcheck.semantics import ir
from gilcheck.semantics.describe import expression
from gilcheck.semantics.values import EvalError, is_python_value, render
from gilcheck.source import SourceMap
from gilcheck.sync import registry
from gilcheck.system.engine import Engine, SpecMisuse
from gilcheck.system.engine.common import CHANNEL_PIN, DECLARED, HEAP
from gilcheck.system.engine.handlers_processes import CHILDREN_JOINED, TERMINATES_DAEMONS
from gilcheck.system.engine.handlers_sync import PINNED
from gilcheck.system.expr import IndexOutOfRange, UseAfterMove
from gilcheck.system.model import (
    DECIDE,
    EXIT_JOIN_DONE,
    FINALIZE,
    FORK_CHILD,
    GIL_BACK,
    GIL_RELEASE_TO_BLOCK,
    GIL_YIELD,
    INTERRUPT,
    LOOP_GIVE_BACK,
    PAUSE_END,
    PAUSE_START,
    SPURIOUS_WAKEUP,
    STEP,
    TIMEOUT,
    Action,
    Target,
)
from gilcheck.system.objects import canonical
from gilcheck.system.state import (
    C_BUF,
    C_RECEIVER,
    C_SENDERS,
    CHILD_JOIN,
    ENDED,
    EXIT_JOIN,
    F_CODE,
    F_LOCALS,
    F_PC,
    FINALIZING,
    GONE,
    H_KIND,
    H_STATE,
    S_CHANS,
    S_ENDED,
    S_GIL,
    S_LOCKS,
    S_PATH,
    S_STDOUT,
    S_THREADS,
    S_VARS,
    T_ALLOW,
    T_FRAMES,
    T_GILCOUNT,
    T_PHASE,
    T_STATUS,
    State,
    fork_path,
    heap_of,
)
from gilcheck.trace.model import Step


class Narrator:
    """Turns (state, action, next state) into a Step."""

    def __init__(self, engine: Engine, layout: StateLayout, sources: SourceMap) -> None:
        self.engine = engine
        self.layout = layout
        self.sources = sources
        self.stacks = CallStacks(engine.program, sources)
        layout.sources = sources
        self.snapshots: Snapshotter | None = None  # set per trace: describes each step's state
        self.witness: dict[str, int] = {}  # set per trace: values of the unknowns it shows
        # Whether an `atomic` block's statements are told (off: as traces before they were)
        self.unfold_atomic = True

    def steps(self, index: int, before: State, action: Action, after: Target) -> list[Step]:
        """The step, then each statement the engine merged into it (the statements of an
        `atomic` block, then local steps and releases)."""
        raw = self._unmerged(before, action)
        if raw is None or type(raw) is not tuple:
            return [self.step(index, before, action, after)]
        out = self.unfolded(index, before, action, raw)
        if raw == after:
            if type(after) is tuple:
                self.layout.same_objects(raw, after)
            return out
        tid = action[0]
        current: State = raw
        for _ in range(300):
            if current == after:
                break
            # (a handover the thread could make instead is not one of its statements)
            mine = [
                t for a, t in self._raw_transitions(current) if a[0] == tid and a[1] != GIL_YIELD
            ]
            if len(mine) != 1 or type(mine[0]) is not tuple:
                break
            out.append(self.step(index, current, (tid, STEP, 0), mine[0], merged=True))
            current = mine[0]
        if type(after) is tuple:
            self.layout.same_objects(current, after)
        return out

    def unfolded(self, index: int, before: State, action: Action, after: Target) -> list[Step]:
        """The step as `step` narrates it; a step that runs an `atomic` block is followed by
        the statements it ran to reach `after` (the branches taken, each value picked), and
        a violation in the block is told at the statement that hits it."""
        unfold = self.unfold_atomic and action[1] == STEP
        path = self.engine.atomic_path(before, action[0], after) if unfold else []
        if not path:
            return [self.step(index, before, action, after)]
        out = [self.step(index, before, action, path[0][0])]
        out.extend(self.step(index, *inside, merged=True) for inside in path)
        return out

    def _raw_transitions(self, state: State) -> list[tuple[Action, Target]]:
        merging = self.engine.merge_local_steps
        self.engine.merge_local_steps = False
        try:
            return self.engine.transitions(state)
        finally:
            self.engine.merge_local_steps = merging

    def _unmerged(self, before: State, action: Action) -> Target | None:
        for candidate, target in self._raw_transitions(before):
            if candidate == action:
                return target
        return None

    def _as_made(self, before: State, action: Action, after: State) -> State:
        """A step's target as the step made it (before its objects were renumbered)."""
        merging = self.engine.merge_local_steps
        self.engine.merge_local_steps = False
        try:
            steps = self.engine.raw_transitions(before)
        finally:
            self.engine.merge_local_steps = merging
        for candidate, target in steps:
            if candidate == action and type(target) is tuple:
                found = canonical(
                    target, self.engine.declared_channels, self.engine.pool_slots_of(target)
                )
                if found.state == after:
                    self.layout.note_step(before, target, found, after)
                    return target
        return after

    def step(
        self, index: int, before: State, action: Action, after: Target, merged: bool = False
    ) -> Step:
        tid = action[0]
        th = before[S_THREADS][tid]
        name = self.layout.thread_name(before, tid)
        instr = None
        if th[T_FRAMES]:
            frame = th[T_FRAMES][-1]
            instr = self.engine.codes[frame[F_CODE]].instrs[frame[F_PC]]
        location = location_of(self.sources, instr) if instr is not None else NOWHERE
        statement = statement_text(self.sources, instr) if instr is not None else "(program end)"
        line = self.sources.line_of(instr.span) if instr is not None else 0
        reached = isinstance(after, tuple) and not hasattr(after, "_fields")
        if not reached:
            effects: tuple[str, ...] = (getattr(after, "message", "violation"),)
        else:
            # Objects made at run time are renumbered after each step: the step is told
            # from its target as it made it, where they keep their numbers.
            told = self._as_made(before, action, after) if self.engine.objects else after
            pid = self.engine.process_of(before, tid)
            if pid:  # a child process's step is told in its own view (its GIL, its vars)
                seen, told_seen = self.engine.view(before, pid), self.engine.view(told, pid)
                self.layout.same_objects(before, seen)
                self.layout.same_objects(told, told_seen)
                effects = tuple(self._effects(seen, action, told_seen, instr))
            else:
                effects = tuple(self._effects(before, action, told, instr))
        snapshot = None
        if self.snapshots is not None:
            snapshot = self.snapshots.snapshot(after if reached else before)
        via = self.stacks.via(th) if instr is not None else None
        return Step(index, name, location, line, statement, effects, merged, snapshot, via)

    def _effects(
        self, before: State, action: Action, after: State, instr: ir.Instr | None
    ) -> list[str]:
        tid, kind = action[0], action[1]
        if kind == GIL_BACK:
            return ["takes the GIL back"]
        if kind == GIL_YIELD:
            return ["the interpreter hands the GIL over at a statement boundary (switch interval)"]
        if kind == LOOP_GIVE_BACK:
            return self._side_effects(before, after, tid, [])
        if kind == GIL_RELEASE_TO_BLOCK:
            return ["cannot go on at once: releases the GIL while it waits"]
        if kind == EXIT_JOIN_DONE and action[2] == TERMINATES_DAEMONS:
            ended = [
                self.layout.thread_name(after, t)
                for t in self.engine.process_mains(after)
                if before[S_THREADS][t][T_STATUS] != ENDED
                and after[S_THREADS][t][T_STATUS] == ENDED
            ]
            return [f"terminates its daemon child process {', '.join(ended)}"]
        if kind == EXIT_JOIN_DONE and action[2] == CHILDREN_JOINED:
            return ["no child process of its own is still running: joining them is done"]
        if kind == EXIT_JOIN_DONE:
            done = "every non-daemon thread has ended: the exit join completes"
            if after[S_THREADS][tid][T_FRAMES]:
                return [f"{done}; the atexit handlers run (Python code: takes the GIL)"]
            return [done]
        if kind == DECIDE:
            added = [c for c in after[S_PATH][1] if c not in before[S_PATH][1]]
            text = " and ".join(render(c) for c in added) or "its condition"
            if int(action[2]) >= 2:  # type: ignore[call-overload]
                return [f"for the values where {text} (the step depends on it)"]
            goes = "can go on" if action[2] else "waits"
            return [f"for the values where {text}: it {goes}"]
        if kind == FORK_CHILD:
            gone = [
                self.layout.thread_name(after, i)
                for i, t in enumerate(after[S_THREADS])
                if t[T_STATUS] == GONE and before[S_THREADS][i][T_STATUS] != GONE
            ]
            text = "forks: this path follows the child process, a copy in which only "
            text += f"{self.layout.thread_name(after, tid)} runs"
            if gone:
                text += f" ({', '.join(gone)} {'does' if len(gone) == 1 else 'do'} not exist in it)"
            return [text]
        if kind == INTERRUPT:
            hooks = self.engine.program.hooks
            hook, code = hooks[int(action[2])]  # type: ignore[call-overload]
            # Of several blocks of one kind, the one that starts is named by its line.
            several = sum(other == hook for other, _ in hooks) > 1
            line = self.sources.line_of(self.engine.codes[code].span)
            at = f" at line {line}" if several else ""
            what = (
                f"the finalizer{at} (`__del__` or a weakref callback run by the garbage collector)"
                if hook == "finalizer"
                else f"the signal handler{at}"
            )
            return [f"{what} starts here, before this statement, and runs to its end first"]
        if kind == FINALIZE:
            if self.engine.has_processes and self.engine.current_process(before):
                return ["finalization takes the process's GIL: the process ends"]
            return ["finalization takes the GIL: the program ends"]
        if kind == PAUSE_START:
            return ["a stop-the-world pause (garbage collection) starts here"]
        if kind == SPURIOUS_WAKEUP:
            return ["wakes up spuriously (no notify): will retake the mutex"]
        if kind == TIMEOUT:
            return self._timed_out(before, after, tid, instr)
        if kind == PAUSE_END:
            return [
                "the pause ends: every other attached thread is detached or at a Python "
                "statement boundary"
            ]
        new_phase = after[S_THREADS][tid][T_PHASE]
        if (
            type(new_phase) is tuple
            and new_phase[0] == CHANNEL_PIN
            and before[S_THREADS][tid][T_PHASE] != new_phase
            and isinstance(instr, ir.Recv | ir.Send)
            and new_phase[2] == before[S_THREADS][tid][T_PHASE]
        ):
            name = self.layout.channel_name(before, int(new_phase[1]))
            released = ", releasing the GIL while it waits" if after[S_GIL] != before[S_GIL] else ""
            return [f"cannot go on yet: starts waiting on {name}{released}"]
        effects = self._primary(before, action, after, instr)
        effects.extend(self._side_effects(before, after, tid, effects))
        phase = before[S_THREADS][tid][T_PHASE]
        if (
            isinstance(phase, tuple) and phase[0] == "cv-late"
        ):  # a timed condvar wait after its timeout
            effects.append("the wait yields false: it had timed out")
        verb = ir.sync_verb(instr) if instr is not None and not effects else None
        if verb is not None:  # a statement on a sync object that left it as it was
            reached = self.engine.reached(before, tid)
            if reached is not None and _starts_waiting(before, after, tid):
                label = self.layout.object_label(before, reached.obj)
                released = (
                    ", releasing the GIL while it waits" if after[S_GIL] != before[S_GIL] else ""
                )
                effects = [f"cannot go on yet: starts waiting on {label}{released}"]
            elif reached is not None:
                label = self.layout.object_label(before, reached.obj)
                quiet = registry.primitive(reached.kind).quiet_effect(verb, label)
                effects = [quiet] if quiet is not None else []
        return [self.layout.tidy(e) for e in effects] or ["(no visible effect)"]

    def _joins_process(self, state: State, tid: int) -> bool:
        """Whether a thread's `join` waits for a process (its main thread)."""
        if not self.engine.has_processes:
            return False
        th = state[S_THREADS][tid]
        frame = th[T_FRAMES][-1]
        p = self.engine.prepared[frame[F_CODE]][frame[F_PC]]
        try:
            target = self.engine.join_target(state, th, frame, p)
        except (SpecMisuse, EvalError, IndexOutOfRange, UseAfterMove):
            return False  # the step itself reports the bad handle
        return target in self.engine.process_mains(state)

    def _timed_out(
        self, before: State, after: State, tid: int, instr: ir.Instr | None
    ) -> list[str]:
        """A timed wait's timeout step: what it yields, and what it left waiting on."""
        if after[S_THREADS][tid][T_PHASE] != 0:  # `wait cv, m timeout`: m first
            text = "times out before any notify: takes the mutex back, then the wait yields false"
        elif isinstance(instr, ir.Recv):
            text = 'times out: nothing to receive, `recv` yields err("timeout")'
        elif isinstance(instr, ir.Join):
            text = "times out: the thread has not ended, `join` yields false"
        elif isinstance(instr, ir.SyncOp) and instr.verb == "result":
            text = 'times out: the future is not complete, `result` yields err("timeout")'
        else:
            text = "times out: gives up waiting, the wait yields false"
        return [text, *self._side_effects(before, after, tid, [text])]

    def _primary(
        self, before: State, action: Action, after: State, instr: ir.Instr | None
    ) -> list[str]:
        tid, _, arg = action
        th_before = before[S_THREADS][tid]
        th_after = after[S_THREADS][tid]
        lay = self.layout
        match instr:
            case ir.Choose():
                return [f"chooses branch {int(arg) + 1}"]  # type: ignore[call-overload]
            case ir.AnyInt(target=target) if arg == "unknown":
                name = getattr(target, "name", "any")
                known = self.witness.get(name)
                shown = f"; the trace shows {name} = {known}" if known is not None else ""
                return [f"picks an unknown value {name} (explored symbolically){shown}"]
            case ir.AnyInt():
                return [f"picks {arg}"]
            case ir.Branch():
                taken = (
                    th_after[T_FRAMES][-1][F_PC]
                    == self.engine.prepared[th_before[T_FRAMES][-1][F_CODE]][
                        th_before[T_FRAMES][-1][F_PC]
                    ].next_pc
                )
                return [f"the condition is {'true' if taken else 'false'}"]
            case ir.Send():
                return self._send(before, after, tid, instr, arg)
            case ir.Recv() | ir.TryRecv():
                return self._recv(before, after, tid, instr)
            case ir.Print():
                frame = th_before[T_FRAMES][-1]
                value = self.engine.evaluate(
                    self.engine.prepared[frame[F_CODE]][frame[F_PC]].value, before, frame, th_before
                )
                if th_after[T_PHASE] == 1:
                    return [
                        f"takes stdout's lock; formatting {lay.value(value, before)} needs the GIL"
                    ]
                if th_before[T_PHASE] == 1:
                    return [
                        f"takes the GIL, prints {lay.value(value, before)}, releases the GIL and "
                        "stdout's lock"
                    ]
                extra = " (formatting takes the GIL it holds)" if is_python_value(value) else ""
                return [f"prints {lay.value(value, before)}{extra}"]
            case ir.GilEnter() if self.engine.gil_off:
                return [
                    "attaches to the interpreter"
                    if th_before[T_GILCOUNT] == 0
                    else f"enters with_gil again (count {th_after[T_GILCOUNT]})"
                ]
            case ir.GilExit() | ir.PythonExit() | ir.AllowEnter() if self.engine.gil_off:
                return [
                    "detaches from the interpreter"
                    if th_after[T_GILCOUNT] == 0
                    else "leaves a nested block"
                ]
            case ir.PythonEnter() | ir.AllowExit() if self.engine.gil_off:
                return ["attaches and runs Python code" if th_after[T_GILCOUNT] > 0 else "goes on"]
            case ir.GilEnter():
                if th_before[T_GILCOUNT] == 0:
                    return ["takes the GIL"]
                return [f"enters with_gil again (GIL count {th_after[T_GILCOUNT]})"]
            case ir.GilExit():
                if th_after[T_GILCOUNT] == 0:
                    return ["releases the GIL"]
                return [f"leaves a nested with_gil (GIL count {th_after[T_GILCOUNT]})"]
            case ir.PythonEnter():
                if th_before[T_GILCOUNT] == 0:
                    return ["takes the GIL to run Python code"]
                return ["runs Python code (already holds the GIL)"]
            case ir.PythonExit():
                if th_after[T_GILCOUNT] == 0 and before[S_GIL] == tid:
                    return ["leaves Python code and releases the GIL"]
                return ["leaves Python code"]
            case ir.AllowEnter():
                return (
                    ["releases the GIL (allow_threads)"]
                    if before[S_GIL] == tid
                    else ["enters allow_threads"]
                )
            case ir.AllowExit():
                return (
                    ["takes the GIL back (end of allow_threads)"]
                    if after[S_GIL] == tid
                    else ["leaves allow_threads"]
                )
            case ir.AcquireGil() | ir.ReleaseGil():
                return [self._gil_api(instr, th_before, th_after)]
            case ir.Acquire() | ir.Release():
                return []  # lock diffs describe it
            case ir.SpawnFn(process=True):
                new = len(after[S_THREADS]) - 1
                return [
                    f"starts process {lay.thread_name(after, new)} (its own GIL, stdout lock "
                    "and globals)"
                ]
            case ir.SpawnFn():
                new = len(after[S_THREADS]) - 1
                return [f"spawns {lay.thread_name(after, new)}"]
            case ir.Submit(function=f):
                return [f"submits {self.engine.codes[f].name}"]
            case ir.TakeTask():
                task = th_after[T_FRAMES][-1][F_CODE]
                return [f"runs the task {self.engine.codes[task].name}"]
            case ir.FinishTask() | ir.LoopFinish():
                return []  # told by the pool's or loop's and the future's primitives
            case ir.LoopStart():
                task = th_after[T_FRAMES][-1][F_CODE]
                return [f"runs the task {self.engine.codes[task].name}"]
            case ir.SuspendBegin():
                return ["awaits (suspend): keeps the event loop while each statement can go on"]
            case ir.SuspendEnd():
                return []  # told by the loop's primitive
            case ir.LoopIdle():
                return []
            case ir.Join() if self._joins_process(before, tid):
                return ["joins: the process has ended"]
            case ir.Join():
                return ["joins: the thread has ended"]
            case ir.CallFn(function=f):
                return [f"calls {self.engine.codes[f].name}"]
            case ir.ForkBegin():
                return ["forks a child process (explored as a path of its own); the parent goes on"]
            case ir.ForkEnd():
                return ["the child process ends (as with os._exit)"]
            case ir.Return() | ir.End() if (
                fork_path(after)
                and th_after[T_STATUS] == ENDED
                and (fork_path(after)[-1][0] == tid and not th_after[T_FRAMES] and after[S_ENDED])
            ):
                return ["leaves the fork block: the child process ends (as with os._exit)"]
            case ir.Return() | ir.End() if self._runs_atexit(th_before, th_after):
                return ["returns; the atexit handlers run (C atexit, static destructors)"]
            case ir.End() if self._ends_atexit(th_before):
                if th_after[T_FRAMES]:
                    return ["this atexit handler is done: the next one (declared before it) runs"]
                if th_after[T_STATUS] == FINALIZING:
                    return ["the atexit handlers are done: finalization begins"]
                if th_after[T_STATUS] == CHILD_JOIN:
                    return [
                        "the atexit handlers are done: child processes are joined (daemon ones "
                        "terminated), then finalization"
                    ]
                if self.engine.has_processes and not self.engine.has_ended(after):
                    return ["the atexit handlers are done: the main process ends"]
                return ["the atexit handlers are done: the program ends"]
            case ir.Return() | ir.End():
                if th_after[T_STATUS] == ENDED or th_after[T_STATUS] == EXIT_JOIN:
                    if after[S_ENDED] and not self.engine.has_ended(after):
                        return ["returns: the main process ends (child processes go on)"]
                    if after[S_ENDED]:
                        return ["returns: the program ends (main returned)"]
                    if th_after[T_STATUS] == EXIT_JOIN:
                        return ["returns; the interpreter's exit join begins"]
                    if after[S_GIL] == tid and not self.engine.gil_off:
                        return [
                            "ends holding the GIL (taken by acquire_gil): it stays held for ever"
                        ]
                    return ["ends"]
                return ["returns"]
            case ir.Assign(target=target):
                return [self._assigned(before, after, tid, target)]
            case ir.AtomicBegin():
                return ["runs the atomic block as one step"]
            case ir.MakeObject(target=target):
                made = len(heap_of(after)) - 1
                label = self.layout.object_label(after, (HEAP, made))
                return [
                    f"makes {label}" + (f" as {expression(target)}" if target is not None else "")
                ]
            case ir.MakeChannel(kind=kind, sender=tx, receiver=rx):
                names = ", ".join(t.name for t in (tx, rx) if t is not None)
                article = "an" if kind[0] in "aeiu" else "a"
                return [f"makes {article} {kind} channel ({names})"]
            case ir.CloneHandle():
                return ["clones it"]
            case ir.Await():
                return ["the condition holds"]
            case ir.EndScope(slots=slots):
                code = self.engine.codes[th_before[T_FRAMES][-1][F_CODE]]
                names = ", ".join(code.local_names[s] for s in slots)
                return [f"leaves the block, dropping {names}"]
            case ir.DropValue(name=name):
                return [f"drops {name}"]
            case ir.Progress():
                return ["marks progress"]
            case ir.Skip():
                return ["does nothing (skip)"]
            case (
                ir.Unwrap()
                | ir.Close()
                | ir.Wait()
                | ir.SyncOp()
                | ir.Notify()
                | ir.OnceBegin()
                | ir.OnceEnd()
                | ir.SetEvent()
                | ir.ClearEvent()
                | ir.Jump()
                | ir.Assert()
                | ir.Panic()
                | ir.AtomicEnd()
                | None
            ):
                return []  # told by the state's differences and the sync objects' primitives
            case _:
                assert_never(instr)

    def _gil_api(self, instr: ir.AcquireGil | ir.ReleaseGil, th_before: Any, th_after: Any) -> str:
        """`acquire_gil`/`release_gil` in the C API's words, with the count saved or restored."""
        off = self.engine.gil_off
        if isinstance(instr, ir.ReleaseGil):
            what = "detaches from the interpreter" if off else "releases the GIL"
            return f"{what} (PyEval_SaveThread): saves a count of {th_before[T_GILCOUNT]}"
        what = "attaches to the interpreter" if off else "takes the GIL"
        stack = th_before[T_ALLOW]
        if stack and stack[-1] < 0:
            return f"{what} (PyEval_RestoreThread): restores a count of {th_after[T_GILCOUNT]}"
        return f"{what} (PyEval_AcquireThread): nothing was saved, count 1"

    def _runs_atexit(self, th_before: Any, th_after: Any) -> bool:
        handlers = self.engine.atexit_codes
        frames_before, frames_after = th_before[T_FRAMES], th_after[T_FRAMES]
        return (
            len(frames_before) == 1
            and frames_before[0][F_CODE] not in handlers
            and len(frames_after) == 1
            and frames_after[0][F_CODE] in handlers
        )

    def _ends_atexit(self, th_before: Any) -> bool:
        frames = th_before[T_FRAMES]
        return len(frames) == 1 and frames[0][F_CODE] in self.engine.atexit_codes

    def _assigned(self, before: State, after: State, tid: int, target: ir.Target) -> str:
        if isinstance(target, ir.LocalTarget) and not target.name.isidentifier():
            # what a `lock` block's operand names, kept for the block's end
            frame = after[S_THREADS][tid][T_FRAMES][-1]
            value = self.layout.value(frame[F_LOCALS][target.slot], after)
            name = target.name
            if name.startswith("(") and name.endswith(")") and name[1:-1].isidentifier():
                name = name[1:-1]
            return f"the block keeps {name} = {value} for its end"
        if isinstance(target, ir.LocalTarget):
            frame = after[S_THREADS][tid][T_FRAMES][-1]
            return f"{target.name} = {self.layout.value(frame[F_LOCALS][target.slot], after)}"
        for slot, (old, new) in enumerate(zip(before[S_VARS], after[S_VARS], strict=True)):
            if old != new:
                return f"{self.layout.var_names[slot]} = {self.layout.value(new, after)}"
        if target.index is None:
            for slot, name in enumerate(self.layout.var_names):
                if name == target.name:
                    return f"{name} = {self.layout.value(after[S_VARS][slot], after)} (unchanged)"
        return f"{target.name} unchanged"

    def _send(
        self, before: State, after: State, tid: int, instr: ir.Send, arg: object
    ) -> list[str]:
        cname = self._channel_label(before, tid, instr.channel)
        for old, new in zip(before[S_CHANS], after[S_CHANS], strict=False):
            if len(new[C_BUF]) > len(old[C_BUF]):
                value = self.layout.value(new[C_BUF][-1], before)
                if after[S_THREADS][tid][T_PHASE] != 0:
                    return [f"offers {value} on {cname} and waits for a receiver (rendezvous)"]
                return [f"sends {value} on {cname}"]
        if arg == 1:
            return [f"its offer on {cname} was taken: the send completes"]
        return [f"send on {cname} fails: the receiving side is gone (result err(..))"]

    def _channel_label(self, state: State, tid: int, ref: ir.ChannelRef) -> str:
        """`c[1]` for an element of a global channel array, else the name as written."""
        if isinstance(ref, ir.GlobalChannel) and ref.index is not None:
            th = state[S_THREADS][tid]
            try:
                cid = self.engine.channel_id(ref, th[T_FRAMES][-1], th, state, "")
            except Exception:
                return ref.name
            return self.layout.channel_name(state, cid)
        return ref.name

    def _recv(
        self, before: State, after: State, tid: int, instr: ir.Recv | ir.TryRecv
    ) -> list[str]:
        cname = self._channel_label(before, tid, instr.channel)
        for old, new in zip(before[S_CHANS], after[S_CHANS], strict=False):
            if len(new[C_BUF]) < len(old[C_BUF]):
                return [f"receives {self.layout.value(old[C_BUF][0], before)} from {cname}"]
        if isinstance(instr, ir.TryRecv):
            return [f"{cname} is empty: try_recv gives none"]
        if isinstance(instr, ir.Recv) and instr.exit_target is not None:
            return [f"{cname} is closed and empty: the for loop ends"]
        return [f"{cname} is closed and empty: recv gives none"]

    def _side_effects(self, before: State, after: State, tid: int, primary: list[str]) -> list[str]:
        lay = self.layout
        out: list[str] = []
        text = " ".join(primary)
        if before[S_GIL] != after[S_GIL] and "GIL" not in text and not self.engine.gil_off:
            if after[S_GIL] == tid:
                out.append("takes the GIL")
            elif before[S_GIL] == tid:
                out.append("releases the GIL")

        # A loop task acts on objects as the engine has it (`actor_on`): its locks are its
        # loop thread's, its loop and its event waits its own.
        th = before[S_THREADS][tid]

        def name(t: int) -> str:  # a thread the step started (a pool's worker) is in `after`
            return lay.thread_name(before if t < len(before[S_THREADS]) else after, t)

        # (a process's start adds its block of declared objects: fresh, told by the spawn)
        for lid, (old, new) in enumerate(zip(before[S_LOCKS], after[S_LOCKS], strict=False)):
            if old != new:  # the object's primitive tells what the step did to it
                prim = lay.object_prim(before, (DECLARED, lid))
                who = self.engine.actor_on(prim.kind, tid, th)
                out.append(
                    prim.effect(old, new, who, lay.object_label(before, (DECLARED, lid)), name)
                )
        for oid, (old, new) in enumerate(zip(heap_of(before), heap_of(after), strict=False)):
            if old[H_STATE] != new[H_STATE]:
                label = lay.object_label(after, (HEAP, oid))
                prim = registry.primitive(new[H_KIND])
                who = self.engine.actor_on(prim.kind, tid, th)
                out.append(prim.effect(old[H_STATE], new[H_STATE], who, label, name))
        if before[S_STDOUT] != after[S_STDOUT] and "stdout" not in text:
            out.append(
                "takes stdout's lock" if after[S_STDOUT] == tid else "releases stdout's lock"
            )
        for cid, (old, new) in enumerate(zip(before[S_CHANS], after[S_CHANS], strict=False)):
            if old[C_SENDERS] > 0 and new[C_SENDERS] == 0 and new[C_BUF] is not None:
                out.append(
                    f"the last sender of {lay.channel_name(before, cid)} is dropped: it closes"
                )
            if old[C_RECEIVER] and not new[C_RECEIVER]:
                out.append(f"the receiver of {lay.channel_name(before, cid)} is dropped")
        return out


def _starts_waiting(before: State, after: State, tid: int) -> bool:
    """Whether the step only made the thread start waiting on the objects it read (a
    statement that names its object through shared state)."""
    phase = after[S_THREADS][tid][T_PHASE]
    old = before[S_THREADS][tid][T_PHASE]
    return (
        type(phase) is tuple
        and phase[0] == PINNED
        and not (type(old) is tuple and old and old[0] == PINNED)
    )
