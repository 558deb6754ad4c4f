# pool exhaustion: a task submits to its own pool and waits on the result
import sys
from concurrent.futures import ThreadPoolExecutor

workers = int(sys.argv[1])
p = ThreadPoolExecutor(max_workers=workers)


def inner():
    return 1


def outer():
    g = p.submit(inner)
    return g.result()


f = p.submit(outer)
print("workers=%d result=%r" % (workers, f.result()), flush=True)
p.shutdown()
