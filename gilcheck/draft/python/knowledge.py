"""What the draft knows about the standard library: which constructors make which
synchronisation objects, which calls are harmless (they neither block nor take a lock
another thread may hold), which constructs it refuses to guess at."""

from __future__ import annotations

from typing import Final

# Constructor (canonical dotted name) -> the resource kind it makes.
CONSTRUCTORS: Final = {
    "threading.Lock": "mutex",
    "threading.RLock": "rlock",
    "threading.Condition": "condvar",
    "threading.Event": "event",
    "threading.Semaphore": "semaphore",
    "threading.BoundedSemaphore": "semaphore",
    "threading.Barrier": "barrier",
    "_thread.allocate_lock": "mutex",
    "multiprocessing.Lock": "mutex",
    "multiprocessing.RLock": "rlock",
    "multiprocessing.Event": "event",
    "multiprocessing.Semaphore": "semaphore",
    "multiprocessing.BoundedSemaphore": "semaphore",
    "multiprocessing.Condition": "condvar",
    "multiprocessing.Barrier": "barrier",
    "queue.Queue": "queue",
    "queue.LifoQueue": "queue",
    "queue.PriorityQueue": "queue",
    "queue.SimpleQueue": "queue",
    "multiprocessing.Queue": "mpqueue",
    "multiprocessing.SimpleQueue": "mpqueue",
    "multiprocessing.JoinableQueue": "mpqueue",
    "concurrent.futures.ThreadPoolExecutor": "pool",
    "concurrent.futures.Future": "future",
    "asyncio.new_event_loop": "loop",
    "asyncio.Queue": "aqueue",
    "asyncio.LifoQueue": "aqueue",
    "asyncio.PriorityQueue": "aqueue",
    "asyncio.Event": "aevent",
    "asyncio.Lock": "alock",
    "asyncio.Semaphore": "asemaphore",
    "asyncio.BoundedSemaphore": "asemaphore",
}

THREADS: Final = ("threading.Thread",)
TIMERS: Final = ("threading.Timer",)
PROCESSES: Final = ("multiprocessing.Process",)

# Constructs that matter for concurrency but that the draft does not model: refused.
REFUSED: Final = {
    "multiprocessing.Pool": "a `multiprocessing.Pool` is n processes sharing task and result "
    "queues; write it by hand (see specs/cookbook/23_mp_pool_map_then_fill_*.gil)",
    "concurrent.futures.ProcessPoolExecutor": "a process pool is not drafted; write its "
    "worker processes by hand with `spawn process`",
    "os.register_at_fork": "fork handlers registered by the program are not drafted; write "
    "them into the spec around `fork { }` by hand",
    "threading.settrace": "a trace function runs on every thread; not drafted",
    "sys.setswitchinterval": "the switch interval changes when the GIL is handed over; the "
    "spec already allows a hand-over between any two statements",
}

# Decorators that leave a function's behaviour as written (for concurrency).
HARMLESS_DECORATORS: Final = frozenset(
    {
        "staticmethod",
        "classmethod",
        "property",
        "functools.wraps",
        "functools.lru_cache",
        "functools.cache",
        "functools.cached_property",
        "functools.total_ordering",
        "functools.singledispatch",
        "contextlib.contextmanager",
        "contextlib.asynccontextmanager",
        "atexit.register",
        "dataclasses.dataclass",
        "abc.abstractmethod",
        "typing.overload",
        "typing.final",
    }
)

# Builtins that never block and take no lock another thread could hold.
HARMLESS_BUILTINS: Final = frozenset(
    [
        "abs",
        "all",
        "any",
        "ascii",
        "bin",
        "bool",
        "bytearray",
        "bytes",
        "callable",
        "chr",
        "dict",
        "dir",
        "divmod",
        "enumerate",
        "filter",
        "float",
        "format",
        "frozenset",
        "getattr",
        "hasattr",
        "hash",
        "hex",
        "id",
        "int",
        "isinstance",
        "issubclass",
        "iter",
        "len",
        "list",
        "map",
        "max",
        "min",
        "next",
        "object",
        "oct",
        "ord",
        "pow",
        "print",
        "range",
        "repr",
        "reversed",
        "round",
        "set",
        "setattr",
        "slice",
        "sorted",
        "str",
        "sum",
        "super",
        "tuple",
        "type",
        "vars",
        "zip",
        "input",
        "open",
    ]
)

# Modules (or dotted prefixes) whose functions are harmless.
HARMLESS_MODULES: Final = (
    "math.",
    "json.",
    "random.",
    "re.",
    "itertools.",
    "functools.",
    "operator.",
    "collections.",
    "string.",
    "os.path.",
    "copy.",
    "dataclasses.",
    "typing.",
    "struct.",
    "base64.",
    "hashlib.",
    "uuid.",
    "datetime.",
    "statistics.",
    "textwrap.",
    "enum.",
    "decimal.",
    "fractions.",
    "pathlib.",
    "traceback.",
    "warnings.",
    "weakref.ref",
    "weakref.WeakValueDictionary",
    "weakref.WeakKeyDictionary",
    "weakref.WeakSet",
)

HARMLESS_CALLS: Final = frozenset(
    {
        "time.time",
        "time.monotonic",
        "time.perf_counter",
        "time.process_time",
        "time.time_ns",
        "time.monotonic_ns",
        "time.strftime",
        "time.localtime",
        "time.gmtime",
        "os.getpid",
        "os.getppid",
        "os.getenv",
        "os.cpu_count",
        "os.getcwd",
        "os.urandom",
        "os.environ.get",
        "sys.getrefcount",
        "sys.getsizeof",
        "sys.intern",
        "sys.stdout.write",
        "sys.stderr.write",
        "sys.stdout.flush",
        "sys.stderr.flush",
        "threading.current_thread",
        "threading.get_ident",
        "threading.get_native_id",
        "threading.active_count",
        "threading.enumerate",
        "threading.main_thread",
        "threading.local",
        "multiprocessing.current_process",
        "multiprocessing.cpu_count",
        "multiprocessing.set_start_method",
        "asyncio.set_event_loop",
        "asyncio.get_event_loop",
        "asyncio.get_running_loop",
        "atexit.unregister",
        "gc.collect",
        "gc.disable",
        "gc.enable",
        "signal.getsignal",
        "logging.getLogger",
        "logging.basicConfig",
        "logging.Formatter",
        "logging.StreamHandler",
        "logging.FileHandler",
        "logging.Handler",
    }
)

LOG_LEVELS: Final = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log"}
)

# Methods that are harmless on a value the draft knows nothing about: container, string
# and number operations.
HARMLESS_METHODS: Final = frozenset(
    [
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "copy",
        "update",
        "get",
        "items",
        "keys",
        "values",
        "setdefault",
        "add",
        "discard",
        "sort",
        "reverse",
        "index",
        "count",
        "split",
        "rsplit",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "startswith",
        "endswith",
        "replace",
        "format",
        "encode",
        "decode",
        "find",
        "rfind",
        "popleft",
        "appendleft",
        "splitlines",
        "title",
        "capitalize",
        "zfill",
        "partition",
        "isdigit",
        "isalpha",
        "hexdigest",
        "digest",
        "to_bytes",
        "from_bytes",
        "bit_length",
        "is_integer",
        "read",
        "readline",
        "readlines",
        "write",
        "writelines",
        "close",
        "flush",
        "seek",
        "tell",
    ]
)

# Of those, the ones that may also be methods of an object that blocks or waits on
# something (`Queue.get`, a pipe's `read`): harmless only on a value known to be plain data.
RISKY_METHODS: Final = frozenset(
    ["get", "pop", "read", "readline", "readlines", "write", "writelines", "flush", "close"]
    + ["clear", "put"]
)

# Calls whose result is data from outside the program: a branch on it is a `choose`.
# (Every value the draft cannot compute is treated so; these are only documentation.)
OUTSIDE_DATA: Final = ("sys.argv", "input", "os.environ", "random.", "open")

# Calls that may block on something outside the program: an assumption, always.
BLOCKING_OUTSIDE: Final = (
    "subprocess.",
    "select.",
    "selectors.",
    "socket.",
    "urllib.",
    "http.",
    "requests.",
    "os.wait",
    "os.waitpid",
    "os.read",
    "os.write",
    "signal.pause",
    "signal.sigwait",
)
