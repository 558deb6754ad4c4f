# verdict: deadlock
import queue
import threading

q = queue.Queue(maxsize=1)


def producer():
    q.put("a")
    q.put("b")


if __name__ == "__main__":
    t = threading.Thread(target=producer)
    t.start()
    t.join()
    print(q.get())
