# verdict: deadlock
import queue
import threading

jobs = queue.Queue()


def worker():
    while True:
        item = jobs.get()
        print("processing", item)


threading.Thread(target=worker, daemon=True).start()
for i in range(2):
    jobs.put(i)
jobs.join()
print("all done")
