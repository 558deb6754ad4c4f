import asyncio

from bgloop import start_loop

loop, t = start_loop()


async def g():
    await asyncio.sleep(0)
    return 1


f = asyncio.run_coroutine_threadsafe(g(), loop)
print("finished", f.result())
