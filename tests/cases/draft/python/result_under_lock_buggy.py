# verdict: deadlock
import threading
from concurrent.futures import ThreadPoolExecutor

cache_lock = threading.Lock()
executor = ThreadPoolExecutor(max_workers=2)


def load():
    with cache_lock:
        return 1


def get():
    with cache_lock:
        f = executor.submit(load)
        return f.result()


if __name__ == "__main__":
    get()
    executor.shutdown()
