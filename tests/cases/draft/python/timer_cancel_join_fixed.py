# verdict: ok
import threading

buf_lock = threading.Lock()
buffer = []


def flush():
    with buf_lock:
        buffer.clear()


t = threading.Timer(0.5, flush)
t.start()


def stop():
    t.cancel()
    t.join()


stop()
