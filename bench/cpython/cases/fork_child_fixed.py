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
    v = asyncio.run(g())  # `call g()`: the child runs the work itself
    print("child got", v, flush=True)
    os._exit(0)
f = asyncio.run_coroutine_threadsafe(g(), loop)
w = f.result()
print("parent got", w)
ok = watch_child(pid)
sys.exit(0 if ok else 124)
