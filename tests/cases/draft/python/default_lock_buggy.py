# verdict: deadlock
import threading

READ = threading.Lock()
WRITE = threading.Lock()


def sync(outer=READ, inner=WRITE):
    with outer:
        with inner:
            pass


handlers = []
for pair in [(WRITE, READ)]:
    handlers.append(threading.Thread(target=lambda a=pair[0], b=pair[1]: sync(a, b)))
for h in handlers:
    h.start()
sync()
for h in handlers:
    h.join()
