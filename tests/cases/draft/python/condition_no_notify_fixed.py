# verdict: ok
import threading

cond = threading.Condition()
ready = False


def consumer():
    with cond:
        while not ready:
            cond.wait()


def producer():
    global ready
    with cond:
        ready = True
        cond.notify_all()


if __name__ == "__main__":
    c = threading.Thread(target=consumer)
    c.start()
    producer()
    c.join()
