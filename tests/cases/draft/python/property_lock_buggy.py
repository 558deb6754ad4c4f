# verdict: deadlock
# The lock is reached through a property, then taken again directly inside.
import threading


class Account:
    def __init__(self):
        self._guard = threading.Lock()
        self.balance = 0

    @property
    def guard(self):
        return self._guard

    def deposit(self, amount):
        with self.guard:
            self.audit()
            self.balance += amount

    def audit(self):
        with self._guard:
            pass


t = threading.Thread(target=Account().deposit, args=(5,))
t.start()
t.join()
