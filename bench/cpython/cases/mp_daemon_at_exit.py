"""daemon_at_exit: a daemon child waits on an Event nobody sets and is never joined;
at exit multiprocessing terminates daemon children, so the program exits 0."""

import multiprocessing as mp


def child(ready, ev):
    ready.set()
    ev.wait()


if __name__ == "__main__":
    mp.set_start_method("spawn")
    ready, ev = mp.Event(), mp.Event()
    p = mp.Process(target=child, args=(ready, ev), daemon=True)
    p.start()
    ready.wait()  # the child is really waiting on ev
    print("main returns, child alive:", p.is_alive(), flush=True)
