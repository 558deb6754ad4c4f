# verdict: deadlock
import sys
import threading

go = threading.Event()


def worker():
    go.wait()


t = threading.Thread(target=worker)
t.start()
if len(sys.argv) < 2:
    sys.exit("usage: prog FILE")  # the exit join then waits for the worker for ever
go.set()
t.join()
