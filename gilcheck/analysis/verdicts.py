"""From an exploration to a CheckResult: the verdict, its shortest trace and its explanation."""

from __future__ import annotations

import dataclasses

from gilcheck.analysis.conditions import conditions, witness_of
from gilcheck.analysis.cycles import Component, sinks_if_all_reach_one, terminal_components
from gilcheck.analysis.layout import StateLayout
from gilcheck.analysis.lints import lints
from gilcheck.analysis.narrate import Narrator
from gilcheck.analysis.replayed import narrate_path
from gilcheck.analysis.snapshots import Snapshotter
from gilcheck.analysis.waitfor import WaitExplainer
from gilcheck.analysis.waitgraph import find_cycle
from gilcheck.explore.budget import Budget, Progress
from gilcheck.explore.exploration import Exploration
from gilcheck.explore.native import engine_description
from gilcheck.explore.replay import replay
from gilcheck.explore.strategy import Problem, Strategy
from gilcheck.explore.symmetric import (
    SymmetryError,
    concrete_path,
    concrete_step,
    reduced_system,
)
from gilcheck.explore.unavailable import FingerprintsUnavailable
from gilcheck.options import CheckOptions
from gilcheck.semantics import ir
from gilcheck.semantics.ir import Verdict
from gilcheck.source import SourceMap
from gilcheck.system.engine import Engine
from gilcheck.system.model import Action, LimitHit, Target, Violation
from gilcheck.system.state import ENDED, GONE, S_THREADS, T_STATUS, State
from gilcheck.system.symmetry import Canonicalizer, Permutation
from gilcheck.trace.model import CheckResult, Snapshot, Stats, Step, Trace

# Below this many states, memory growth is mostly allocator noise, not states.
MEASURABLE_STATES = 10_000

# What a per-process deadlock's message adds while other processes still run (the benches
# that cross-check it with SPIN and CPython look for it).
OTHERS_STILL_RUN = "(other processes still run)"

# The strategies whose traces are real runs but need not be shortest, and what a report
# says of them (the breadth-first searches' traces are shortest).
NOT_SHORTEST = {
    "dfs": "found by depth-first search: the trace is a real run, not necessarily a shortest one",
    "random": "found by a random walk: the trace is a real run, not necessarily a shortest one",
}

FINGERPRINTED = (
    "fingerprinted (--fingerprint): each state was kept as a 64-bit fingerprint, so this "
    "`ok` may have missed states with the probability p(miss) shown, and `stuck` and "
    "`livelock` were not looked for (they need every edge); it exits 3 unless "
    "--accept-fingerprint"
)

# The searches `--fingerprint` does not serve, as the user asked for them.
NOT_FINGERPRINTED = {
    "dfs": "`--strategy dfs`",
    "random": "`--strategy random`",
    "parallel": "`--workers` (the parallel search)",
    "ray": "`--backend ray` (the Ray search)",
}

SYMBOLIC_BREADTH_FIRST = (
    "searched breadth-first: a spec with unknown values is always searched breadth-first "
    "(so `--max-depth` does not apply)"
)


def check_program(
    program: ir.Program,
    sources: SourceMap,
    options: CheckOptions,
    strategy: Strategy,
    progress: Progress | None = None,
) -> CheckResult:
    """Explore a program with `strategy` (the pipeline picks it) and judge what it found."""
    engine, canonical, system = reduced_system(program, options)
    if options.fingerprint and (engine.symbolic or strategy.name != "bfs"):
        what = "specs with unknown values" if engine.symbolic else NOT_FINGERPRINTED[strategy.name]
        raise FingerprintsUnavailable(
            "`--fingerprint` is for the breadth-first search, in one process, of specs "
            f"without unknown values: not for {what}"
        )
    if engine.stubborn is not None:
        # A graph reduced by persistent sets keeps every deadlock and violation, not its
        # cycles: `stuck` and `livelock` are not looked for (as with `--fingerprint`).
        options = dataclasses.replace(options, graph_analysis=False)
    found = strategy.explore(Problem(program, system, options), Budget(options, progress))
    if _cycles_need_full_graph(found, canonical is not None):
        # Threads are numbered differently in different representatives (and a parallel
        # search keeps no edges here): the cycles are judged on the full graph.
        canonical = None
        full = Problem(program, engine, options)
        found = strategy.sequential().explore(full, Budget(options, progress))
    judge = _Judge(program, engine, sources, found, canonical)
    result = judge.result()
    if found.fingerprinted:
        result = _fingerprinted(result, found, program, options)
    if options.stubborn_sets:
        result = _with_stubborn_sets(result, program, engine.stubborn is not None)
    if found.shortest_paths and strategy.name in NOT_SHORTEST:  # it ran breadth-first
        result = dataclasses.replace(result, notes=(*result.notes, SYMBOLIC_BREADTH_FIRST))
    elif result.trace is not None and not found.shortest_paths:
        result = dataclasses.replace(
            result, notes=(*result.notes, NOT_SHORTEST[strategy.name]), shortest=False
        )
    if engine.symbolic:
        result = dataclasses.replace(result, lints=lints(engine, sources))
    return result


def _fingerprinted(
    result: CheckResult, found: Exploration, program: ir.Program, options: CheckOptions
) -> CheckResult:
    """A result of a fingerprinted search: its p(miss); an `ok` said to hold for the states
    explored, and `inconclusive` where the spec expects `stuck` or `livelock`, which a
    fingerprinted search does not look for."""
    result = dataclasses.replace(
        result, p_miss=found.p_miss(), fingerprint_accepted=options.accept_fingerprint
    )
    if result.verdict != "ok":
        return result
    unlooked = _liveness_not_looked_for(
        result, program, "`--fingerprint`", "it needs every edge of the state graph"
    )
    if unlooked is not None:
        return unlooked
    message = (
        f"no violation in the {found.states:,} states explored (fingerprinted: a state "
        "whose fingerprint was another's was not explored)"
    )
    return dataclasses.replace(result, message=message, notes=(*result.notes, FINGERPRINTED))


STUBBORN_NO_LIVENESS = (
    "explored with persistent sets (--stubborn-sets): every deadlock and violation is "
    "kept, but `stuck` and `livelock` are not looked for"
)


def _with_stubborn_sets(result: CheckResult, program: ir.Program, applied: bool) -> CheckResult:
    """A result of a search asked for persistent sets: said whether they applied, and an
    `ok` is `inconclusive` where the spec expects `stuck` or `livelock`, which a graph
    reduced by them does not keep."""
    if not applied:
        note = (
            "--stubborn-sets does not apply to this spec (it has processes, event loops, "
            "pools, interrupts, forks, `gil off`, timed waits, `release_gil`, unknown values "
            "or objects made at run time): explored without persistent sets"
        )
        return dataclasses.replace(result, notes=(*result.notes, note))
    unlooked = _liveness_not_looked_for(
        result,
        program,
        "--stubborn-sets",
        "a graph reduced by persistent sets does not keep every cycle",
    )
    if unlooked is not None:
        return unlooked
    return dataclasses.replace(result, notes=(*result.notes, STUBBORN_NO_LIVENESS))


def _liveness_not_looked_for(
    result: CheckResult, program: ir.Program, option: str, why: str
) -> CheckResult | None:
    """An `ok` of a spec that expects `stuck` or `livelock`, which a search with `option`
    does not look for, as `inconclusive`; None for any other result."""
    expected = program.expect.verdict if program.expect is not None else None
    if result.verdict != "ok" or expected not in ("stuck", "livelock"):
        return None
    message = (
        f"this spec expects `{expected}`, which {option} does not look for ({why}); run "
        f"without {option}"
    )
    limit = f"{option} (no stuck or livelock analysis)"
    return dataclasses.replace(result, verdict=Verdict.INCONCLUSIVE, message=message, limit=limit)


def _cycles_need_full_graph(found: Exploration, reduced: bool) -> bool:
    """Whether the cycles of a search's graph must be judged on another search: some state
    of a parallel search's whole graph reaches no end, or the graph of representatives has
    a terminal cycle the analyses would judge."""
    if found.whole_graph is not None:
        return sinks_if_all_reach_one(*found.whole_graph) is None
    return reduced and _has_cycles_to_judge(found)


def _has_cycles_to_judge(found: Exploration) -> bool:
    """Whether the graph of representatives has a terminal cycle the analyses would judge.

    `stuck` names the threads blocked in every state of a cycle, and threads are numbered
    differently in different representatives, so such cycles are judged on the full graph.
    """
    edges = found.edges
    if edges is None or found.stopped is not None:
        return False
    if found.violation is not None or found.deadlock >= 0:
        return False
    components = _terminal_components(found)
    return any(c.has_step and not found.limited.intersection(c.states) for c in components)


def _terminal_components(found: Exploration) -> list[Component]:
    """The terminal SCCs of the explored graph (just its end states, most of the time)."""
    edges = found.edges
    assert edges is not None
    n = len(found.store)
    sinks = sinks_if_all_reach_one(n, edges.starts, edges.dst)
    if sinks is not None:
        return [Component((s,), False, False) for s in sinks]
    return terminal_components(n, edges.src, edges.dst, edges.progress)


class _Judge:
    def __init__(
        self,
        program: ir.Program,
        engine: Engine,
        sources: SourceMap,
        found: Exploration,
        canonical: Canonicalizer | None = None,
    ) -> None:
        self.program = program
        self.canonical = canonical  # set when the search stored one state per symmetry orbit
        self._to_real: Permutation = ()  # maps the last `_path`'s end onto its real state
        self.engine = engine
        self.found = found
        self.layout = StateLayout(engine)
        self.sources = sources
        self.narrator = Narrator(engine, self.layout, sources)
        self.explainer = WaitExplainer(engine, self.layout, sources)
        self.snapshots: Snapshotter | None = None
        self.start: Snapshot | None = None  # the initial state of the last trace made
        self.stats = Stats(
            states=found.states,
            transitions=found.transitions,
            seconds=found.seconds,
            exhaustive=found.exhaustive,
            symmetry=canonical.names if canonical is not None else (),
            bytes_per_state=(
                found.memory_growth // found.states
                if found.states >= MEASURABLE_STATES and found.total_states is None
                else None
            ),
            engine=engine_description(),
            storage=found.storage() if found.states >= MEASURABLE_STATES else (),
        )

    def _base(
        self,
        verdict: Verdict,
        message: str,
        trace: Trace | None,
        limit: str | None = None,
        path: tuple[object, ...] | None = None,
    ) -> CheckResult:
        expect = self.program.expect
        facts = conditions(
            self.engine, self.program, self.found, verdict.value, path, self._when_source()
        )
        return CheckResult(
            spec=self.program.path,
            title=self.program.title,
            verdict=verdict.value,
            expected=expect.verdict.value if expect is not None else None,
            message=message,
            stats=self.stats,
            trace=trace,
            expected_line=self.sources.line_of(expect.span) if expect is not None else 0,
            # A search stopped by a limit is said to be, whatever it found on the way.
            limit=limit or self.found.stopped,
            condition=facts.condition,
            witness=facts.witness,
            expected_when=facts.expected_when,
            when_matches=facts.when_matches,
            condition_complete=facts.complete,
        )

    def _when_source(self) -> str | None:
        """The `expect ... when` condition as the spec's source writes it."""
        expect = self.program.expect
        if expect is None or expect.when is None:
            return None
        source = self.sources.get(expect.span.path)
        if source is None:
            return None
        text = source.text[expect.span.start : expect.span.end]
        _, _, condition = text.partition(" when ")
        return condition.split("#")[0].split("//")[0].strip() or None

    def _use_witness(self, path: tuple[object, ...]) -> None:
        """Narrate the trace with the values of the unknowns that make it happen."""
        self.narrator.witness = dict(witness_of(self.engine, path))

    def _path(self, sid: int) -> tuple[list[Action], list[State]]:
        """A real run to state `sid` (or, reduced by symmetry, to one of its orbit): the path
        the search stored, a shortest one when the search was breadth-first."""
        store = self.found.store
        if self.canonical is not None:
            actions, states, self._to_real = concrete_path(self.engine, self.canonical, store, sid)
            return actions, states
        actions = store.path_to(sid)
        return actions, replay(self.engine, actions)

    def _last(self, state: State, action: Action, target: Target) -> tuple[Action, Target]:
        """The violating or limit-hitting step from a real state, matching the one found."""
        if self.canonical is None:
            return action, target
        # The same kind of step by the thread the representative's step is taken by.
        tid = self.canonical.thread_map(self._to_real)(action[0])
        verdict = getattr(target, "verdict", None)

        def same_kind(a: Action, t: Target) -> bool:
            return type(t) is type(target) and getattr(t, "verdict", None) == verdict

        try:
            return concrete_step(self.engine, state, lambda a, t: a[0] == tid and same_kind(a, t))
        except SymmetryError:
            return concrete_step(self.engine, state, same_kind)

    def _steps(
        self,
        actions: list[Action],
        last: tuple[Action, Target] | None,
        states: list[State] | None = None,
    ) -> list[Step]:
        if states is None:
            states = replay(self.engine, actions)
        self.layout.naming_state = states[-1]
        self.snapshots = Snapshotter(self.engine, self.layout, self.narrator.sources, states)
        self.narrator.snapshots = self.snapshots
        self.start = self.snapshots.snapshot(states[0])
        steps, _ = narrate_path(self.engine, self.layout, self.narrator, actions, last, states)
        return steps

    def _cycles(self) -> CheckResult | None:
        """`stuck` or `livelock` from the terminal SCCs of the finished state graph."""
        found = self.found
        edges = found.edges
        assert edges is not None
        store = found.store
        components = _terminal_components(found)
        for component in components:
            if not component.has_step or found.limited.intersection(component.states):
                continue
            stuck = self._stuck_threads(component)
            if not stuck and component.progress:
                continue
            entry = component.states[0]
            members = set(component.states)
            loop = self._loop(entry, members)
            actions = store.path_to(entry)
            entry_path = self.engine.path_of(store.states[entry])
            self._use_witness(entry_path)
            steps = self._steps(actions + loop, None)
            loop_from = next(
                (i for i, s in enumerate(steps) if s.index == len(actions) + 1), len(steps)
            )
            entry_state = store.states[entry]
            if stuck:
                names = [self.layout.thread_name(entry_state, t) for t in stuck]
                waits = [w for w in self.explainer.explain(entry_state) if w.thread in names]
                watched, pending = self.explainer.around(entry_state, waits)
                message = (
                    f"{', '.join(names)} can never move again, while the rest of the program "
                    "runs on for ever"
                )
                trace = Trace(
                    tuple(steps), tuple(waits), (), message, loop_from, self.start, watched, pending
                )
                return self._base(Verdict.STUCK, message, trace, path=entry_path)
            message = (
                f"the program can run for ever in a cycle of {len(component.states)} "
                "state(s) that never runs `progress`"
            )
            return self._base(
                Verdict.LIVELOCK,
                message,
                Trace(tuple(steps), (), (), message, loop_from, self.start),
                path=entry_path,
            )
        return None

    def _stuck_threads(self, component: Component) -> list[int]:
        """Threads blocked in every state of a component (ended threads are not stuck)."""
        stuck: set[int] | None = None
        for sid in component.states:
            state = self.found.store.states[sid]
            movers = self.engine.enabled_threads(state)
            blocked = {
                tid
                for tid, th in enumerate(state[S_THREADS])
                if th[T_STATUS] not in (ENDED, GONE)
                and tid not in movers
                and not self.engine.idle_thread(state, tid)  # idle workers are never stuck
            }
            stuck = blocked if stuck is None else stuck & blocked
            if not stuck:
                return []
        return sorted(stuck or ())

    def _loop(self, entry: int, members: set[int]) -> list[Action]:
        """One turn of a cycle inside a component, from its entry back to it (BFS)."""
        store = self.found.store
        index = {store.states[s]: s for s in members}
        parent: dict[int, tuple[int, Action]] = {}
        queue = [entry]
        seen = {entry}
        while queue:
            current = queue.pop(0)
            for action, target in self.engine.transitions(store.states[current]):
                if type(target) is not tuple:
                    continue
                nxt = index.get(target)
                if nxt is None:
                    continue
                if nxt == entry:
                    path = [action]
                    node = current
                    while node != entry:
                        prev, via = parent[node]
                        path.append(via)
                        node = prev
                    return list(reversed(path))
                if nxt not in seen:
                    seen.add(nxt)
                    parent[nxt] = (current, action)
                    queue.append(nxt)
        return []

    def result(self) -> CheckResult:
        found = self.found
        if found.violation is not None and found.violation_action is not None:
            v = found.violation
            actions, states = self._path(found.violation_from)
            before = states[-1]
            action, target = self._last(before, found.violation_action, v)
            assert isinstance(target, Violation)
            v = target
            self._use_witness(v.path)
            steps = self._steps(actions, (action, v), states)
            thread = self.layout.thread_name(before, v.tid)
            child = self.explainer.fork_note(before)
            message = f"{v.message} (in {thread}{', ' + child if child else ''})"
            return self._base(
                v.verdict,
                message,
                Trace(tuple(steps), final_note=message, start=self.start),
                path=v.path,
            )
        if found.deadlock >= 0:
            actions, states = self._path(found.deadlock)
            final = states[-1]
            self._use_witness(self.engine.path_of(final))
            steps = self._steps(actions, None, states)
            waits = self.explainer.explain(final)
            cycle = find_cycle(waits)
            watched, pending = self.explainer.around(final, waits)
            message = "no thread can move and the program has not ended"
            stuck = self.engine.deadlocked_processes(final) if self.engine.has_processes else []
            running = bool(stuck) and any(
                pid not in stuck for pid in self.engine.live_threads(final)
            )
            if stuck and (running or 0 not in stuck):
                names = ", ".join(self.layout.process_name(final, pid) for pid in stuck)
                several = len(stuck) > 1
                noun, verb, their = (
                    ("processes", "are", "their") if several else ("process", "is", "its")
                )
                message = (
                    f"{noun} {names} {verb} deadlocked: none of {their} threads can move and "
                    "no other process can wake them"
                )
                if running:
                    message += f" {OTHERS_STILL_RUN}"
            child = self.explainer.fork_note(final)
            if child:
                message = f"{child}: no thread can move and the child has not ended"
            return self._base(
                Verdict.DEADLOCK,
                message,
                Trace(
                    tuple(steps),
                    tuple(waits),
                    cycle,
                    message,
                    start=self.start,
                    watched=watched,
                    pending=pending,
                ),
                path=self.engine.path_of(final),
            )
        if found.limits and found.stopped is None and found.edges is not None:
            # A terminal component none of whose states reached a limit was explored in
            # full: its stuck thread or livelock is a violation, which wins over the bound.
            cyclic = self._cycles()
            if cyclic is not None:
                return cyclic
        if found.limits:
            sid, action, limit_hit = found.limits[0]
            actions, states = self._path(sid)
            action, target = self._last(states[-1], action, limit_hit)
            assert isinstance(target, LimitHit)
            hit = target
            steps = self._steps(actions, (action, hit), states)
            thread = self.layout.thread_name(states[-1], hit.tid)
            message = f"{hit.message} (in {thread}); no violation found in what was explored"
            return self._base(
                hit.verdict,
                message,
                Trace(tuple(steps), final_note=hit.message, start=self.start),
                limit=hit.message,
            )
        if found.stopped is None and found.edges is not None:
            cyclic = self._cycles()
            if cyclic is not None:
                return cyclic
        if found.stopped is not None:
            message = (
                f"stopped by {found.stopped} after {found.states:,} states; "
                "no violation found so far, but the state space was not fully explored"
            )
            return self._base(Verdict.INCONCLUSIVE, message, None, limit=found.stopped)
        message = f"no violation in the whole state space ({found.states:,} states)"
        if self.program.params:
            ranges = ", ".join(f"{p.name} in {p.low}..{p.high}" for p in self.program.params)
            message = f"no violation for any {ranges} ({found.states:,} states)"
        elif self.engine.symbolic:
            message = f"no violation for any value of the unknowns ({found.states:,} states)"
        return self._base(Verdict.OK, message, None)
