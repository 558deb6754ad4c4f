# verdict: ok
import threading

barrier = threading.Barrier(2)


def phase(n):
    print("phase one", n)
    barrier.wait()
    print("phase two", n)


threads = [threading.Thread(target=phase, args=(i,)) for i in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
