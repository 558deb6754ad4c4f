# verdict: deadlock
import signal
import threading

state_lock = threading.Lock()
state = {"running": True}


def on_term(signum, frame):
    with state_lock:
        state["running"] = False


signal.signal(signal.SIGTERM, on_term)

if __name__ == "__main__":
    with state_lock:
        state["count"] = 1
