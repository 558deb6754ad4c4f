# verdict: deadlock
import threading

cache_lock = threading.Lock()
cache = {}


def refresh():
    with cache_lock:
        cache.clear()


def get(key):
    with cache_lock:
        if key not in cache:
            refresh()
        return cache.get(key)


if __name__ == "__main__":
    get("a")
