# verdict: ok
# The release is in a `finally`, so a failed lookup still frees the lock.
import threading

settings_lock = threading.Lock()
settings = {"port": "8080"}


def read_setting(name):
    settings_lock.acquire()
    try:
        value = int(settings[name])
    finally:
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
