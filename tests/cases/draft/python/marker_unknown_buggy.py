# verdict: deadlock
import os
import queue
import threading

inbox = queue.Queue()
guard = threading.Lock()


def reader():
    msg = inbox.get()
    if msg is None:
        guard.acquire()
    guard.acquire()


t = threading.Thread(target=reader)
t.start()
inbox.put(os.environ.get("MODE"))
t.join()
