// verdict: ok
// wait_while with a predicate over the mutex's data: a notification sent before the
// wait is not lost, because the flag is already set.
use std::sync::{Arc, Condvar, Mutex};
use std::thread;

fn main() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let pair2 = Arc::clone(&pair);
    thread::spawn(move || {
        let (lock, cvar) = &*pair2;
        let mut started = lock.lock().unwrap();
        *started = true;
        cvar.notify_one();
    });
    let (lock, cvar) = &*pair;
    let guard = cvar.wait_while(lock.lock().unwrap(), |started| !*started).unwrap();
}
