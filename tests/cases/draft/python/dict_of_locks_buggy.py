# verdict: deadlock
import threading

accounts = {"alice": threading.Lock(), "bob": threading.Lock()}


def transfer(src, dst):
    with accounts[src]:
        with accounts.get(dst):
            pass


t = threading.Thread(target=transfer, args=("alice", "bob"))
t.start()
transfer("bob", "alice")
t.join()
