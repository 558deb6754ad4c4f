# verdict: ok
import threading

never = threading.Event()


def waiter():
    never.wait()


threading.Thread(target=waiter, daemon=True).start()
print("main exits; the daemon thread is abandoned")
