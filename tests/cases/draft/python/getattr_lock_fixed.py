# verdict: ok
# The lock reached by getattr is reentrant, so the nested take succeeds.
import threading


class Store:
    def __init__(self):
        self.write_lock = threading.RLock()
        self.rows = []

    def add(self, row):
        with getattr(self, "write_lock"):
            self.flush()
            self.rows.append(row)

    def flush(self):
        with getattr(self, "write_lock"):
            self.rows.clear()


t = threading.Thread(target=Store().add, args=(1,))
t.start()
t.join()
