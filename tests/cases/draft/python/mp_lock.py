# verdict: ok
import multiprocessing


def work(lock, n):
    with lock:
        print("child", n)


if __name__ == "__main__":
    lock = multiprocessing.Lock()
    procs = [multiprocessing.Process(target=work, args=(lock, i)) for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
