# verdict: deadlock
import random
import threading

primary = threading.Lock()
backup = threading.Lock()


def hold(lock, other):
    with lock:
        with other:
            pass


t = threading.Thread(target=hold, args=(primary, backup))
t.start()
hold(backup if random.random() < 0.1 else primary, primary if random.random() < 0.1 else backup)
t.join()
