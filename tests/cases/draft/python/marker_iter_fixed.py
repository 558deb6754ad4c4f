# verdict: ok
import queue
import threading

DONE = object()
results = queue.Queue(maxsize=1)


def collect(out):
    for value in iter(results.get, DONE):
        out.append(value)


def produce(count, marker):
    for n in range(count):
        results.put({"n": n})
    results.put(None)
    results.put(marker)


seen = []
t = threading.Thread(target=collect, args=(seen,))
t.start()
produce(2, DONE)
t.join()
