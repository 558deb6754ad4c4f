# verdict: deadlock
import asyncio
import queue

inbox = queue.Queue()


async def reader():
    item = inbox.get()
    return item


async def writer():
    await asyncio.sleep(0)
    inbox.put(1)


async def main():
    r = asyncio.create_task(reader())
    w = asyncio.create_task(writer())
    await w
    return await r


if __name__ == "__main__":
    asyncio.run(main())
