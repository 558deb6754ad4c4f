# verdict: deadlock
import threading

buf_lock = threading.Lock()
buffer = []


def flush():
    with buf_lock:
        buffer.clear()


t = threading.Timer(0.5, flush)
t.start()


def stop():
    with buf_lock:
        t.cancel()
        t.join()


stop()
