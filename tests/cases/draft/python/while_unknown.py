# verdict: ok
import json
import queue
import threading

events = queue.Queue()


def pump(lines):
    for line in lines:
        events.put(json.loads(line))
    events.put(None)


def drain():
    while True:
        item = events.get()
        if item is None:
            return


if __name__ == "__main__":
    with open("log.txt") as f:
        lines = f.read().splitlines()
    t = threading.Thread(target=drain)
    t.start()
    pump(lines)
    t.join()
