// verdict: deadlock
// Joining, with the GIL held, a thread that needs the GIL before it ends.
use pyo3::prelude::*;
use std::thread;

fn main() {
    Python::with_gil(|py| {
        let handle = thread::spawn(|| {
            Python::with_gil(|py| {
                let _ = py.version();
            });
        });
        handle.join().unwrap();
    });
}
