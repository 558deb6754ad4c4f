# verdict: deadlock
import asyncio

lock = asyncio.Lock()


async def refresh():
    async with lock:
        await asyncio.sleep(0)


async def get():
    async with lock:
        await refresh()  # asyncio.Lock is not reentrant: waits for itself


if __name__ == "__main__":
    asyncio.run(get())
