# verdict: deadlock
# A lookup that fails (KeyError) while the lock taken by acquire() is held leaves
# the function without its release; the next user of the lock waits for ever.
import threading

settings_lock = threading.Lock()
settings = {"port": "8080"}


def read_setting(name):
    settings_lock.acquire()
    value = int(settings[name])
    settings_lock.release()
    return value


def worker():
    try:
        read_setting("timeout")
    except (KeyError, ValueError):
        pass
    with settings_lock:
        settings["timeout"] = "5"


t = threading.Thread(target=worker)
t.start()
t.join()
