# verdict: ok
# The listeners are copied under the lock and called after it is released.
import threading

bus_lock = threading.Lock()


class EventBus:
    def __init__(self):
        self.listeners = []

    def subscribe(self, listener):
        with bus_lock:
            self.listeners.append(listener)

    def publish(self):
        with bus_lock:
            listeners = list(self.listeners)
        for listener in listeners:
            listener()


def on_event():
    with bus_lock:
        pass


bus = EventBus()
bus.subscribe(on_event)
t = threading.Thread(target=bus.publish)
t.start()
t.join()
