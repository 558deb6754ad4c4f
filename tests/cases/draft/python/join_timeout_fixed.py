# verdict: ok
import threading

never = threading.Event()


def waiter():
    never.wait()


t = threading.Thread(target=waiter, daemon=True)
t.start()
if not t.join(timeout=0.1):
    print("still running")
