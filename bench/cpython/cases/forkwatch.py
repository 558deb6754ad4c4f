import os
import signal
import time


def watch_child(pid, secs=5):
    """Parent-side observer only (the spec's parent does not wait): poll the child."""
    end = time.time() + secs
    while time.time() < end:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            print("child exited, status", os.waitstatus_to_exitcode(st))
            return True
        time.sleep(0.05)
    print(
        "child %d still blocked after %ss -> hung (deadlock in the child); killing it" % (pid, secs)
    )
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return False
