# argv[1]: "own"   -> a task shuts down its own pool (expected RuntimeError, cannot join current thread)
#          "twice" -> shutdown by main twice and by a second thread
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

mode = sys.argv[1]
p = ThreadPoolExecutor(max_workers=2)


def work():
    return 1


def closer():
    p.shutdown()


if mode == "own":
    f = p.submit(closer)
    try:
        f.result()
        print("own shutdown returned")
    except RuntimeError as e:
        print("own shutdown: RuntimeError: %s" % e)
        sys.exit(1)
else:
    f = p.submit(work)
    t = threading.Thread(target=closer)
    t.start()
    p.shutdown()
    p.shutdown()
    t.join()
    print("twice: result=%r" % f.result())
