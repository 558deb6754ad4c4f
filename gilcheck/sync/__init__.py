"""Sync objects, one module per kind (mutex, rlock, semaphore, rwlock, event, barrier,
condvar, once), each a `Primitive` (base.py) registered in registry.py."""
