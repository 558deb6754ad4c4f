# verdict: ok
import functools
import threading
from concurrent.futures import ThreadPoolExecutor


class Ledger:
    def __init__(self):
        self.books = threading.Lock()
        self.audit = threading.Lock()

    def post(self, first, second, amount=1):
        with first:
            with second:
                return amount


ledger = Ledger()
ordered = functools.partial(ledger.post, ledger.books, ledger.audit)
with ThreadPoolExecutor(max_workers=2) as pool:
    done = pool.submit(ordered, 5)
    ordered()
    done.result()
