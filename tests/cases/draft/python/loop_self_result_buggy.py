# verdict: deadlock
import asyncio
import threading

loop = asyncio.new_event_loop()
threading.Thread(target=loop.run_forever, daemon=True).start()


async def fetch():
    await asyncio.sleep(0)
    return 7


def fetch_sync():
    return asyncio.run_coroutine_threadsafe(fetch(), loop).result()


async def handler():
    return fetch_sync()


if __name__ == "__main__":
    print(asyncio.run_coroutine_threadsafe(handler(), loop).result())
