# verdict: deadlock
import random
import threading

left = threading.Lock()
right = threading.Lock()


def spin():
    with right:
        with left:
            pass


t = threading.Thread(target=spin)
t.start()
with left if random.random() < 0.5 else right:
    a, b = left, right
    a, b = b, a
    with b:
        pass
t.join()
