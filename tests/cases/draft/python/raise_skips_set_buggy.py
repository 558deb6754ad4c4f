# verdict: deadlock
import sys
import threading

ready = threading.Event()


def load(path):
    if not path.endswith(".cfg"):
        raise ValueError(path)
    return path


def worker(path):
    load(path)  # raises for a bad path: the thread dies before ready.set()
    ready.set()


if __name__ == "__main__":
    t = threading.Thread(target=worker, args=(sys.argv[1],))
    t.start()
    ready.wait()
