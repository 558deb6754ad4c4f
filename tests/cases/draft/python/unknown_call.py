# verdict: ok
import threading

import client

lock = threading.Lock()


def worker():
    with lock:
        data = client.fetch()
    return data


if __name__ == "__main__":
    t = threading.Thread(target=worker)
    t.start()
    t.join()
