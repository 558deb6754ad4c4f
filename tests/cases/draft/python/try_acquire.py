# verdict: ok
import threading

lock = threading.Lock()


def poll():
    for _ in range(2):
        if lock.acquire(blocking=False):
            try:
                print("got it")
            finally:
                lock.release()


if __name__ == "__main__":
    t = threading.Thread(target=poll)
    t.start()
    with lock:
        print("main")
    t.join()
