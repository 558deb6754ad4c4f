"""Realization: a `host python` spec as a real CPython program, to test the spec against
CPython (`gilcheck realize SPEC -o prog.py`).

Each thread of the spec is a `threading.Thread`; each code unit a Python function that
runs its instructions one by one (a `pc` loop). Every statement is one atomic step: it runs
holding the runtime's state lock, released between statements. A thread that must wait
parks on its own POSIX semaphore (`sem_wait`): through `ctypes.PyDLL` when the spec says
it keeps the GIL while blocked (native code holding it), so the real GIL stays held and no
other thread runs Python at all, as in a real extension; through `ctypes.CDLL` otherwise,
which releases the real GIL. The spec's GIL is also a token the runtime hands over, so
that `with_gil` excludes `python { }` blocks of other threads even between the
statements that, realized, are Python code.

Steering (`--steer RESULT.json`, a result saved by `gilcheck check SPEC -f json`) makes a
run follow the counterexample: before each statement a thread waits until the trace's
next step is its own at that statement. Why this never changes who holds what: a thread
waits for its turn only between statements (holding no more and no less than the trace
says it holds there) or while it is already parked on an object; the turn is a variable
guarded by the state lock, which no thread holds while it waits for anything, so no
thread ever waits for a turn while holding the state lock, and the turn is no spec
object: it can delay a step, never grant a lock, a message or the GIL. A blocked thread
with the real GIL held cannot be overtaken anyway. When the run cannot follow the trace
(no thread can take the next step within a second), steering ends and the threads run
freely; a message on stderr says so.

Modules: `program` (the whole text, declarations), `code` (one code unit, a handler per
instruction), `expressions` (expressions and references), `runtime` (the runtime text),
`steer` (a saved trace's steps), `refusal` (the `not-realizable` errors).
"""

from gilcheck.realize.program import DEFAULT_TIMEOUT, realize_program
from gilcheck.realize.steer import BadSteering, steps_of_result

__all__ = ["DEFAULT_TIMEOUT", "BadSteering", "realize_program", "steps_of_result"]
