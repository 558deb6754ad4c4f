# verdict: deadlock
import asyncio
import threading

lock = threading.Lock()


def blocking_io():
    with lock:
        return 3


async def main():
    with lock:
        value = await asyncio.to_thread(blocking_io)
    return value


if __name__ == "__main__":
    print(asyncio.run(main()))
