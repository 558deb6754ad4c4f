# verdict: deadlock
import queue
import threading


def new_stop():
    return object()


def drain(q):
    stop = new_stop()
    while q.get() is not stop:
        pass


q = queue.Queue(maxsize=1)
t = threading.Thread(target=drain, args=(q,))
t.start()
q.put(new_stop())
t.join()
