# verdict: ok
# Each item of the set comprehension takes and releases the lock.
import threading

pool_lock = threading.Lock()


def normalise(host):
    with pool_lock:
        return host.lower()


def connect_all():
    hosts = {normalise(h) for h in ("a", "B")}
    with pool_lock:
        return len(hosts)


t = threading.Thread(target=connect_all)
t.start()
t.join()
