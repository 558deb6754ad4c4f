"""global_queue: a module-level queue.Queue is re-created in the spawned child;
the child puts on its own copy and the parent waits for ever; passing an mp.Queue works."""

import multiprocessing as mp
import queue
import sys

results = queue.Queue()  # re-created by the child's import of this module


def worker_global():
    results.put(42)  # the child's own copy


def worker_passed(q):
    q.put(42)


if __name__ == "__main__":
    mp.set_start_method("spawn")
    mode = sys.argv[1]
    if mode == "buggy":
        p = mp.Process(target=worker_global)
        p.start()
        v = results.get()  # parent's copy stays empty: blocks for ever
    else:
        q = mp.Queue()
        p = mp.Process(target=worker_passed, args=(q,))
        p.start()
        v = q.get()
    p.join()
    print(mode, "done", v, "exitcode", p.exitcode)
