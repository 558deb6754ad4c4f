# verdict: deadlock
import atexit
import threading

stop = threading.Event()


def flusher():
    stop.wait()
    print("flushed")


t = threading.Thread(target=flusher)
t.start()


def shutdown():
    stop.set()
    t.join()


atexit.register(shutdown)
print("main done")
