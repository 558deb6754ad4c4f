# verdict: deadlock
import threading
import time

_lock = threading.Lock()
_instances = []


class Bar:
    def __init__(self):
        self.me = self  # a cycle: bars left unclosed are freed by the garbage collector
        with _lock:
            _instances.append(self)

    def close(self):
        with _lock:
            print("closing a bar")

    def __del__(self):
        self.close()


def monitor():
    while True:
        time.sleep(0.01)
        with _lock:
            for bar in list(_instances):
                print("refresh", bar)


threading.Thread(target=monitor, daemon=True).start()
dropped = Bar()
del dropped
kept = Bar()
kept.close()
