"""The successor function: every instruction's rules over the GIL, locks, channels and threads.

One handler per instruction type (the `Handler` protocol in common.py) appends the
transitions a thread can take from a state; a handler that appends nothing leaves the
thread blocked, and analysis/waitfor.py explains why, for reports. The engine is one class
made of its parts, each a module:

- preparation.py: instructions compiled once (Prepared), the initial state;
- scheduling.py: every enabled step; the GIL rules of LANGUAGE.md that are not a statement's
  own (handover at Python statement boundaries, release while blocked inside Python code),
  `gil off` pauses, interrupts and the program's end;
- reduction.py: partial-order reduction (merged local steps, ample sets, the cycle proviso);
- splitting.py: splitting states on conditions over unknown values;
- handlers_*.py: the handlers by family (data, control, functions and threads, the GIL with
  `with_gil`, `allow_threads`, `python { }` and `print`, channels, sync objects, the last
  asking each object's primitive in gilcheck/sync/).
"""

from gilcheck.source import Span
from gilcheck.system.engine.common import (
    MAX_ENUMERATED_ANY,
    Handler,
    Prepared,
    SpecMisuse,
    SpecPanic,
)
from gilcheck.system.engine.core import Engine
from gilcheck.system.model import Target

__all__ = [
    "MAX_ENUMERATED_ANY",
    "Engine",
    "Handler",
    "Prepared",
    "Span",
    "SpecMisuse",
    "SpecPanic",
    "Target",
]
