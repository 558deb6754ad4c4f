# verdict: deadlock
import threading


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.value = 0

    def incr(self):
        with self.lock:
            self.value += 1
            self.log()

    def log(self):
        with self.lock:
            print(self.value)


counter = Counter()

if __name__ == "__main__":
    t = threading.Thread(target=counter.incr)
    t.start()
    t.join()
