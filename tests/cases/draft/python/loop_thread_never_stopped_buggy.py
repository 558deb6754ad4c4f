# verdict: deadlock
# The loop's thread is not a daemon and nobody stops the loop: after main's work the
# interpreter waits at exit for that thread for ever.
import asyncio
import threading

loop = asyncio.new_event_loop()
runner = threading.Thread(target=loop.run_forever)
runner.start()


async def fetch():
    return 42


future = asyncio.run_coroutine_threadsafe(fetch(), loop)
print(future.result())
