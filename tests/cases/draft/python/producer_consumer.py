# verdict: ok
import queue
import threading

q = queue.Queue(maxsize=1)


def producer():
    for i in range(3):
        q.put(i)
    q.put(None)


def consumer():
    while True:
        item = q.get()
        if item is None:
            break
        print("got", item)


if __name__ == "__main__":
    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
