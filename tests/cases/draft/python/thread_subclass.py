# verdict: ok
import threading


class Worker(threading.Thread):
    def __init__(self, lock):
        super().__init__(daemon=False)
        self.lock = lock
        self.done = threading.Event()

    def run(self):
        with self.lock:
            print("working")
        self.done.set()


if __name__ == "__main__":
    lock = threading.Lock()
    w = Worker(lock)
    w.start()
    w.done.wait()
    w.join()
