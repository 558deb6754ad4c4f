# verdict: deadlock
import threading

state_lock = threading.Lock()
results = []


def worker():
    with state_lock:
        results.append(1)


def main():
    t = threading.Thread(target=worker)
    with state_lock:
        t.start()
        t.join()


main()
