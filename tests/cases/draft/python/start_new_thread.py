# verdict: ok
import _thread
import threading

done = threading.Event()


def task(n):
    done.set()


_thread.start_new_thread(task, (1,))
done.wait()
