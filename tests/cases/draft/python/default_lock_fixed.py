# verdict: ok
import threading

READ = threading.Lock()
WRITE = threading.Lock()
pool = [threading.Lock(), threading.Lock()]


def sync(outer=READ, inner=WRITE):
    with outer:
        with inner:
            pass


def side(first=pool[0], *, second=pool[1]):
    with first:
        with second:
            pass


t = threading.Thread(target=lambda: sync(inner=WRITE))
t.start()
u = threading.Thread(target=side)
u.start()
sync()
t.join()
u.join()
