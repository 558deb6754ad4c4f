# verdict: ok
import queue
import threading


def drain(q, stop, seen):
    while True:
        item = q.get()
        if item is stop:
            return
        seen.append(item)


def run():
    stop = object()
    q = queue.Queue(maxsize=1)
    seen = []
    t = threading.Thread(target=drain, args=(q, stop, seen))
    t.start()
    q.put(None)
    q.put(object())
    q.put(stop)
    t.join()


run()
