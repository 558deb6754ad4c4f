# verdict: ok
import random
import threading

primary = threading.Lock()
backup = threading.Lock()
spare = threading.Lock()


def hold(lock, other):
    with lock:
        with other:
            pass


t = threading.Thread(target=hold, args=(primary, backup))
t.start()
hold(primary, backup if random.random() < 0.5 else spare)
t.join()
