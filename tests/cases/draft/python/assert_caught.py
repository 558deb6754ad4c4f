# verdict: ok
# A failing `assert` raises AssertionError, which the worker catches: nothing hangs.
import threading

done = threading.Event()


def check_size(size):
    assert size >= 0, "negative size"
    return size


def worker():
    try:
        check_size(-3)
    except AssertionError:
        print("rejected")
    done.set()


t = threading.Thread(target=worker)
t.start()
done.wait()
t.join()
