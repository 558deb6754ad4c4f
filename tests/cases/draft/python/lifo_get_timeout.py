# verdict: ok
import queue
import threading

stack = queue.LifoQueue()
stop = threading.Event()


def worker():
    while not stop.is_set():
        try:
            item = stack.get(timeout=0.1)
        except queue.Empty:
            continue
        print(item)


if __name__ == "__main__":
    t = threading.Thread(target=worker)
    t.start()
    stack.put(1)
    stop.set()
    t.join()
