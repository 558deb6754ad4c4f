# verdict: deadlock
import threading

a = threading.Lock()
b = threading.Lock()


def grab(first, second):
    with first, second:
        pass


if __name__ == "__main__":
    t1 = threading.Thread(target=lambda: grab(a, b))
    t2 = threading.Thread(target=lambda: grab(b, a))
    t1.start()
    t2.start()
    t1.join()
    t2.join()
