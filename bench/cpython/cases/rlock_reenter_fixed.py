import asyncio
import threading

from bgloop import start_loop

loop, t = start_loop()
r = threading.RLock()


async def first():
    r.acquire()
    return 1


async def second():
    r.acquire()
    r.release()
    r.release()
    return 2


a = asyncio.run_coroutine_threadsafe(first(), loop)
x = a.result()
b = asyncio.run_coroutine_threadsafe(second(), loop)
y = b.result()
print("finished", x, y)
