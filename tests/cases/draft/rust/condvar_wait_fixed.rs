// verdict: ok
// main takes the lock before starting the worker, which notifies under the lock: the
// notification cannot come before the wait.
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

fn main() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    let (lock, cvar) = &*pair;
    let started = lock.lock().unwrap();
    thread::spawn(move || {
        let (lock, cvar) = &*pair2;
        let mut started = lock.lock().unwrap();
        *started = true;
        cvar.notify_one();
    });
    let started = cvar.wait(started).unwrap();
}
