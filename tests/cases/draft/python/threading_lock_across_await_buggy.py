# verdict: deadlock
import asyncio
import threading

lock = threading.Lock()


async def work():
    with lock:
        await asyncio.sleep(0)


async def main():
    await asyncio.gather(work(), work())


loop = asyncio.get_event_loop()
loop.run_until_complete(main())
