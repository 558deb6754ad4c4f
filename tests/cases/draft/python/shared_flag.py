# verdict: ok
import threading
import time

done = False


def worker():
    global done
    time.sleep(0.1)
    done = True


if __name__ == "__main__":
    t = threading.Thread(target=worker)
    t.start()
    while not done:
        time.sleep(0.01)
    t.join()
