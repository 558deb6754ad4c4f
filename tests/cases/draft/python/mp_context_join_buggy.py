# verdict: deadlock
import multiprocessing as mp


def work(q):
    q.put(b"x" * 10_000_000)


if __name__ == "__main__":
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=work, args=(q,))
    p.start()
    p.join()
    q.get()
