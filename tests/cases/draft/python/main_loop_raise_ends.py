# verdict: ok
# The bad port ends main by ValueError while it holds the lock; no other thread
# wants the lock, and the loop is not taken again: the program exits (with an error),
# it does not hang.
import threading

table_lock = threading.Lock()

for raw in ("80", "eighty", "443"):
    table_lock.acquire()
    port = int(raw)
    table_lock.release()
