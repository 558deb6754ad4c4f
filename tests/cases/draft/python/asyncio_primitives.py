# verdict: ok
import asyncio

lock = asyncio.Lock()
q = asyncio.Queue()
ev = asyncio.Event()


async def producer():
    async with lock:
        await q.put(1)
    ev.set()


async def consumer():
    await ev.wait()
    async with lock:
        item = await q.get()
        return item


async def main():
    a = asyncio.create_task(producer())
    b = asyncio.create_task(consumer())
    await a
    return await b


asyncio.run(main())
