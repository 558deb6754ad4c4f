// verdict: ok
// The worker's guard is dropped at the end of its own block, before with_gil.
use pyo3::prelude::*;
use std::sync::Mutex;
use std::thread;

static COUNTER: Mutex<u64> = Mutex::new(0);

fn main() {
    let worker = thread::spawn(|| {
        {
            let mut count = COUNTER.lock().unwrap();
            *count += 1;
        }
        Python::with_gil(|py| {
            let _ = py.None();
        });
    });
    Python::with_gil(|py| {
        *COUNTER.lock().unwrap() += 1;
    });
    worker.join().unwrap();
}
