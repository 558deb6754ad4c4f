# verdict: deadlock
# A bad item makes int() raise: the worker dies before task_done(), and
# queue.join() waits for ever.
import queue
import threading

jobs = queue.Queue()


def worker():
    while True:
        raw = jobs.get()
        size = int(raw)
        jobs.task_done()


threading.Thread(target=worker, daemon=True).start()
jobs.put("12")
jobs.put("twelve")
jobs.join()
