# verdict: ok
import threading

lock = threading.RLock()


def walk(depth):
    with lock:
        if depth > 0:
            walk(depth - 1)


if __name__ == "__main__":
    t = threading.Thread(target=walk, args=(10,))
    t.start()
    t.join()
