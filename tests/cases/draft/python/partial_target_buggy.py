# verdict: deadlock
import functools
import threading


class Ledger:
    def __init__(self):
        self.books = threading.Lock()
        self.audit = threading.Lock()

    def post(self, first, second, amount=1):
        with first:
            with second:
                return amount


ledger = Ledger()
poster = threading.Thread(target=functools.partial(ledger.post, ledger.books, second=ledger.audit))
poster.start()
ledger.post(ledger.audit, ledger.books)
poster.join()
