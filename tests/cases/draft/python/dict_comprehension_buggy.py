# verdict: deadlock
# `open_conn` takes the pool lock and leaves it for `close` to release; the dict
# comprehension opens two connections, so the second waits for the first's release.
import threading

pool_lock = threading.Lock()


def open_conn(host):
    pool_lock.acquire()
    return host


def connect_all():
    conns = {host: open_conn(host) for host in ("a", "b")}
    for host in conns:
        pool_lock.release()


t = threading.Thread(target=connect_all)
t.start()
t.join()
