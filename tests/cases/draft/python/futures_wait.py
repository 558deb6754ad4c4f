# verdict: ok
from concurrent.futures import ThreadPoolExecutor, wait

executor = ThreadPoolExecutor(max_workers=2)


def job(n):
    return n + 1


if __name__ == "__main__":
    fs = [executor.submit(job, i) for i in range(2)]
    wait(fs)
    executor.shutdown(wait=True)
