# verdict: deadlock
import threading

import storage

lock = threading.Lock()


def save(record):
    lock.acquire()
    storage.write(record)  # may raise: the lock is then never released
    lock.release()


def main():
    for record in ("a", "b"):
        try:
            save(record)
        except OSError:
            print("could not save", record)


main()
