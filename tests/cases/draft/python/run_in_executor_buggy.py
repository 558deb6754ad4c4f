# verdict: deadlock
import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

pool = ThreadPoolExecutor(max_workers=1)
ready = threading.Event()


def waits():
    ready.wait()


def sets():
    ready.set()


async def main():
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, waits)
    await loop.run_in_executor(pool, sets)


if __name__ == "__main__":
    asyncio.run(main())
