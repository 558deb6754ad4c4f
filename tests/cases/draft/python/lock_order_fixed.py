# verdict: ok
import threading

a = threading.Lock()
b = threading.Lock()


def one():
    with a, b:
        pass


def two():
    with a, b:
        pass


if __name__ == "__main__":
    t1 = threading.Thread(target=one)
    t2 = threading.Thread(target=two)
    t1.start()
    t2.start()
    t1.join()
    t2.join()
