# verdict: ok
import queue
import threading

inbox = queue.SimpleQueue()


def sender():
    inbox.put("hello")


if __name__ == "__main__":
    t = threading.Thread(target=sender)
    t.start()
    t.join()
    try:
        message = inbox.get_nowait()
    except queue.Empty:
        message = None
