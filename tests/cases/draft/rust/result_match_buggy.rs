// verdict: deadlock
// A crate function returns an error made of a PyErr; the `Err` arm formats it on a
// thread (Display of a PyErr takes the GIL) that is joined with the GIL held.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::thread;

fn check_size(size: i64) -> PyResult<i64> {
    if size < 1024 {
        Ok(size)
    } else {
        Err(PyValueError::new_err(format!("too large: {}", size)))
    }
}

fn main() {
    Python::with_gil(|_py| {
        let text = match check_size(4096) {
            Ok(s) => format!("size {}", s),
            Err(e) => {
                let t = thread::spawn(move || format!("failed: {}", e));
                t.join().unwrap()
            }
        };
        println!("{text}");
    });
}
