// verdict: deadlock
// `with_python` runs the closure it is given while holding the GIL; the closure takes
// STATS, which the worker holds while it waits for the GIL.
use pyo3::prelude::*;
use std::sync::Mutex;
use std::thread;

static STATS: Mutex<u64> = Mutex::new(0);

fn with_python<R>(f: impl FnOnce() -> R) -> R {
    Python::with_gil(|_py| f())
}

fn main() {
    pyo3::prepare_freethreaded_python();
    let worker = thread::spawn(|| {
        let mut stats = STATS.lock().unwrap();
        Python::with_gil(|_py| *stats += 1);
    });
    let seen = with_python(|| *STATS.lock().unwrap());
    println!("{seen}");
    worker.join().unwrap();
}
