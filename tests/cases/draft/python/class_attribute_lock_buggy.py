# verdict: deadlock
import threading


class Registry:
    _lock = threading.Lock()

    def add(self, x):
        with self._lock:
            self.log(x)

    def log(self, x):
        with Registry._lock:
            print("added", x)


registry = Registry()

if __name__ == "__main__":
    t = threading.Thread(target=registry.add, args=(1,))
    t.start()
    t.join()
