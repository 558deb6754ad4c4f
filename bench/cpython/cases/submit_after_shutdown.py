# submit after shutdown, and (argv[1] == "late") a daemon / non-daemon thread that
# submits after main returned
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

p = ThreadPoolExecutor(max_workers=1)
mode = sys.argv[1] if len(sys.argv) > 1 else "explicit"


def work():
    return 1


def late():
    time.sleep(0.2)
    try:
        p.submit(work)
        print("late submit accepted", flush=True)
    except RuntimeError as e:
        print("late submit: RuntimeError: %s" % e, flush=True)


if mode == "explicit":
    f = p.submit(work)
    p.shutdown()
    try:
        p.submit(work)
        print("submit after shutdown accepted")
    except RuntimeError as e:
        print("submit after shutdown: RuntimeError: %s" % e)
        sys.exit(1)
else:
    # keep the exit hook busy for 0.5 s so the late thread's submit falls after it
    p.submit(time.sleep, 0.5)
    threading.Thread(target=late, daemon=(mode == "daemon")).start()
    print("main returns", flush=True)
