# verdict: deadlock
# A division by zero ends the thread while it holds the lock; main then waits for it.
import threading

stats_lock = threading.Lock()


class Stats:
    def __init__(self):
        self.total = 0
        self.count = 0


def average(stats):
    stats_lock.acquire()
    mean = stats.total / stats.count
    stats_lock.release()
    return mean


t = threading.Thread(target=average, args=(Stats(),))
t.start()
t.join()
with stats_lock:
    pass
