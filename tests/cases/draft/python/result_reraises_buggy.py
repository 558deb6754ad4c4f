# verdict: deadlock
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

done = threading.Event()


def parse(text):
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


def worker():
    done.wait()


t = threading.Thread(target=worker)
t.start()
with ThreadPoolExecutor(2) as pool:
    value = pool.submit(parse, sys.argv[1]).result()  # re-raises ValueError
done.set()
t.join()
