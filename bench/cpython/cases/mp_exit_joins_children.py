"""exit_joins_children: a never-joined non-daemon child waits on an Event nobody sets;
multiprocessing's atexit hook joins it at exit (hangs) unless our atexit handler sets it first."""

import atexit
import multiprocessing as mp
import sys


def child(ready, ev):
    ready.set()  # handshake: without it the child may not have opened ev yet
    ev.wait()


if __name__ == "__main__":
    mp.set_start_method("spawn")
    mode = sys.argv[1]  # buggy | fixed | fixed_early | nohandshake
    box = []
    if mode == "fixed_early":
        # registered BEFORE multiprocessing.util is imported (import multiprocessing
        # alone does not import it): util registers _exit_function later, so it runs first
        atexit.register(lambda: box[0].set())
    ready, ev = mp.Event(), mp.Event()  # imports multiprocessing.util -> registers _exit_function
    box.append(ev)
    if mode == "fixed":
        atexit.register(ev.set)  # registered after util: runs before _exit_function (LIFO)
    mp.Process(target=child, args=(ready, ev)).start()
    if mode != "nohandshake":
        ready.wait()
    print(mode, "main returns", flush=True)
