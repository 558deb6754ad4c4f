# verdict: deadlock
import random
import threading

slots = threading.Semaphore(1)


def handle(n):
    slots.acquire()
    if random.random() < 0.5:
        return
    print("handled", n)
    slots.release()


if __name__ == "__main__":
    workers = [threading.Thread(target=handle, args=(i,)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
