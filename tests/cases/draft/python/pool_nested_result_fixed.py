# verdict: ok
from concurrent.futures import ThreadPoolExecutor

executor = ThreadPoolExecutor(max_workers=1)


def inner():
    return 42


def outer():
    return inner()


if __name__ == "__main__":
    print(executor.submit(outer).result())
