# verdict: deadlock
import queue
import threading

STOP = object()
jobs = queue.Queue(maxsize=2)
done = []


def worker():
    while True:
        job = jobs.get()
        if job is not STOP:
            done.append(job)
            continue
        break


workers = [threading.Thread(target=worker) for _ in range(3)]
for w in workers:
    w.start()
for n in range(3):
    jobs.put(n * 10)
for _ in range(len(workers) - 1):
    jobs.put(STOP)
for w in workers:
    w.join()
