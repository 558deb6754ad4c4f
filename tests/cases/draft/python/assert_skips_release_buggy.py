# verdict: deadlock
# The failing `assert` leaves `reserve` with the pool lock still held (taken by
# acquire(), released only on the normal path); the caller retries and blocks.
import threading

pool_lock = threading.Lock()


def reserve(count):
    pool_lock.acquire()
    assert count > 0, "nothing to reserve"
    pool_lock.release()


def client():
    for n in (0, 1):
        try:
            reserve(n)
        except AssertionError:
            continue


t = threading.Thread(target=client)
t.start()
t.join()
