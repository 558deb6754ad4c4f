# verdict: ok
import queue
import threading

STOP = object()
jobs = queue.Queue(maxsize=2)
done = []


def worker():
    while True:
        job = jobs.get()
        if job is STOP:
            break
        done.append(job)


workers = [threading.Thread(target=worker) for _ in range(2)]
for w in workers:
    w.start()
for n in range(3):
    jobs.put(n * 10)
jobs.put(f"job {len(done)}")
for _ in workers:
    jobs.put(STOP)
for w in workers:
    w.join()
