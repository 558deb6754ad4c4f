# verdict: deadlock
import threading
from contextlib import contextmanager

_lock = threading.Lock()


@contextmanager
def locked():
    _lock.acquire()
    try:
        yield
    finally:
        _lock.release()


def update():
    with locked():
        print("updating")


def update_all():
    with locked():
        update()


if __name__ == "__main__":
    update_all()
