# verdict: ok
# A context manager the draft cannot follow (the first of a list it does not know)
# is kept as an assumption, not dropped.
import threading

guard = threading.Lock()


def pick(objects):
    with next(iter(objects)):
        return len(objects)


t = threading.Thread(target=pick, args=([guard],))
t.start()
t.join()
