# blocker awaits the lock: variant "asyncio" uses asyncio.Lock for m (the scenario's words),
# variant "thread" keeps a threading.Lock and awaits its acquire in a worker thread.
import asyncio
import sys
import threading

from bgloop import start_loop

MODE = sys.argv[1]
loop, t = start_loop(start=False)
if MODE == "asyncio":
    m = asyncio.Lock()

    async def acq():
        await m.acquire()

    def take_now():
        assert not m.locked()
        return m.acquire()  # free lock: completes without suspending
else:
    m = threading.Lock()

    async def acq():
        await loop.run_in_executor(None, m.acquire)


async def holder():
    if MODE == "asyncio":
        await m.acquire()
    else:
        m.acquire()
    await asyncio.sleep(0)
    m.release()


async def blocker():
    await acq()
    m.release()


a = asyncio.run_coroutine_threadsafe(holder(), loop)
b = asyncio.run_coroutine_threadsafe(blocker(), loop)
t.start()  # both ready before the loop starts: the interleaving that deadlocks the buggy one
x = a.result()
y = b.result()
print("finished", MODE)
