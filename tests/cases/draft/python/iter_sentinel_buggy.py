# verdict: deadlock
import queue
import threading

tasks = queue.Queue()


def consumer():
    for task in iter(tasks.get, None):
        print("task", task)


if __name__ == "__main__":
    t = threading.Thread(target=consumer)
    t.start()
    tasks.put(1)
    t.join()
