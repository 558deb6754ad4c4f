# verdict: deadlock
# Formatting a job in a log line calls its `__repr__`, which takes the registry lock
# the caller already holds (threading.Lock is not reentrant).
import threading

registry_lock = threading.Lock()


class Job:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        with registry_lock:
            return "Job(" + self.name + ")"


def report(job):
    with registry_lock:
        line = f"finished {job!r}"
    return line


t = threading.Thread(target=report, args=(Job("backup"),))
t.start()
t.join()
