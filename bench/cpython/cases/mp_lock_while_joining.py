"""lock_while_joining: the parent holds an mp.Lock shared with the child and joins
it before releasing (hangs); releasing before the join works."""

import multiprocessing as mp
import sys


def child(lk):
    with lk:
        pass


if __name__ == "__main__":
    mp.set_start_method("spawn")
    mode = sys.argv[1]
    lk = mp.Lock()
    lk.acquire()
    p = mp.Process(target=child, args=(lk,))
    p.start()
    if mode == "buggy":
        p.join()  # the child waits for lk, which we hold
        lk.release()
    else:
        lk.release()
        p.join()
    print(mode, "done exitcode", p.exitcode)
