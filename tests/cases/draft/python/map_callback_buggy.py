# verdict: deadlock
import threading

lock = threading.Lock()


def check(item):
    with lock:
        return item > 0


def main(items):
    with lock:
        return list(filter(check, items))


if __name__ == "__main__":
    main([1, 2])
