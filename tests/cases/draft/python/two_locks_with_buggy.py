# verdict: deadlock
import threading

src = threading.Lock()
dst = threading.Lock()


def forward():
    with src, dst:
        pass


def backward():
    with dst, src:
        pass


if __name__ == "__main__":
    a = threading.Thread(target=forward)
    b = threading.Thread(target=backward)
    a.start()
    b.start()
    a.join()
    b.join()
