# verdict: deadlock
import threading


def main():
    lock = threading.Lock()

    def worker():
        with lock:
            pass

    with lock:
        t = threading.Thread(target=worker)
        t.start()
        t.join()


main()
