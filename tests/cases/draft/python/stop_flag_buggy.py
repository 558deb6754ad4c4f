# verdict: deadlock
import threading

cond = threading.Condition()
running = True


def loop_forever():
    with cond:
        while running:
            cond.wait()


def stop():
    global running
    running = False


if __name__ == "__main__":
    t = threading.Thread(target=loop_forever)
    t.start()
    stop()
    t.join()
