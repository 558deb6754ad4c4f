// verdict: ok
// The fix: main releases the GIL around the Mutex (allow_threads).
use pyo3::prelude::*;
use std::sync::{Arc, Mutex};
use std::thread;

fn main() {
    let state = Arc::new(Mutex::new(0));
    let shared = Arc::clone(&state);
    let worker = thread::spawn(move || {
        let mut guard = shared.lock().unwrap();
        *guard += 1;
        Python::with_gil(|py| {
            let _ = py.None();
        });
    });
    Python::with_gil(|py| {
        py.allow_threads(|| {
            let mut guard = state.lock().unwrap();
            *guard += 1;
        });
    });
    worker.join().unwrap();
}
