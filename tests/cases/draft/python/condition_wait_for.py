# verdict: ok
import threading

cond = threading.Condition(threading.Lock())
items = 0


def consume():
    with cond:
        cond.wait_for(lambda: items > 0)


def produce():
    global items
    with cond:
        items += 1
        cond.notify()


if __name__ == "__main__":
    c = threading.Thread(target=consume)
    c.start()
    produce()
    c.join()
