# verdict: ok
import threading

lock = threading.Lock()


def holder():
    lock.acquire()
    print("never released")


if __name__ == "__main__":
    t = threading.Thread(target=holder)
    t.start()
    t.join()
    if lock.acquire(timeout=0.5):
        lock.release()
    else:
        print("gave up")
