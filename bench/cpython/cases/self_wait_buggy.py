import asyncio

from bgloop import start_loop

loop, t = start_loop()


async def inner():
    return 1


async def outer():
    f = asyncio.run_coroutine_threadsafe(inner(), loop)
    v = f.result()  # blocks the loop thread: inner is queued behind it
    return v


f = asyncio.run_coroutine_threadsafe(outer(), loop)
print("finished", f.result())
