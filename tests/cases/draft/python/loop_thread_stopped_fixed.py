# verdict: ok
# The loop is stopped from main, so its thread ends and the program exits.
import asyncio
import threading

loop = asyncio.new_event_loop()
runner = threading.Thread(target=loop.run_forever)
runner.start()


async def fetch():
    return 42


future = asyncio.run_coroutine_threadsafe(fetch(), loop)
print(future.result())
loop.call_soon_threadsafe(loop.stop)
runner.join()
