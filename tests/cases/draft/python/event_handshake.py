# verdict: ok
import threading

ready = threading.Event()
go = threading.Event()


def worker():
    ready.set()
    go.wait()


if __name__ == "__main__":
    t = threading.Thread(target=worker)
    t.start()
    ready.wait()
    go.set()
    t.join()
