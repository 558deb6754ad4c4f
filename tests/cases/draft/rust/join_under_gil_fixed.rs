// verdict: ok
// The fix: join with the GIL released.
use pyo3::prelude::*;
use std::thread;

fn main() {
    Python::with_gil(|py| {
        let handle = thread::spawn(|| {
            Python::with_gil(|py| {
                let _ = py.version();
            });
        });
        py.allow_threads(|| handle.join().unwrap());
    });
}
