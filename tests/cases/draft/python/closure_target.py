# verdict: ok
import threading


def main():
    done = threading.Event()

    def worker():
        print("working")

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    done.set()


main()
