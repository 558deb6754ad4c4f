# verdict: ok
import threading

registry_lock = threading.RLock()
open_conns = set()


class Conn:
    def __init__(self, fd):
        self.fd = fd
        self.me = self  # a reference cycle: only the garbage collector frees it
        with registry_lock:
            open_conns.add(fd)  # an allocation: a collection may start here

    def __del__(self):
        with registry_lock:
            open_conns.discard(self.fd)


if __name__ == "__main__":
    old = Conn(3)
    del old
    new = Conn(4)
