# verdict: deadlock
# The dispatcher holds the state lock while it calls the command from a table (of one
# entry); the command takes the state lock too.
import threading

state_lock = threading.Lock()


def reload_config():
    with state_lock:
        pass


COMMANDS = {"reload": reload_config}


def dispatch(command):
    with state_lock:
        COMMANDS[command]()


t = threading.Thread(target=dispatch, args=("reload",))
t.start()
t.join()
