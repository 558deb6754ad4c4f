# verdict: deadlock
import threading


class Account:
    def __init__(self, balance):
        self.lock = threading.Lock()
        self.balance = balance


def transfer(src, dst, amount):
    with src.lock, dst.lock:
        src.balance -= amount
        dst.balance += amount


def main():
    a = Account(10)
    b = Account(10)
    t1 = threading.Thread(target=transfer, args=(a, b, 1))
    t2 = threading.Thread(target=transfer, args=(b, a, 1))
    t1.start()
    t2.start()
    t1.join()
    t2.join()


main()
