# verdict: deadlock
import threading

never = threading.Event()


def waiter():
    never.wait()


t = threading.Thread(target=waiter)
t.start()
t.join(timeout=0.1)
print("main returns, but the exit join waits for the thread for ever")
