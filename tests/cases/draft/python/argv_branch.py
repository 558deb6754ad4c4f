# verdict: deadlock
import sys
import threading

lock = threading.Lock()


def work(twice):
    with lock:
        if twice:
            with lock:
                pass


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else "once"
    if mode == "twice":
        work(True)
    else:
        work(False)
