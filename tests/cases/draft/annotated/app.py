import threading
a = threading.Lock()
b = threading.Lock()

def one():
    with a:
        with b:
            client.fetch()

def two():
    with b:
        with a:
            pass
