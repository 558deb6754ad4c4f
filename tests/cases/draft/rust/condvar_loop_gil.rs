// verdict: deadlock
// The classic predicate loop, but main waits on the condvar holding the GIL while the
// worker needs the GIL before it can set the flag.
use pyo3::prelude::*;
use std::sync::{Condvar, Mutex};
use std::thread;

static READY: Mutex<bool> = Mutex::new(false);
static CV: Condvar = Condvar::new();

fn main() {
    let worker = thread::spawn(|| {
        Python::with_gil(|py| {
            let _ = py.None();
        });
        let mut ready = READY.lock().unwrap();
        *ready = true;
        CV.notify_all();
    });
    Python::with_gil(|py| {
        let mut ready = READY.lock().unwrap();
        while !*ready {
            ready = CV.wait(ready).unwrap();
        }
    });
    worker.join().unwrap();
}
