# verdict: deadlock
import threading

registry_lock = threading.Lock()
open_conns = set()


class Conn:
    def __init__(self, fd):
        self.fd = fd
        with registry_lock:
            open_conns.add(fd)

    def __del__(self):
        with registry_lock:
            open_conns.discard(self.fd)


if __name__ == "__main__":
    old = Conn(3)
    new = Conn(4)
