// verdict: ok
// The fix: format the PyErr under with_gil into a String, print the String.
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::thread;

fn main() {
    let worker = thread::spawn(|| {
        Python::with_gil(|py| {
            println!("worker holds the GIL");
        });
    });
    let err = PyValueError::new_err("bad value");
    let text = Python::with_gil(|py| err.to_string());
    println!("{text}");
    worker.join().unwrap();
}
