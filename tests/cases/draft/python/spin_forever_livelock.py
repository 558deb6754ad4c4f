# verdict: livelock
import threading
import time

done = False


def worker():
    print("working, but never says it is done")


if __name__ == "__main__":
    threading.Thread(target=worker).start()
    while not done:
        time.sleep(0.01)
