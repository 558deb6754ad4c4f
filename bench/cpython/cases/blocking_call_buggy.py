# holder: threading.Lock acquire, asyncio.sleep(0), release.
# blocker: threading.Lock.acquire() inside a coroutine (blocks the loop thread).
import asyncio
import sys
import threading

from bgloop import start_loop

FORCE = len(sys.argv) > 1 and sys.argv[1] == "force"
m = threading.Lock()


async def holder():
    m.acquire()
    await asyncio.sleep(0)
    m.release()


async def blocker():
    m.acquire()
    m.release()


# FORCE: submit both before the loop thread starts, so both tasks are ready
# before holder's first step (the spec's deadlock interleaving).
loop, t = start_loop(start=not FORCE)
a = asyncio.run_coroutine_threadsafe(holder(), loop)
b = asyncio.run_coroutine_threadsafe(blocker(), loop)
if FORCE:
    t.start()
x = a.result()
y = b.result()
print("finished")
