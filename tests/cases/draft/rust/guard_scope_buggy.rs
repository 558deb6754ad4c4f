// verdict: deadlock
// The worker's guard lives to the end of the closure, across with_gil; main holds the GIL
// and takes the same Mutex.
use pyo3::prelude::*;
use std::sync::Mutex;
use std::thread;

static COUNTER: Mutex<u64> = Mutex::new(0);

fn main() {
    let worker = thread::spawn(|| {
        let mut count = COUNTER.lock().unwrap();
        *count += 1;
        Python::with_gil(|py| {
            let _ = py.None();
        });
    });
    Python::with_gil(|py| {
        *COUNTER.lock().unwrap() += 1;
    });
    worker.join().unwrap();
}
