# verdict: deadlock
import logging
import threading

state_lock = threading.Lock()
log = logging.getLogger("app")


class StateHandler(logging.Handler):
    def emit(self, record):
        with state_lock:
            print(self.format(record))


log.addHandler(StateHandler())


def update():
    with state_lock:
        log.warning("updating")


update()
