# verdict: deadlock
import threading

shards = [threading.Lock(), threading.Lock()]
labels = ["left", "right"]


def rebalance(first, second):
    with first:
        with second:
            pass


helper = threading.Thread(target=rebalance, kwargs={"first": shards[0], "second": shards[1]})
helper.start()
for position, shard in enumerate(reversed(shards)):
    shard.acquire()
for label, shard in zip(labels, shards):
    shard.release()
helper.join()
