# verdict: ok
import logging
import os
import threading
import time

logger = logging.getLogger("app")


def heartbeat():
    while True:
        logger.info("alive")
        time.sleep(0.01)


threading.Thread(target=heartbeat, daemon=True).start()
pid = os.fork()
if pid == 0:
    logger.info("in the child")
    os._exit(0)
else:
    os.waitpid(pid, 0)
