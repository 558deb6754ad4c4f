"""unpicklable: a concurrent.futures.Future passed as a spawn Process argument cannot be
pickled (it holds a threading.Condition/RLock); sending the value on an mp.Queue works."""

import concurrent.futures
import multiprocessing as mp
import sys


def child_future(f):
    f.set_result(1)


def child_queue(q):
    q.put(1)


if __name__ == "__main__":
    mp.set_start_method("spawn")
    mode = sys.argv[1]
    if mode == "buggy":
        p = mp.Process(target=child_future, args=(concurrent.futures.Future(),))
        p.start()  # pickling the args fails here, in the parent
        p.join()
    else:
        q = mp.Queue()
        p = mp.Process(target=child_queue, args=(q,))
        p.start()
        v = q.get()
        p.join()
        print(mode, "done", v, "exitcode", p.exitcode)
