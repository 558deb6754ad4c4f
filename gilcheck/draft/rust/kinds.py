"""What the drafter knows about a Rust value: its kind (a channel end, a mutex, a guard,
the `Python` token, a Python value, ...) and the spec names that stand for it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from tree_sitter import Node


class Kind(Enum):
    """The kinds of values the draft tracks."""

    UNKNOWN = "unknown"
    PLAIN = "plain"  # Rust data that never blocks and is not a Python value
    PY = "py"  # the `Python<'py>` token
    PYVAL = "pyval"  # a Python value: PyErr, PyResult's error, Py<T>, Bound, &PyAny
    SENDER = "sender"
    RECEIVER = "receiver"
    MUTEX = "mutex"
    RWLOCK = "rwlock"
    CONDVAR = "condvar"
    ONCE = "once"
    GUARD = "guard"  # a MutexGuard / RwLock guard: `target` is the lock's spec name
    PAIR = "pair"  # Arc<(Mutex<T>, Condvar)>: names are (mutex, condvar)
    BARRIER = "barrier"  # std::sync::Barrier
    HANDLE = "handle"  # a thread's or task's JoinHandle
    HANDLES = "handles"  # a Vec of JoinHandles: names are the handles pushed so far
    SCOPE = "scope"  # `thread::scope`'s `s`
    POOL = "pool"  # a rayon ThreadPool
    RUNTIME = "runtime"  # a tokio Runtime or Handle
    CLOSURE = "closure"  # a closure bound to a variable: `code` is its node


GIL = "<the GIL>"  # the target of a GILGuard (`Python::acquire_gil()`)

RESOURCES = (Kind.MUTEX, Kind.RWLOCK, Kind.CONDVAR, Kind.ONCE, Kind.POOL, Kind.BARRIER)
HANDLE_KINDS = (Kind.SENDER, Kind.RECEIVER, Kind.HANDLE)


@dataclass
class Binding:
    """A Rust variable as the spec sees it: its kind and the spec names standing for it
    (none for a value the spec leaves out; two for a mutex/condvar pair)."""

    kind: Kind
    names: tuple[str, ...] = ()
    target: str = ""  # a guard's lock
    write: bool = True  # a guard of an RwLock: write (True) or read
    released: bool = False  # a guard dropped early
    element: Kind = Kind.UNKNOWN  # a channel end: the kind of its messages
    type_text: str = ""  # the type written for it, if any
    extra: list[str] = field(default_factory=list)
    code: Node | None = None  # a closure's node (Kind.CLOSURE)

    @property
    def name(self) -> str:
        """The single spec name (`none` for a value the spec leaves out)."""
        return self.names[0] if self.names else "none"


_PY_TYPES = re.compile(
    r"\b(PyErr|PyResult|PyObject|Py|Bound|Borrowed|PyAny|PyModule|PyDict|PyList|PyTuple|"
    r"PyString|PyType|PyFunction)\b"
)


def element_kind(type_text: str) -> Kind:
    """The kind of the messages of a channel end's type (`Receiver<Sender<T>>`: senders)."""
    t = type_text.replace(" ", "")
    m = re.search(r"(Receiver|Sender)<(.*)>$", t)
    return kind_of_type(m.group(2)) if m else Kind.UNKNOWN


def kind_of_type(type_text: str) -> Kind:
    """The kind a parameter or binding has from its written type."""
    t = type_text.replace(" ", "")
    outer = re.sub(r"^(&(mut)?|Arc<|Rc<|Box<)+", "", t)
    if re.match(r"Python(<|$)", outer):
        return Kind.PY
    if re.match(r"(mpsc::|oneshot::|crossbeam\w*::|flume::)?(Sync)?(Unbounded)?Sender<", outer):
        return Kind.SENDER
    if re.match(r"(mpsc::|oneshot::|crossbeam\w*::|flume::)?(Unbounded)?Receiver<", outer):
        return Kind.RECEIVER
    if re.match(r"(\w+::)*\(?Mutex<", outer) and "Condvar" in outer:
        return Kind.PAIR
    if re.match(r"(\w+::)*Mutex<", outer):
        return Kind.MUTEX
    if re.match(r"(\w+::)*RwLock<", outer):
        return Kind.RWLOCK
    if re.match(r"(\w+::)*Condvar\b", outer):
        return Kind.CONDVAR
    if re.match(r"(\w+::)*(Once|OnceLock|OnceCell|LazyLock|Lazy)\b", outer):
        return Kind.ONCE
    if re.match(r"(\w+::)*(JoinHandle|ScopedJoinHandle)<", outer):
        return Kind.HANDLE
    if re.match(r"(\w+::)*Barrier\b", outer):
        return Kind.BARRIER
    if re.match(r"(\w+::)*ReentrantMutex<", outer):
        return Kind.MUTEX
    if re.match(r"(\w+::)*ThreadPool\b", outer):
        return Kind.POOL
    if re.match(r"(\w+::)*(Runtime|Handle)\b", outer):
        return Kind.RUNTIME
    if _PY_TYPES.search(t):
        return Kind.PYVAL
    if re.match(r"(&(mut)?)?(str|String|bool|u\d+|i\d+|usize|isize|f32|f64|\(\))$", t):
        return Kind.PLAIN
    return Kind.UNKNOWN
