# verdict: stuck
import threading
import time


class PubSub:
    def __init__(self):
        self.subscribed = True

    def get_message(self, timeout):
        time.sleep(timeout)
        return None

    def stop(self):
        self.subscribed = False


def listen(pubsub):
    while pubsub.subscribed:
        pubsub.get_message(timeout=0.001)


pubsub = PubSub()
threading.Thread(target=listen, args=(pubsub,)).start()
print("main returns without pubsub.stop(): the exit join waits for the listener")
