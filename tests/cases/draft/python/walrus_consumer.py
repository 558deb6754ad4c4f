# verdict: ok
import queue
import threading

q = queue.Queue()


def consumer():
    while (item := q.get()) is not None:
        print(item)


t = threading.Thread(target=consumer)
t.start()
q.put(1)
q.put(None)
t.join()
