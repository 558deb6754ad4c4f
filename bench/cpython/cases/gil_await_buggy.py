# coro blocks on a "future" in native code while keeping the GIL:
# the future is a POSIX semaphore; sem_wait is called through ctypes.PyDLL, which does NOT release the GIL.
# Variant "py": the coroutine calls concurrent.futures.Future.result() instead (releases the GIL).
import asyncio
import concurrent.futures
import ctypes
import sys
import threading
import time

from bgloop import start_loop

MODE = sys.argv[1] if len(sys.argv) > 1 else "native"
libc_gil = ctypes.PyDLL(None)  # calls keep the GIL (native code holding the GIL)
libc = ctypes.CDLL(None)  # calls release the GIL
loop, t = start_loop()


class NativeFuture:
    def __init__(self):
        self.sem = ctypes.create_string_buffer(64)
        assert libc.sem_init(self.sem, 0, 0) == 0

    def complete(self):
        libc.sem_post(self.sem)

    def result_holding_gil(self):
        libc_gil.sem_wait(self.sem)
        return 1


def producer(f):
    time.sleep(0.3)  # make the bad interleaving certain: coro waits first
    o = object()  # with_gil { pyobj("x") }: needs the GIL
    if MODE == "native":
        f.complete()
    else:
        f.set_result(1)


async def coro(f):
    if MODE == "native":
        v = f.result_holding_gil()
    else:
        v = f.result()
    return 1


f = NativeFuture() if MODE == "native" else concurrent.futures.Future()
tk = asyncio.run_coroutine_threadsafe(coro(f), loop)
threading.Thread(target=producer, args=(f,)).start()
v = tk.result()
print("finished", MODE, v)
