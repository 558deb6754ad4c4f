"""Promela export: a checked spec's IR as a Promela model that SPIN checks the same way.

Each thread body and spawned function becomes a proctype whose labels are the IR's
instruction indices; each instruction becomes one atomic Promela step guarded by the
condition under which gilcheck's engine lets it go on, so a state where no thread can
move and the program has not ended is an invalid end state for SPIN, and every
`assert`, `panic` and misuse is a failed Promela assertion. When the program ends
(`host rust`: `main` returns; `host python`: finalization takes the GIL) every thread
leaves through an escape at each of its statements, so threads still blocked then are
not reported, as gilcheck does not report them.

The GIL is an owner variable. Without `call` a thread's GIL count at each instruction
is fixed by the blocks around it, so only whether the thread has lost the GIL is kept
at run time: `python { }` code may give the GIL up at any statement boundary (gilcheck
hands it over only when another thread waits for it; the extra steps here change state
counts, never which deadlocks are reachable), and a blocking statement in Python code
releases the GIL while it waits, as in gilcheck. With `gil off` the same static count
says whether a thread is attached, and `gil` is the thread whose stop-the-world pause is
pending (`freethreaded`).

Arrays (of vars, resources and global channels) are Promela arrays; an index computed at
run time is checked where gilcheck evaluates it, and one out of range fails an assertion
(gilcheck's `panic`) and ends the run.

The translation covers the constructs the differential tests generate; anything else is
refused with a located `not-exportable` error, and so is any kind of object, channel or
instruction the export does not know (one added to the language later): "`latch` objects
cannot be exported to Promela yet".

`fork { }` makes a run follow one process: every step is guarded by its thread being in
the process followed, and the fork step either goes on as the parent or becomes the child,
freezing every other thread with what it holds; the child ends the run at its block's end.
`finalizer { }` and `signal { }` blocks are inlined in each proctype whose thread may run them
and started, at most once, by an extra option at the Python statement boundaries where
gilcheck's engine lets them start.

Modules: `exporter` (declarations, a proctype per code unit, instruction steps), `values`
(expressions, targets, indices and their range checks, channel names), `resources` (lock,
event, condvar, once and barrier statements), `objects` (resources as values: the kinds'
arrays, objects made at run time, statements dispatching on a value's kind), `channels`
(send and receive), `handles` (channels made at run time, handles, values counted by
reference), `pools` (thread pools, their workers, futures), `loops` (event loops, their
tasks, `suspend`), `processes` (`fork`, `finalizer` and `signal`), `freethreaded` (`gil
off`: attaching, detaching, pauses), `common` (constants, the refusal, helpers).
"""

from gilcheck.export.promela.exporter import export_promela

__all__ = ["export_promela"]
