"""ended_holding_lock: a child acquires a shared mp.Lock and ends without releasing;
the dead process does not release it, so the parent's acquire hangs; `with lk:` works."""

import multiprocessing as mp
import sys


def child_buggy(lk):
    lk.acquire()  # returns without release


def child_fixed(lk):
    with lk:
        pass


if __name__ == "__main__":
    mp.set_start_method("spawn")
    mode = sys.argv[1]
    lk = mp.Lock()
    target = child_buggy if mode == "buggy" else child_fixed
    p = mp.Process(target=target, args=(lk,))
    p.start()
    p.join()
    print(mode, "child exitcode", p.exitcode, flush=True)
    lk.acquire()  # buggy: blocks for ever
    lk.release()
    print(mode, "done")
