# verdict: ok
import threading
import weakref

pool_lock = threading.Lock()
free = []


class Buffer:
    pass


def give_back(n):
    free.append(n)  # list.append is atomic under the GIL: no lock needed


def take():
    b = Buffer()
    b.me = b  # a reference cycle: only the garbage collector frees it
    weakref.finalize(b, give_back, 1)
    del b
    with pool_lock:
        free.append(0)  # an allocation: a collection may start here


if __name__ == "__main__":
    take()
