# verdict: ok
# task_done() is in a `finally` and the bad item is caught: join() returns.
import queue
import threading

jobs = queue.Queue()


def worker():
    while True:
        raw = jobs.get()
        try:
            size = int(raw)
        except ValueError:
            size = 0
        finally:
            jobs.task_done()


threading.Thread(target=worker, daemon=True).start()
jobs.put("12")
jobs.put("twelve")
jobs.join()
