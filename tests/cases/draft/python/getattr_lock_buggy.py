# verdict: deadlock
# The lock is looked up with getattr; it is the same lock the method takes again
# inside (threading.Lock is not reentrant).
import threading


class Store:
    def __init__(self):
        self.write_lock = threading.Lock()
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
