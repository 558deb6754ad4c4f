"""thread_keeps_child: a child's non-daemon thread waits on an mp.Event; the parent
joins the child before setting it (hangs); setting it before the join works."""

import multiprocessing as mp
import sys
import threading


def child(ev):
    threading.Thread(target=ev.wait).start()  # non-daemon: keeps the child alive


if __name__ == "__main__":
    mp.set_start_method("spawn")
    mode = sys.argv[1]
    ev = mp.Event()
    p = mp.Process(target=child, args=(ev,))
    p.start()
    if mode == "buggy":
        p.join()  # the child ends only when its thread does
        ev.set()
    else:
        ev.set()
        p.join()
    print(mode, "done exitcode", p.exitcode)
