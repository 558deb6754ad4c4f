import asyncio
import threading


def start_loop(daemon=True, start=True):
    loop = asyncio.new_event_loop()
    t = threading.Thread(target=loop.run_forever, daemon=daemon, name="loop")
    if start:
        t.start()
    return loop, t
