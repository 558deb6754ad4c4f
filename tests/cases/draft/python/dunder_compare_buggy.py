# verdict: deadlock
# Sorting tasks calls `__lt__`, and comparing them calls `__eq__`: both take the
# queue lock, held by the caller.
import threading

queue_lock = threading.Lock()


class Task:
    def __init__(self, priority):
        self.priority = priority

    def __lt__(self, other):
        with queue_lock:
            return self.priority < other.priority

    def __eq__(self, other):
        with queue_lock:
            return self.priority == other.priority


def schedule():
    with queue_lock:
        order = sorted([Task(2), Task(1)])
    return order


t = threading.Thread(target=schedule)
t.start()
t.join()
