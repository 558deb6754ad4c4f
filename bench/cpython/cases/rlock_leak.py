# a task leaves an RLock held; it stays with the worker thread
import threading
from concurrent.futures import ThreadPoolExecutor

r = threading.RLock()
p = ThreadPoolExecutor(max_workers=1)


def take():
    r.acquire()  # never released
    return 1


def use():
    r.acquire()
    r.release()  # same worker: re-entry succeeds
    return 2


print(p.submit(take).result(), p.submit(use).result(), flush=True)
print("main acquiring", flush=True)
r.acquire()  # owned by the idle worker: blocks for ever
print("main acquired")
