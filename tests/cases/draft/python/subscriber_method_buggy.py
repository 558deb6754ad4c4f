# verdict: deadlock
# A listener registered through a method is called while the bus lock is held, and
# takes the same lock.
import threading

bus_lock = threading.Lock()


class EventBus:
    def __init__(self):
        self.listeners = []

    def subscribe(self, listener):
        self.listeners.append(listener)

    def publish(self):
        with bus_lock:
            for listener in self.listeners:
                listener()


def on_event():
    with bus_lock:
        pass


bus = EventBus()
bus.subscribe(on_event)
t = threading.Thread(target=bus.publish)
t.start()
t.join()
