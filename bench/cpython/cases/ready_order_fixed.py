import asyncio

from bgloop import start_loop

N = 2000
bad = 0
for i in range(N):
    loop, t = start_loop(start=(i % 2 == 0))  # odd rounds: both queued before the loop starts
    log = [0]

    async def first():
        if log[0] == 0:
            log[0] = 1

    async def second():
        if log[0] == 0:
            log[0] = 2

    a = asyncio.run_coroutine_threadsafe(first(), loop)
    b = asyncio.run_coroutine_threadsafe(second(), loop)
    if not t.is_alive() and i % 2:
        t.start()
    a.result()
    b.result()
    if log[0] != 1:
        bad += 1
    loop.call_soon_threadsafe(loop.stop)
    t.join()
    loop.close()
assert bad == 0, "the first task submitted ran first (%d/%d violations)" % (bad, N)
print("finished: %d rounds, first always ran first" % N)
