# verdict: ok
import threading


def transfer(locks, src, dst):
    with locks[src]:
        with locks.get(dst):
            pass


locks = {"alice": threading.Lock(), "bob": threading.Lock()}
locks["carol"] = threading.Lock()
t = threading.Thread(target=transfer, args=(locks, "alice", "bob"))
t.start()
transfer(locks, "alice", "carol")
for name, lock in locks.items():
    with lock:
        pass
t.join()
