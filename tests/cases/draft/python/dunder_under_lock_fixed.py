# verdict: ok
# The line is formatted after the registry lock is released.
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
        pass
    return f"finished {job!r}"


t = threading.Thread(target=report, args=(Job("backup"),))
t.start()
t.join()
