# verdict: ok
import threading


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.value = 0

    def incr(self):
        with self.lock:
            self.value += 1


counter = Counter()


def work():
    for _ in range(2):
        counter.incr()


if __name__ == "__main__":
    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counter.value == 4, "lost update"
