# verdict: ok
import signal
import threading

state_lock = threading.Lock()
stopping = threading.Event()


def on_term(signum, frame):
    stopping.set()


signal.signal(signal.SIGTERM, on_term)

if __name__ == "__main__":
    with state_lock:
        count = 1
