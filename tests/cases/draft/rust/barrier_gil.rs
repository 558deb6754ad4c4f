// verdict: deadlock
// main waits at a Barrier holding the GIL; the other party needs the GIL first.
use pyo3::prelude::*;
use std::sync::{Arc, Barrier};
use std::thread;

fn main() {
    let barrier = Arc::new(Barrier::new(2));
    let other = Arc::clone(&barrier);
    let h = thread::spawn(move || {
        Python::with_gil(|py| {
            let _ = py.None();
        });
        other.wait();
    });
    Python::with_gil(|py| {
        barrier.wait();
    });
    h.join().unwrap();
}
