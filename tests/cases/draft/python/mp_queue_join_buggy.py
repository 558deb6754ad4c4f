# verdict: deadlock
import multiprocessing


def work(q):
    q.put(b"x" * 10_000_000)


if __name__ == "__main__":
    q = multiprocessing.Queue()
    p = multiprocessing.Process(target=work, args=(q,))
    p.start()
    p.join()
    data = q.get()
