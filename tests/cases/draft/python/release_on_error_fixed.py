# verdict: ok
import threading

import storage

lock = threading.Lock()


def save(record):
    lock.acquire()
    try:
        storage.write(record)
    finally:
        lock.release()


def main():
    for record in ("a", "b"):
        try:
            save(record)
        except OSError:
            print("could not save", record)


main()
