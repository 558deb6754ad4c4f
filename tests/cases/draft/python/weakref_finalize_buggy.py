# verdict: deadlock
import threading
import weakref

pool_lock = threading.Lock()
free = []


class Buffer:
    pass


def give_back(n):
    with pool_lock:
        free.append(n)


def take():
    b = Buffer()
    weakref.finalize(b, give_back, 1)
    with pool_lock:
        free.pop()
    return b


if __name__ == "__main__":
    take()
