# verdict: ok
import asyncio
import threading

loop = asyncio.new_event_loop()
done = threading.Event()


def start_loop(lp):
    asyncio.set_event_loop(lp)
    lp.run_forever()


def callback(n):
    print("callback", n)
    done.set()


threading.Thread(target=start_loop, args=(loop,), daemon=True).start()
loop.call_soon_threadsafe(callback, 1)
done.wait()
