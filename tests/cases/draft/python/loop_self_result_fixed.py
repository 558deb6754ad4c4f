# verdict: ok
import asyncio
import threading

loop = asyncio.new_event_loop()
threading.Thread(target=loop.run_forever, daemon=True).start()


async def fetch():
    await asyncio.sleep(0)
    return 7


async def handler():
    return await fetch()


if __name__ == "__main__":
    print(asyncio.run_coroutine_threadsafe(handler(), loop).result())
