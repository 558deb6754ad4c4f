# arg "nondaemon": loop thread is an ordinary (non-daemon) threading.Thread
import asyncio
import sys
import threading

from bgloop import start_loop

daemon = not (len(sys.argv) > 1 and sys.argv[1] == "nondaemon")
loop, t = start_loop(daemon=daemon)
never = threading.Event()


async def forever():
    never.wait()  # blocks the loop thread for ever


tk = asyncio.run_coroutine_threadsafe(forever(), loop)
print("main returns; daemon loop thread =", daemon)
