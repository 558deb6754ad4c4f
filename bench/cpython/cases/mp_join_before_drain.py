"""join_before_drain: a child puts two 1 MB items on a Queue; joining it before
draining hangs (the child's feeder thread waits for pipe room), draining first works."""

import multiprocessing as mp
import sys


def producer(q):
    q.put(b"x" * 1_000_000)
    q.put(b"y" * 1_000_000)


if __name__ == "__main__":
    mp.set_start_method("spawn")
    mode = sys.argv[1]
    q = mp.Queue()
    p = mp.Process(target=producer, args=(q,))
    p.start()
    if mode == "buggy":
        p.join()  # child cannot exit until its items are flushed into the pipe
        a, b = q.get(), q.get()
    else:
        a, b = q.get(), q.get()
        p.join()
    print(mode, "done", len(a), len(b), "exitcode", p.exitcode)
