# verdict: deadlock
# Main's parse of the port fails while it holds the lock (taken by acquire()); the
# uncaught exception ends main, but the interpreter still waits for the worker, which
# waits for the lock.
import threading

config_lock = threading.Lock()
raw_port = "eighty"


def worker():
    with config_lock:
        pass


t = threading.Thread(target=worker)
config_lock.acquire()
t.start()
port = int(raw_port)
config_lock.release()
t.join()
