# three nested levels, each waiting on the next, on one pool
import sys
from concurrent.futures import ThreadPoolExecutor

workers = int(sys.argv[1])


def level3(p):
    return 3


def level2(p):
    return p.submit(level3, p).result()


def level1(p):
    return p.submit(level2, p).result()


p = ThreadPoolExecutor(max_workers=workers)
f = p.submit(level1, p)
print("workers=%d result=%r" % (workers, f.result()), flush=True)
p.shutdown()
