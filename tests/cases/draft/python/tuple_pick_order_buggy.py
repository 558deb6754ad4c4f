# verdict: deadlock
import os
import threading

src = threading.Lock()
dst = threading.Lock()


def mover():
    with src:
        with dst:
            print("moved")


backwards = os.environ.get("BACKWARDS") == "1"
helper = threading.Thread(target=mover)
helper.start()
outer, inner = (dst, src) if backwards else (src, dst)
with outer:
    with inner:
        print("copied")
helper.join()
