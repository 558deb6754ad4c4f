# verdict: misuse
import threading

lock = threading.Lock()


def cleanup():
    lock.release()  # RuntimeError: release unlocked lock


if __name__ == "__main__":
    cleanup()
