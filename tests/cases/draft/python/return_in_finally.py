# verdict: ok
import threading

lock = threading.Lock()
data = {}


def read(key):
    lock.acquire()
    try:
        return data.get(key)
    finally:
        lock.release()


def worker():
    read("a")
    read("b")


if __name__ == "__main__":
    t = threading.Thread(target=worker)
    t.start()
    read("c")
    t.join()
