# verdict: deadlock
import threading


class Worker(threading.Thread):
    def __init__(self, lock):
        super().__init__()
        self.lock = lock

    def run(self):
        with self.lock:
            print("working")


if __name__ == "__main__":
    lock = threading.Lock()
    w = Worker(lock)
    with lock:
        w.start()
        w.join()
