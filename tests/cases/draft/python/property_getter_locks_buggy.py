# verdict: deadlock
# Reading the `total` property runs its getter, which takes the lock the caller holds.
import threading

ledger_lock = threading.Lock()


class Ledger:
    def __init__(self):
        self.entries = []

    @property
    def total(self):
        with ledger_lock:
            return len(self.entries)

    def report(self):
        with ledger_lock:
            return self.total


t = threading.Thread(target=Ledger().report)
t.start()
t.join()
