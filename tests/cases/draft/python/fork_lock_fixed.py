# verdict: ok
import os
import threading
import time

cache_lock = threading.Lock()
cache = {}


def refresher():
    while True:
        with cache_lock:
            cache["k"] = time.time()
        time.sleep(0.01)


pid = os.fork()
if pid == 0:
    with cache_lock:
        value = cache.get("k")
    os._exit(0)
threading.Thread(target=refresher, daemon=True).start()
os.waitpid(pid, 0)
