import asyncio
import os
import sys

from bgloop import start_loop
from forkwatch import watch_child

loop, t = start_loop(daemon=True)


async def g():
    return 1


pid = os.fork()
if pid == 0:
    f = asyncio.run_coroutine_threadsafe(g(), loop)  # the child has no loop thread
    v = f.result()
    print("child got", v, flush=True)
    os._exit(0)
ok = watch_child(pid)
sys.exit(0 if ok else 124)
