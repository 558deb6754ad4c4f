# verdict: ok
import threading

lock = threading.Lock()


def poll():
    while True:
        lock.acquire()
        try:
            break
        finally:
            lock.release()


t = threading.Thread(target=poll)
t.start()
t.join()
with lock:
    pass
