# verdict: ok
import random
import threading

slots = threading.Semaphore(1)


def handle(n):
    with slots:
        if random.random() < 0.5:
            return
        print("handled", n)


if __name__ == "__main__":
    workers = [threading.Thread(target=handle, args=(i,)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
