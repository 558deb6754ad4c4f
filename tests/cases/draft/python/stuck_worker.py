# verdict: stuck
import threading
import time

go = threading.Event()
ticks = 0


def worker():
    go.wait()


if __name__ == "__main__":
    threading.Thread(target=worker, daemon=True).start()
    while True:
        ticks += 1
        time.sleep(1)
        if ticks > 3:
            ticks = 0
