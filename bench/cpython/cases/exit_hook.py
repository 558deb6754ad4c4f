# main returns without shutdown while a pool task still runs: a consumer that
# reads a queue.Queue until the sentinel 0.  The executors' exit hook
# (concurrent.futures' _python_exit, run by threading._shutdown) waits for the
# task before atexit handlers run.  argv[1] == "buggy": main never puts the
# sentinel, so the task waits for ever and so does the exit hook.
import atexit
import queue
import sys
from concurrent.futures import ThreadPoolExecutor

buggy = len(sys.argv) > 1 and sys.argv[1] == "buggy"
p = ThreadPoolExecutor(max_workers=1)
jobs = queue.Queue()
handled = [0]


def consume():
    while True:
        j = jobs.get()
        if j == 0:
            break
        handled[0] += 1


atexit.register(lambda: print("atexit: handled=%d" % handled[0], flush=True))
f = p.submit(consume)
jobs.put(1)
jobs.put(2)
if not buggy:
    jobs.put(0)  # the sentinel
print("main returns", flush=True)
