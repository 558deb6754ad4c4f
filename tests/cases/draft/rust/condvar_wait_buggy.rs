// verdict: deadlock
// A lost notification: the worker may notify before main waits (no predicate).
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

fn main() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    thread::spawn(move || {
        let (lock, cvar) = &*pair2;
        cvar.notify_one();
    });
    let (lock, cvar) = &*pair;
    let started = lock.lock().unwrap();
    let started = cvar.wait(started).unwrap();
}
