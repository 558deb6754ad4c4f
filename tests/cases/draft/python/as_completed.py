# verdict: ok
import concurrent.futures


def square(x):
    return x * x


if __name__ == "__main__":
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        futures = [ex.submit(square, i) for i in range(3)]
        for f in concurrent.futures.as_completed(futures):
            print(f.result())
