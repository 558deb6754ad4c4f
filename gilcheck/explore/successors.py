"""Where a search gets a stored state's successors from: three sources behind one object.

- the engine itself (`TransitionSystem.transitions` on the decoded state): always right;
- the step table (explore/steptable.py): successors as patched records, for the systems
  whose steps are each thread's own (`TransitionSystem.threadwise`);
- the C loop (`_records.c`): it expands a whole range of stored states whose successors
  are all table patches, for the breadth-first search only (it expands states in id order).
"""

from __future__ import annotations

from collections.abc import Callable

from gilcheck.explore.budget import search_memory_limit_mb
from gilcheck.explore.steptable import Step, StepTable, native_entry_limit
from gilcheck.explore.store import NativeStateStore, StateStore
from gilcheck.explore.symmetric_records import RecordCanonicalizer, table_with_symmetry
from gilcheck.options import CheckOptions
from gilcheck.system.model import TransitionSystem
from gilcheck.system.state import State

# The C loop: (first id, stop id, max states, entries, ample, starts, dst, edges so far)
# -> (the next id to expand, states expanded, transitions made).
NativeExpand = Callable[..., tuple[int, int, int]]


class SuccessorSource:
    """The successors of stored states: from the step table where it applies, else the engine."""

    def __init__(self, system: TransitionSystem, store: StateStore, options: CheckOptions) -> None:
        self.system = system
        self.store = store
        threadwise = system.threadwise() if options.step_table else None
        # With symmetry, the table patches the engine's steps and each successor's record
        # goes to its representative's (explore/symmetric_records.py).
        representative = None
        if threadwise is None and options.step_table:
            reduced = table_with_symmetry(system, store)
            if reduced is not None:
                threadwise, representative = reduced
        self.table = (
            StepTable(
                threadwise,
                store,
                representative=representative,
                native_limit=native_entry_limit(search_memory_limit_mb(options), options.workers),
            )
            if threadwise is not None
            else None
        )

    def of(self, sid: int) -> tuple[State | None, list[Step]]:
        """Stored state `sid`'s steps, in the system's order, and the state when it was
        decoded to get them (targets are records with the table, else states)."""
        if self.table is not None:
            return None, self.table.successors(sid)
        state = self.store.decode(sid)
        steps: list[Step] = self.system.transitions(state)
        return state, steps

    def native(self, progress_marks: bool, options: CheckOptions) -> NativeExpand | None:
        """The C loop, when the store is native and every successor can come from the
        table (not with spurious wakeups, `progress` marks or unknown values)."""
        if (
            self.table is not None
            and isinstance(self.store, NativeStateStore)
            and not options.spurious_wakeups
            and not progress_marks
            and not self.system.symbolic
        ):
            if self.table.native_entries is None:
                self.table.native_entries = self.store.new_entries(self.table.native_limit)
                representative = self.table.representative
                if isinstance(representative, RecordCanonicalizer):
                    self.table.native_canon = representative.use_native(self.store)
            expand: NativeExpand = self.store.records.expand
            return expand
        return None
