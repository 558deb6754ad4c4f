import asyncio
import concurrent.futures
import threading
import time

from bgloop import start_loop

loop, t = start_loop()


def producer(f):
    time.sleep(0.3)
    o = object()
    f.set_result(1)


async def coro(f):
    v = await asyncio.wrap_future(f)  # suspend { let v = result f }
    w = object()  # pyobj("after")
    return v


f = concurrent.futures.Future()
tk = asyncio.run_coroutine_threadsafe(coro(f), loop)
threading.Thread(target=producer, args=(f,)).start()
v = tk.result()
assert v == 1
print("finished", v)
