# verdict: ok
import os
import threading

src = threading.Lock()
dst = threading.Lock()


def mover(pair):
    first, second = pair
    with first:
        with second:
            print("moved")


verbose = os.environ.get("VERBOSE") == "1"
order = (src, dst)
helper = threading.Thread(target=mover, args=(order,))
helper.start()
outer, inner = (src, dst) if verbose else order
with outer:
    with inner:
        print("copied")
helper.join()
