# "threadsafe": run_coroutine_threadsafe + await wrap_future; "task": loop.create_task + await
import asyncio
import sys

from bgloop import start_loop

MODE = sys.argv[1]
loop, t = start_loop()


async def inner():
    return 1


async def outer():
    if MODE == "threadsafe":
        f = asyncio.run_coroutine_threadsafe(inner(), loop)
        v = await asyncio.wrap_future(f)
    else:
        f = loop.create_task(inner())
        v = await f
    return v


f = asyncio.run_coroutine_threadsafe(outer(), loop)
v = f.result()
assert v == 1
print("finished", MODE, v)
