# verdict: ok
import threading
from concurrent.futures import ThreadPoolExecutor

total_lock = threading.Lock()
total = 0


def add(x):
    global total
    with total_lock:
        total += x
    return x


if __name__ == "__main__":
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(add, range(3)))
    print(total)
